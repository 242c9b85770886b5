import t from 'tap';
import type { ModuleCall } from '../../lib/module/define.ts';
import { conditionWords, expectedOf } from '../../lib/module/validate.ts';
import * as modules from '../../modules/index.ts';

// Every rule of every module schema that a validator would report in its own
// terms (a pattern, a `not`, a choice of shapes, an if/then) has words for
// it, so no parameter error reads `must match pattern "^/"`.

type Schema = Record<string, unknown>;

function moduleCalls(): ModuleCall<unknown>[] {
  const found: ModuleCall<unknown>[] = [];
  const visit = (value: unknown) => {
    if (typeof value === 'function' && 'definition' in value) found.push(value as ModuleCall<unknown>);
    else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  Object.values(modules).forEach(visit);
  return found;
}

/** Each node of a schema with where it is: `properties.mode`, `allOf.0.then`. */
function* nodes(schema: unknown, at = ''): Generator<[string, Schema]> {
  if (Array.isArray(schema)) {
    for (const [i, item] of schema.entries()) yield* nodes(item, `${at}.${i}`);
    return;
  }
  if (!schema || typeof schema !== 'object') return;
  yield [at, schema as Schema];
  for (const [key, value] of Object.entries(schema)) if (key !== 'enum' && key !== 'const' && key !== 'required') yield* nodes(value, `${at}.${key}`);
}

const isRequiredOnly = (s: Schema) => Object.keys(s).length === 1 && Array.isArray(s['required']) && s['required'].length === 1;
const forbidsKeys = (s: Schema) => isRequiredOnly(s) || (Array.isArray(s['anyOf']) && (s['anyOf'] as Schema[]).every(isRequiredOnly));

/** What in one node of a schema has no words: a message would fall back to the validator's text. */
function gaps(node: Schema, inside: string): string[] {
  const found: string[] = [];
  const words = typeof node['x-expected'] === 'string';
  // Inside a `not` or an `if` a rule makes no error of its own: the not (or the condition) is what is said.
  const reported = !/\.(not|if)(\.|$)/.test(inside);
  if (node['pattern'] !== undefined && !words && reported) found.push(`pattern ${JSON.stringify(node['pattern'])} has no x-expected`);
  if (node['not'] !== undefined && !words && !forbidsKeys(node['not'] as Schema) && reported) found.push('not (other than of keys) has no x-expected');
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = node[key] as Schema[] | undefined;
    if (branches && !branches.every(isRequiredOnly) && !words && expectedOf({ [key]: branches }) === undefined) found.push(`${key} has no words`);
  }
  if (node['if'] !== undefined && conditionWords(node['if'] as Schema) === undefined) found.push(`if ${JSON.stringify(node['if'])} has no words`);
  return found;
}

t.test('every pattern, not, anyOf/oneOf and if of every module schema can be said in words', async (t) => {
  const calls = moduleCalls();
  t.ok(calls.length >= 25, `found the modules (${calls.length})`);
  for (const call of calls) {
    const problems = [...nodes(call.definition.schema)].flatMap(([at, node]) => gaps(node, at).map((g) => `${at || '(root)'}: ${g}`));
    t.same(problems, [], call.definition.name);
  }
});

t.test('a schema says what a value must be from its type and range when it has no words of its own', async (t) => {
  t.equal(expectedOf({ type: 'integer', minimum: 1, maximum: 65535 }), 'an integer from 1 to 65535');
  t.equal(expectedOf({ anyOf: [{ type: 'string', 'x-expected': 'an absolute path' }, { type: 'array', items: { type: 'string', 'x-expected': 'an absolute path' }, minItems: 1 }] }), 'an absolute path, or a non-empty list of them');
  t.equal(expectedOf({ anyOf: [{ type: 'string' }, { jsType: 'function' }] }), 'a string, or a function of the host');
  t.equal(expectedOf({ type: 'string', pattern: '^/' }), undefined, 'a pattern without words has none');
});

t.test('an if schema reads as a condition', async (t) => {
  t.equal(conditionWords({ properties: { state: { const: 'link' } }, required: ['state'] }), `when 'state' is "link"`);
  t.equal(conditionWords({ properties: { state: { enum: ['directory', 'absent'] } }, required: ['state'] }), `when 'state' is "directory" or "absent"`);
  t.equal(conditionWords({ not: { properties: { state: { const: 'absent' } }, required: ['state'] } }), `unless 'state' is "absent"`);
  t.equal(conditionWords({ not: { required: ['state'] } }), `when 'state' is not given`);
  t.equal(conditionWords({ required: ['append'] }), `when 'append' is given`);
  t.equal(conditionWords({ properties: { state: { const: 'absent' } }, required: ['state'] }, true), `unless 'state' is "absent"`, 'the else branch');
});
