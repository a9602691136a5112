/**
 * Checks the framing of a `btrfs send` stream as it flows into `btrfs
 * receive`, before its sha-256 can be known: the stream must create exactly
 * one subvolume, with the expected name, of the expected kind (a full
 * stream starts with `subvol`, an incremental one with `snapshot`), and end
 * with its end marker and nothing after it. So a tampered stream cannot make
 * `btrfs receive` create a subvolume elsewhere that a cleanup would miss.
 * It can also rename the subvolume (rewriting the first command and its
 * checksum), so a receive lands under a hidden staging name and only a
 * verified subvolume ever carries a template name.
 *
 * Layout (btrfs-progs Documentation/dev/dev-send-stream.rst, all little
 * endian): a 17-byte header "btrfs-stream\0" + u32 version, then commands
 * of { u32 payload length, u16 command, u32 crc32c } + payload, where a
 * payload is TLVs { u16 attribute, u16 length, value }. Only the first
 * command's payload is read; the rest are skipped by length.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { TrowelError } from '../errors.ts';
import { crc32c } from './crc32c.ts';

const MAGIC = Buffer.from('btrfs-stream\0', 'latin1');
const STREAM_HEADER = MAGIC.length + 4;
const COMMAND_HEADER = 10;

/** Command numbers (enum btrfs_send_cmd). */
export const SendCommand = {
  subvol: 1, // full stream: create a new subvolume
  snapshot: 2, // incremental: snapshot of the parent, then changes
  end: 21,
} as const;

/** Attribute numbers (enum btrfs_send_attr). */
export const SendAttribute = {
  uuid: 1,
  path: 15,
} as const;

/** The first command's payload is small (a name, two UUIDs, two transids); more is not a real stream. */
const MAX_FIRST_PAYLOAD = 64 * 1024;

export interface SendStreamExpectation {
  /** The subvolume name the stream must create, e.g. `@template:org.example.Desktop:x86_64:20261122T023710Z`. */
  subvolume: string;
  /** True for a stream made with `btrfs send -p` (starts with `snapshot`). */
  incremental: boolean;
  /** Make `btrfs receive` create the subvolume under this name instead. */
  renameTo?: string;
}

/**
 * The framing checker as a pure state machine: feed chunks in order (split
 * anywhere) and forward what `push` returns, then call `end()`. Throws
 * TrowelError EBADSTREAM at the first violation. The stream header and the
 * first command are held back until that command is checked (and renamed
 * when asked); everything after passes through as it came.
 */
export class SendStreamScanner {
  readonly #expected: SendStreamExpectation;
  /** Bytes of the header being read, gathered across chunks (not kept while skipping a payload). */
  #pending: Buffer[] = [];
  #pendingLength = 0;
  /** The stream header and first command, held until checked; undefined once released. */
  #prefix: Buffer[] | undefined = [];
  #state: 'stream-header' | 'command-header' | 'first-payload' | 'skip' | 'ended' = 'stream-header';
  #need = STREAM_HEADER;
  #commands = 0;
  #bytes = 0;

  constructor(expected: SendStreamExpectation) {
    this.#expected = expected;
  }

  /** Checks `chunk` and returns the bytes to forward (possibly none yet). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    let passFrom = this.#prefix ? chunk.length : 0;
    while (at < chunk.length) {
      if (this.#state === 'ended') throw this.#fail(`${chunk.length - at} bytes follow the end marker`);
      const take = Math.min(this.#need, chunk.length - at);
      const piece = chunk.subarray(at, at + take);
      if (this.#state !== 'skip') {
        this.#pending.push(piece);
        this.#pendingLength += take;
      }
      this.#prefix?.push(piece);
      at += take;
      this.#bytes += take;
      this.#need -= take;
      if (this.#need > 0) continue;
      const released = this.#complete();
      if (released) {
        out.push(...released);
        passFrom = at;
      }
    }
    if (passFrom < chunk.length) out.push(chunk.subarray(passFrom));
    return out;
  }

  /** Call when the input ends; throws if the stream stopped before its end marker. */
  end(): void {
    if (this.#state !== 'ended') throw this.#fail(`it stops after ${this.#bytes} bytes, before its end marker (truncated)`);
  }

  /** @private One header or payload is complete: check it, decide what comes next; returns the prefix when it is released. */
  #complete(): Buffer[] | undefined {
    const data = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingLength);
    this.#pending = [];
    this.#pendingLength = 0;
    switch (this.#state) {
      case 'stream-header': {
        if (!data.subarray(0, MAGIC.length).equals(MAGIC)) throw this.#fail('it does not start with "btrfs-stream"');
        const version = data.readUInt32LE(MAGIC.length);
        if (version < 1 || version > 3) throw this.#fail(`its version ${version} is not 1, 2 or 3`);
        this.#expectCommandHeader();
        return undefined;
      }
      case 'command-header': {
        const length = data.readUInt32LE(0);
        const command = data.readUInt16LE(4);
        this.#commands += 1;
        if (this.#commands === 1) {
          const wanted = this.#expected.incremental ? SendCommand.snapshot : SendCommand.subvol;
          if (command !== wanted) {
            throw this.#fail(`it starts with command ${command}, expected ${this.#expected.incremental ? 'snapshot (2)' : 'subvol (1)'}`);
          }
          if (length > MAX_FIRST_PAYLOAD) throw this.#fail(`its first command claims ${length} bytes`);
          this.#state = 'first-payload';
          this.#need = length;
          // A command header is always followed by its payload; an empty one is refused below.
          if (length === 0) throw this.#fail('its first command names no subvolume');
          return undefined;
        }
        if (command === SendCommand.subvol || command === SendCommand.snapshot) {
          throw this.#fail(`command ${this.#commands} creates a second subvolume`);
        }
        if (command === SendCommand.end) {
          this.#state = 'ended';
          return undefined;
        }
        this.#state = 'skip';
        this.#need = length;
        if (length === 0) this.#expectCommandHeader();
        return undefined;
      }
      case 'first-payload': {
        const prefix = Buffer.concat(this.#prefix!);
        this.#prefix = undefined;
        const header = prefix.subarray(0, STREAM_HEADER);
        const command = prefix.subarray(STREAM_HEADER);
        const path = readPath(data);
        if (path === undefined) throw this.#fail('its first command names no subvolume');
        if (path !== this.#expected.subvolume) throw this.#fail(`it creates subvolume ${JSON.stringify(path)}, expected ${JSON.stringify(this.#expected.subvolume)}`);
        if (commandCrc(command) !== command.readUInt32LE(6)) throw this.#fail('the checksum of its first command is wrong');
        this.#expectCommandHeader();
        const renameTo = this.#expected.renameTo;
        return [header, renameTo === undefined ? command : renameFirstCommand(command, renameTo)];
      }
      case 'skip':
        this.#expectCommandHeader();
        return undefined;
      case 'ended':
        return undefined;
    }
  }

  /** @private */
  #expectCommandHeader(): void {
    this.#state = 'command-header';
    this.#need = COMMAND_HEADER;
  }

  /** @private */
  #fail(state: string): TrowelError {
    return new TrowelError('EBADSTREAM', `Cannot accept the btrfs send stream: ${state}`);
  }
}

/** A pass-through Transform that runs a {@link SendStreamScanner} over everything it forwards. */
export function createSendStreamGuard(expected: SendStreamExpectation): Transform {
  const scanner = new SendStreamScanner(expected);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      let out: Buffer[];
      try {
        out = scanner.push(chunk);
      } catch (e) {
        callback(e as Error);
        return;
      }
      for (const piece of out) this.push(piece);
      callback();
    },
    flush(callback: TransformCallback) {
      try {
        scanner.end();
        callback();
      } catch (e) {
        callback(e as Error);
      }
    },
  });
}

/** @private The PATH attribute of a command payload (TLVs), or undefined when absent or malformed. */
function readPath(payload: Buffer): string | undefined {
  let at = 0;
  while (at + 4 <= payload.length) {
    const type = payload.readUInt16LE(at);
    const length = payload.readUInt16LE(at + 2);
    if (at + 4 + length > payload.length) return undefined;
    if (type === SendAttribute.path) return payload.toString('utf8', at + 4, at + 4 + length);
    at += 4 + length;
  }
  return undefined;
}

/** @private btrfs's checksum of a command: raw crc32c with seed 0 over header (crc field zeroed) and payload. */
function commandCrc(command: Buffer): number {
  const copy = Buffer.from(command);
  copy.writeUInt32LE(0, 6);
  return crc32c(0, copy);
}

/** @private The command with its PATH attribute replaced by `name`, with new length and checksum. */
function renameFirstCommand(command: Buffer, name: string): Buffer {
  const payload = command.subarray(COMMAND_HEADER);
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 4 <= payload.length) {
    const type = payload.readUInt16LE(at);
    const length = payload.readUInt16LE(at + 2);
    if (type === SendAttribute.path) {
      const value = Buffer.from(name, 'utf8');
      const tlv = Buffer.alloc(4);
      tlv.writeUInt16LE(type, 0);
      tlv.writeUInt16LE(value.length, 2);
      parts.push(tlv, value);
    } else {
      parts.push(payload.subarray(at, at + 4 + length));
    }
    at += 4 + length;
  }
  const newPayload = Buffer.concat(parts);
  const header = Buffer.alloc(COMMAND_HEADER);
  header.writeUInt32LE(newPayload.length, 0);
  header.writeUInt16LE(command.readUInt16LE(4), 4);
  const renamed = Buffer.concat([header, newPayload]);
  renamed.writeUInt32LE(crc32c(0, renamed), 6);
  return renamed;
}
