/** Publishes a built demo rootfs into a template pool as org.trowel.Demo for x86_64. */
import type { TemplatePool, TemplateVersion } from '../../src/pool/index.ts';
import { DEMO_TEMPLATE_ARCH, DEMO_TEMPLATE_NAME } from './rootfs.ts';

/**
 * Copies `rootfs` into a new version (the pool runs the template's own
 * prepare hooks, /etc/trowel/prepare.d/10-scrub, on the copy; the rootfs
 * itself is not changed, so it can be published again).
 */
export function publishDemoTemplate(pool: TemplatePool, rootfs: string, options: { onProgress?: (line: string) => void } = {}): Promise<TemplateVersion> {
  return pool.publish({ name: DEMO_TEMPLATE_NAME, arch: DEMO_TEMPLATE_ARCH, from: { kind: 'dir', path: rootfs }, onProgress: options.onProgress });
}
