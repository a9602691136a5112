/**
 * What a receiver holds: one byte per block (simple and fast: 190 KB for a
 * 256 MiB stream at 1436-byte blocks), data blocks present per FEC group,
 * and the contiguous watermark up to which the stream can be read in order.
 */
import { groupLength, type Layout } from './layout.ts';
import type { GroupNeed } from './packet.ts';

export class BlockMap {
  readonly layout: Layout;
  /** Blocks present in total. */
  complete = 0;
  /** Blocks [0, contiguous) are all present. */
  contiguous = 0;
  private readonly present: Uint8Array;
  private readonly groupHave: Uint16Array;
  /** Groups below this are complete (moves up as they complete; needs() starts here). */
  private lowestIncomplete = 0;

  constructor(layout: Layout) {
    this.layout = layout;
    this.present = new Uint8Array(layout.blockCount);
    this.groupHave = new Uint16Array(layout.groupCount);
  }

  has(block: number): boolean {
    return this.present[block] === 1;
  }

  /** Marks `block` present; false when it already was. */
  add(block: number): boolean {
    if (this.present[block] === 1) return false;
    this.present[block] = 1;
    this.complete++;
    this.groupHave[(block / this.layout.groupSize) | 0]!++;
    if (block === this.contiguous) {
      let c = block + 1;
      const n = this.layout.blockCount;
      while (c < n && this.present[c] === 1) c++;
      this.contiguous = c;
    }
    return true;
  }

  /** Data blocks group `g` still lacks. */
  groupMissing(g: number): number {
    return groupLength(this.layout, g) - this.groupHave[g]!;
  }

  /** Which blocks of group `g` are present, by index within the group. */
  groupPresence(g: number): boolean[] {
    const first = g * this.layout.groupSize;
    return Array.from({ length: groupLength(this.layout, g) }, (_, i) => this.present[first + i] === 1);
  }

  /**
   * What a STATUS asks for: groups in [from, until) still lacking symbols,
   * `held(g)` parity blocks of a group counting as symbols, at most `max`
   * of them, lowest first.
   */
  needs(from: number, until: number, held: (group: number) => number, max: number): GroupNeed[] {
    while (this.lowestIncomplete < this.layout.groupCount && this.groupMissing(this.lowestIncomplete) === 0) this.lowestIncomplete++;
    const needs: GroupNeed[] = [];
    for (let g = Math.max(from, this.lowestIncomplete); g < until && needs.length < max; g++) {
      const missing = this.groupMissing(g) - held(g);
      if (missing > 0) needs.push({ group: g, missing, ...this.missingMask(g) });
    }
    return needs;
  }

  /** Which blocks of group `g` are missing, as a 64-bit mask in two words; zeros for groups over 64 blocks. */
  missingMask(g: number): { maskLow: number; maskHigh: number } {
    const length = groupLength(this.layout, g);
    if (this.layout.groupSize > 64) return { maskLow: 0, maskHigh: 0 };
    const first = g * this.layout.groupSize;
    let maskLow = 0;
    let maskHigh = 0;
    for (let i = 0; i < length; i++) {
      if (this.present[first + i] === 1) continue;
      if (i < 32) maskLow |= 1 << i;
      else maskHigh |= 1 << (i - 32);
    }
    return { maskLow: maskLow >>> 0, maskHigh: maskHigh >>> 0 };
  }

  get isComplete(): boolean {
    return this.complete === this.layout.blockCount;
  }

  /**
   * Runs of missing blocks [start, end) from `from`, with gaps shorter than
   * `mergeGap` present blocks merged in (one Range request beats many small ones).
   */
  missingRuns(from = 0, mergeGap = 0): [number, number][] {
    const runs: [number, number][] = [];
    const n = this.layout.blockCount;
    let b = Math.max(from, this.contiguous);
    while (b < n) {
      if (this.present[b] === 1) {
        b++;
        continue;
      }
      const start = b;
      while (b < n && this.present[b] !== 1) b++;
      const last = runs.at(-1);
      if (last && start - last[1] <= mergeGap) last[1] = b;
      else runs.push([start, b]);
    }
    return runs;
  }
}
