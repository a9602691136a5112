import { Readable } from 'node:stream';
import { TrowelError } from '../errors.ts';
import type { McastReceive, ReceiverOptions } from './index.ts';

export function receiveFile(options: ReceiverOptions): McastReceive {
  return {
    readable: Readable.from([]),
    done: Promise.reject(new TrowelError('EMCAST', `Cannot receive into ${options.spoolFile}: multicast receiver not implemented yet`)),
  };
}
