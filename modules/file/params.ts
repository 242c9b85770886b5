import type { HostView } from '../../lib/module/types.ts';
import { renderTemplate, type Template } from '../../lib/template.ts';

/** Octal permission bits as a string, e.g. '0644' or '755'. A number would be read as decimal, so it is not accepted. */
export type Mode = string;

interface Ownership {
  readonly mode?: Mode;
  /** User name that owns the path. */
  readonly owner?: string;
  readonly group?: string;
}

interface FileContent extends Ownership {
  readonly state?: 'file';
  /**
   * Replace a directory or other non-file at `path`. Without it the task
   * fails rather than deleting what is there.
   */
  readonly force?: boolean;
  /**
   * Never show the content in diffs, reports or parameter errors (keys,
   * tokens, password files); without `mode`, the file is 0600.
   */
  readonly secret?: boolean;
}

export type FileParams = { readonly path: string } & (
  | (FileContent & { readonly content: string | Buffer; readonly template?: never })
  | (FileContent & { readonly template: Template; readonly content?: never })
  | (Ownership & { readonly state: 'directory' })
  | { readonly state: 'link'; readonly target: string; readonly owner?: string; readonly group?: string; readonly force?: boolean }
  | {
      readonly state: 'absent';
      /** The file being removed is secret: its old content is not shown. */
      readonly secret?: boolean;
    }
);

const absolutePath = { type: 'string', pattern: '^/', minLength: 2 } as const;
const mode = { type: 'string', pattern: '^0?[0-7]{3,4}$' } as const;
const name = { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*\\$?$' } as const;

export const fileSchema = {
  type: 'object',
  required: ['path'],
  properties: {
    path: absolutePath,
    state: { enum: ['file', 'directory', 'link', 'absent'] },
    // The file's body is sent as data, never inside a script: any size, any bytes.
    content: { anyOf: [{ type: 'string' }, { jsType: 'buffer' }], payload: true },
    template: { anyOf: [{ type: 'string' }, { jsType: 'function' }], payload: true },
    target: { type: 'string', minLength: 1 },
    mode,
    owner: name,
    group: name,
    force: { type: 'boolean' },
    secret: { type: 'boolean' },
  },
  additionalProperties: false,
  allOf: [
    // Any `secret` but false hides the content, `secret: 'yes'` included: the mistake is reported, the content is not.
    { if: { properties: { secret: { not: { const: false } } }, required: ['secret'] }, then: { properties: { content: { sensitive: true }, template: { sensitive: true } } } },
    {
      if: { properties: { state: { const: 'link' } }, required: ['state'] },
      then: { required: ['target'], not: { anyOf: [{ required: ['content'] }, { required: ['template'] }, { required: ['mode'] }] } },
    },
    {
      if: { properties: { state: { enum: ['directory', 'absent'] } }, required: ['state'] },
      then: { not: { anyOf: [{ required: ['content'] }, { required: ['template'] }, { required: ['target'] }] } },
    },
    {
      if: { not: { required: ['state'] } },
      then: { oneOf: [{ required: ['content'] }, { required: ['template'] }] },
    },
    {
      if: { properties: { state: { const: 'file' } }, required: ['state'] },
      then: { oneOf: [{ required: ['content'] }, { required: ['template'] }] },
    },
  ],
} as const;

/** Parameters made concrete for one host: templates rendered, content as bytes, mode normalized. */
export type WantedPath =
  | { readonly state: 'file'; readonly path: string; readonly content: Buffer; readonly mode?: string; readonly owner?: string; readonly group?: string; readonly force: boolean; readonly secret: boolean }
  | { readonly state: 'directory'; readonly path: string; readonly mode?: string; readonly owner?: string; readonly group?: string }
  | { readonly state: 'link'; readonly path: string; readonly target: string; readonly owner?: string; readonly group?: string; readonly force: boolean }
  | { readonly state: 'absent'; readonly path: string; readonly secret: boolean };

/** The mode of a secret file when the task gives none, whether the file is new or already there. */
export const SECRET_FILE_MODE = '0600';

/** '644', '0644' → '0644': one spelling, so comparisons and diffs agree. */
export function normalizeMode(mode: string): string {
  return mode.replace(/^0*/, '').padStart(4, '0');
}

/** Parameters → what the path must be on this host: the template rendered, the content as bytes, the mode spelt one way. */
export function resolveFile(p: FileParams, host: HostView): WantedPath {
  const mode = 'mode' in p && p.mode !== undefined ? { mode: normalizeMode(p.mode) } : {};
  const owner = 'owner' in p && p.owner !== undefined ? { owner: p.owner } : {};
  const group = 'group' in p && p.group !== undefined ? { group: p.group } : {};
  switch (p.state) {
    case 'absent':
      return { state: 'absent', path: p.path, secret: p.secret ?? false };
    case 'directory':
      return { state: 'directory', path: p.path, ...mode, ...owner, ...group };
    case 'link':
      return { state: 'link', path: p.path, target: p.target, force: p.force ?? false, ...owner, ...group };
    default: {
      const text = p.content ?? renderTemplate(p.template!, host);
      const content = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
      const secret = p.secret ?? false;
      // A secret file is never left readable by all: without a mode it is 0600, an existing 0644 one included.
      const fileMode = secret && !('mode' in mode) ? { mode: SECRET_FILE_MODE } : mode;
      return { state: 'file', path: p.path, content, force: p.force ?? false, secret, ...fileMode, ...owner, ...group };
    }
  }
}
