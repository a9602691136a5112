/**
 * Multicast sessions through the server, on real sockets: `trowel serve`
 * (mcast on) in a namespace with a bridge and a template pool on loop
 * btrfs; receiver namespaces on that bridge, each running
 * `trowel template receive --multicast` with its own machine token (from
 * its boot script) into its own loop btrfs. They ask within the window, so
 * the server sends one session to all of them; each verifies the stream
 * against the signed manifest like an HTTP download. A sender with the
 * wrong key on the same group, port and session id is ignored; a session
 * of a tampered cache file is refused by its digest and leaves nothing.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { connect, createBridge, Netns, uniqueName } from '../../src/lab/netns.ts';
import { trowelCommand } from '../../src/lab/self.ts';
import { startServe, type ServeProcess } from '../../src/lab/serve-process.ts';
import type { SessionView } from '../../src/mcast-server/index.ts';
import { subvolumeName, TemplatePool, type TemplateVersion } from '../../src/pool/index.ts';
import { initKeys, loadSigningKey, publicKeyBase64 } from '../../src/stream/index.ts';
import { createSubvolume } from '../../src/sys/btrfs.ts';
import { treeSnapshot } from '../helpers/tree-snapshot.ts';
import { fillTemplateTree, noise } from './stream-cache-fixture.ts';

const NAME = 'org.example.Multicast';
const SERVER = '10.77.0.1';
const URL_BASE = `http://${SERVER}:8080`;
const RECEIVERS = 3;

interface Exit { code: number | null; stdout: string; stderr: string }

/** Collects a child's output and waits for it, killing it after `ms`. */
function finished(child: ChildProcess, ms: number): Promise<Exit> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('multicast sessions from trowel serve to receivers in namespaces', () => {
  let work: string;
  let state: LoopBtrfs;
  let serverNs: Netns | undefined;
  const nets: Netns[] = [];
  const disks: LoopBtrfs[] = [];
  const macs = Array.from({ length: RECEIVERS }, (_, i) => `52:54:00:77:00:${String(i + 1).padStart(2, '0')}`);
  const tokens: string[] = [];
  let serve: ServeProcess | undefined;
  let version: TemplateVersion;
  let key: string;
  const { command, args } = trowelCommand();

  const api = async (path: string) => JSON.parse((await serverNs!.exec('curl', ['-sS', '-f', `${URL_BASE}${path}`])).stdout) as unknown;
  const sessions = async () => ((await api('/api/v1/multicast/sessions')) as { sessions: SessionView[] }).sessions;
  const receive = (i: number, into: string, extra: string[] = []) => nets[i]!.spawn(command, [
    ...args, 'template', 'receive', '--server', URL_BASE, '--name', NAME, '--arch', 'x86_64', '--version', version.version,
    '--into', into, '--key-base64', key, '--multicast', '--mac', macs[i]!, '--token', tokens[i]!, ...extra,
  ]);
  /** The first session matching `wanted`, polling for up to a minute (processes start slowly on a busy host). */
  async function waitForSession(wanted: (s: SessionView) => boolean): Promise<SessionView> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const found = (await sessions()).find((s) => s.template.name === NAME && wanted(s));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such session; the server has ${JSON.stringify(await sessions())}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'trowel-mcast-session-'));
    // The server's whole state dir on btrfs: its pool is <stateDir>/pool.
    state = await createLoopBtrfs(512, 'trowel-mcs');
    const stateDir = state.mountpoint;
    await initKeys(stateDir);
    key = publicKeyBase64((await loadSigningKey(stateDir)).publicKey);
    const pool = await TemplatePool.open(join(stateDir, 'pool'));
    const tree = join(stateDir, 'work');
    await createSubvolume(tree);
    await fillTemplateTree(tree);
    // Incompressible, so the session is thousands of blocks, not a handful.
    await writeFile(join(tree, 'srv/payload.bin'), noise(12 * 1024 * 1024, 'mcast'));
    version = await pool.publish({ name: NAME, arch: 'x86_64', from: { kind: 'subvolume', path: tree } });

    serverNs = await Netns.create(uniqueName('mss'));
    await createBridge(serverNs, 'br0', `${SERVER}/24`);
    for (let i = 0; i <= RECEIVERS; i += 1) {
      const ns = await Netns.create(uniqueName('msr'));
      nets.push(ns);
      await connect(ns, 'eth0', `10.77.0.${11 + i}/24`, serverNs, `port${i}`, undefined);
      await serverNs.ip('link', 'set', `port${i}`, 'master', 'br0');
    }
    for (let i = 0; i < RECEIVERS; i += 1) disks.push(await createLoopBtrfs(256, `trowel-mcr${i}`));

    const config = join(work, 'trowel.yaml');
    await writeFile(config, [
      `listen: { address: ${SERVER} }`,
      'dhcp: { mode: off }',
      'tftp: { enabled: false }',
      `http: { port: 8080, root: ${JSON.stringify(join(work, 'http'))} }`,
      // A window long enough for every receiver (and the stranger) to start on a loaded 2-core host.
      'mcast: { enabled: true, window: 8s, maxWait: 60s, rate: 100M }',
      `stateDir: ${JSON.stringify(stateDir)}`,
      '',
    ].join('\n'));
    serve = await startServe(serverNs, config, { logFile: join(work, 'serve.log') });
    // Each machine's token is in its own boot script, as a PXE-booted machine gets it.
    for (const mac of macs) {
      const script = (await serverNs.exec('curl', ['-sS', '-f', `${URL_BASE}/boot/ipxe?mac=${mac}`])).stdout;
      tokens.push(/trowel\.token=(\S+)/.exec(script)![1]!);
    }
  });

  afterAll(async () => {
    await serve?.stop().catch(() => {});
    for (const ns of [...nets, serverNs]) await ns?.destroy().catch(() => {});
    for (const d of disks) await d.destroy().catch(() => {});
    await state?.destroy().catch(() => {});
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('sends one session to three machines that ask at once; each keeps a verified, identical template', async () => {
    const children = macs.map((_, i) => finished(receive(i, disks[i]!.mountpoint), 150_000));
    // A stranger on the segment: the same group, port and session id, the wrong key.
    const session = await waitForSession((s) => s.state === 'gathering');
    await writeFile(join(work, 'wrong.key'), randomBytes(32));
    await writeFile(join(work, 'forged.bin'), noise(2 * 1024 * 1024, 'forged'));
    const forgerChild = nets[RECEIVERS]!.spawn(command, [
      ...args, 'mcast', 'send-file', join(work, 'forged.bin'), '--group', session.group, '--port', String(session.port),
      '--interface', `10.77.0.${11 + RECEIVERS}`, '--key-file', join(work, 'wrong.key'), '--session', String(session.sessionId),
      '--min-receivers', '1', '--max-wait', '60s', '--rate', '20M',
    ]);
    const forger = finished(forgerChild, 150_000);

    const exits = await Promise.all(children);
    forgerChild.kill('SIGTERM');
    await forger;
    const source = await treeSnapshot(version.path);
    let rejected = 0;
    for (const [i, exit] of exits.entries()) {
      expect(exit.stderr).toContain(`over multicast from ${SERVER}, session ${session.sessionId} on ${session.group}:${session.port}`);
      expect({ code: exit.code, stderr: exit.code === 0 ? '' : exit.stderr }).toEqual({ code: 0, stderr: '' });
      const path = join(disks[i]!.mountpoint, subvolumeName(version));
      expect(exit.stdout.trim()).toBe(path);
      expect(await treeSnapshot(path)).toEqual(source);
      // Nothing else is left: no spool, no staging.
      expect(await readdir(disks[i]!.mountpoint)).toEqual([subvolumeName(version)]);
      rejected += Number(/(\d+) packets rejected/.exec(exit.stderr)?.[1] ?? 0);
    }
    expect(rejected).toBeGreaterThan(0);

    const done = (await sessions()).find((s) => s.sessionId === session.sessionId)!;
    expect(done).toMatchObject({ state: 'done', origin: 'auto', completed: RECEIVERS, dropped: 0, progress: 1 });
    expect([...done.machines].sort()).toEqual(macs);
    const metrics = (await serverNs!.exec('curl', ['-sS', `${URL_BASE}/metrics`])).stdout;
    expect(metrics).toContain('trowel_mcast_sessions_total{origin="auto",result="done"} 1');
    expect(metrics).toMatch(new RegExp(`trowel_mcast_session_completed_receivers\\{session="${session.sessionId}",template="${NAME.replace(/\./g, '\\.')}/x86_64/${version.version}"\\} ${RECEIVERS}`));
    const events = (await api(`/api/v1/machines/${macs[0]}/events`)) as { events: { line?: string }[] };
    expect(events.events.map((e) => e.line).find((l) => l?.startsWith('multicast: '))).toMatch(new RegExp(`^multicast: session ${session.sessionId} on ${session.group.replace(/\./g, '\\.')}:${session.port} as receiver, sending in [1-8] s$`));
  });

  it('follows an admin session with trowel mcast send until its receivers are done', async () => {
    const into = [0, 1].map((i) => join(disks[i]!.mountpoint, 'second'));
    for (const dir of into) await mkdir(dir);
    const send = finished(serverNs!.spawn(command, [
      ...args, 'mcast', 'send', '--server', URL_BASE, '--state-dir', state.mountpoint, '--name', NAME, '--arch', 'x86_64',
      '--version', version.version, '--min-receivers', '2', '--max-wait', '30s', '--rate', '200M',
    ]), 150_000);
    await waitForSession((s) => s.origin === 'admin' && s.state === 'sending');
    const exits = await Promise.all([0, 1].map((i) => finished(receive(i, into[i]!), 150_000)));
    for (const exit of exits) expect({ code: exit.code, stderr: exit.code === 0 ? '' : exit.stderr }).toEqual({ code: 0, stderr: '' });
    const sent = await send;
    expect(sent.code).toBe(0);
    expect(sent.stderr).toMatch(/: done: 2 receivers completed, 0 dropped/);
    expect(JSON.parse(sent.stdout)).toMatchObject({ origin: 'admin', state: 'done', completed: 2 });
  });

  it('tee: one machine downloads and sends it on; the others receive its session; all verified', async () => {
    const into = [0, 1, 2].map((i) => join(disks[i]!.mountpoint, 'tee'));
    for (const dir of into) await mkdir(dir);
    const tee = finished(nets[0]!.spawn(command, [
      ...args, 'template', 'receive', '--server', URL_BASE, '--name', NAME, '--arch', 'x86_64', '--version', version.version,
      '--into', into[0]!, '--key-base64', key, '--tee', '--mac', macs[0]!, '--token', tokens[0]!,
    ]), 150_000);
    const session = await waitForSession((s) => s.origin === 'tee' && s.state === 'gathering');
    const exits = await Promise.all([1, 2].map((i) => finished(receive(i, into[i]!), 150_000)));
    const teeExit = await tee;
    expect(teeExit.stderr).toContain(`tee: fetching over http and sending session ${session.sessionId} on ${session.group}:${session.port} via 10.77.0.11`);
    expect({ code: teeExit.code, stderr: teeExit.code === 0 ? '' : teeExit.stderr }).toEqual({ code: 0, stderr: '' });
    const source = await treeSnapshot(version.path);
    for (const [n, exit] of exits.entries()) {
      expect(exit.stderr).toContain(`over multicast from ${macs[0]}, session ${session.sessionId}`);
      expect({ code: exit.code, stderr: exit.code === 0 ? '' : `${exit.stderr}\ntee: ${teeExit.stderr}` }).toEqual({ code: 0, stderr: '' });
      expect(await treeSnapshot(join(into[n + 1]!, subvolumeName(version)))).toEqual(source);
    }
    expect(await treeSnapshot(join(into[0]!, subvolumeName(version)))).toEqual(source);
    for (const dir of into) expect(await readdir(dir)).toEqual([subvolumeName(version)]);
    const ended = (await sessions()).find((s) => s.sessionId === session.sessionId)!;
    expect(ended).toMatchObject({ state: 'done', origin: 'tee', sender: `machine ${macs[0]}`, progress: 1 });
    expect(ended.completed + ended.dropped).toBe(2);
  });

  it('refuses a session whose bytes are not the signed stream, and keeps nothing', async () => {
    const cache = join(state.mountpoint, 'cache');
    const file = join(cache, (await readdir(cache)).find((f) => f.endsWith('.zst'))!);
    const original = await readFile(file);
    const tampered = Buffer.from(original);
    tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
    await writeFile(file, tampered);
    try {
      const into = join(disks[2]!.mountpoint, 'tampered');
      await mkdir(into);
      const exit = await finished(receive(2, into), 150_000);
      expect(exit.code).toBe(1);
      // Whichever check sees it first (btrfs's crc32 of a command, zstd, or the sha-256 of the whole), nothing is kept.
      expect(exit.stderr).toMatch(/over multicast from .*\n(.*\n)*trowel: Cannot receive org\.example\.Multicast .*(crc32|decompress|sha-256).*nothing was kept/);
      expect(await readdir(into)).toEqual([]);
    } finally {
      await writeFile(file, original);
    }
  });
});
