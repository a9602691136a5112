/** The pool's public shapes (see docs/templates.md). */
import type { TemplateRef } from './names.ts';

/** One published version as the pool lists it. */
export interface TemplateVersion extends TemplateRef {
  /** The newest version of the same name and arch when this one was published; null for the first. */
  parent: string | null;
  /** Apparent size of the tree at publish time (0 when the sidecar is missing). */
  sizeBytes: number;
  publishedAt: string;
  /** Where it came from: `dir:<path>`, `subvolume:<path>`, `lxc:<lxcpath>/<name>`, or what `adopt` was told. */
  source: string;
  /** Absolute path of the read-only subvolume. */
  path: string;
}

/** What a new version is made from. */
export type PublishSource =
  | { kind: 'dir'; path: string }
  | { kind: 'subvolume'; path: string }
  | { kind: 'lxc'; name: string; lxcPath?: string };
