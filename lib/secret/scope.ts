/**
 * A run's secrets: each source read at most once per run (two
 * `secret.pass('x')` of one run, or one role expanded for ten hosts, read
 * `pass` once), and every value read kept, so that everything the run
 * prints or writes can be masked with all of them (mask.ts) and no command
 * line can carry one (guard.ts).
 *
 * A run is an async context (AsyncLocalStorage): `play` opens one for all
 * it does, `runPlaybooks` opens one when called on its own. Outside any
 * (a unit test resolving a task by hand), one scope lives as long as the
 * process.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { MIN_MASKED_LENGTH } from '../errors.ts';
import { hostPathOf, isSecret, sourceKey, sourceOf, type Secret } from './secret.ts';
import { readSource } from './sources.ts';

class SecretScope {
  /** Values by source (see sourceKey). */
  readonly values = new Map<string, string>();
  /** Each value read, with the source it came from, for messages that must say which secret without showing it. */
  readonly labels = new Map<string, string>();
  /** Texts to mask: each value, and the parts of it a report may show alone (see maskedParts). */
  masked: string[] = [];
}

const storage = new AsyncLocalStorage<SecretScope>();
const processScope = new SecretScope();

function current(): SecretScope {
  return storage.getStore() ?? processScope;
}

/** Run `work` in a run's scope of secrets: the caller's when there is one, else a new one. */
export function inSecretScope<T>(work: () => Promise<T>): Promise<T> {
  return storage.getStore() ? work() : storage.run(new SecretScope(), work);
}

/**
 * The secret's value, read from its source the first time this run asks.
 * Only the engine and the modules that take a Secret call this; a
 * playbook says `unsafeSecretText(secret)`. Throws SecretSourceError.
 */
export function revealSecret(secret: Secret): string {
  const scope = current();
  const source = sourceOf(secret);
  const key = sourceKey(source);
  const known = scope.values.get(key);
  if (known !== undefined) return known;
  const value = readSource(source, secret.source);
  scope.values.set(key, value);
  scope.labels.set(value, secret.source);
  scope.masked = [...new Set([...scope.masked, ...maskedParts(value)])];
  return value;
}

/**
 * The secret's text, to embed in a file's template yourself:
 *
 *   file({ path: '/etc/app.ini', template: () => `[db]\npassword = ${unsafeSecretText(dbPassword)}\n` })
 *
 * Named so that every place a secret becomes text can be found with grep.
 * The run still knows the value: a file whose content holds it is shown
 * as secret (its hash, never its bytes) and is 0600 unless `mode` says
 * otherwise, and everything printed is masked. But a string has no type
 * to stop it: put it only into file contents.
 */
export function unsafeSecretText(secret: Secret): string {
  if (!isSecret(secret)) throw new TypeError('unsafeSecretText() takes a Secret (secret.env(...), secret.pass(...), ...)');
  return revealSecret(secret);
}

/** Every text this run must mask (values read so far, and their parts). */
export function secretTexts(): readonly string[] {
  return current().masked;
}

/** The source of the first secret value found in `text`, or undefined. */
export function secretIn(text: string, forms: (value: string) => readonly string[] = (v) => [v]): string | undefined {
  for (const [value, label] of current().labels) {
    if (forms(value).some((form) => form.length >= MIN_MASKED_LENGTH && text.includes(form))) return label;
  }
  return undefined;
}

/** Whether any value this run has read appears in `text` (a rendered template, say). */
export function holdsSecret(text: string): boolean {
  return secretIn(text) !== undefined;
}

/** Every Secret inside a task's parameters (lists and plain objects walked), in order; those on the host (secret.onHost) are never read and left out. */
export function secretsIn(value: unknown): Secret[] {
  return allSecretsIn(value).filter((s) => hostPathOf(s) === undefined);
}

function allSecretsIn(value: unknown): Secret[] {
  if (isSecret(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(allSecretsIn);
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).flatMap(allSecretsIn);
  return [];
}

/** A line of a secret shorter than this is not masked on its own: it could be an ordinary word. */
const MIN_LINE_MASKED = 8;

/**
 * What of a value a report may show on its own: the value, the value
 * without blanks at its ends, and each line of a value of several lines
 * (a diff shows a key file line by line), when long enough to be no
 * ordinary word.
 */
function maskedParts(value: string): string[] {
  const lines = value.includes('\n') ? value.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length >= MIN_LINE_MASKED) : [];
  return [value, value.trim(), ...lines].filter((part) => part.length >= MIN_MASKED_LENGTH);
}
