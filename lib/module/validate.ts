import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { UsageError } from '../errors.ts';
import { taskName } from './define.ts';
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

const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** Problems with a task's parameters, one message per problem. */
export function taskProblems(task: Task, where: string): string[] {
  const validate = validatorFor(task.module.schema);
  if (validate(task.params)) return [];
  return withoutBranchNoise(validate.errors ?? []).map((e) => `${where}task '${taskName(task)}' (${task.module.name}): ${describeError(e, task.params)}`);
}

/** Throw one UsageError listing every invalid parameter of every task. */
export function assertTasksValid(tasks: readonly { task: Task; where: string }[]): void {
  const problems = tasks.flatMap(({ task, where }) => taskProblems(task, where));
  if (problems.length > 0) {
    throw new UsageError(`invalid task parameters (nothing was changed on any host):\n  ${problems.join('\n  ')}`);
  }
}

/**
 * A failed oneOf/anyOf also reports why each branch failed ("argv is
 * required", "shell is required"); the oneOf error alone says it better.
 */
function withoutBranchNoise(errors: readonly ErrorObject[]): ErrorObject[] {
  const branches = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  return errors.filter((e) => !branches.some((prefix) => e.schemaPath.startsWith(prefix)));
}

function describeError(error: ErrorObject, params: unknown): string {
  const path = error.instancePath.split('/').filter(Boolean);
  const alternatives = requiredAlternatives(error);
  if (alternatives) {
    const where = path.length > 0 ? `parameter '${path.join('.')}' ` : '';
    return `${where}needs exactly one of ${alternatives.map((a) => `'${a}'`).join(', ')}`;
  }
  if (error.keyword === 'additionalProperties') {
    const extra = String((error.params as { additionalProperty: string }).additionalProperty);
    const at = [...path, extra].join('.');
    return `parameter '${at}' is not known to this module (value ${show(valueAt(params, [...path, extra]))})`;
  }
  if (error.keyword === 'required') {
    const missing = String((error.params as { missingProperty: string }).missingProperty);
    return `parameter '${[...path, missing].join('.')}' is required`;
  }
  const name = path.length > 0 ? path.join('.') : '(parameters)';
  return `parameter '${name}' = ${show(valueAt(params, path))}: ${error.message ?? 'is not valid'}${allowed(error)}`;
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

function valueAt(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
  return value;
}

function show(value: unknown): string {
  if (typeof value === 'function') return '[function]';
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
