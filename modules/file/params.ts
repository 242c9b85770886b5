import type { HostView } from '../../lib/module/types.ts';
import { holdsSecret, revealSecret } from '../../lib/secret/scope.ts';
import { isSecret, type Secret } from '../../lib/secret/secret.ts';
import { renderTemplate, type Template } from '../../lib/template.ts';

/** Octal permission bits as a string, e.g. '0644' or '755'. A number would be read as decimal, so it is not accepted. */
export type Mode = string;

interface StateOf<S extends string> {
  /** What the path must be: 'file' (the default: `content` or `template` written there), 'directory', 'link' (a symlink to `target`), or 'absent' (whatever is there is removed). */
  readonly state: S;
}

interface Ownership {
  /** Permission bits in octal, as a string: '0644', '755' (a number would be read as decimal, so it is refused). Left out: a new path gets the default, an existing one keeps its own; a secret file gets 0600. */
  readonly mode?: Mode;
  /** User that owns the path (a name). Left out: unchanged, and a new path belongs to the user hostform runs as. */
  readonly owner?: string;
  /** Group that owns the path (a name). Left out: unchanged, and a new path gets the group of the user hostform runs as. */
  readonly group?: string;
}

interface FileOptions {
  /**
   * Replace what is in the way: a directory or other non-file where a file
   * should be (a symlink is replaced without force), or anything but a
   * symlink where a link should be. Without it the task fails rather than
   * delete what is there.
   */
  readonly force?: boolean;
  /**
   * The content is secret (keys, tokens, password files): never shown in
   * diffs, reports or parameter errors, and without `mode` the file is 0600.
   * A file whose content is a Secret, or holds one (a template that embeds
   * `unsafeSecretText(s)`), is secret without saying so. With state
   * 'absent': the removed file's old content is not shown.
   */
  readonly secret?: boolean;
}

interface Content {
  /** The file's content: text, bytes as a Buffer, or a Secret (the file is then secret). It travels as data, never inside a script, so any size and any bytes. Give content or template, not both. */
  readonly content: string | Buffer | Secret;
  readonly template?: never;
}

interface FromTemplate {
  /**
   * The file's content, rendered for each host: a string whose `{{ name }}`
   * placeholders are the host's vars (`{{ host.name }}`, `{{ facts.platform }}`),
   * or a function of the host returning the text. Give content or template, not both.
   */
  readonly template: Template;
  readonly content?: never;
}

interface LinkTarget {
  /** With state 'link': what the symlink points to, written as given (it need not exist). */
  readonly target: string;
}

export type FileParams = {
  /** Absolute path of the file, directory or link. */
  readonly path: string;
} & (
  | (Partial<StateOf<'file'>> & Ownership & FileOptions & Content)
  | (Partial<StateOf<'file'>> & Ownership & FileOptions & FromTemplate)
  | (StateOf<'directory'> & Ownership)
  | (StateOf<'link'> & LinkTarget & Pick<Ownership, 'owner' | 'group'> & Pick<FileOptions, 'force'>)
  | (StateOf<'absent'> & Pick<FileOptions, 'secret'>)
);

const absolutePath = { type: 'string', pattern: '^/', minLength: 2, 'x-expected': 'an absolute path (starting with /)' } as const;
const mode = { type: 'string', pattern: '^0?[0-7]{3,4}$', 'x-expected': 'an octal mode in a string, such as "0644" or "2775"' } as const;
const name = { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*\\$?$', 'x-expected': 'a user or group name (letters, digits, _, . and -, not starting with . or -)' } as const;

export const fileSchema = {
  type: 'object',
  required: ['path'],
  properties: {
    path: { ...absolutePath, description: 'Absolute path of the file, directory or link.' },
    state: {
      enum: ['file', 'directory', 'link', 'absent'],
      description: "What the path must be: 'file' (the default: `content` or `template` written there), 'directory', 'link' (a symlink to `target`), or 'absent' (whatever is there is removed).",
    },
    // The file's body is sent as data, never inside a script: any size, any bytes.
    content: {
      anyOf: [{ type: 'string' }, { jsType: 'buffer' }, { jsType: 'secret' }],
      payload: true,
      description: "The file's content: text, bytes as a Buffer, or a Secret (the file is then secret). It travels as data, never inside a script, so any size and any bytes. Give content or template, not both.",
    },
    template: {
      anyOf: [{ type: 'string' }, { jsType: 'function' }],
      payload: true,
      description:
        "The file's content, rendered for each host: a string whose `{{ name }}` placeholders are the host's vars (`{{ host.name }}`, `{{ facts.platform }}`), or a function of the host returning the text. Give content or template, not both.",
    },
    target: { type: 'string', minLength: 1, description: "With state 'link': what the symlink points to, written as given (it need not exist)." },
    mode: {
      ...mode,
      description:
        "Permission bits in octal, as a string: '0644', '755' (a number would be read as decimal, so it is refused). Left out: a new path gets the default, an existing one keeps its own; a secret file gets 0600.",
    },
    owner: { ...name, description: 'User that owns the path (a name). Left out: unchanged, and a new path belongs to the user hostform runs as.' },
    group: { ...name, description: 'Group that owns the path (a name). Left out: unchanged, and a new path gets the group of the user hostform runs as.' },
    force: {
      type: 'boolean',
      description:
        'Replace what is in the way: a directory or other non-file where a file should be (a symlink is replaced without force), or anything but a symlink where a link should be. Without it the task fails rather than delete what is there.',
    },
    secret: {
      type: 'boolean',
      description:
        "The content is secret (keys, tokens, password files): never shown in diffs, reports or parameter errors, and without `mode` the file is 0600. A file whose content is a Secret, or holds one (a template that embeds `unsafeSecretText(s)`), is secret without saying so. With state 'absent': the removed file's old content is not shown.",
    },
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
      const text = isSecret(p.content) ? revealSecret(p.content) : (p.content ?? renderTemplate(p.template!, host));
      const content = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
      // A file that holds a secret of the run is secret, however the secret got in: shown by its hash, 0600 by default.
      const secret = (p.secret ?? false) || isSecret(p.content) || holdsSecret(content.toString('utf8'));
      // A secret file is never left readable by all: without a mode it is 0600, an existing 0644 one included.
      const fileMode = secret && !('mode' in mode) ? { mode: SECRET_FILE_MODE } : mode;
      return { state: 'file', path: p.path, content, force: p.force ?? false, secret, ...fileMode, ...owner, ...group };
    }
  }
}
