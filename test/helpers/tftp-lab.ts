/**
 * The TFTP integration lab: a server namespace running
 * test/helpers/tftp-server-process.ts and a client namespace for the real
 * clients (tftp-hpa, atftp, curl), joined by a veth pair. Everything it
 * creates (namespaces, the server process, the temp folder) goes in stop().
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { connect, Netns } from '../../src/lab/netns.ts';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'tftp-server-process.ts');

export const SERVER_ADDRESS = '10.231.0.1';
export const CLIENT_ADDRESS = '10.231.0.2';

export type ServerLog = Record<string, unknown> & { event?: string };

export interface TftpLab {
  server: Netns;
  client: Netns;
  /** The TFTP root, filled by the test before startServer(). */
  root: string;
  /** A scratch folder for client downloads. */
  work: string;
  /** Parsed JSON log lines of the server process so far. */
  logs: ServerLog[];
  /** Starts the server process in the server namespace; resolves with its port once it prints its ready line. */
  startServer(options?: { port?: number; maxBlockSize?: number; maxWindowSize?: number }): Promise<number>;
  stop(): Promise<void>;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

function spawnServer(ns: Netns, config: object, logs: ServerLog[]): { child: ChildProcess; ready: Promise<number> } {
  const child = ns.spawn(process.execPath, [SCRIPT, JSON.stringify(config)]);
  let stderrTail = '';
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      stderrTail = (stderrTail + line + '\n').slice(-2000);
      try {
        logs.push(JSON.parse(line) as ServerLog);
      } catch {
        // not a log record (e.g. a Node warning); kept in stderrTail for failure messages
      }
    }
  });
  const ready = new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`TFTP server did not start within 15 s: ${stderrTail}`)), 15_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /TFTP_READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`TFTP server exited with ${code} before it was ready: ${stderrTail}`));
    });
  });
  return { child, ready };
}

export async function createTftpLab(): Promise<TftpLab> {
  const base = await mkdtemp(join(tmpdir(), 'trowel-tftp-lab-'));
  const root = join(base, 'root');
  const work = join(base, 'work');
  await mkdir(root);
  await mkdir(work);
  const made: Netns[] = [];
  const logs: ServerLog[] = [];
  let child: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      // 'close', not 'exit': the server's last records may still be in the pipe at 'exit'.
      const exited = new Promise((resolve) => child!.once('close', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
    }
    for (const ns of made) await ns.destroy(); // also kills anything still running inside
    await rm(base, { recursive: true, force: true });
  };
  try {
    const server = await Netns.create();
    made.push(server);
    const client = await Netns.create();
    made.push(client);
    await connect(server, 'eth0', `${SERVER_ADDRESS}/24`, client, 'eth0', `${CLIENT_ADDRESS}/24`);
    return {
      server,
      client,
      root,
      work,
      logs,
      stop,
      startServer(options = {}) {
        const spawned = spawnServer(server, { root, port: 69, bindAddress: SERVER_ADDRESS, ...options }, logs);
        child = spawned.child;
        return spawned.ready;
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
