import { dirname } from 'node:path/posix';
import { fieldDiff, isText, secretContentDiff, textDiff } from '../../lib/diff.ts';
import { effect, PathResource, type Effect, type PathState } from '../../lib/module/resources.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import { observedFromPlanned, sha256, type ObservedPath } from './observe.ts';
import type { WantedPath } from './params.ts';

export type FileAction =
  /** `replaces`: a link, directory or other non-file is at the path and goes first. */
  | { readonly do: 'write'; readonly replaces?: true }
  | { readonly do: 'mkdir' }
  | { readonly do: 'link' }
  | { readonly do: 'remove' }
  | { readonly do: 'attributes'; readonly mode?: string; readonly owner?: string; readonly group?: string };

/** Pure: what must change at the path to make it what the task wants. */
export function planPath(wanted: WantedPath, onHost: ObservedPath, context: PlanContext): Change<FileAction>[] {
  const planned = context.planned.get(PathResource, wanted.path);
  const current = planned ? observedFromPlanned(planned) : onHost;
  const parentPlanned = context.planned.get(PathResource, dirname(wanted.path))?.type === 'directory';
  const parentExists = current.parentExists || parentPlanned;
  // Secret if this task says so, or if an earlier task of the run writes it as a secret (its content is what this task would show as "before").
  const secret = ((wanted.state === 'file' || wanted.state === 'absent') && wanted.secret) || (planned?.type === 'file' && planned.secret === true);

  if (wanted.state === 'absent') {
    if (current.type === 'absent') return [];
    if (current.type === 'file' && secret) {
      return [{ summary: `remove file ${wanted.path} (secret: content not shown)`, action: { do: 'remove' }, diff: secretContentDiff(undefined) }];
    }
    const diff = current.type === 'file' && current.content && isText(current.content) ? textDiff(wanted.path, current.content.toString('utf8'), '') : undefined;
    return [{ summary: `remove ${describe(current)} ${wanted.path}`, action: { do: 'remove' }, ...(diff ? { diff } : {}) }];
  }
  if (!parentExists && wanted.state !== 'directory') {
    throw new Error(`the directory ${dirname(wanted.path)} does not exist; add a file task with state 'directory' for it before this one`);
  }

  const replacing = current.type !== 'absent' && current.type !== wanted.state;
  if (replacing && !canReplace(wanted, current)) {
    throw new Error(`${wanted.path} is a ${describe(current)}, not a ${wanted.state}; set force: true to replace it`);
  }

  switch (wanted.state) {
    case 'file':
      return planFile(wanted, current, secret);
    case 'directory':
      if (current.type !== 'directory') {
        return [{ summary: `create directory ${wanted.path}${attributeText(wanted)}`, action: { do: 'mkdir' }, diff: fieldDiff([{ name: 'directory', before: undefined, after: wanted.path }]) }];
      }
      return planAttributes(wanted, current);
    case 'link':
      if (current.type === 'link' && current.target === wanted.target) return planAttributes(wanted, current);
      return [
        {
          summary: `link ${wanted.path} → ${wanted.target}`,
          action: { do: 'link' },
          diff: fieldDiff([{ name: 'link target', before: current.type === 'link' ? current.target : undefined, after: wanted.target }]),
        },
      ];
  }
}

function planFile(wanted: Extract<WantedPath, { state: 'file' }>, current: ObservedPath, secret: boolean): Change<FileAction>[] {
  // A secret's size says how long a password is: sizes are left out too.
  const size = (before: number | undefined) => (secret ? 'secret' : before === undefined ? `${wanted.content.length} bytes` : `${before} → ${wanted.content.length} bytes`);
  if (current.type !== 'file') {
    return [{ summary: `create ${wanted.path} (${size(undefined)})${attributeText(wanted)}`, action: { do: 'write', ...(current.type === 'absent' ? {} : { replaces: true as const }) }, diff: contentDiff(wanted, undefined, secret) }];
  }
  const sameContent = current.size === wanted.content.length && current.sha256 === sha256(wanted.content);
  if (!sameContent) {
    return [{ summary: `update ${wanted.path} (${size(current.size)})${attributeText(wanted, current)}`, action: { do: 'write' }, diff: contentDiff(wanted, current.content, secret) }];
  }
  return planAttributes(wanted, current);
}

function contentDiff(wanted: Extract<WantedPath, { state: 'file' }>, before: Buffer | undefined, secret: boolean): string {
  if (secret) return secretContentDiff(wanted.content);
  const old = before ?? Buffer.alloc(0);
  if (!isText(old) || !isText(wanted.content)) return '(binary content: not shown)';
  return textDiff(wanted.path, old.toString('utf8'), wanted.content.toString('utf8'));
}

type Attributes = { readonly mode?: string; readonly owner?: string; readonly group?: string };

function planAttributes(wanted: Attributes & { path: string }, current: Attributes): Change<FileAction>[] {
  const differs = (key: keyof Attributes) => wanted[key] !== undefined && wanted[key] !== current[key];
  const changed = (['mode', 'owner', 'group'] as const).filter(differs);
  if (changed.length === 0) return [];
  const action: FileAction = { do: 'attributes', ...Object.fromEntries(changed.map((k) => [k, wanted[k]])) };
  return [
    {
      summary: `${wanted.path}: ${changed.map((k) => `${k} ${current[k] || '?'} → ${wanted[k]}`).join(', ')}`,
      action,
      diff: fieldDiff(changed.map((k) => ({ name: k, before: current[k] || undefined, after: wanted[k] }))),
    },
  ];
}

function canReplace(wanted: WantedPath, current: ObservedPath): boolean {
  // A symlink where a file should be is cheap to replace; anything else in the way needs force.
  if (wanted.state === 'file') return wanted.force || current.type === 'link';
  if (wanted.state === 'link') return wanted.force;
  return false;
}

function describe(current: ObservedPath): string {
  return current.type === 'other' ? current.description : current.type === 'link' ? 'symlink' : current.type;
}

function attributeText(wanted: Attributes, current?: Attributes): string {
  const parts = (['mode', 'owner', 'group'] as const)
    .filter((k) => wanted[k] !== undefined && (!current || current[k] !== wanted[k]))
    .map((k) => `${k} ${wanted[k]}`);
  return parts.length > 0 ? `, ${parts.join(', ')}` : '';
}

/** What the task leaves at the path (and, for a directory, at its parents), for the tasks after it in check mode. */
export function fileEffects(wanted: WantedPath): Effect[] {
  const after: PathState =
    wanted.state === 'absent'
      ? { type: 'absent' }
      : wanted.state === 'link'
        ? { type: 'link', target: wanted.target }
        : wanted.state === 'file'
          ? { type: 'file', content: wanted.content, ...(wanted.secret ? { secret: true } : {}), ...definedAttributes(wanted) }
          : { type: 'directory', ...definedAttributes(wanted) };
  const parents = wanted.state === 'directory' ? ancestors(wanted.path).map((p) => effect(PathResource, p, { type: 'directory' } as PathState)) : [];
  return [...parents, effect(PathResource, wanted.path, after)];
}

function definedAttributes(w: Attributes) {
  return { ...(w.mode ? { mode: w.mode } : {}), ...(w.owner ? { owner: w.owner } : {}), ...(w.group ? { group: w.group } : {}) };
}

function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => '/' + parts.slice(0, i + 1).join('/'));
}
