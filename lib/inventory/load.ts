import { UsageError } from '../errors.ts';
import { mergeSources } from './merge.ts';
import { InventoryError, type InventoryProblem } from './problems.ts';
import { expandPaths, type RawSource, readSource } from './read.ts';
import { resolveInventory } from './resolve.ts';
import type { Inventory, InventorySource } from './types.ts';
import { validateSource } from './validate.ts';

/**
 * Load, validate, merge and resolve an inventory. Each path is a `.yml`/`.yaml`
 * file, a directory (its `*.yml`/`*.yaml` files, sorted by name), or a
 * `.ts`/`.js`/`.mjs` module whose default export is `inventory({...})`. Sources
 * are merged in the order given; see mergeSources for what counts as a conflict.
 *
 * Throws an InventoryError (a UsageError: exit 64) listing every problem found,
 * each with file, line when known, path inside the file, bad value and expectation.
 */
export async function loadInventory(paths: readonly string[]): Promise<Inventory> {
  if (paths.length === 0) throw new UsageError('no inventory given: pass -i with a file or directory');
  const files = await expandPaths(paths);

  const problems: InventoryProblem[] = [];
  const sources: { raw: RawSource; data: InventorySource }[] = [];
  for (const file of files) {
    try {
      const raw = await readSource(file);
      const invalid = validateSource(raw);
      if (invalid.length > 0) problems.push(...invalid);
      else sources.push({ raw, data: raw.data as InventorySource });
    } catch (error) {
      if (!(error instanceof InventoryError)) throw error;
      problems.push(...error.problems);
    }
  }
  // Cross-file checks only make sense once every file is well-formed.
  if (problems.length > 0) throw new InventoryError(problems);

  const { merged, problems: conflicts } = mergeSources(sources);
  if (conflicts.length > 0) throw new InventoryError(conflicts);
  return resolveInventory(merged);
}
