/**
 * GET /boot/ipxe?mac=<mac>: the machine's iPXE script. iPXE fetches it with
 * `chain http://<server>/boot/ipxe?mac=${net0/mac}`. A machine seen here
 * for the first time (e.g. behind another DHCP server) is registered, and
 * every fetch refreshes its last-seen time. Problems are answered with a
 * 200 error script (see ipxe-script.ts for why) and logged.
 */
import type { Machine } from '../../store/index.ts';
import { publicKeyBase64 } from '../../stream/index.ts';
import { normalizeMac } from '../../wire/mac.ts';
import type { Handler } from '../context.ts';
import { bootScript, errorScript } from '../ipxe-script.ts';
import { text } from '../respond.ts';
import type { RouteDeps } from './deps.ts';

const IPXE_TYPE = 'text/plain; charset=utf-8';

export function bootScriptRoute(deps: RouteDeps): Handler {
  return ({ url, peer, log }) => {
    const raw = url.searchParams.get('mac');
    const mac = raw === null ? undefined : normalizeMac(raw);
    if (mac === undefined) {
      const problem = raw === null ? 'the script URL has no ?mac= parameter' : `${raw} is not a MAC address`;
      log.warn('boot_script_refused', { peer, problem });
      return text(errorScript(`cannot serve a boot script: ${problem}`), IPXE_TYPE, 200, { 'x-trowel-error': 'invalid_mac' });
    }
    const machine = deps.machines.recordContact({ mac });
    const serverUrl = `http://${deps.config.listen.address}:${deps.advertisedPort()}`;
    const script = bootScript({ ...machine, extraArgs: serverArgs(machine, deps) }, { serverUrl, ...deps.config.boot });
    log.info('boot_script_served', { peer, mac, action: machine.action });
    return text(script, IPXE_TYPE, 200, { 'cache-control': 'no-store' });
  };
}

/**
 * Arguments only the server knows: a machine with action `provision` runs
 * its plan unattended unless the plan asks for the console, and the PXE image
 * pins the key that signs this server's manifests.
 */
function serverArgs(machine: Machine, deps: RouteDeps): string[] {
  const args: string[] = [];
  if (machine.action === 'provision') args.push(`trowel.mode=${machine.plan?.mode ?? 'unattended'}`);
  if (deps.streams) args.push(`trowel.key=${publicKeyBase64(deps.streams.publicKey)}`);
  return args;
}
