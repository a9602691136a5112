/**
 * The TFTP server against Debian's real clients (tftp-hpa, atftp, curl),
 * server and clients in two network namespaces joined by a veth pair.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError } from '../../src/sys/run.ts';
import { CLIENT_ADDRESS, createTftpLab, SERVER_ADDRESS, sha256File, type TftpLab } from '../helpers/tftp-lab.ts';

describe('TFTP server with real clients', () => {
  let lab: TftpLab;
  const sums: Record<string, string> = {};

  beforeAll(async () => {
    lab = await createTftpLab();
    const { root } = lab;
    await writeFile(join(root, 'small.bin'), randomBytes(300_001));
    await writeFile(join(root, 'exact.bin'), randomBytes(1468 * 512)); // a multiple of 512 and of 1468
    await writeFile(join(root, 'text.txt'), 'first line\nsecond\r\nthird\n');
    await mkdir(join(root, 'pxelinux.cfg'));
    await writeFile(join(root, 'pxelinux.cfg', 'default'), 'DEFAULT local\n');
    await writeFile(join(root, '..', 'outside.txt'), 'outside the root\n');
    await symlink('../outside.txt', join(root, 'escape'));
    await symlink('/etc/passwd', join(root, 'abs-escape'));
    await symlink('small.bin', join(root, 'link-inside'));
    for (const f of ['small.bin', 'exact.bin']) sums[f] = await sha256File(join(root, f));
    await lab.startServer();
  });
  afterAll(async () => {
    await lab?.stop();
  });

  /** Runs a client in the client namespace, in the scratch folder. */
  const client = (command: string, args: string[], timeoutMs = 60_000) => lab.client.exec(command, args, { cwd: lab.work, timeoutMs });
  const got = (name: string) => sha256File(join(lab.work, name));
  const refusals = () => lab.logs.filter((r) => r.event === 'tftp.refused');

  // tftp-hpa 5.2's client sends no options at all (no blksize switch): plain RFC 1350, 512-byte lock-step.
  it('tftp-hpa reads files byte-identical in binary mode, with and without -v', async () => {
    await client('tftp', ['-m', 'binary', SERVER_ADDRESS, '-c', 'get', 'small.bin', 'hpa-small']);
    expect(await got('hpa-small')).toBe(sums['small.bin']);
    const verbose = await client('tftp', ['-v', '-m', 'binary', SERVER_ADDRESS, '-c', 'get', 'exact.bin', 'hpa-exact']);
    expect(verbose.stdout).toMatch(/Received 751616 bytes/);
    expect(await got('hpa-exact')).toBe(sums['exact.bin']);
  });

  it('tftp-hpa in its default netascii mode gets the text back unchanged', async () => {
    await client('tftp', [SERVER_ADDRESS, '-c', 'get', 'text.txt', 'hpa-text']);
    // The server sent CR LF / CR NUL; tftp-hpa converts back to the original bytes.
    expect(await readFile(join(lab.work, 'hpa-text'), 'utf8')).toBe('first line\nsecond\r\nthird\n');
    expect(lab.logs.some((r) => r.event === 'tftp.transfer_start' && r.file === 'text.txt' && r.mode === 'netascii')).toBe(true);
  });

  it('atftp reads with blksize 1468 and windowsize 16', async () => {
    for (const f of ['small.bin', 'exact.bin']) {
      await client('atftp', ['--option', 'blksize 1468', '--option', 'windowsize 16', '-g', '-r', f, '-l', `atftp-${f}`, SERVER_ADDRESS]);
      expect(await got(`atftp-${f}`)).toBe(sums[f]);
    }
    const starts = lab.logs.filter((r) => r.event === 'tftp.transfer_start' && String(r.peer).startsWith(CLIENT_ADDRESS));
    expect(starts.some((r) => r.file === 'exact.bin' && r.blksize === 1468 && r.windowsize === 16)).toBe(true);
  });

  it('curl reads with --tftp-blksize 1468 and with its defaults', async () => {
    for (const f of ['small.bin', 'exact.bin']) {
      await client('curl', ['-sS', '--tftp-blksize', '1468', '-o', `curl-${f}`, `tftp://${SERVER_ADDRESS}/${f}`]);
      expect(await got(`curl-${f}`)).toBe(sums[f]);
    }
    await client('curl', ['-sS', '-o', 'curl-default', `tftp://${SERVER_ADDRESS}/small.bin`]);
    expect(await got('curl-default')).toBe(sums['small.bin']);
    expect(lab.logs.some((r) => r.event === 'tftp.transfer_start' && r.file === 'exact.bin' && r.blksize === 1468 && r.windowsize === 1)).toBe(true);
  });

  it('serves many clients at once, each from its own port', async () => {
    const jobs = Array.from({ length: 9 }, (_, i) => {
      const out = `many-${i}`;
      if (i % 3 === 0) return client('tftp', ['-m', 'binary', SERVER_ADDRESS, '-c', 'get', 'small.bin', out]).then(() => out);
      if (i % 3 === 1) return client('atftp', ['--option', 'windowsize 8', '-g', '-r', 'small.bin', '-l', out, SERVER_ADDRESS]).then(() => out);
      return client('curl', ['-sS', '-o', out, `tftp://${SERVER_ADDRESS}/small.bin`]).then(() => out);
    });
    for (const out of await Promise.all(jobs)) expect(await got(out), out).toBe(sums['small.bin']);
  });

  it('follows a symlink inside the root and strips a leading slash', async () => {
    await client('tftp', ['-m', 'binary', SERVER_ADDRESS, '-c', 'get', 'link-inside', 'linked']);
    expect(await got('linked')).toBe(sums['small.bin']);
    await client('curl', ['-sS', '-o', 'default-cfg', `tftp://${SERVER_ADDRESS}//pxelinux.cfg/default`]);
    expect(await readFile(join(lab.work, 'default-cfg'), 'utf8')).toBe('DEFAULT local\n');
  });

  it('answers per-client dynamic files before the filesystem', async () => {
    await client('tftp', ['-m', 'binary', SERVER_ADDRESS, '-c', 'get', 'dynamic/01-52-54-00-00-00-01', 'dyn']);
    expect(await readFile(join(lab.work, 'dyn'), 'utf8')).toBe(`dynamic dynamic/01-52-54-00-00-00-01 for ${CLIENT_ADDRESS}\n`);
  });

  it('refuses traversal and symlinks out of the root with error 2, one log line each', async () => {
    const attempts: [string, string[], RegExp][] = [
      ['tftp', ['-m', 'binary', SERVER_ADDRESS, '-c', 'get', '../../etc/passwd', 't1'], /Error code 2/],
      ['tftp', ['-m', 'binary', SERVER_ADDRESS, '-c', 'get', '/../outside.txt', 't2'], /Error code 2/],
      ['tftp', ['-m', 'binary', SERVER_ADDRESS, '-c', 'get', 'escape', 't3'], /Error code 2/],
      ['tftp', ['-m', 'binary', SERVER_ADDRESS, '-c', 'get', 'abs-escape', 't4'], /Error code 2/],
      ['atftp', ['-g', '-r', '../outside.txt', '-l', 't5', SERVER_ADDRESS], /exit status 255/],
      ['atftp', ['-g', '-r', 'escape', '-l', 't6', SERVER_ADDRESS], /exit status 255/],
      // curl removes dot segments from URLs unless told not to.
      ['curl', ['-sS', '--path-as-is', '-o', 't7', `tftp://${SERVER_ADDRESS}/../../etc/passwd`], /exit status 69/],
      ['curl', ['-sS', '-o', 't8', `tftp://${SERVER_ADDRESS}/abs-escape`], /exit status 69/],
    ];
    for (const [command, args, expected] of attempts) {
      const before = refusals().length;
      const output = await client(command, args).then(
        (r) => r.stdout + r.stderr, // tftp-hpa exits 0 after printing the server's error
        (e: unknown) => (e instanceof CommandError ? e.message : String(e)),
      );
      expect(output, `${command} ${args.join(' ')}`).toMatch(expected);
      const out = join(lab.work, args.find((a) => /^t\d$/.test(a))!);
      const size = await stat(out).then((s) => s.size, () => 0);
      expect(size).toBe(0);
      await waitFor(() => refusals().length === before + 1);
      const line = refusals().at(-1)!;
      expect(line).toMatchObject({ level: 'warn', code: 2 });
      expect(String(line.peer)).toMatch(new RegExp(`^${CLIENT_ADDRESS.replace(/\./g, '\\.')}:\\d+$`));
    }
  });

  it('refuses write requests with error 2 and writes nothing', async () => {
    await writeFile(join(lab.work, 'upload.bin'), 'data');
    const before = await readdir(lab.root);
    const hpa = await client('tftp', ['-m', 'binary', SERVER_ADDRESS, '-c', 'put', 'upload.bin', 'uploaded.bin']);
    expect(hpa.stdout + hpa.stderr).toMatch(/Error code 2: Cannot write: this server is read-only/);
    await expect(client('atftp', ['-p', '-l', 'upload.bin', '-r', 'uploaded2.bin', SERVER_ADDRESS])).rejects.toThrow(/exit status 255/);
    await expect(client('curl', ['-sS', '-T', 'upload.bin', `tftp://${SERVER_ADDRESS}/uploaded3.bin`])).rejects.toThrow(/exit status 69/);
    expect(await readdir(lab.root)).toEqual(before);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
