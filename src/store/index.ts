export { openDatabase, type Database } from './database.ts';
export { MachineStore, BootAction, BOOT_ACTIONS, type Machine, type Contact } from './machines.ts';
