import { createHash } from 'node:crypto';

/** One line of authorized_keys, split into what a person recognizes a key by. */
export interface AuthorizedKey {
  readonly line: string;
  readonly type: string;
  readonly comment: string;
  /** `SHA256:` and the first characters of the fingerprint ssh-keygen -l shows. */
  readonly fingerprint: string;
}

const KEY_TYPE = /^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)$/;

/** The key lines of an authorized_keys file: blank lines and comments are not keys. */
export function keyLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * Undefined for a line that is not a key: such lines are never shown, since
 * whatever a file holds (a symlink's target, a pasted secret) must not end up
 * in a report.
 */
export function parseKey(line: string): AuthorizedKey | undefined {
  const words = line.split(/\s+/);
  // Options come first and may contain spaces only inside quotes; the type is the first word that is one.
  const at = words.findIndex((w, i) => KEY_TYPE.test(w) && /^[A-Za-z0-9+/]+=*$/.test(words[i + 1] ?? ''));
  if (at < 0) return undefined;
  const type = words[at] as string;
  const blob = words[at + 1] as string;
  const digest = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '');
  return { line, type, comment: words.slice(at + 2).join(' '), fingerprint: `SHA256:${digest.slice(0, 12)}` };
}

export function describeKey(line: string): string {
  const key = parseKey(line);
  if (!key) return '(a line that is not a key)';
  return [key.type, key.comment, `(${key.fingerprint})`].filter(Boolean).join(' ');
}

/** Keys to add and remove to turn `current` into `wanted`, compared as sets of lines. */
export function keyChanges(current: readonly string[], wanted: readonly string[]): { added: string[]; removed: string[] } {
  const have = new Set(current);
  const want = new Set(wanted);
  return { added: [...want].filter((k) => !have.has(k)), removed: [...have].filter((k) => !want.has(k)) };
}

/** Diff-like lines naming keys by type, comment and fingerprint, never by their blobs. */
export function keyDiff(changes: { added: readonly string[]; removed: readonly string[] }): string {
  return [...changes.removed.map((k) => `- key ${describeKey(k)}`), ...changes.added.map((k) => `+ key ${describeKey(k)}`)].join('\n');
}
