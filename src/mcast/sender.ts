import { TrowelError } from '../errors.ts';
import type { SenderOptions, SenderReport } from './index.ts';

export function sendFile(options: SenderOptions): Promise<SenderReport> {
  return Promise.reject(new TrowelError('EMCAST', `Cannot send ${options.file}: multicast sender not implemented yet`));
}
