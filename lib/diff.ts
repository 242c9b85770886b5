import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';

/** Unified diff of a file's text as it is on the host and as the task wants it. */
export function textDiff(path: string, before: string, after: string): string {
  return createTwoFilesPatch(`${path} (host)`, `${path} (wanted)`, before, after, undefined, undefined, { context: 3 })
    .split('\n')
    .slice(1) // drop the "====" banner line; the ---/+++ header already names both sides
    .join('\n');
}

/** Diff-like lines for a change that is not text: "- mode 0644" / "+ mode 0600". */
export function fieldDiff(fields: readonly { name: string; before: string | undefined; after: string | undefined }[]): string {
  const lines: string[] = [];
  for (const f of fields) {
    if (f.before === f.after) continue;
    if (f.before !== undefined) lines.push(`- ${f.name} ${f.before}`);
    if (f.after !== undefined) lines.push(`+ ${f.name} ${f.after}`);
  }
  return lines.join('\n');
}

/** True when bytes look like text worth diffing (valid UTF-8 without NUL). */
export function isText(bytes: Buffer): boolean {
  if (bytes.includes(0)) return false;
  return Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
}

/**
 * What a change shows of secret content, before or after: never the bytes,
 * only that it changes and, for new content, its sha256, which can be
 * compared with `sha256sum` of the copy the playbook reads it from. The one
 * place that says how a secret's change is shown (files, repository files,
 * Podman secrets, NixOS secret uploads).
 */
export function secretContentDiff(after: Buffer | undefined): string {
  return after === undefined ? '- content (secret: not shown)' : `~ content (secret: not shown), new sha256 ${createHash('sha256').update(after).digest('hex')}`;
}
