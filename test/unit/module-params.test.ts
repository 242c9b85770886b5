import t from 'tap';
import { fileURLToPath } from 'node:url';
import * as exported from '../../modules/index.ts';
import { fixtureSchema } from '../fixtures/param-agreement.ts';
import { compare, loadProgram, moduleParamTypes } from '../support/module-params.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const program = loadProgram([`${root}/modules/index.ts`, `${root}/test/fixtures/param-agreement.ts`], `${root}/tsconfig.json`);
const checker = program.getTypeChecker();
const types = moduleParamTypes(program, `${root}/modules/index.ts`);

/** Every module `hostform/modules` exports, by the name a playbook calls it: `file`, `selinux.port`. */
function schemas(namespace: object, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(namespace)) {
    const definition = typeof value === 'function' ? (value as { definition?: { schema?: unknown } }).definition : undefined;
    if (definition?.schema) out.set(`${prefix}${key}`, definition.schema);
    else if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
      for (const [name, schema] of schemas(value, `${prefix}${key}.`)) out.set(name, schema);
    }
  }
  return out;
}

const modules = schemas(exported);

t.test('the agreement check reports every kind of disagreement between a type and its schema, by parameter', async (t) => {
  const type = moduleParamTypes(program, `${root}/test/fixtures/param-agreement.ts`).get('fixture');
  if (!type) return t.fail('the fixture has no parameter type');
  const { problems, parameters } = compare(checker, type, fixtureSchema);
  t.same(problems.sort(), [
    'list[]: the type allows string, the schema number',
    'map<key>: the type allows string, the schema boolean',
    'mode: the type allows number, the schema string',
    'nested.user: the type allows string, the schema boolean',
    'onlyInSchema: in the schema, not in the type',
    'onlyInType: in the type, not in the schema',
    'path: required in the type, optional in the schema',
    'state: the type allows the values "absent" | "present", the schema "absent" | "gone" | "present"',
  ]);
  t.same(parameters.find((p) => p.parameter === 'same'), { parameter: 'same', tsdoc: ['The same in both, described alike.'], description: ['The same in both, described alike.'] });
  t.same(parameters.find((p) => p.parameter === 'mode'), { parameter: 'mode', tsdoc: ['A number here, a string in the schema.'], description: [] }, 'a parameter without a description is seen as such');
  t.same(parameters.find((p) => p.parameter === 'nested.user')?.tsdoc, ['A string here, a boolean in the schema.'], 'nested parameters are found with their docs');
});

t.test('the type checker and the module exports find the same modules', async (t) => {
  t.ok(modules.size >= 20, `${modules.size} modules`);
  t.same([...types.keys()].sort(), [...modules.keys()].sort());
});

for (const [name, schema] of modules) {
  t.test(`${name}: its parameter type and its JSON Schema name the same parameters, required alike, with the same allowed values and kinds of value`, async (t) => {
    const type = types.get(name);
    if (!type) return t.fail(`no parameter type found for ${name}`);
    t.same(compare(checker, type, schema).problems, []);
  });
}

t.test('every parameter of every module has editor docs (TSDoc), and its schema description is the same text', async (t) => {
  const lacking: string[] = [];
  const differing: string[] = [];
  let count = 0;
  for (const [name, schema] of modules) {
    const type = types.get(name);
    if (!type) continue;
    for (const p of compare(checker, type, schema).parameters) {
      count++;
      const where = `${name}: ${p.parameter}`;
      if (p.tsdoc.length === 0) lacking.push(`${where} has no TSDoc`);
      if (p.description.length === 0) lacking.push(`${where} has no schema description`);
      if (p.tsdoc.length > 1) differing.push(`${where}: its declarations say different things: ${p.tsdoc.map((d) => JSON.stringify(d)).join(' / ')}`);
      if (p.tsdoc.length === 1 && p.description.length > 0 && (p.description.length > 1 || p.description[0] !== p.tsdoc[0])) {
        differing.push(`${where}: TSDoc ${JSON.stringify(p.tsdoc[0])} but description ${p.description.map((d) => JSON.stringify(d)).join(' / ')}`);
      }
    }
  }
  t.comment(`${count} parameters`);
  t.same(lacking, [], 'no parameter lacks docs');
  t.same(differing, [], 'TSDoc and description agree');
});
