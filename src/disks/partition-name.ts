/**
 * The kernel's name for partition `n` of a disk: a "p" goes between them when
 * the disk's name ends in a digit (nvme0n1p1, mmcblk0p1, loop0p1), otherwise
 * the number follows directly (sda1, vda1). This is the rule of the kernel's
 * disk_name() in block/partitions/core.c.
 */
export function partitionName(disk: string, n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`Cannot name partition ${n} of ${disk}: partition numbers start at 1`);
  return /\d$/.test(disk) ? `${disk}p${n}` : `${disk}${n}`;
}

/** /dev/<partition> for a disk path such as /dev/nvme0n1. */
export function partitionPath(diskPath: string, n: number): string {
  const slash = diskPath.lastIndexOf('/');
  return diskPath.slice(0, slash + 1) + partitionName(diskPath.slice(slash + 1), n);
}
