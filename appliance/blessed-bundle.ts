/**
 * What blessed needs to work inside a bundle (esbuild plugin for
 * build-binary.ts). blessed was written to run from node_modules:
 *
 *  - lib/widget.js loads every widget with a computed
 *    `require('./widgets/' + file)`, which no bundler can follow: the
 *    plugin turns it into a switch of static requires, one per file in
 *    lib/widgets/, in the same order blessed loads them.
 *  - lib/tput.js finds terminals in the system's terminfo directories and
 *    falls back to files under `__dirname + '/../usr/'`, which do not exist
 *    beside a bundle (and `__dirname` does not exist at all in the ESM
 *    one). The plugin gives it a directory of its own, written at start-up
 *    from entries embedded in the bundle (tui/terminfo.ts): searched after
 *    the system's, and used for the fallbacks.
 *  - drawille (blessed-contrib's chart canvas) and blessed's GPM mouse
 *    client allocate with the deprecated `new Buffer(size)`. Node warns
 *    about it on stderr, over the screen, for code outside node_modules,
 *    which all bundled code is: the plugin makes them `Buffer.alloc(size)`.
 *  - lib/widgets/terminal.js requires term.js and pty.js only when a
 *    Terminal widget is made (trowel makes none): build-binary.ts marks
 *    them external.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Plugin } from 'esbuild';

const TERMINFO_MODULE = 'trowel:terminfo';
const INSTALLER = resolve('tui/terminfo.ts');

/** `terminfo`: compiled entries keyed as in a terminfo directory ("x/xterm"), see terminfo.ts. */
export function blessedBundlePlugin(terminfo: Record<string, Buffer>): Plugin {
  return {
    name: 'trowel-blessed',
    setup(build) {
      build.onLoad({ filter: /[\\/]blessed[\\/]lib[\\/]widget\.js$/ }, (args) => ({
        contents: staticWidgetRequires(readFileSync(args.path, 'utf8'), readdirSync(join(dirname(args.path), 'widgets'))),
        loader: 'js',
      }));
      build.onLoad({ filter: /[\\/]blessed[\\/]lib[\\/]tput\.js$/ }, (args) => ({
        contents: embeddedTerminfo(readFileSync(args.path, 'utf8'), INSTALLER),
        loader: 'js',
      }));
      build.onLoad({ filter: /[\\/](drawille-blessed-contrib[\\/]index|blessed[\\/]lib[\\/]gpmclient)\.js$/ }, (args) => ({
        contents: allocBuffers(readFileSync(args.path, 'utf8')),
        loader: 'js',
      }));
      build.onResolve({ filter: new RegExp(`^${TERMINFO_MODULE}$`) }, () => ({ path: TERMINFO_MODULE, namespace: 'trowel-terminfo' }));
      build.onLoad({ filter: /.*/, namespace: 'trowel-terminfo' }, () => ({
        contents: `module.exports = ${JSON.stringify(Object.fromEntries(Object.entries(terminfo).map(([k, v]) => [k, v.toString('base64')])))};`,
        loader: 'js',
      }));
    },
  };
}

/** blessed/lib/widget.js with its computed require replaced by static ones (pure, for tests). */
export function staticWidgetRequires(source: string, widgetFiles: readonly string[]): string {
  const computed = "require('./widgets/' + file)";
  if (!source.includes(computed)) throw new Error(`Cannot bundle blessed: lib/widget.js no longer contains ${computed}; check the plugin against this blessed version`);
  const cases = widgetFiles
    .filter((f) => f.endsWith('.js'))
    .map((f) => `    case ${JSON.stringify(f.slice(0, -3))}: return require(${JSON.stringify(`./widgets/${f}`)});`)
    .join('\n');
  // A function declaration is hoisted, so it can follow the loop that calls it.
  return `${source.replace(computed, '__trowelWidget(file)')}
function __trowelWidget(file) {
  switch (file) {
${cases}
    default: throw new Error('blessed widget not bundled: ' + file);
  }
}
`;
}

/** `new Buffer(size)` as `Buffer.alloc(size)`, in files that use it only with a size (pure, for tests). */
export function allocBuffers(source: string): string {
  const uses = [...source.matchAll(/new Buffer\(([^)]*)\)/g)];
  if (uses.length === 0) throw new Error('Cannot bundle blessed: no `new Buffer(` left to replace; check the plugin against this version');
  for (const [, arg] of uses) {
    if (/['"\[]/.test(arg!)) throw new Error(`Cannot bundle blessed: new Buffer(${arg}) is not an allocation by size`);
  }
  return source.replace(/new Buffer\(/g, 'Buffer.alloc(');
}

/** blessed/lib/tput.js reading the embedded entries (pure, for tests). */
export function embeddedTerminfo(source: string, installer: string): string {
  const fallback = /__dirname \+ '\/\.\.\/usr\/'?/g;
  const count = source.match(fallback)?.length ?? 0;
  // _useXtermCap, _useXtermInfo, _useInternalInfo, _useInternalCap.
  if (count !== 4) throw new Error(`Cannot bundle blessed: lib/tput.js has ${count} __dirname fallbacks, not 4; check the plugin against this blessed version`);
  if (!source.includes('Tput.ipaths = [')) throw new Error('Cannot bundle blessed: lib/tput.js no longer has Tput.ipaths');
  return `var __trowelTerminfoDir = require(${JSON.stringify(installer)}).installTerminfo(require(${JSON.stringify(TERMINFO_MODULE)}));
${source.replace(fallback, (m) => (m.endsWith("'") ? "__trowelTerminfoDir + '/'" : "__trowelTerminfoDir + '/"))}
Tput.ipaths.push(__trowelTerminfoDir);
`;
}
