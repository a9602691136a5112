/** Disks: discovery over sysfs, the disk picker, partition plans (pure) and their executor. */
export { blkidProbe, parseBlkidExport, type BlkidReader, type Probe } from './blkid.ts';
export { discoverDisks, transportOf, type DiscoverOptions } from './discover.ts';
export { makeFilesystems, writePartitions, type ExecuteOptions } from './execute.ts';
export { partitionName, partitionPath } from './partition-name.ts';
export { describeContents, describeDisk, hasFreeSpace, pickDisk, trowelPartitions, type PickOptions } from './pick.ts';
export {
  ESP_LABEL, FREE_SPACE_BYTES, GPT_TYPE, LAYOUTS, MIN_POOL_BYTES, POOL_LABEL, freeRegions, minimumDiskBytes, planPartitions,
  type FreeRegion, type Layout, type PartitionPlan, type PartitionRole, type PlannedDisk, type PlannedPartition,
} from './plan.ts';
export type { Disk, Filesystem, Partition, Transport } from './types.ts';
