export { openDatabase, type Database } from './database.ts';
export { MachineStore, BootAction, BOOT_ACTIONS, type Machine, type Contact } from './machines.ts';
export { EventStore, EventKind, type StoredEvent, type AppendListener } from './events.ts';
export { parsePlan, PLAN_LAYOUTS, PLAN_MODES, type MachinePlan } from './plan.ts';
export { StatementCache } from './statements.ts';
