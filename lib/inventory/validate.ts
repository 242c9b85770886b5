import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { didYouMean, formatValue, type InventoryProblem, type PathSegment } from './problems.ts';
import type { RawSource } from './read.ts';
import type { InventorySource } from './types.ts';

/** The published schema (`hostform/schema/inventory.json`), the single source of truth for the file format. */
export const inventorySchemaUrl = new URL('../../schema/inventory.json', import.meta.url);

let compiled: ValidateFunction<InventorySource> | undefined;

function validator(): ValidateFunction<InventorySource> {
  if (!compiled) {
    // verbose: errors carry their schema, so a pattern can be explained by its `x-expected` text.
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true });
    ajv.addKeyword('x-expected');
    compiled = ajv.compile<InventorySource>(JSON.parse(readFileSync(inventorySchemaUrl, 'utf8')));
  }
  return compiled;
}

/** Check one source against the schema; every problem, each with its file, path, line and expectation. */
export function validateSource(source: RawSource): InventoryProblem[] {
  const validate = validator();
  if (validate(source.data)) return [];
  return (validate.errors ?? [])
    .filter((e) => e.keyword !== 'propertyNames') // its nested error names the bad key more precisely
    .map((e) => describe(e, source))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

function describe(error: ErrorObject, source: RawSource): InventoryProblem {
  const path = toPath(error.instancePath, source.data);
  const { file } = source;
  const badKey = (error as { propertyName?: string }).propertyName;
  if (badKey !== undefined) {
    return {
      file,
      line: source.lineOf([...path, badKey], 'key'),
      path,
      message: `${formatValue(badKey)} is not a valid name: ${expected(error)}`,
    };
  }
  if (error.keyword === 'additionalProperties') {
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    return {
      file,
      line: source.lineOf([...path, key], 'key'),
      path,
      message: `unknown key '${key}'${didYouMean(key, allowed)}; expected one of: ${allowed.join(', ')}`,
    };
  }
  return { file, line: source.lineOf(path), path, message: `${formatValue(error.data)} is not valid: ${expected(error)}` };
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a map',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'empty',
};

/** What the value must be, as a phrase starting with 'must'. */
function expected(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  const custom = (error.parentSchema as Record<string, unknown> | undefined)?.['x-expected'];
  switch (error.keyword) {
    case 'type':
      return `must be ${[params['type']].flat().map((t) => TYPE_WORDS[String(t)] ?? String(t)).join(' or ')}`;
    case 'enum':
      return `must be one of: ${(params['allowedValues'] as unknown[]).map(String).join(', ')}`;
    case 'pattern':
      return typeof custom === 'string' ? `must be ${custom}` : (error.message ?? 'must match a pattern');
    case 'minLength':
      return params['limit'] === 1 ? 'must not be empty' : (error.message ?? 'is too short');
    default:
      return error.message ?? 'does not match the schema';
  }
}

/** `/hosts/nas~1lan/vars/disks/0` → `['hosts', 'nas/lan', 'vars', 'disks', 0]`; list indexes become numbers. */
function toPath(instancePath: string, data: unknown): PathSegment[] {
  if (instancePath === '') return [];
  const path: PathSegment[] = [];
  let node = data;
  for (const raw of instancePath.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    const segment = Array.isArray(node) ? Number(key) : key;
    path.push(segment);
    node = node !== null && typeof node === 'object' ? (node as Record<PathSegment, unknown>)[segment] : undefined;
  }
  return path;
}
