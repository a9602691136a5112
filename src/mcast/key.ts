/**
 * Session keys as files: 32 raw bytes, or 64 hex characters (with an
 * optional trailing newline) so a key can be made with `openssl rand -hex 32`.
 */
import { TrowelError } from '../errors.ts';
import { KEY_LENGTH } from './mac.ts';

export function parseKey(content: Buffer, source = 'key'): Buffer {
  if (content.length === KEY_LENGTH) return Buffer.from(content);
  const text = content.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  throw new TrowelError('EMCAST_KEY', `Cannot use ${source} as a session key: it holds ${content.length} bytes, neither 32 raw bytes nor 64 hex characters`, {
    hint: 'make one with: openssl rand -hex 32 > session.key',
  });
}
