/** Disks: discovery over sysfs, the disk picker, partition plans (pure) and their executor. */
export { blkidProbe, parseBlkidExport, type BlkidReader, type Probe } from './blkid.ts';
export { discoverDisks, transportOf, type DiscoverOptions } from './discover.ts';
export { makeFilesystems, writePartitions, type ExecuteOptions } from './execute.ts';
export { partitionName, partitionPath } from './partition-name.ts';
export { describeContents, describeDisk, pickDisk, trowelPartitions, type PickOptions } from './pick.ts';
export {
  ESP_LABEL, GPT_TYPE, LAYOUTS, MIN_POOL_BYTES, POOL_LABEL, minimumDiskBytes, planPartitions,
  type Layout, type PartitionPlan, type PartitionRole, type PlannedPartition,
} from './plan.ts';
export type { Disk, Filesystem, Partition, Transport } from './types.ts';
