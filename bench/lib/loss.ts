/**
 * Random packet loss for the lossy runs, and a count of what it dropped.
 * The drop itself is the lab's `dropIncoming` (nftables numgen, since this
 * kernel has no netem); two counters around it in prerouting, one just
 * before its chain and one just after, tell how many UDP packets (IP
 * fragments count one each) arrived and how many survived, so each run
 * reports its real loss.
 */
import { dropIncoming, DROP_PRIORITY, type Netns } from '../../src/lab/netns.ts';

const COUNT_TABLE = 'bench_loss_count';
/** The table name dropIncoming creates. */
const DROP_TABLE = 'trowel_loss';

export async function enableLoss(ns: Netns, percent: number): Promise<void> {
  await dropIncoming(ns, percent);
  const rules = `table inet ${COUNT_TABLE} {
 counter arrived {
 }
 counter survived {
 }
 chain before {
  type filter hook prerouting priority ${DROP_PRIORITY - 10}; policy accept;
  meta l4proto udp counter name "arrived"
 }
 chain after {
  type filter hook prerouting priority ${DROP_PRIORITY + 10}; policy accept;
  meta l4proto udp counter name "survived"
 }
}
`;
  await ns.exec('nft', ['-f', '-'], { input: rules });
}

export async function disableLoss(ns: Netns): Promise<void> {
  await ns.exec('nft', ['delete', 'table', 'inet', DROP_TABLE], { okCodes: [0, 1] });
  await ns.exec('nft', ['delete', 'table', 'inet', COUNT_TABLE], { okCodes: [0, 1] });
}

/** UDP packets arrived and dropped since the last call (the counters are reset by reading). */
export async function takeLossCounts(ns: Netns): Promise<{ arrived: number; dropped: number }> {
  const { stdout } = await ns.exec('nft', ['-j', 'reset', 'counters', 'table', 'inet', COUNT_TABLE]);
  return lossCountsFromJson(stdout);
}

/** Reads the two named counters from `nft -j` output. */
export function lossCountsFromJson(json: string): { arrived: number; dropped: number } {
  const doc = JSON.parse(json) as { nftables: { counter?: { name: string; packets: number } }[] };
  const packets = (name: string) => doc.nftables.find((e) => e.counter?.name === name)?.counter?.packets;
  const arrived = packets('arrived');
  const survived = packets('survived');
  if (arrived === undefined || survived === undefined) throw new Error('Cannot read loss counters: nft printed no "arrived"/"survived" counters');
  return { arrived, dropped: arrived - survived };
}
