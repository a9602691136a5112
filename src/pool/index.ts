/** The template pool: names, the pool itself, and the shapes it hands out (docs/templates.md). */
export {
  ARCHES, LATEST, MAX_NAME_LENGTH, compareVersions, isArch, isValidName, isValidVersion, newVersion,
  parseSubvolumeName, subvolumeName, validateArch, validateName, validateRef, validateVersion, versionDate,
} from './names.ts';
export type { Arch, TemplateRef } from './names.ts';
export { TemplatePool } from './pool.ts';
export type { AdoptMeta, PoolOptions, PublishOptions } from './pool.ts';
export type { PublishSource, TemplateVersion } from './types.ts';
