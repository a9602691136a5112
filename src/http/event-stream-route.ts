/**
 * `GET /api/v1/events` without a WebSocket upgrade: 426 saying how to
 * connect (RFC 9110 §15.5.22). Upgrades never reach the app: the node:http
 * adapter hands them to the event stream (event-stream.ts).
 */
import type { Handler } from './context.ts';
import { HttpError } from './http-error.ts';

export function eventStreamRoute(): Handler {
  return () => {
    throw new HttpError(426, 'upgrade_required', 'Cannot stream events over plain HTTP: connect with a WebSocket (ws://<server>/api/v1/events)', {
      headers: { upgrade: 'websocket', connection: 'Upgrade' },
    });
  };
}
