/**
 * Teardown that runs however a benchmark ends: normal return, thrown error,
 * or Ctrl-C / SIGTERM. Steps run newest first (a server stops before its
 * namespace goes), each at most once, and one failing step doesn't skip the rest.
 */
type Step = () => Promise<void> | void;

const steps: Step[] = [];
let signalsHooked = false;

/** Registers a teardown step; the returned function runs it now and unregisters it. */
export function onCleanup(step: Step): () => Promise<void> {
  hookSignals();
  steps.push(step);
  return async () => {
    const i = steps.indexOf(step);
    if (i < 0) return;
    steps.splice(i, 1);
    await step();
  };
}

/** Runs every registered step, newest first. */
export async function cleanupAll(): Promise<void> {
  for (const step of steps.splice(0).reverse()) {
    try {
      await step();
    } catch (e) {
      process.stderr.write(`cleanup step failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
}

function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: cleaning up namespaces and servers...\n`);
      void cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}
