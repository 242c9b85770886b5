import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { DataValidationCxt } from 'ajv/dist/types/index.js';
import { UsageError } from '../errors.ts';
import { closeMatches } from '../inventory/problems.ts';
import { commandLineBytes, MAX_TASK_VALUES_BYTES, MAX_VALUE_BYTES } from '../shell/command-line.ts';
import { TASK_OPTION_KEYS, taskName } from './define.ts';
import type { Task } from './types.ts';

/**
 * Parameters are checked against each module's JSON Schema before any host
 * is touched. TypeScript catches most mistakes at edit time; this catches
 * the rest (plain JS playbooks, values from YAML vars, casts).
 */
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });

// Values that JSON Schema has no word for: template functions and raw bytes.
ajv.addKeyword({
  keyword: 'jsType',
  schemaType: 'string',
  validate: (expected: string, data: unknown) =>
    expected === 'function' ? typeof data === 'function' : expected === 'buffer' ? Buffer.isBuffer(data) : false,
  errors: false,
});

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

function inspect(task: Task): Inspection {
  const validate = validatorFor(task.module.schema);
  notes = { sensitive: new Map(), payload: new Set() };
  try {
    const valid = validate(task.params);
    return { errors: valid ? [] : [...(validate.errors ?? [])], sensitive: notes.sensitive, payload: notes.payload };
  } finally {
    notes = undefined;
  }
}

/** Problems with a task's parameters, one message per problem. No message holds a sensitive value. */
export function taskProblems(task: Task, where: string): string[] {
  const found = inspect(task);
  const problems = [...withoutNoise(found.errors).map((e) => describeError(e, task, found)), ...commandLineProblems(task.params, found), ...optionProblems(task)];
  return problems.map((p) => `${where}task '${taskName(task)}' (${task.module.name}): ${p}`);
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

/**
 * A failed oneOf/anyOf also reports why each branch failed ("argv is
 * required", "shell is required"); the oneOf error alone says it better.
 * A failed `then` is reported by the errors inside it, and a bad key by the
 * propertyNames error that names it.
 */
function withoutNoise(errors: readonly ErrorObject[]): ErrorObject[] {
  const branches = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  return errors.filter((e) => e.keyword !== 'if' && e.keyword !== 'propertyNames' && !branches.some((prefix) => e.schemaPath.startsWith(prefix)));
}

/** The task's own options (second argument): known names, and the types they must have. */
function optionProblems(task: Task): string[] {
  const rest = Object.entries(task).filter(([key]) => !['kind', 'module', 'params'].includes(key));
  return rest.flatMap(([key, value]) => {
    if (!(TASK_OPTION_KEYS as readonly string[]).includes(key)) {
      return [`task option '${key}' is not known${didYouMean(key, [...TASK_OPTION_KEYS])} (task options: ${TASK_OPTION_KEYS.join(', ')})`];
    }
    const ok =
      value === undefined ||
      (key === 'name' && typeof value === 'string' && value !== '') ||
      (key === 'tags' && Array.isArray(value) && value.every((v) => typeof v === 'string')) ||
      (key === 'when' && typeof value === 'function') ||
      (key === 'notify' && (typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string')))) ||
      (key === 'become' && typeof value === 'boolean');
    const expected = { name: 'a non-empty string', tags: 'a list of strings', when: 'a function of the host', notify: 'a handler name or a list of them', become: 'true or false' }[key as (typeof TASK_OPTION_KEYS)[number]];
    return ok ? [] : [`task option '${key}' = ${typeof value === 'function' ? '[function]' : JSON.stringify(value)}: must be ${expected}`];
  });
}

function describeError(error: ErrorObject, task: Task, found: Inspection): string {
  const params = task.params;
  const path = segments(error.instancePath);
  const alternatives = requiredAlternatives(error);
  if (alternatives) {
    const where = path.length > 0 ? `parameter '${path.join('.')}' ` : '';
    return `${where}needs exactly one of ${alternatives.map((a) => `'${a}'`).join(', ')}`;
  }
  if (error.keyword === 'additionalProperties') {
    // Its value is never shown: a misspelt `password:` is still a password.
    const extra = String((error.params as { additionalProperty: string }).additionalProperty);
    const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    if (path.length === 0 && (TASK_OPTION_KEYS as readonly string[]).includes(extra)) {
      return `'${extra}' is a task option, not a parameter of ${task.module.name}: give it in the second argument, ${task.module.name}({ ... }, { ${extra}: ... })`;
    }
    return `parameter '${[...path, extra].join('.')}' is not known to this module${didYouMean(extra, known)}`;
  }
  if (error.keyword === 'required') {
    const missing = String((error.params as { missingProperty: string }).missingProperty);
    return `parameter '${[...path, missing].join('.')}' is required`;
  }
  const name = path.length > 0 ? path.join('.') : '(parameters)';
  const key = (error as ErrorObject & { propertyName?: string }).propertyName;
  if (key !== undefined) return `parameter '${name}' has a key ${JSON.stringify(key)} that is not valid: ${error.message ?? 'is not valid'}`;
  return `parameter '${name}' = ${shown(params, error.instancePath, found.sensitive)}: ${error.message ?? 'is not valid'}${allowed(error)}`;
}

/** For `oneOf: [{ required: ['argv'] }, { required: ['shell'] }]`: ['argv', 'shell']. */
function requiredAlternatives(error: ErrorObject): string[] | undefined {
  if (error.keyword !== 'oneOf' || !Array.isArray(error.schema)) return undefined;
  const names = (error.schema as { required?: string[] }[]).map((branch) => (Object.keys(branch).length === 1 && branch.required?.length === 1 ? branch.required[0] : undefined));
  return names.every((n): n is string => n !== undefined) ? names : undefined;
}

function allowed(error: ErrorObject): string {
  if (error.keyword === 'enum') {
    return ` (${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
  }
  return '';
}

/** ` (did you mean 'passwordHash'?)`: a close spelling, or a known name that starts with the unknown one (or the reverse). */
function didYouMean(name: string, known: readonly string[]): string {
  const lower = name.toLowerCase();
  const prefixed = known.filter((k) => k.toLowerCase().startsWith(lower) || lower.startsWith(k.toLowerCase()));
  const matches = [...new Set([...closeMatches(name, known), ...prefixed])].slice(0, 3);
  return matches.length === 0 ? '' : ` (did you mean ${matches.map((m) => `'${m}'`).join(' or ')}?)`;
}

/**
 * Every string that would go into a script: no NUL byte (no command line
 * can carry one), and small enough for the host's command line. Payloads
 * (file bodies) travel as data and are exempt.
 */
function commandLineProblems(params: unknown, found: Inspection): string[] {
  const problems: string[] = [];
  let total = 0;
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
    if ([...found.payload].some((p) => within(pointer, p))) return;
    const name = `parameter '${segments(pointer).join('.')}'`;
    if (typeof value === 'string') check(value, pointer, name);
    else if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${pointer}/${i}`));
    else if (isPlainObject(value)) {
      for (const [key, item] of Object.entries(value)) {
        const at = `${pointer}/${escapePointer(key)}`;
        check(key, at, `a key of parameter '${segments(pointer).join('.') || '(parameters)'}'`);
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
  if (isSensitive(pointer, sensitive)) return `(secret, not shown: ${describeValue(value, true)})`;
  const text = JSON.stringify(visible(value, pointer, sensitive));
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function visible(value: unknown, pointer: string, sensitive: ReadonlyMap<string, unknown>): unknown {
  if (isSensitive(pointer, sensitive)) return '(secret)';
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
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(bytes % 1024 === 0 ? 0 : 1)} KiB`;
}
