import { defineConfig } from 'vitest/config';

// Three projects: unit tests sit beside their code; integration tests use real
// tools in network namespaces (root); e2e boots QEMU VMs. Integration and e2e
// share the machine's two cores and network namespaces, so they run one file at a time.
export default defineConfig({
  test: {
    // One file at a time across projects too: QEMU e2e tests under TCG must
    // not share the two cores with integration tests that boot VMs of their own.
    maxWorkers: 1,
    projects: [
      // Unit tests are fast alone; the fuzz tests' 100k packets took 36 s on a host loaded to 15.
      { test: { name: 'unit', include: ['src/**/*.test.ts', 'tui/**/*.test.ts', 'bench/**/*.test.ts', 'appliance/**/*.test.ts'], testTimeout: 120_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          // A UEFI provisioning run under TCG on a loaded 2-core host took over 15 minutes.
          testTimeout: 1_800_000,
          // npm test builds the PXE image and the demo template first; a hook that
          // still has to (a lone test file run) gets time for it on a busy host.
          hookTimeout: 1_200_000,
        },
      },
    ],
  },
});
