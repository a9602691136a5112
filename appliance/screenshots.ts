/**
 * Renders the README's screenshots (not part of `npm test`):
 *
 *   node appliance/screenshots.ts [--out docs/screenshots] [--only top]
 *
 * `top`: a real server (HTTP + TFTP on loopback, ephemeral ports) with
 * machines that really download a file from it and report their progress
 * with their own tokens; `trowel top` follows it in tmux. The screen is
 * captured with its colours (capture-pane -e), turned into HTML
 * (ansi-html.ts) and photographed by headless Chromium (Debian's
 * `chromium`, font `fonts-dejavu-core`).
 *
 * `tui-*`: when `trowel tui` exists (src/cli/tui.ts), the console's screens,
 * driven the way test/integration/tui*.test.ts drive them: see tui-screenshots.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../src/config/index.ts';
import { loadOrCreateAdminToken, startHttpServer } from '../src/http/index.ts';
import { SOURCE_CLI } from '../src/lab/self.ts';
import { silentLogger } from '../src/log/logger.ts';
import { MetricsRegistry } from '../src/metrics/registry.ts';
import { EventStore, MachineStore, openDatabase } from '../src/store/index.ts';
import { run } from '../src/sys/run.ts';
import { startTftpServer } from '../src/tftp/index.ts';
import { TmuxSession } from '../test/helpers/tmux.ts';
import { screenPage } from './ansi-html.ts';

const MiB = 2 ** 20;
/** DejaVu Sans Mono: advance width 0.602 em, line height 1.2 em (ansi-html.ts), 12 px padding. */
const FONT_PX = 16;
const PADDING = 12;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' }, only: { type: 'string' } } });
  const out = resolve(values.out ?? 'docs/screenshots');
  mkdirSync(out, { recursive: true });
  if (!values.only || values.only === 'top') await topScreenshot(join(out, 'top.png'));
  if ((!values.only || values.only.startsWith('tui')) && existsSync('src/cli/tui.ts') && existsSync('appliance/tui-screenshots.ts')) {
    const { tuiScreenshots } = (await import('./tui-screenshots.ts')) as { tuiScreenshots(out: string, shoot: typeof photograph): Promise<void> };
    await tuiScreenshots(out, photograph);
  }
}

/** A captured screen (with escapes) as a PNG of exactly its size. */
export async function photograph(screen: string, columns: number, rows: number, png: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'trowel-shot-'));
  try {
    const html = join(dir, 'screen.html');
    writeFileSync(html, screenPage(screen, { fontPx: FONT_PX }));
    const width = Math.ceil(columns * 0.6021 * FONT_PX) + 2 * PADDING;
    const height = Math.ceil(rows * 1.2 * FONT_PX) + 2 * PADDING;
    await run('chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--force-device-scale-factor=1',
      `--user-data-dir=${join(dir, 'profile')}`, `--window-size=${width},${height}`, `--screenshot=${png}`, `file://${html}`,
    ]);
    process.stdout.write(`wrote ${png} (${width}x${height})\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** @private */
async function topScreenshot(png: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'trowel-shot-top-'));
  const stops: (() => Promise<unknown> | unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'trowel'), { recursive: true });
    // Sparse files: the bytes are zeros, the transfers are real.
    writeFileSync(join(root, 'trowel', 'template.stream'), '');
    truncateSync(join(root, 'trowel', 'template.stream'), 3 * 1024 * MiB);
    writeFileSync(join(root, 'undionly.kpxe'), '');
    truncateSync(join(root, 'undionly.kpxe'), 70 * 1024);

    const config = parseConfig(`listen: { address: 127.0.0.1 }\nhttp: { root: ${JSON.stringify(root)} }\nstateDir: ${JSON.stringify(dir)}\n`, join(dir, 'trowel.yaml'));
    const db = openDatabase(join(dir, 'trowel.db'));
    stops.push(() => db.close());
    const machines = new MachineStore(db);
    const events = new EventStore(db);
    const metrics = new MetricsRegistry();
    const http = await startHttpServer({ config, machines, events, metrics, log: silentLogger, adminToken: loadOrCreateAdminToken(dir), bindAddress: '127.0.0.1', port: 0 });
    stops.push(() => http.close());
    const tftp = await startTftpServer({ root, port: 0, bindAddress: '127.0.0.1', metrics, log: silentLogger });
    stops.push(() => tftp.close());
    const server = `http://127.0.0.1:${http.port}`;

    const fleet = [
      { mac: '52:54:00:3c:10:01', hostname: 'lab-ws01', ip: '10.42.0.101' },
      { mac: '52:54:00:3c:10:02', hostname: 'lab-ws02', ip: '10.42.0.102' },
      { mac: '52:54:00:3c:10:03', hostname: 'lab-ws03', ip: '10.42.0.103' },
      { mac: '52:54:00:3c:10:04', hostname: 'lab-ws04', ip: '10.42.0.104' },
      { mac: '52:54:00:3c:10:05', hostname: 'kiosk-7', ip: '10.42.0.105' },
    ];
    for (const m of fleet) machines.recordContact(m);
    const post = (mac: string, event: Record<string, unknown>) =>
      fetch(`${server}/api/v1/machines/${mac}/events`, { method: 'POST', headers: { authorization: `Bearer ${machines.get(mac)!.token}`, 'content-type': 'application/json' }, body: JSON.stringify(event) }).then((r) => r.text());

    // Firmware fetching its boot program over TFTP, then the boot script over HTTP.
    for (const m of fleet) {
      await run('curl', ['-sf', '-o', '/dev/null', `tftp://127.0.0.1:${tftp.port}/undionly.kpxe`]);
      await fetch(`${server}/boot/ipxe?mac=${m.mac}`).then((r) => r.text());
    }
    const deployed = fleet[3]!.mac;
    for (const step of ['discover', 'plan', 'partition', 'mkfs', 'receive', 'deploy', 'bootloader', 'complete']) {
      await post(deployed, { step, state: 'started' });
      await post(deployed, { step, state: 'done' });
    }
    for (const step of ['discover', 'plan', 'partition', 'mkfs']) await post(fleet[2]!.mac, { step, state: 'done' });
    await post(fleet[2]!.mac, { step: 'receive', state: 'started' });
    await post(fleet[2]!.mac, { step: 'receive', state: 'failed', error: 'stream digest does not match the signed manifest' });

    const tmux = await TmuxSession.start({
      command: `${process.execPath} ${SOURCE_CLI} top --server ${server}`,
      columns: 100,
      rows: 32,
      // Unicode line drawing instead of the terminal's alternate character set, which a capture cannot show.
      env: { LANG: 'C.UTF-8', NCURSES_NO_UTF8_ACS: '1' },
    });
    stops.push(() => tmux.kill());
    await tmux.waitFor('live:');

    const downloads = [
      download(server, fleet[0]!.mac, 48 * MiB, post),
      sleep(6_000).then(() => download(server, fleet[1]!.mac, 30 * MiB, post)),
    ];
    await sleep(40_000);
    const screen = await tmux.capture({ escapes: true });
    await photograph(screen, 100, 32, png);
    stopDownloads = true;
    await Promise.allSettled(downloads);
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

let stopDownloads = false;

/**
 * @private A machine receiving its template: reads the stream from the
 * server at about `rate` bytes/s (the server counts what it serves) and
 * reports its progress every second, as the provisioning client does.
 */
async function download(server: string, mac: string, rate: number, post: (mac: string, e: Record<string, unknown>) => Promise<unknown>): Promise<void> {
  for (const step of ['discover', 'plan', 'partition', 'mkfs']) await post(mac, { step, state: 'done' });
  await post(mac, { step: 'receive', state: 'started' });
  const res = await fetch(`${server}/boot/files/trowel/template.stream`);
  const total = Number(res.headers.get('content-length'));
  const reader = res.body!.getReader();
  const started = Date.now();
  let bytes = 0;
  let lastReport = { at: started, bytes: 0 };
  while (!stopDownloads) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    // Wobble the pace a little, as a real link does.
    const pace = rate * (0.85 + 0.3 * Math.abs(Math.sin((Date.now() - started) / 4000)));
    const ahead = bytes / pace - (Date.now() - started) / 1000;
    if (ahead > 0) await sleep(ahead * 1000);
    const now = Date.now();
    if (now - lastReport.at >= 1000) {
      const measured = ((bytes - lastReport.bytes) * 1000) / (now - lastReport.at);
      lastReport = { at: now, bytes };
      await post(mac, { step: 'receive', state: 'progress', bytes, totalBytes: total, rate: Math.round(measured) });
    }
  }
  await reader.cancel();
}

if (import.meta.main) await main(process.argv.slice(2));
