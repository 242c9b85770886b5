export { inventory } from './define.ts';
export { loadInventory } from './load.ts';
export { parseHostPattern, selectHostNames, type PatternScope, type PatternTerm } from './pattern.ts';
export { InventoryError, type InventoryProblem, type PathSegment } from './problems.ts';
export type { GroupEntry, HostEntry, Inventory, InventoryHost, InventorySource, Platform, Vars } from './types.ts';
export { PLATFORMS } from './types.ts';
export { inventorySchemaUrl } from './validate.ts';
