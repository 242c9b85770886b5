import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { DataValidationCxt } from 'ajv/dist/types/index.js';
import { UsageError } from '../errors.ts';
import { closeMatches } from '../inventory/problems.ts';
import { isSecret } from '../secret/secret.ts';
import { commandLineBytes, MAX_TASK_VALUES_BYTES, MAX_VALUE_BYTES } from '../shell/command-line.ts';
import { TASK_OPTION_KEYS, taskName } from './define.ts';
import type { Task } from './types.ts';

/**
 * Parameters are checked against each module's JSON Schema before any host
 * is touched. TypeScript catches most mistakes at edit time; this catches
 * the rest (plain JS playbooks, values from YAML vars, casts).
 */
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });

// Values that JSON Schema has no word for: template functions, raw bytes, and
// secrets (a parameter takes a Secret only where its schema says `jsType: 'secret'`).
ajv.addKeyword({
  keyword: 'jsType',
  schemaType: 'string',
  validate: (expected: string, data: unknown) =>
    expected === 'function' ? typeof data === 'function' : expected === 'buffer' ? Buffer.isBuffer(data) : expected === 'secret' ? isSecret(data) : false,
  errors: false,
});

/**
 * What a value must be, in words, next to a rule a person cannot read: a
 * `pattern`, a `not`, a union of types or of shapes. `mode: { type:
 * 'string', pattern: '^0?[0-7]{3,4}$', 'x-expected': 'an octal mode in a
 * string, such as "0644"' }` fails as `parameter 'mode' = "0999": must be
 * an octal mode in a string, such as "0644"` rather than with the
 * expression. The inventory's schema uses the same keyword.
 */
ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });

/**
 * Two facts a schema states about a parameter, next to its type:
 *
 * - `sensitive: true`: a password, a hash, an environment value, a secret
 *   file's body. Never printed: an error describes it (length, line breaks)
 *   instead, and the engine masks it in what the host says back
 *   (sensitiveValues). An object or array marked so is sensitive throughout.
 * - `payload: true`: a file's body, written to the host as data and never
 *   put into a script, so the command-line rules (no NUL byte, a size
 *   limit) do not apply to it.
 *
 * The keywords never fail; validation notes where they applied, which is
 * also where a conditional schema (`if secret then content is sensitive`)
 * made them apply.
 */
let notes: { sensitive: Map<string, unknown>; payload: Set<string> } | undefined;
for (const keyword of ['sensitive', 'payload'] as const) {
  ajv.addKeyword({
    keyword,
    schemaType: 'boolean',
    validate: (on: boolean, data: unknown, _schema?: unknown, where?: DataValidationCxt) => {
      if (on && notes && where) {
        if (keyword === 'sensitive') notes.sensitive.set(where.instancePath, data);
        else notes.payload.add(where.instancePath);
      }
      return true;
    },
    errors: false,
  });
}

const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** What validating a task's parameters found; locations are JSON pointers ('' is the whole, '/env/TOKEN' one value). */
interface Inspection {
  readonly errors: readonly ErrorObject[];
  readonly sensitive: ReadonlyMap<string, unknown>;
  readonly payload: ReadonlySet<string>;
}

/**
 * A play's own tasks are the same objects on every host, and a run checks
 * them for each host before connecting and again after: validated once.
 */
const inspected = new WeakMap<Task, Inspection>();

function inspect(task: Task): Inspection {
  const known = inspected.get(task);
  if (known) return known;
  const validate = validatorFor(task.module.schema);
  notes = { sensitive: new Map(), payload: new Set() };
  try {
    const valid = validate(task.params);
    const found = { errors: valid ? [] : [...(validate.errors ?? [])], sensitive: notes.sensitive, payload: notes.payload };
    inspected.set(task, found);
    return found;
  } finally {
    notes = undefined;
  }
}

/**
 * One thing wrong with a task's parameters or options, as data. `message`
 * is the sentence ("parameter 'mode' = 644: must be an octal mode ...");
 * the other fields say the same for a machine. No field holds a sensitive value.
 */
export interface ParameterProblem {
  readonly message: string;
  /** Dotted path: `service.environment.GREETING`; absent for a problem of the parameters as a whole. */
  readonly parameter?: string;
  /** The value as the message shows it. */
  readonly value?: string;
  /** `must be an absolute path`, `is required when 'state' is "link"`. */
  readonly expected?: string;
}

/** Every problem with a task's parameters and options. */
export function parameterProblems(task: Task): ParameterProblem[] {
  const found = inspect(task);
  return [...schemaProblems(found, task), ...commandLineProblems(task.params, found).map((message) => ({ message })), ...optionProblems(task)];
}

/** Problems with a task's parameters, one message per problem, each after `where` and the task's name. No message holds a sensitive value. */
export function taskProblems(task: Task, where: string): string[] {
  return parameterProblems(task).map((p) => `${where}task '${taskName(task)}' (${task.module.name}): ${p.message}`);
}

/** Throw one UsageError listing every invalid parameter of every task. */
export function assertTasksValid(tasks: readonly { task: Task; where: string }[]): void {
  const problems = tasks.flatMap(({ task, where }) => taskProblems(task, where));
  if (problems.length > 0) {
    throw new UsageError(`invalid task parameters (nothing was changed on any host):\n  ${problems.join('\n  ')}`);
  }
}

/**
 * The strings among a task's parameters that its schema calls sensitive, for
 * the engine to mask in the commands, errors and host output it shows.
 */
export function sensitiveValues(task: Task): string[] {
  const values = new Set<string>();
  const collect = (value: unknown): void => {
    if (typeof value === 'string') values.add(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (isPlainObject(value)) Object.values(value).forEach(collect);
  };
  for (const value of inspect(task).sensitive.values()) collect(value);
  return [...values];
}

// ── From validator errors to sentences ──────────────────────────────────
//
// ajv reports what failed in its own terms: `must match pattern "^/"`,
// `must match a schema in anyOf`, `must match "then" schema`, `must NOT be
// valid`. Each is said here the way a person would: what the value must be
// (from the schema's `x-expected`, or from its type), which of several
// shapes was meant, and under which condition a rule applies.

type Schema = Readonly<Record<string, unknown>>;

/** An unknown key is told the known ones when there are at most this many (and none is close). */
const KNOWN_LISTED = 8;

function schemaProblems(found: Inspection, task: Task): ParameterProblem[] {
  const errors = found.errors;
  const conditions = conditionsOf(errors);
  const kept = withoutBranchNoise(errors).filter((e) => e.keyword !== 'if' && e.keyword !== 'propertyNames');
  const problems = kept.flatMap((e) => describeError(e, task, found, conditionFor(e, conditions)));
  return problems.filter((p, i) => problems.findIndex((q) => q.message === p.message) === i);
}

/**
 * anyOf/oneOf also report why each branch failed. When the value's type
 * picks one branch (a string where a string or a list is allowed), that
 * branch's errors say best what is wrong and the anyOf error goes; when
 * none or several fit, the anyOf error alone says which shapes are allowed.
 */
function withoutBranchNoise(errors: readonly ErrorObject[]): ErrorObject[] {
  const dropped = new Set<ErrorObject>();
  const droppedPrefixes: string[] = [];
  const alternatives = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const error of alternatives) {
    if (droppedPrefixes.some((p) => error.schemaPath.startsWith(p))) continue;
    const branches = error.schema as readonly Schema[];
    const fitting = requiredAlternatives(branches) ? [] : branches.flatMap((b, i) => (fitsType(b, error.data) ? [i] : []));
    if (fitting.length === 1) {
      dropped.add(error);
      branches.forEach((_, i) => i !== fitting[0] && droppedPrefixes.push(`${error.schemaPath}/${i}/`));
    } else {
      droppedPrefixes.push(`${error.schemaPath}/`);
    }
  }
  return errors.filter((e) => !dropped.has(e) && !droppedPrefixes.some((p) => e.schemaPath.startsWith(p)));
}

/** Whether a value is of a type the schema allows (not whether it is valid). */
function fitsType(schema: Schema, data: unknown): boolean {
  const alternatives = schema['anyOf'] ?? schema['oneOf'];
  if (Array.isArray(alternatives)) return alternatives.some((b: Schema) => fitsType(b, data));
  if ('const' in schema) return typeof schema['const'] === typeof data;
  if (Array.isArray(schema['enum'])) return schema['enum'].some((v) => typeof v === typeof data);
  if (schema['jsType'] === 'function') return typeof data === 'function';
  if (schema['jsType'] === 'buffer') return Buffer.isBuffer(data);
  if (schema['jsType'] === 'secret') return isSecret(data);
  const types = [schema['type']].flat().filter((t): t is string => typeof t === 'string');
  return types.some((t) => jsonTypeOf(data).includes(t));
}

function jsonTypeOf(data: unknown): string[] {
  if (data === null) return ['null'];
  if (isSecret(data)) return ['secret'];
  if (Array.isArray(data)) return ['array'];
  if (typeof data === 'number') return Number.isInteger(data) ? ['integer', 'number'] : ['number'];
  if (typeof data === 'object' && !Buffer.isBuffer(data)) return ['object'];
  return [typeof data];
}

/** For each failed if/then/else: the schema path of the branch that failed, and the condition in words. */
function conditionsOf(errors: readonly ErrorObject[]): { prefix: string; words: string }[] {
  return errors.flatMap((e) => {
    if (e.keyword !== 'if') return [];
    const branch = (e.params as { failingKeyword: string }).failingKeyword;
    const words = conditionWords((e.parentSchema as Schema)['if'] as Schema, branch === 'else');
    return words ? [{ prefix: `${e.schemaPath.slice(0, -'if'.length)}${branch}/`, words }] : [];
  });
}

function conditionFor(error: ErrorObject, conditions: readonly { prefix: string; words: string }[]): string {
  const inner = conditions.filter((c) => error.schemaPath.startsWith(c.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
  return inner ? ` ${inner.words}` : '';
}

/**
 * An `if` schema as a condition: `when 'state' is "link"`, `unless 'state'
 * is "absent"`, `when 'append' is given`. Undefined when it says more than
 * these forms (the test of the module schemas makes sure none does).
 */
export function conditionWords(schema: Schema, negated = false): string | undefined {
  if (isPlainObject(schema['not']) && Object.keys(schema).length === 1) return conditionWords(schema['not'] as Schema, !negated);
  const required = (schema['required'] ?? []) as readonly string[];
  const properties = Object.entries((schema['properties'] ?? {}) as Record<string, Schema>);
  const known = Object.keys(schema).every((k) => k === 'required' || k === 'properties');
  if (!known) return undefined;
  if (properties.length === 0 && required.length === 1) return `when '${required[0]}' is ${negated ? 'not ' : ''}given`;
  const [property] = properties;
  if (properties.length !== 1 || !property || required.length !== 1 || required[0] !== property[0]) return undefined;
  const [key, value] = property;
  const not = isPlainObject(value['not']) && Object.keys(value).length === 1 ? (value['not'] as Schema) : undefined;
  const rule = not ?? value;
  const values = 'const' in rule ? [rule['const']] : Array.isArray(rule['enum']) ? rule['enum'] : undefined;
  if (!values || Object.keys(rule).length !== 1) return undefined;
  return `${negated ? 'unless' : 'when'} '${key}' is ${not ? 'not ' : ''}${values.map((v) => JSON.stringify(v)).join(' or ')}`;
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: 'a map',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'null',
};

/**
 * What a value must be, as a noun phrase: the schema's own `x-expected`
 * ("an absolute path"), or what its type, range and alternatives say ("an
 * integer from 1 to 65535, or a list of them"). Undefined for a pattern
 * without `x-expected`: a regular expression is not a sentence.
 */
export function expectedOf(schema: unknown): string | undefined {
  if (!isPlainObject(schema)) return undefined;
  const s = schema as Schema;
  if (typeof s['x-expected'] === 'string') return s['x-expected'];
  if ('const' in s) return JSON.stringify(s['const']);
  if (Array.isArray(s['enum'])) return s['enum'].length === 1 ? JSON.stringify(s['enum'][0]) : `one of ${s['enum'].map((v) => JSON.stringify(v)).join(', ')}`;
  if (s['jsType'] === 'function') return 'a function of the host';
  if (s['jsType'] === 'buffer') return 'a Buffer';
  if (s['jsType'] === 'secret') return 'a Secret';
  const alternatives = s['anyOf'] ?? s['oneOf'];
  if (Array.isArray(alternatives)) return alternativesWords(alternatives as Schema[]);
  if (s['pattern'] !== undefined || s['not'] !== undefined) return undefined;
  const types = [s['type']].flat().filter((t): t is string => typeof t === 'string');
  const phrases = types.map((t) => typeWords(t, s));
  return phrases.length > 0 && phrases.every((p): p is string => p !== undefined) ? phrases.join(' or ') : undefined;
}

/** `a single line, or a list of them` for the common "one or several" shape; else each shape in turn. */
function alternativesWords(branches: readonly Schema[]): string | undefined {
  const [one, many] = branches;
  if (branches.length === 2 && one && many && many['type'] === 'array' && JSON.stringify(many['items']) === JSON.stringify(one)) {
    const single = expectedOf(one);
    return single && `${single}, or a ${many['minItems'] ? 'non-empty ' : ''}list of them`;
  }
  const words = branches.map(expectedOf);
  return words.every((w): w is string => w !== undefined) ? words.join(', or ') : undefined;
}

function typeWords(type: string, s: Schema): string | undefined {
  const min = s['minimum'] as number | undefined;
  const max = s['maximum'] as number | undefined;
  const above = s['exclusiveMinimum'] as number | undefined;
  switch (type) {
    case 'integer':
    case 'number': {
      const range = min !== undefined && max !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` of at least ${min}` : above !== undefined ? ` above ${above}` : max !== undefined ? ` of at most ${max}` : '';
      return `${TYPE_WORDS[type]}${range}`;
    }
    case 'string':
      return s['minLength'] === 1 ? 'a non-empty string' : 'a string';
    case 'array': {
      const items = s['items'] === undefined ? undefined : expectedOf(s['items']);
      if (s['items'] !== undefined && items === undefined) return undefined;
      const list = s['minItems'] ? 'a non-empty list' : 'a list';
      return items ? `${list} (each ${items})` : list;
    }
    default:
      return TYPE_WORDS[type];
  }
}

function describeError(error: ErrorObject, task: Task, found: Inspection, condition: string): ParameterProblem[] {
  const path = segments(error.instancePath);
  const name = path.join('.');
  const alternatives = error.keyword === 'oneOf' || error.keyword === 'anyOf' ? requiredAlternatives(error.schema as readonly Schema[]) : undefined;
  if (alternatives) {
    const given = alternatives.filter((k) => isPlainObject(error.data) && error.data[k] !== undefined);
    const exactly = error.keyword === 'oneOf';
    const expected = `needs ${exactly ? 'exactly' : 'at least'} one of ${alternatives.map((a) => `'${a}'`).join(', ')}${condition}${exactly && given.length > 1 ? `, not ${given.length === 2 ? 'both' : 'several'}` : ''}`;
    return [{ message: `${name ? `parameter '${name}' ` : ''}${expected}`, ...(name ? { parameter: name } : {}), expected }];
  }
  if (error.keyword === 'additionalProperties') {
    // Its value is never shown: a misspelt `password:` is still a password.
    const extra = String((error.params as { additionalProperty: string }).additionalProperty);
    const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    const parameter = [...path, extra].join('.');
    if (path.length === 0 && (TASK_OPTION_KEYS as readonly string[]).includes(extra)) {
      const message = `'${extra}' is a task option, not a parameter of ${task.module.name}: give it in the second argument, ${task.module.name}({ ... }, { ${extra}: ... })`;
      return [{ message, parameter, expected: 'given in the second argument' }];
    }
    const names = known.map((k) => `'${k}'`).join(', ');
    // A close name is the likely fix; else a short list of the names there are.
    const help = didYouMean(extra, known) || (known.length > 0 && known.length <= KNOWN_LISTED ? ` (known: ${names})` : '');
    return [{ message: `parameter '${parameter}' is not known to ${task.module.name}${help}`, parameter, expected: `one of ${names}` }];
  }
  if (error.keyword === 'required' || error.keyword === 'dependencies') {
    const missing = String((error.params as { missingProperty: string }).missingProperty);
    const because = error.keyword === 'dependencies' ? ` when '${(error.params as { property: string }).property}' is given` : condition;
    const parameter = [...path, missing].join('.');
    return [{ message: `parameter '${parameter}' is required${because}`, parameter, expected: `is required${because}` }];
  }
  if (error.keyword === 'not') {
    const forbidden = requiredAlternatives(((error.schema as Schema)['anyOf'] as readonly Schema[] | undefined) ?? [error.schema as Schema]);
    if (forbidden) {
      return forbidden
        .filter((k) => isPlainObject(error.data) && error.data[k] !== undefined)
        .map((k) => {
          const parameter = [...path, k].join('.');
          return { message: `parameter '${parameter}' cannot be given${condition}`, parameter, expected: `is not allowed${condition}` };
        });
    }
  }
  const label = name || '(parameters)';
  const key = (error as ErrorObject & { propertyName?: string }).propertyName;
  const expected = `${expectation(error)}${condition}`;
  if (isSecret(error.data)) {
    // Said apart from an ordinary wrong type: the fix is another parameter or module, not another value.
    const value = `(secret from ${error.data.source})`;
    const message = `parameter '${label}' is a Secret (${error.data.source}), which it does not take: it ${expected}. A parameter takes a Secret only where its description says so: this one would carry the value where others can read it (a unit or quadlet file, a command line); docs/secrets.md says what to use instead`;
    return [{ message, ...(name ? { parameter: name } : {}), value, expected }];
  }
  if (key !== undefined) return [{ message: `parameter '${label}' has a key ${JSON.stringify(key)} that is not valid: ${expected}`, parameter: label, value: JSON.stringify(key), expected }];
  const value = shown(task.params, error.instancePath, found.sensitive);
  const hint = error.keyword === 'enum' && typeof error.data === 'string' ? didYouMean(error.data, (error.schema as unknown[]).filter((v): v is string => typeof v === 'string'), '"') : '';
  return [{ message: `parameter '${label}' = ${value}: ${expected}${hint}`, ...(name ? { parameter: name } : {}), value, expected }];
}

/** What the value must be, as a phrase starting with 'must'. */
function expectation(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as Schema;
  const custom = typeof parent['x-expected'] === 'string' ? parent['x-expected'] : undefined;
  const limit = params['limit'] as number;
  switch (error.keyword) {
    case 'type':
    case 'pattern':
    case 'not':
    case 'anyOf':
    case 'oneOf': {
      const typeWords = () => expectedOf(parent) ?? [params['type']].flat().map((t) => TYPE_WORDS[String(t)] ?? String(t)).join(' or ');
      const words = custom ?? (error.keyword === 'type' ? typeWords() : error.keyword === 'pattern' ? undefined : expectedOf({ [error.keyword]: error.schema }));
      return words ? `must be ${words}` : error.keyword === 'pattern' ? `must match the regular expression /${String(params['pattern'])}/` : (error.message ?? 'is not valid');
    }
    case 'enum':
    case 'const':
    case 'jsType':
      return `must be ${expectedOf({ [error.keyword]: error.schema })}`;
    case 'minimum':
      return `must be at least ${limit}`;
    case 'maximum':
      return `must be at most ${limit}`;
    case 'exclusiveMinimum':
      return `must be more than ${limit}`;
    case 'minLength':
      return limit === 1 ? 'must not be empty' : `must be at least ${limit} characters long`;
    case 'maxLength':
      return `must be at most ${limit} characters long`;
    case 'minItems':
      return limit === 1 ? 'must not be an empty list' : `must list at least ${limit} items`;
    case 'minProperties':
      return limit === 1 ? 'must not be empty' : `must have at least ${limit} keys`;
    case 'uniqueItems': {
      const list = error.data as unknown[];
      return `must not list ${JSON.stringify(list[params['i'] as number])} twice`;
    }
    default:
      return error.message ?? 'is not valid';
  }
}

/** For `oneOf: [{ required: ['argv'] }, { required: ['shell'] }]`: ['argv', 'shell']. */
function requiredAlternatives(branches: readonly Schema[] | undefined): string[] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const names = branches.map((branch) => {
    const required = branch['required'] as readonly string[] | undefined;
    return Object.keys(branch).length === 1 && required?.length === 1 ? required[0] : undefined;
  });
  return names.every((n): n is string => n !== undefined) ? names : undefined;
}

/** The task's own options (second argument): known names, and the types they must have. */
function optionProblems(task: Task): ParameterProblem[] {
  const rest = Object.entries(task).filter(([key]) => !['kind', 'module', 'params'].includes(key));
  return rest.flatMap(([key, value]): ParameterProblem[] => {
    if (!(TASK_OPTION_KEYS as readonly string[]).includes(key)) {
      return [{ message: `task option '${key}' is not known${didYouMean(key, [...TASK_OPTION_KEYS])} (task options: ${TASK_OPTION_KEYS.join(', ')})`, parameter: key, expected: `one of ${TASK_OPTION_KEYS.join(', ')}` }];
    }
    const ok =
      value === undefined ||
      (key === 'name' && typeof value === 'string' && value !== '') ||
      (key === 'tags' && Array.isArray(value) && value.every((v) => typeof v === 'string')) ||
      (key === 'when' && typeof value === 'function') ||
      (key === 'notify' && (typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string')))) ||
      (key === 'become' && typeof value === 'boolean');
    const expected = `must be ${{ name: 'a non-empty string', tags: 'a list of strings', when: 'a function of the host', notify: 'a handler name or a list of them', become: 'true or false' }[key as (typeof TASK_OPTION_KEYS)[number]]}`;
    const shownValue = typeof value === 'function' ? '[function]' : JSON.stringify(value);
    return ok ? [] : [{ message: `task option '${key}' = ${shownValue}: ${expected}`, parameter: key, value: shownValue, expected }];
  });
}

/** ` (did you mean 'passwordHash'?)`: a close spelling, or a known name that starts with the unknown one (or the reverse). */
function didYouMean(name: string, known: readonly string[], quote = "'"): string {
  const lower = name.toLowerCase();
  const prefixed = lower === '' ? [] : known.filter((k) => k.toLowerCase().startsWith(lower) || lower.startsWith(k.toLowerCase()));
  const matches = [...new Set([...closeMatches(name, known), ...prefixed])].slice(0, 3);
  return matches.length === 0 ? '' : ` (did you mean ${matches.map((m) => `${quote}${m}${quote}`).join(' or ')}?)`;
}

/**
 * Every string that would go into a script: no NUL byte (no command line
 * can carry one), and small enough for the host's command line. Payloads
 * (file bodies) travel as data and are exempt. And every string at all,
 * payloads included: Unicode text, which is what reaches the host as UTF-8
 * (a lone surrogate, a string's stand-in for bytes that were not UTF-8,
 * would arrive as U+FFFD and never match again).
 */
function commandLineProblems(params: unknown, found: Inspection): string[] {
  const problems: string[] = [];
  let total = 0;
  const unicode = (text: string, what: string) => {
    const at = text.search(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    if (at >= 0) problems.push(`${what} holds a lone surrogate (character ${at + 1} of ${text.length}), not Unicode text: it cannot reach the host as UTF-8 (give bytes that are not text as a Buffer where the parameter takes one)`);
  };
  const check = (text: string, pointer: string, what: string) => {
    const nul = text.indexOf('\0');
    if (nul >= 0) problems.push(`${what} holds a NUL byte (character ${nul + 1} of ${text.length}): a command line cannot carry one`);
    const bytes = commandLineBytes(text);
    total += bytes;
    if (bytes > MAX_VALUE_BYTES) {
      problems.push(
        `${what} is too large for the host's command line: ${describeValue(text, isSensitive(pointer, found.sensitive))} takes ${kib(bytes)} there, at most ${kib(MAX_VALUE_BYTES)} (put large data in a file and name the file)`,
      );
    }
  };
  const walk = (value: unknown, pointer: string) => {
    const name = `parameter '${segments(pointer).join('.')}'`;
    if (typeof value === 'string') unicode(value, name);
    if ([...found.payload].some((p) => within(pointer, p))) return;
    if (typeof value === 'string') check(value, pointer, name);
    else if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${pointer}/${i}`));
    else if (isPlainObject(value)) {
      const ofKey = `a key of parameter '${segments(pointer).join('.') || '(parameters)'}'`;
      for (const [key, item] of Object.entries(value)) {
        const at = `${pointer}/${escapePointer(key)}`;
        check(key, at, ofKey);
        unicode(key, ofKey);
        walk(item, at);
      }
    }
  };
  walk(params, '');
  if (total > MAX_TASK_VALUES_BYTES) problems.push(`the parameters together take ${kib(total)} of the host's command line, at most ${kib(MAX_TASK_VALUES_BYTES)}`);
  return problems;
}

/** The value at a location as a message shows it: JSON, sensitive parts described instead, cut short. */
function shown(params: unknown, pointer: string, sensitive: ReadonlyMap<string, unknown>): string {
  const value = valueAt(params, segments(pointer));
  if (isSecret(value)) return `(secret from ${value.source})`;
  if (isSensitive(pointer, sensitive)) return `(secret, not shown: ${describeValue(value, true)})`;
  const text = JSON.stringify(visible(value, pointer, sensitive));
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function visible(value: unknown, pointer: string, sensitive: ReadonlyMap<string, unknown>): unknown {
  if (isSensitive(pointer, sensitive) || isSecret(value)) return '(secret)';
  if (typeof value === 'function') return '[function]';
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((v, i) => visible(v, `${pointer}/${i}`, sensitive));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visible(v, `${pointer}/${escapePointer(k)}`, sensitive)]));
  return value;
}

/** What can be said of a value without showing it: its kind, its length, the characters that usually make it wrong. */
function describeValue(value: unknown, secret: boolean): string {
  if (typeof value !== 'string') return Array.isArray(value) ? 'a list' : value === null ? 'null' : `a ${typeof value}`;
  const traits = [
    ...(/[\r\n]$/.test(value) ? ['ending in a line break'] : /[\r\n]/.test(value) ? ['with a line break'] : []),
    ...(value.includes('\0') ? ['with a NUL byte'] : []),
    ...(secret && /^\s|\s$/.test(value) && !/[\r\n]$/.test(value) ? ['with blanks at an end'] : []),
  ];
  return [`a string of ${value.length} character${value.length === 1 ? '' : 's'}`, ...traits].join(', ');
}

function isSensitive(pointer: string, sensitive: ReadonlyMap<string, unknown>): boolean {
  for (const location of sensitive.keys()) if (within(pointer, location)) return true;
  return false;
}

/** Whether `pointer` is `location` or inside it. */
function within(pointer: string, location: string): boolean {
  return pointer === location || pointer.startsWith(`${location}/`);
}

function segments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value) && !isSecret(value);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(bytes % 1024 === 0 ? 0 : 1)} KiB`;
}
