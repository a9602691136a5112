/**
 * `trowel pull`: brings this server's template pool up to date with another
 * trowel server, incrementally from the newest version both hold
 * (docs/templates.md, "Receiving"). One line per received version on
 * stdout, progress on stderr. Wiring only: the work is pullTemplates().
 */
import { join } from 'node:path';
import { describeError } from '../errors.ts';
import { TemplatePool, validateArch, validateName } from '../pool/index.ts';
import { createProgressLine } from '../stream/progress-line.ts';
import { formatBytes, type ProgressSnapshot } from '../stream/progress.ts';
import { pullTemplates } from '../stream/pull.ts';
import { describeRef } from '../stream/template-api.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import { pinnedKey, processIo, serverUrl, stderrIsTTY, type ProgressIo } from './template-receive.ts';

const USAGE = `usage: trowel pull --from URL (--key FILE | --key-base64 B64) [--name NAME] [--arch ARCH]
                  [--pool DIR | --state-dir DIR]

Receives every template version the server at URL has and this pool lacks,
oldest first, each incrementally from the newest version both hold.

options:
  --from URL        the trowel server to pull from
  --key FILE        that server's public key (PEM, from "trowel keys show" there)
  --key-base64 B64  the same key as base64 SPKI DER
  --name NAME       only this template
  --arch ARCH       only this arch (x86_64 or aarch64)
  --pool DIR        the pool to fill (default <state-dir>/pool)
  --state-dir DIR   trowel's state directory (default /var/lib/trowel)`;

const OPTIONS = {
  from: { type: 'string' },
  key: { type: 'string' },
  'key-base64': { type: 'string' },
  name: { type: 'string' },
  arch: { type: 'string' },
  pool: { type: 'string' },
  'state-dir': { type: 'string' },
} as const;

export async function pullCommand(argv: string[], io: ProgressIo = processIo): Promise<number> {
  let drawn = false;
  const newline = () => (stderrIsTTY(io) && drawn ? '\n' : '');
  try {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE, true);
    if (values.help) {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, USAGE);
    if (values.pool !== undefined && values['state-dir'] !== undefined) throw new UsageError('give --pool or --state-dir, not both', USAGE);
    const from = serverUrl(values.from, {}, '--from', USAGE);
    const publicKey = await pinnedKey(values, USAGE);
    const name = values.name === undefined ? undefined : validateName(values.name);
    const arch = values.arch === undefined ? undefined : validateArch(values.arch);
    const pool = await TemplatePool.open(values.pool ?? join(values['state-dir'] ?? '/var/lib/trowel', 'pool'));

    const line = createProgressLine({ write: io.stderr, isTTY: stderrIsTTY(io), columns: io.stderrColumns ?? process.stderr.columns });
    let label = '';
    let last: ProgressSnapshot | undefined;
    const finishLine = () => {
      if (last) line.finish(label, last);
      last = undefined;
      drawn = false;
    };
    const result = await pullTemplates({
      from,
      name,
      arch,
      publicKey,
      pool,
      onStep: (ref, step) => {
        finishLine();
        label = describeRef(ref, step.base);
      },
      onProgress: (_ref, p) => {
        line.update(label, (last = p));
        drawn = true;
      },
      onPulled: (p) => {
        finishLine();
        const how = p.base === null ? 'full' : `incremental from ${p.base}`;
        io.stdout(`received ${p.ref.name} ${p.ref.arch} ${p.ref.version} (${how}, ${formatBytes(p.bytes)})\n`);
      },
    });
    for (const t of result.upToDate) io.stdout(`${t.name} ${t.arch} is up to date\n`);
    if (result.pulled.length === 0 && result.upToDate.length === 0) io.stdout(`${from} has no templates\n`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`trowel pull: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    io.stderr(`${newline()}trowel: ${describeError(e)}\n`);
    return 1;
  }
}
