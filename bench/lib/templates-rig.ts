/**
 * The template benchmark's rig: a pool on a btrfs loop device holding the
 * demo template, published by the measured trowel's own CLI with a signing
 * key; a network namespace (`trwbt…`, loopback only) where `trowel serve`
 * and nginx listen on 127.0.0.1 and the clients run; and fresh btrfs loop
 * devices to receive into. Everything it makes is undone by cleanup.ts
 * (return, error, Ctrl-C): servers, the namespace, mounts, loop devices.
 */
import { join } from 'node:path';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { Netns } from '../../src/lab/netns.ts';
import { run } from '../../src/sys/run.ts';
import { keyPaths } from '../../src/stream/keys.ts';
import { onCleanup } from './cleanup.ts';
import type { ServerProcess } from './server-process.ts';
import { startTrowel } from './trowel.ts';

export const ADDRESS = '127.0.0.1';
export const TROWEL_PORT = 8080;
export const NGINX_PORT = 8081;
export const TEMPLATE_ARCH = 'x86_64';

export interface PublishedVersion {
  name: string;
  arch: string;
  version: string;
  parent: string | null;
  path: string;
  sizeBytes: number;
}

export interface SignedManifestView {
  manifest: { uncompressedSize: number; compressedSize: number; sha256: string; parent: string | null };
}

export interface TemplatesRig {
  ns: Netns;
  /** The pool's filesystem. */
  fs: LoopBtrfs;
  stateDir: string;
  poolDir: string;
  cacheDir: string;
  keyFile: string;
  /** Runs the measured trowel's CLI (the bundle) on the host. */
  cli(args: string[]): Promise<string>;
  /** Runs it inside the namespace (clients of the server). */
  nsCli(args: string[]): Promise<string>;
  /** GET on the trowel server from inside the namespace; the body as text. */
  get(path: string): Promise<string>;
  trowelUrl: string;
  /** The measured trowel (an esbuild bundle of the commit). */
  bundle: string;
}

/** A fresh btrfs loop filesystem, destroyed by cleanup.ts if the caller doesn't first. */
export async function freshBtrfs(sizeMiB: number, label: string): Promise<LoopBtrfs & { dispose(): Promise<void> }> {
  const fs = await createLoopBtrfs(sizeMiB, label);
  const dispose = onCleanup(() => fs.destroy());
  return { ...fs, dispose };
}

export async function createTemplatesRig(bundle: string, poolMiB: number): Promise<TemplatesRig> {
  const fs = await freshBtrfs(poolMiB, 'trowel-bench-pool');
  const stateDir = join(fs.mountpoint, 'state');
  const ns = await Netns.create(`trwbt${process.pid % 100000}`);
  onCleanup(() => ns.destroy());
  const cli = async (args: string[]) => (await run(process.execPath, [bundle, ...args], { timeoutMs: 1_800_000 })).stdout;
  const nsCli = async (args: string[]) => (await ns.exec(process.execPath, [bundle, ...args], { timeoutMs: 1_800_000 })).stdout;
  const trowelUrl = `http://${ADDRESS}:${TROWEL_PORT}`;
  await run('mkdir', ['-p', stateDir]);
  await cli(['keys', 'init', '--state-dir', stateDir]);
  return {
    ns, fs, stateDir,
    poolDir: join(stateDir, 'pool'),
    cacheDir: join(stateDir, 'cache'),
    keyFile: keyPaths(stateDir).publicKeyPath,
    cli, nsCli, trowelUrl, bundle,
    get: async (path) => (await ns.exec('curl', ['-sS', '--fail-with-body', '--max-time', '1800', `${trowelUrl}${path}`])).stdout,
  };
}

/** Publishes a version with the measured CLI; `source` is `--from DIR` or `--subvolume PATH`. */
export async function publish(rig: TemplatesRig, name: string, source: ['--from' | '--subvolume', string]): Promise<PublishedVersion> {
  const out = await rig.cli(['template', 'publish', '--pool', rig.poolDir, '--name', name, '--arch', TEMPLATE_ARCH, ...source, '--json']);
  return JSON.parse(out) as PublishedVersion;
}

/** `trowel serve` of the measured bundle in the namespace: HTTP only, on loopback. */
export async function startTrowelServe(rig: TemplatesRig, bundle: string, dir: string): Promise<ServerProcess> {
  const yaml = [
    `listen: { address: ${ADDRESS} }`,
    'dhcp: { mode: off }',
    'tftp: { enabled: false }',
    `http: { port: ${TROWEL_PORT} }`,
    `stateDir: ${rig.stateDir}`,
    '',
  ].join('\n');
  return startTrowel(rig.ns, { cli: bundle, label: 'bundle' }, dir, yaml);
}

export function streamPath(name: string, version: string, parent?: string): string {
  return `/api/v1/templates/${name}/${TEMPLATE_ARCH}/${version}/stream${parent ? `?parent=${parent}` : ''}`;
}

/** The signed manifest (made on the first request: btrfs send + zstd into the cache), timed. */
export async function manifest(rig: TemplatesRig, name: string, version: string, parent?: string): Promise<{ signed: SignedManifestView; seconds: number }> {
  const started = performance.now();
  const text = await rig.get(`/api/v1/templates/${name}/${TEMPLATE_ARCH}/${version}/manifest${parent ? `?parent=${parent}` : ''}`);
  return { signed: JSON.parse(text) as SignedManifestView, seconds: (performance.now() - started) / 1000 };
}

/** The cache file of a stream, which nginx serves and the tools-only pipeline reads. */
export function cacheFile(rig: TemplatesRig, signed: SignedManifestView): string {
  return join(rig.cacheDir, `${signed.manifest.sha256}.zst`);
}

