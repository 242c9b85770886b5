import type { InventorySource } from './types.ts';

/**
 * A TypeScript inventory: `export default inventory({ hosts: { ... } })` in a
 * `.ts` file passed with `-i`. Only gives type checking; the loader validates
 * it against the same schema as the YAML files.
 */
export function inventory(source: InventorySource): InventorySource {
  return source;
}
