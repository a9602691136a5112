/**
 * `trowel keys init|show`: the server's manifest signing key. `init` runs
 * once on the server (it refuses to replace a key unless --force, since
 * every client pinning the old key would then refuse new manifests);
 * `show` prints what a client pins: the key id, the PEM for --key FILE,
 * and the `trowel.key=` kernel argument.
 */
import { describeError, TrowelError } from '../errors.ts';
import { initKeys, keyIdOf, loadPublicKey, publicKeyBase64, publicKeyPem } from '../stream/index.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import type { CommandIo } from './machines.ts';

const USAGE = `usage: trowel keys init [--state-dir DIR] [--force]
       trowel keys show [--state-dir DIR]

options:
  --state-dir DIR  where the server keeps its state (default /var/lib/trowel); keys go to DIR/keys
  --force          init: replace an existing key (clients pinning the old one must be updated)`;

const OPTIONS = {
  'state-dir': { type: 'string' },
  force: { type: 'boolean' },
} as const;

const processIo: CommandIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
};

export async function keysCommand(argv: string[], io: CommandIo = processIo): Promise<number> {
  let request: { kind: 'help' } | { kind: 'init' | 'show'; stateDir: string; force: boolean };
  try {
    request = parseRequest(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`trowel keys: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (request.kind === 'help') {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  try {
    if (request.kind === 'init') {
      const files = await initKeys(request.stateDir, { force: request.force });
      io.stdout(
        `${request.force ? 'Replaced' : 'Created'} the signing key ${files.keyId}\n` +
          `  private key  ${files.privateKeyPath} (mode 0600)\n` +
          `  public key   ${files.publicKeyPath}\n` +
          'Run "trowel keys show" for the forms clients pin.\n',
      );
    } else {
      const key = await loadPublicKey(request.stateDir);
      io.stdout(
        `key id     ${keyIdOf(key)}\n` +
          'algorithm  ed25519\n\n' +
          `public key (for --key FILE):\n${publicKeyPem(key)}\n` +
          `kernel argument:\ntrowel.key=${publicKeyBase64(key)}\n`,
      );
    }
    return 0;
  } catch (e) {
    if (!(e instanceof TrowelError)) throw e;
    io.stderr(`trowel: ${describeError(e)}\n`);
    return 1;
  }
}

/** @private */
function parseRequest(argv: string[]): { kind: 'help' } | { kind: 'init' | 'show'; stateDir: string; force: boolean } {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE, true);
  if (values.help) return { kind: 'help' };
  const [sub, ...rest] = positionals;
  if (sub === undefined) throw new UsageError('missing subcommand', USAGE);
  if (sub !== 'init' && sub !== 'show') throw new UsageError(`unknown subcommand "${sub}"`, USAGE);
  if (rest.length > 0) throw new UsageError(`"keys ${sub}" takes no arguments`, USAGE);
  if (values.force && sub !== 'init') throw new UsageError('--force applies only to "keys init"', USAGE);
  return { kind: sub, stateDir: values['state-dir'] ?? '/var/lib/trowel', force: values.force ?? false };
}
