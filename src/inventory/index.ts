/** Hardware inventory: read from /proc and /sys, checked, and printed. */
export { collectInventory, inventoryDisk, type CollectOptions } from './collect.ts';
export { inventoryLines } from './format.ts';
export { parseInventory } from './parse.ts';
export { parseCpuinfo, parseMeminfo } from './proc.ts';
export type { Inventory, InventoryDisk, InventoryNic } from './types.ts';
