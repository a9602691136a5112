import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allocBuffers, embeddedTerminfo, staticWidgetRequires } from './blessed-bundle.ts';

const widgetJs = readFileSync('node_modules/blessed/lib/widget.js', 'utf8');
const tputJs = readFileSync('node_modules/blessed/lib/tput.js', 'utf8');

describe('staticWidgetRequires', () => {
  it('requires every widget of the installed blessed statically, by the name blessed asks for', () => {
    const files = readdirSync('node_modules/blessed/lib/widgets');
    const out = staticWidgetRequires(widgetJs, files);
    expect(out).not.toContain("require('./widgets/' + file)");
    expect(out).toContain('widget[name] = widget[file] = __trowelWidget(file);');
    expect(out).toContain('case "listtable": return require("./widgets/listtable.js");');
    // Every class blessed lists has a case.
    const classes = [...widgetJs.matchAll(/^ {2}'(\w+)',?$/gm)].map((m) => m[1]!.toLowerCase());
    expect(classes.length).toBeGreaterThan(30);
    for (const c of classes) expect(out).toContain(`case ${JSON.stringify(c)}:`);
  });

  it('fails the build when blessed changed the line it rewrites', () => {
    expect(() => staticWidgetRequires('module.exports = {};', [])).toThrow(/no longer contains/);
  });
});

describe('embeddedTerminfo', () => {
  it('points all four fallbacks at the embedded directory and appends it to the search path', () => {
    const out = embeddedTerminfo(tputJs, '/src/tui/terminfo.ts');
    expect(out).not.toContain('__dirname');
    expect(out.startsWith('var __trowelTerminfoDir = require("/src/tui/terminfo.ts").installTerminfo(require("trowel:terminfo"));')).toBe(true);
    expect(out).toContain("this.injectTerminfo(__trowelTerminfoDir + '/xterm')");
    expect(out).toContain("this.injectTerminfo(__trowelTerminfoDir + '/' + name)");
    expect(out).toContain("this.injectTermcap(__trowelTerminfoDir + '/' + name + '.termcap')");
    expect(out.trimEnd().endsWith('Tput.ipaths.push(__trowelTerminfoDir);')).toBe(true);
  });

  it('fails the build when blessed changed its fallbacks', () => {
    expect(() => embeddedTerminfo("x(__dirname + '/../usr/xterm'); Tput.ipaths = [];", 'i')).toThrow(/has 1 __dirname fallbacks, not 4/);
  });
});

describe('allocBuffers', () => {
  it('rewrites the size allocations of drawille and the GPM client', () => {
    for (const file of ['node_modules/drawille-blessed-contrib/index.js', 'node_modules/blessed/lib/gpmclient.js']) {
      const out = allocBuffers(readFileSync(file, 'utf8'));
      expect(out).not.toContain('new Buffer(');
      expect(out).toContain('Buffer.alloc(');
    }
  });

  it('refuses a Buffer made from data, which alloc would not copy', () => {
    expect(() => allocBuffers("x = new Buffer(s, 'base64');")).toThrow(/is not an allocation by size/);
    expect(() => allocBuffers('x = Buffer.alloc(1);')).toThrow(/no `new Buffer\(` left/);
  });
});
