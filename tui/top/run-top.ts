/**
 * `trowel top`'s loop: the event stream feeds the model, the model's view
 * goes to the screen, keys come back as actions. Draws at most every 100 ms
 * (a busy lab sends many events a second) and once a second regardless, so
 * a rate that went stale disappears even when nothing arrives.
 */
import { applyMessage, connected, disconnected, initialState } from '../../src/dashboard/model.ts';
import { followEventStream } from '../../src/dashboard/stream-client.ts';
import { dashboardView } from '../../src/dashboard/view.ts';
import { TopAction } from '../../src/dashboard/keys.ts';
import { createTopScreen } from './top-screen.ts';

const MIN_DRAW_INTERVAL_MS = 100;

export interface RunTopOptions {
  /** The server's HTTP base URL. */
  server: string;
}

/** Resolves with the exit code when the operator quits. */
export function runTop(options: RunTopOptions): Promise<number> {
  return new Promise((resolve) => {
    let state = initialState(options.server);
    let lastDraw = 0;
    let pending: NodeJS.Timeout | undefined;

    const drawNow = () => {
      pending = undefined;
      lastDraw = Date.now();
      screen.show(dashboardView(state, lastDraw));
    };
    const draw = () => {
      if (pending) return;
      pending = setTimeout(drawNow, Math.max(0, lastDraw + MIN_DRAW_INTERVAL_MS - Date.now()));
    };

    const stop = (code: number) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onHup);
      client.close();
      clearInterval(tick);
      clearTimeout(pending);
      screen.destroy();
      resolve(code);
    };
    // A killed or hung-up dashboard still gives the terminal back (and removes its temporary files).
    const onTerm = () => stop(128 + 15);
    const onHup = () => stop(128 + 1);
    process.once('SIGTERM', onTerm);
    process.once('SIGHUP', onHup);

    const screen = createTopScreen((action) => {
      if (action === TopAction.quit) stop(0);
    });
    const client = followEventStream({
      server: options.server,
      onOpen: () => {
        state = connected(state, Date.now());
        draw();
      },
      onMessage: (message) => {
        state = applyMessage(state, message);
        draw();
      },
      onDown: (attempt, error) => {
        state = disconnected(state, attempt, error);
        draw();
      },
    });
    const tick = setInterval(draw, 1000);
    drawNow();
  });
}
