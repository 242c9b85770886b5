import { fieldDiff } from '../../lib/diff.ts';
import { defineModule } from '../../lib/module/define.ts';
import { effect } from '../../lib/module/resources.ts';
import type { ApplyContext, Backend, Change, PlanContext, ProbeOutputs } from '../../lib/module/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { fcontextKey, FileContextResource } from './resources.ts';
import { restoreconPathFor } from './restorecon-paths.ts';
import { importLine, semanageImport } from './semanage-import.ts';
import { requireEnabled } from './status.ts';
import { parseStore, storeProbe, type ObservedStore } from './store.ts';

// ── parameters ───────────────────────────────────────────────────────────

/** What `semanage fcontext -f` calls each file type: its flag, and the words `-l` prints. */
const FILE_TYPES = {
  all: { flag: 'a', listed: 'all files' },
  file: { flag: 'f', listed: 'regular file' },
  directory: { flag: 'd', listed: 'directory' },
  symlink: { flag: 'l', listed: 'symbolic link' },
  socket: { flag: 's', listed: 'socket' },
  pipe: { flag: 'p', listed: 'named pipe' },
  chardev: { flag: 'c', listed: 'character device' },
  blockdev: { flag: 'b', listed: 'block device' },
} as const;

export type FileType = keyof typeof FILE_TYPES;

export interface FileContextParams {
  /** The path regex, as semanage takes it: `/srv/www(/.*)?`. */
  readonly target: string;
  /** The SELinux type for matching paths (`httpd_sys_content_t`); required unless state is absent. */
  readonly type?: string;
  /** Which kind of file the mapping applies to. Default 'all'. */
  readonly ftype?: FileType;
  /** Default 'present'; 'absent' removes the local mapping. */
  readonly state?: 'present' | 'absent';
  /** Relabel the matching paths with `restorecon -R` when the mapping changed. Default true. */
  readonly restorecon?: boolean;
  /** Paths to relabel instead of the one derived from `target` (its literal prefix, e.g. /srv/www). */
  readonly restoreconPaths?: readonly string[];
  /** Fail, instead of skipping, on a host where SELinux is disabled. */
  readonly required?: boolean;
}

// semanage refuses spaces in a file spec, and its import format cannot carry quotes.
const target = { type: 'string', pattern: `^/[^\\s'"]*$`, 'x-expected': 'an absolute path or path expression without blanks or quotes, such as "/srv/www(/.*)?"' } as const;
const selinuxType = { type: 'string', pattern: '^([a-z0-9_]+|<<none>>)$', 'x-expected': 'an SELinux type such as "httpd_sys_content_t", or "<<none>>"' } as const;

const schema = {
  type: 'object',
  required: ['target'],
  properties: {
    target,
    type: selinuxType,
    ftype: { enum: Object.keys(FILE_TYPES) },
    state: { enum: ['present', 'absent'] },
    restorecon: { type: 'boolean' },
    restoreconPaths: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^/', 'x-expected': 'an absolute path (starting with /)' } },
    required: { type: 'boolean' },
  },
  additionalProperties: false,
  if: { not: { properties: { state: { const: 'absent' } }, required: ['state'] } },
  then: { required: ['type'] },
} as const;

interface Resolved {
  readonly target: string;
  readonly flag: string;
  readonly ftype: FileType;
  /** undefined: the local mapping should not exist. */
  readonly type: string | undefined;
  readonly relabel: readonly string[];
  readonly required: boolean;
}

function resolve(p: FileContextParams): Resolved {
  const ftype = p.ftype ?? 'all';
  const relabel = p.restorecon === false ? [] : (p.restoreconPaths ?? [derivedPath(p.target)]);
  return { target: p.target, flag: FILE_TYPES[ftype].flag, ftype, type: p.state === 'absent' ? undefined : p.type, relabel, required: p.required ?? false };
}

function derivedPath(target: string): string {
  const path = restoreconPathFor(target);
  if (path === undefined) {
    throw new Error(`parameter 'target' = ${JSON.stringify(target)}: no path to relabel follows from it (it would be /); give restoreconPaths, or restorecon: false`);
  }
  return path;
}

// ── observe ──────────────────────────────────────────────────────────────

function parse(_r: Resolved, outputs: ProbeOutputs): ObservedStore {
  return parseStore(outputs['store']!);
}

// ── plan ─────────────────────────────────────────────────────────────────

type Action = { readonly words: readonly string[]; readonly relabel: readonly string[] };

export function planFileContext(r: Resolved, observed: ObservedStore, context: PlanContext): Change<Action>[] {
  requireEnabled(observed.status, r.required);
  const key = fcontextKey(r.target, FILE_TYPES[r.ftype].listed);
  const planned = context.planned.get(FileContextResource, key);
  const current = planned ? planned.type : observed.store.fcontexts.get(key);
  if (current === r.type) return [];
  const what = `${r.target} (${FILE_TYPES[r.ftype].listed})`;
  const relabel = r.relabel.length > 0 ? `, then restorecon -R ${r.relabel.join(' ')}` : '';
  const diff = fieldDiff([{ name: `fcontext ${what}`, before: current, after: r.type }]);
  if (r.type === undefined) {
    return [{ summary: `remove file context ${what} (was ${current})${relabel}`, diff, action: { words: ['fcontext', '-d', '-f', r.flag, r.target], relabel: r.relabel } }];
  }
  return [
    {
      summary: `file context ${what}: ${current ?? 'none'} → ${r.type}${relabel}`,
      diff,
      action: { words: ['fcontext', current === undefined ? '-a' : '-m', '-f', r.flag, '-t', r.type, r.target], relabel: r.relabel },
    },
  ];
}

// ── apply ────────────────────────────────────────────────────────────────

/** Relabel what exists of the paths; a path not created yet needs nothing. */
function restorecon(paths: readonly string[]): ShellScript | undefined {
  if (paths.length === 0) return undefined;
  return sh`for p in ${[...new Set(paths)]}; do if [ -e "$p" ]; then restorecon -R -- "$p" || exit 1; fi; done`;
}

async function applyAll(changes: readonly Change<Action>[], context: ApplyContext): Promise<void> {
  await semanageImport(
    changes.map((c) => importLine(c.action.words)),
    context,
    restorecon(changes.flatMap((c) => c.action.relabel)),
  );
}

const el9: Backend<Resolved, ObservedStore, Action> = {
  probes: () => ({ store: { script: storeProbe } }),
  parse,
  plan: planFileContext,
  apply: (_r, changes, context) => applyAll(changes, context),
  effects: (r) => [effect(FileContextResource, fcontextKey(r.target, FILE_TYPES[r.ftype].listed), { type: r.type })],
  batch: {
    key: () => 'semanage import',
    apply: (items, context) => applyAll(items.flatMap((item) => item.changes), context),
  },
};

/**
 * A `semanage fcontext` mapping, and a relabel of the matching paths when it changed
 * (Ansible's sefcontext leaves that to you: ansible/ansible#33577).
 *
 *   selinux.fileContext({ target: '/srv/www(/.*)?', type: 'httpd_sys_content_t' })
 *   selinux.fileContext({ target: '/srv/app/run\\.sock', type: 'var_run_t', ftype: 'socket', restorecon: false })
 *   selinux.fileContext({ target: '/srv/old(/.*)?', state: 'absent' })
 *
 * Consecutive fileContext tasks apply in one `semanage import` transaction.
 * Skipped where SELinux is disabled, unless `required: true`.
 */
export const fileContext = defineModule<FileContextParams, Resolved>({
  name: 'selinux.fileContext',
  schema,
  capabilities: { checkMode: true, diff: true, notes: 'skipped on hosts where SELinux is disabled unless required: true' },
  describe: (p) => `selinux file context ${p.target}${p.state === 'absent' ? ' (absent)' : p.type ? ` → ${p.type}` : ''}`,
  resolve,
  backends: { el9, linux: el9 },
});
