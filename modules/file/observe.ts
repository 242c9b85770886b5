import { createHash } from 'node:crypto';
import { dirname } from 'node:path/posix';
import type { ExecResult } from '../../lib/connection/types.ts';
import { PathResource, resourceKey, type PathState, type ResourceKey } from '../../lib/module/resources.ts';
import { asControllerOf } from '../../lib/shell/path-guard.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { probeFailure } from '../shared/become.ts';
import { GroupResource, UserResource } from '../users/resources.ts';
import { normalizeMode } from './params.ts';

/** Files up to this size come back whole so a change can be shown as a diff; larger ones only as a hash. */
export const DIFFABLE_BYTES = 64 * 1024;

export type ObservedPath = {
  /** Whether the directory that would hold the path exists. */
  readonly parentExists: boolean;
} & (
  | { readonly type: 'absent' }
  | { readonly type: 'file'; readonly mode: string; readonly owner: string; readonly group: string; readonly size: number; readonly sha256: string; readonly content?: Buffer }
  | { readonly type: 'directory'; readonly mode: string; readonly owner: string; readonly group: string }
  | { readonly type: 'link'; readonly target: string; readonly owner: string; readonly group: string }
  | { readonly type: 'other'; readonly description: string }
);

/**
 * One probe: what is at the path, its attributes, its hash, and its bytes
 * when small. Read as whoever controls the path's directory, so a link a
 * user planted there cannot show root's files in a diff.
 */
export function pathProbe(path: string): ShellScript {
  // One stat says what is there and its attributes (\`stat\` does not follow a link). A small file's bytes
  // come back whole (its hash is taken here); a larger one's sha256sum only. $2 is the parent directory,
  // as dirname() has it.
  const probe = sh`p=$1
if [ -d "$2" ]; then echo parent; else echo noparent; fi
t=$(stat -c '%F|%a %U %G %s' -- "$p" 2>/dev/null)
case $t in
'symbolic link|'*) echo link; t=\${t#*|}; echo "\${t% *}"; readlink -- "$p" ;;
'directory|'*) echo directory; t=\${t#*|}; echo "\${t% *}" ;;
'regular file|'* | 'regular empty file|'*)
  echo file; t=\${t#*|}; echo "$t"
  if [ "\${t##* }" -le ${DIFFABLE_BYTES} ]; then echo; base64 -w0 <"$p" || exit 1
  else h=$(sha256sum <"$p") || exit 1; echo "\${h%% *}"; fi; echo ;;
'') echo absent ;;
*) echo other; echo "\${t%%|*}" ;;
esac`;
  return asControllerOf(dirname(path), probe, [path, dirname(path)]);
}

/**
 * What pathProbe's output depends on, for a task that wants `owner` and
 * `group`: the path (the engine counts its ancestors and where it leads),
 * and the names it compares with the host's (a user created later may own
 * the file's uid).
 */
export function pathReads(path: string, wanted: { readonly owner?: string; readonly group?: string } = {}): ResourceKey[] {
  return [
    resourceKey(PathResource, path),
    ...(wanted.owner !== undefined ? [resourceKey(UserResource, wanted.owner)] : []),
    ...(wanted.group !== undefined ? [resourceKey(GroupResource, wanted.group)] : []),
  ];
}

export function parsePathProbe(path: string, result: ExecResult): ObservedPath {
  if (result.code !== 0) {
    const reason = result.stderr.trim() || `exit code ${result.code}`;
    throw probeFailure(`cannot read ${path}`, reason);
  }
  const [parent, type, ...rest] = result.stdout.split('\n');
  const parentExists = parent === 'parent';
  const [mode = '', owner = '', group = '', size = '0'] = (rest[0] ?? '').split(' ');
  switch (type) {
    case 'absent':
      return { parentExists, type: 'absent' };
    case 'directory':
      return { parentExists, type: 'directory', mode: normalizeMode(mode), owner, group };
    case 'link':
      return { parentExists, type: 'link', target: rest[1] ?? '', owner, group };
    case 'file': {
      // A small file: an empty hash line, then its bytes; a larger one: its hash, then nothing.
      const encoded = rest[2] ?? '';
      const content = rest[1] === '' ? Buffer.from(encoded, 'base64') : undefined;
      if (content && content.length !== Number(size)) throw new Error(`the probe read ${content.length} bytes of ${path}, whose size is ${size}: it changed while read; run again`);
      return {
        parentExists,
        type: 'file',
        mode: normalizeMode(mode),
        owner,
        group,
        size: Number(size),
        sha256: content ? sha256(content) : (rest[1] ?? ''),
        ...(content ? { content } : {}),
      };
    }
    case 'other':
      return { parentExists, type: 'other', description: rest[0] ?? 'special file' };
    default:
      throw new Error(`unexpected probe output for ${path}: ${JSON.stringify(result.stdout.slice(0, 200))}`);
  }
}

/** What an earlier task of this run will have left at the path, in the shape of an observation. */
export function observedFromPlanned(state: PathState): ObservedPath {
  const parentExists = true;
  switch (state.type) {
    case 'absent':
      return { parentExists, type: 'absent' };
    case 'link':
      return { parentExists, type: 'link', target: state.target, owner: '', group: '' };
    case 'directory':
      return { parentExists, type: 'directory', mode: state.mode ?? '', owner: state.owner ?? '', group: state.group ?? '' };
    case 'file': {
      const content = state.content;
      return {
        parentExists,
        type: 'file',
        mode: state.mode ?? '',
        owner: state.owner ?? '',
        group: state.group ?? '',
        size: content?.length ?? -1,
        sha256: content ? sha256(content) : '',
        ...(content ? { content } : {}),
      };
    }
  }
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
