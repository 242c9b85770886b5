import { parseArgs } from 'node:util';
import { didYouMean } from '../inventory/problems.ts';
import type { ModuleDefinition } from '../module/types.ts';
import { isNixosRenderer } from '../nixos/renderer.ts';
import { printable, printableLine } from '../report/terminal.ts';
import { EXIT } from '../run/results.ts';
import type { Io } from './main.ts';

/**
 * `hostform modules [NAME]`: the capability record of every module, read
 * from what the module itself declares (its JSON Schema, its backends, its
 * capabilities), so the listing cannot drift from the code.
 *
 * The modules are handed in by the caller: lib does not import modules/.
 */

/** A module as a playbook calls it (`firewalld.zone`) with its definition. */
export interface ListedModule {
  readonly call: string;
  readonly definition: ModuleDefinition<unknown, unknown>;
}

export interface ModuleDoc {
  /** What a playbook calls: `file`, `dropIn`, `firewalld.zone`. */
  readonly module: string;
  /** The name in reports and errors, when it differs: `systemd.dropIn`. */
  readonly reportedAs: string;
  /** The schema's own `description`, when it has one. */
  readonly summary?: string;
  readonly platforms: readonly PlatformDoc[];
  readonly checkMode: boolean;
  readonly diff: boolean;
  /** How it changes the host (ChangeMethod): what a run cut off mid-change can leave. */
  readonly changes: readonly string[];
  /** What vets a change on the host before it replaces what is there. */
  readonly validates: string;
  readonly notes?: string;
  readonly parameters: readonly ParameterDoc[];
  /** What the schema requires of parameters together: "exactly one of argv, shell". */
  readonly rules: readonly string[];
  /** The JSON Schema itself, for tools that want every detail. */
  readonly schema: object;
}

export interface PlatformDoc {
  readonly platform: string;
  /** `commands`: probes and commands on the host; `nixos-module`: rendered into the play's NixOS module. */
  readonly backend: 'commands' | 'nixos-module';
}

export interface ParameterDoc {
  /** Dotted path, as parameter errors name it: `path`, `scope.user`, `forwardPorts[].port`, `env.<key>`. */
  readonly parameter: string;
  /** Required whenever the object holding it is given (conditions are in the module's rules). */
  readonly required: boolean;
  /** The values accepted, in words. */
  readonly type: string;
  readonly description?: string;
  /** The values allowed, when the schema lists them (`enum`, `const`). */
  readonly allowed?: readonly unknown[];
  readonly default?: unknown;
  /** Never shown: in diffs, reports, errors. */
  readonly sensitive?: true;
  /** Written to the host as data, never into a script. */
  readonly payload?: true;
}

const USAGE = `usage: hostform modules [NAME] [--json]

  hostform modules              every module: platforms and a one-line summary
  hostform modules NAME         one module (or a namespace: firewalld): its parameters,
                                types, allowed values, rules, platforms and check-mode notes
  --json                        the same as JSON, with each module's JSON Schema`;

/** `hostform modules [NAME] [--json]`: returns the exit code. */
export function modulesCommand(args: readonly string[], modules: readonly ListedModule[], io: Io): number {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], allowPositionals: true, options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
  } catch (error) {
    io.stderr(`error: ${printable((error as Error).message)}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return EXIT.inSync;
  }
  if (positionals.length > 1) {
    io.stderr(`error: one module at a time, got: ${printableLine(positionals.join(' '))}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const docs = modules.map(describeModule);
  const name = positionals[0];
  if (name === undefined) {
    io.stdout(values.json ? `${JSON.stringify({ modules: docs }, null, 2)}\n` : renderTable(docs));
    return EXIT.inSync;
  }
  const one = docs.find((d) => d.module === name || d.reportedAs === name);
  if (one) {
    io.stdout(values.json ? `${JSON.stringify(one, null, 2)}\n` : renderModule(one));
    return EXIT.inSync;
  }
  const namespace = docs.filter((d) => d.module.startsWith(`${name}.`));
  if (namespace.length > 0) {
    io.stdout(values.json ? `${JSON.stringify({ modules: namespace }, null, 2)}\n` : renderTable(namespace));
    return EXIT.inSync;
  }
  const known = [...new Set(docs.flatMap((d) => [d.module, d.reportedAs, ...namespaces(d.module)]))];
  io.stderr(`error: no module '${printableLine(name)}'${didYouMean(name, known)}; 'hostform modules' lists them all\n`);
  return EXIT.usage;
}

function namespaces(call: string): string[] {
  const parts = call.split('.');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('.'));
}

/** What a module declares, as data: the record `hostform modules` prints and `--json` carries. */
export function describeModule({ call, definition }: ListedModule): ModuleDoc {
  const schema = definition.schema as Node;
  const rules: string[] = [];
  rulesOf(schema, '', rules);
  const summary = text(schema['description']);
  return {
    module: call,
    reportedAs: definition.name,
    ...(summary !== undefined ? { summary } : {}),
    platforms: Object.entries(definition.backends)
      .filter(([, backend]) => backend !== undefined)
      .map(([platform, backend]) => ({ platform, backend: isNixosRenderer(backend) ? 'nixos-module' : 'commands' }) as const)
      .sort((a, b) => a.platform.localeCompare(b.platform)),
    checkMode: definition.capabilities.checkMode,
    diff: definition.capabilities.diff,
    changes: definition.capabilities.changes,
    validates: definition.capabilities.validates,
    ...(definition.capabilities.notes !== undefined ? { notes: definition.capabilities.notes } : {}),
    parameters: parametersOf(schema, ''),
    rules,
    schema,
  };
}

export function renderTable(docs: readonly ModuleDoc[]): string {
  const rows = docs.map((d) => [d.module, d.platforms.map((p) => p.platform).join(' '), d.summary?.split('\n')[0] ?? '(no description)']);
  const widths = [0, 1].map((i) => Math.max(i === 0 ? 'module'.length : 'platforms'.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c)).join('  ').trimEnd();
  return `${[line(['module', 'platforms', 'summary']), ...rows.map(line)].join('\n')}\n\n'hostform modules NAME' shows a module's parameters.\n`;
}

export function renderModule(doc: ModuleDoc): string {
  const out: string[] = [doc.reportedAs === doc.module ? doc.module : `${doc.module} (reported as ${doc.reportedAs})`];
  out.push(`  ${doc.summary ?? '(no description)'}`.replace(/\n/g, '\n  '));
  const by = (backend: PlatformDoc['backend']) => doc.platforms.filter((p) => p.backend === backend).map((p) => p.platform);
  const platforms = [
    ...(by('commands').length > 0 ? [`${by('commands').join(', ')} (commands on the host)`] : []),
    ...(by('nixos-module').length > 0 ? [`${by('nixos-module').join(', ')} (rendered into the play's NixOS module)`] : []),
  ];
  out.push(`platforms: ${platforms.length > 0 ? platforms.join('; ') : 'none'}`);
  out.push(`check mode: ${doc.checkMode ? 'yes' : 'no'}; diff: ${doc.diff ? 'yes' : 'no'}`);
  out.push(`changes: ${doc.changes.join(', ') || 'none (it only reads)'}`, `validated: ${doc.validates}`);
  if (doc.notes !== undefined) out.push(`notes: ${doc.notes}`);
  out.push('', 'parameters:');
  const width = Math.max(0, ...doc.parameters.map((p) => p.parameter.length));
  const indent = ' '.repeat(width + 4 + 'required '.length);
  for (const p of doc.parameters) {
    const flags = [
      ...(p.default !== undefined ? [`default ${JSON.stringify(p.default)}`] : []),
      ...(p.sensitive ? ['sensitive: never shown'] : []),
      ...(p.payload ? ['payload: sent as data, never in a script'] : []),
    ];
    out.push(`  ${p.parameter.padEnd(width)}  ${p.required ? 'required ' : '         '}${p.type}${flags.length > 0 ? ` [${flags.join('; ')}]` : ''}`);
    out.push(`${indent}${(p.description ?? '(no description)').replace(/\n/g, `\n${indent}`)}`);
  }
  if (doc.parameters.length === 0) out.push('  (none)');
  if (doc.rules.length > 0) out.push('', 'rules:', ...doc.rules.map((r) => `  ${r}`));
  return `${out.join('\n')}\n`;
}

type Node = Readonly<Record<string, unknown>>;

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function nodes(value: unknown): Node[] {
  return Array.isArray(value) ? value.filter(isNode) : [];
}

function json(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function at(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** The parameters of an object schema and of every object inside it, parents first. */
function parametersOf(schema: Node, path: string): ParameterDoc[] {
  const out: ParameterDoc[] = [];
  const seen = new Set<string>();
  const add = (doc: ParameterDoc) => {
    const key = `${doc.parameter}\0${doc.type}`;
    if (!seen.has(key)) out.push(doc);
    seen.add(key);
  };
  const walkObject = (node: Node, prefix: string) => {
    const required = new Set(strings(node['required']));
    const properties = isNode(node['properties']) ? node['properties'] : {};
    for (const [name, child] of Object.entries(properties)) {
      const parameter = at(prefix, name);
      add(parameterDoc(parameter, child, required.has(name)));
      walkInside(child, parameter);
    }
  };
  // Objects nested in lists, maps and alternatives have parameters of their own.
  const walkInside = (node: unknown, prefix: string) => {
    if (!isNode(node)) return;
    if (isNode(node['properties'])) walkObject(node, prefix);
    if (isNode(node['items'])) walkInside(node['items'], `${prefix}[]`);
    if (isNode(node['additionalProperties'])) walkInside(node['additionalProperties'], at(prefix, '<key>'));
    for (const alternative of [...nodes(node['anyOf']), ...nodes(node['oneOf'])]) walkInside(alternative, prefix);
  };
  walkObject(schema, path);
  return out;
}

function parameterDoc(parameter: string, node: unknown, required: boolean): ParameterDoc {
  const n = isNode(node) ? node : {};
  const description = text(n['description']);
  const allowed = Array.isArray(n['enum']) ? n['enum'] : 'const' in n ? [n['const']] : undefined;
  return {
    parameter,
    required,
    type: words(node, false),
    ...(description !== undefined ? { description } : {}),
    ...(allowed !== undefined ? { allowed } : {}),
    ...(n['default'] !== undefined ? { default: n['default'] } : {}),
    ...(n['sensitive'] === true ? { sensitive: true as const } : {}),
    ...(n['payload'] === true ? { payload: true as const } : {}),
  };
}

/** `oneOf: [{ required: ['argv'] }, { required: ['shell'] }]`: alternatives of which keys are given, not of types. */
function requiredOnly(alternatives: readonly Node[]): string[] | undefined {
  if (alternatives.length === 0) return undefined;
  const names = alternatives.map((a) => (Object.keys(a).length === 1 && strings(a['required']).length > 0 ? strings(a['required']).join(' and ') : undefined));
  return names.every((n): n is string => n !== undefined) ? names : undefined;
}

/**
 * The values a schema accepts, in words, alternatives apart with ` | ` as in
 * TypeScript: `string matching ^/ (at least 2 characters)`,
 * `"system" | object`, `list (at least 1 item) of integer from 1 to 65535`.
 * A pattern is shown as written unless the schema says in words what it
 * accepts (`x-expected`, as the inventory's schema does). A nested schema's
 * own description is added in parentheses; a parameter's is shown apart.
 */
function words(node: unknown, nested = true): string {
  if (node === true) return 'any value';
  if (node === false) return 'no value';
  if (!isNode(node)) return 'any value';
  const parts: string[] = [];
  if ('const' in node) parts.push(json(node['const']));
  if (Array.isArray(node['enum'])) parts.push(node['enum'].map(json).join(' | '));
  for (const key of ['anyOf', 'oneOf']) {
    const alternatives = nodes(node[key]);
    if (alternatives.length > 0 && !requiredOnly(alternatives)) parts.push(alternatives.map((a) => words(a)).join(' | '));
  }
  const jsType = text(node['jsType']);
  if (jsType !== undefined) parts.push(jsType === 'buffer' ? 'Buffer' : jsType === 'secret' ? 'Secret' : jsType);
  const types = Array.isArray(node['type']) ? strings(node['type']) : typeof node['type'] === 'string' ? [node['type']] : [];
  if (types.length === 0 && (isNode(node['properties']) || isNode(node['additionalProperties']))) types.push('object');
  if (types.length === 0 && isNode(node['items'])) types.push('array');
  if (types.length > 0) parts.push(types.map((t) => typeWords(t, node)).join(' | '));
  if (isNode(node['not'])) parts.push(notWords(node['not']));
  const result = parts.length > 0 ? parts.join(', ') : 'any value';
  const description = nested ? text(node['description']) : undefined;
  return description !== undefined ? `${result} (${description})` : result;
}

/** Alternatives inside a list or map are put in parentheses, so `|` binds as it should. */
function grouped(words: string): string {
  return words.includes(' | ') ? `(${words})` : words;
}

function typeWords(type: string, node: Node): string {
  const count = (low: string, high: string, unit: string): string[] => {
    const min = node[low];
    const max = node[high];
    const plural = (n: unknown) => `${json(n)} ${unit}${n === 1 ? '' : 's'}`;
    if (typeof min === 'number' && typeof max === 'number') return [min === max ? `exactly ${plural(min)}` : `${json(min)} to ${plural(max)}`];
    return [...(typeof min === 'number' ? [`at least ${plural(min)}`] : []), ...(typeof max === 'number' ? [`at most ${plural(max)}`] : [])];
  };
  const withLimits = (base: string, limits: readonly string[]) => (limits.length > 0 ? `${base} (${limits.join(', ')})` : base);
  switch (type) {
    case 'string': {
      const expected = text(node['x-expected']);
      const pattern = text(node['pattern']);
      const base = expected === undefined && pattern !== undefined ? `string matching ${pattern}` : 'string';
      return withLimits(base, [...(expected !== undefined ? [expected] : []), ...count('minLength', 'maxLength', 'character')]);
    }
    case 'integer':
    case 'number': {
      const min = node['minimum'];
      const max = node['maximum'];
      return [
        type,
        ...(typeof min === 'number' && typeof max === 'number'
          ? [`from ${min} to ${max}`]
          : [...(typeof min === 'number' ? [`at least ${min}`] : []), ...(typeof max === 'number' ? [`at most ${max}`] : [])]),
        ...(typeof node['exclusiveMinimum'] === 'number' ? [`more than ${node['exclusiveMinimum']}`] : []),
        ...(typeof node['exclusiveMaximum'] === 'number' ? [`less than ${node['exclusiveMaximum']}`] : []),
      ].join(' ');
    }
    case 'array': {
      const items = isNode(node['items']) ? grouped(words(node['items'])) : 'any value';
      // The list's own limits come before `of`, so they are not read as the items' limits.
      return `${withLimits('list', [...count('minItems', 'maxItems', 'item'), ...(node['uniqueItems'] === true ? ['no duplicates'] : [])])} of ${items}`;
    }
    case 'object': {
      const values = node['additionalProperties'];
      const names = node['propertyNames'];
      const keys = isNode(names) && typeof names['pattern'] === 'string' ? `keys matching ${names['pattern']}` : 'any keys';
      const base = isNode(values) ? `${isNode(node['properties']) ? 'object, and ' : ''}map of ${keys} to ${grouped(words(values))}` : 'object';
      return withLimits(base, count('minProperties', 'maxProperties', 'key'));
    }
    default:
      return type;
  }
}

function notWords(node: Node): string {
  if (Object.keys(node).length === 1 && typeof node['pattern'] === 'string') return `not matching ${node['pattern']}`;
  if (Object.keys(node).length === 1 && 'const' in node) return `not ${json(node['const'])}`;
  return `not (${words(node)})`;
}

/** What a schema requires of its keys together, at `path` and in every object inside it. */
function rulesOf(node: Node, path: string, out: string[]): void {
  const where = path === '' ? '' : `${path}: `;
  for (const [key, say] of [
    ['oneOf', 'exactly one of'],
    ['anyOf', 'at least one of'],
  ] as const) {
    const names = requiredOnly(nodes(node[key]));
    if (names) out.push(`${where}${say} ${names.join(', ')}`);
  }
  if (isNode(node['dependencies'])) {
    for (const [key, needs] of Object.entries(node['dependencies'])) {
      out.push(`${where}${Array.isArray(needs) ? `${key} needs ${strings(needs).join(', ')}` : `when ${key} is given: ${consequence(needs)}`}`);
    }
  }
  if ('if' in node) out.push(`${where}${conditional(node)}`);
  for (const part of nodes(node['allOf'])) rulesOf(part, path, out);
  const properties = isNode(node['properties']) ? node['properties'] : {};
  for (const [name, child] of Object.entries(properties)) rulesInside(child, at(path, name), out);
}

function rulesInside(node: unknown, path: string, out: string[]): void {
  if (!isNode(node)) return;
  if (isNode(node['properties'])) rulesOf(node, path, out);
  if (isNode(node['items'])) rulesInside(node['items'], `${path}[]`, out);
  if (isNode(node['additionalProperties'])) rulesInside(node['additionalProperties'], at(path, '<key>'), out);
  for (const alternative of [...nodes(node['anyOf']), ...nodes(node['oneOf'])]) rulesInside(alternative, path, out);
}

function conditional(node: Node): string {
  const when = condition(node['if']);
  const parts = [
    ...('then' in node ? [`when ${when}: ${consequence(node['then'])}`] : [`unless ${when}: ${consequence(node['else'])}`]),
    ...('then' in node && 'else' in node ? [`otherwise: ${consequence(node['else'])}`] : []),
  ];
  return parts.join('; ');
}

/** `{ properties: { state: { const: 'absent' } }, required: ['state'] }` → `state is "absent"`. */
function condition(node: unknown): string {
  if (!isNode(node)) return json(node);
  const keys = Object.keys(node);
  if (keys.length === 1 && isNode(node['not'])) return negated(node['not']);
  if (keys.every((k) => k === 'properties' || k === 'required')) {
    const required = strings(node['required']);
    const properties = isNode(node['properties']) ? node['properties'] : {};
    const tests = [
      ...Object.entries(properties).map(([name, test]) => `${name}${required.includes(name) ? '' : ' (when given)'} ${valueTest(test)}`),
      ...required.filter((name) => !(name in properties)).map((name) => `${name} is given`),
    ];
    if (tests.length > 0) return tests.join(' and ');
  }
  return `the parameters match ${json(node)}`;
}

function negated(node: Node): string {
  const required = strings(node['required']);
  const properties = isNode(node['properties']) ? Object.entries(node['properties']) : [];
  if (Object.keys(node).length === 1 && required.length === 1) return `${required[0]} is not given`;
  const [only] = properties;
  if (only && properties.length === 1 && required.length === 1 && only[0] === required[0]) {
    const [name, test] = only;
    if (isNode(test) && 'const' in test) return `${name} is not ${json(test['const'])}`;
    if (isNode(test) && Array.isArray(test['enum'])) return `${name} is none of ${test['enum'].map(json).join(', ')}`;
  }
  return `not (${condition(node)})`;
}

function valueTest(node: unknown): string {
  if (isNode(node) && 'const' in node) return `is ${json(node['const'])}`;
  if (isNode(node) && Array.isArray(node['enum'])) return `is ${node['enum'].map(json).join(' or ')}`;
  if (isNode(node) && isNode(node['not']) && 'const' in node['not'] && Object.keys(node).length === 1) return `is not ${json(node['not']['const'])}`;
  return `is ${words(node)}`;
}

/** What a `then` (or `else`) demands, in words; what has no words is shown as JSON. */
function consequence(node: unknown): string {
  if (!isNode(node)) return json(node);
  const said: string[] = [];
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    const required = key === 'required' ? strings(value) : [];
    const exclusive = key === 'oneOf' || key === 'anyOf' ? requiredOnly(nodes(value)) : undefined;
    const forbidden = key === 'not' ? forbiddenKeys(value) : undefined;
    if (required.length > 0) said.push(`${required.join(', ')} ${required.length === 1 ? 'is' : 'are'} required`);
    else if (exclusive) said.push(`${key === 'oneOf' ? 'exactly one of' : 'at least one of'} ${exclusive.join(', ')}`);
    else if (forbidden) said.push(`${forbidden.join(', ')} ${forbidden.length === 1 ? 'is' : 'are'} not allowed`);
    else if (key === 'properties' && isNode(value)) {
      for (const [name, test] of Object.entries(value)) {
        if (isNode(test) && test['sensitive'] === true && Object.keys(test).length === 1) said.push(`${name} is sensitive (never shown)`);
        else said.push(`${name} must be ${isNode(test) && 'const' in test && Object.keys(test).length === 1 ? json(test['const']) : words(test)}`);
      }
    } else rest[key] = value;
  }
  if (Object.keys(rest).length > 0) said.push(`the parameters must match ${json(rest)}`);
  return said.join('; ');
}

/** `not: { anyOf: [{ required: ['content'] }, { required: ['mode'] }] }` → ['content', 'mode']. */
function forbiddenKeys(node: unknown): string[] | undefined {
  if (!isNode(node)) return undefined;
  if (Object.keys(node).length === 1 && strings(node['required']).length === 1) return strings(node['required']);
  if (Object.keys(node).length === 1) return requiredOnly(nodes(node['anyOf']));
  return undefined;
}
