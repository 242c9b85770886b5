import { ANY, PathResource, resourceKey, type ResourceKey } from '../../lib/module/resources.ts';
import type { ProbeOutputs, Probes } from '../../lib/module/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { keyLines } from './keys.ts';
import type { WantedGroup, WantedUser } from './params.ts';
import { GroupResource, UserResource } from './resources.ts';

// ── reading getent lines, shared by the user and group probes ──────────

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly comment: string;
  readonly home: string;
  readonly shell: string;
}

export function parseGroupLine(line: string): GroupEntry | undefined {
  const [name, , gid, members = ''] = line.split(':');
  if (!name || gid === undefined || !/^\d+$/.test(gid)) return undefined;
  return { name, gid: Number(gid), members: members.split(',').filter(Boolean) };
}

export function parsePasswdLine(line: string): PasswdEntry | undefined {
  const [name, , uid, gid, comment = '', home = '', shell = ''] = line.split(':');
  if (!name || !/^\d+$/.test(uid ?? '') || !/^\d+$/.test(gid ?? '')) return undefined;
  return { name, uid: Number(uid), gid: Number(gid), comment, home, shell };
}

/** First probe line: whether the probe ran as root, which reading /etc/shadow and changing accounts need. */
export const whoami: ShellScript = sh`if [ "$(id -u)" = 0 ]; then echo root; else echo user; fi`;

/** Tagged probe lines (`tag rest...`) by tag, in order. */
export function linesByTag(stdout: string): Map<string, string[]> {
  const tagged = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const space = line.indexOf(' ');
    const tag = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    tagged.set(tag, [...(tagged.get(tag) ?? []), rest]);
  }
  return tagged;
}

/** A failed probe: its stderr, and what to do about it. */
export function probeFailed(what: string, result: { code: number; stderr: string }): Error {
  return new Error(`cannot read ${what}: ${result.stderr.trim() || `exit code ${result.code}`} (the probe needs getent, awk and coreutils on the host)`);
}

// ── user ─────────────────────────────────────────────────────────────────

/** What is at a path in the user's home: a type as stat names it ('directory', 'symbolic link', ...), mode and owner. */
export type PathEntry = { readonly type: 'absent' } | { readonly type: string; readonly mode: string; readonly owner: string };

export interface ObservedAccount extends PasswdEntry {
  /** Name of the primary group; undefined when the gid has no group entry. */
  readonly primaryGroup?: string;
  /** Supplementary groups: those whose member list names the user. */
  readonly groups: readonly string[];
}

export interface ObservedUser {
  readonly root: boolean;
  readonly account?: ObservedAccount;
  /** The home the task manages keys in: the wanted one, the user's, or where useradd would put it. */
  readonly home: string;
  readonly homeExists: boolean;
  /** Where useradd makes the mail spool of an account it creates (MAIL_DIR/name), when its defaults say it does. */
  readonly spool?: string;
  /** The hash field of /etc/shadow; read only when the task sets a password. */
  readonly passwordHash?: string;
  /** Groups the task names (primary, supplementary, and the user's own name) that exist, with their gid. */
  readonly knownGroups: ReadonlyMap<string, number>;
  /** Read only when the task manages authorized_keys. */
  readonly keys?: { readonly dir: PathEntry; readonly file: PathEntry; readonly lines: readonly string[] };
  /** The user's running processes; looked at only when the task removes the user. */
  readonly processes: readonly { readonly pid: number; readonly command: string }[];
}

/**
 * One probe per task, with every branch decided on the host: the account,
 * its groups, and only what the task manages (shadow hash, authorized_keys,
 * processes).
 */
export function userProbe(wanted: WantedUser): ShellScript {
  const present = wanted.state === 'present' ? wanted : undefined;
  const groupNames = [...new Set([wanted.name, ...(present?.group ? [present.group] : []), ...(present?.groups ?? [])])];
  const setHome = present?.home !== undefined ? sh`home=${present.home}` : sh`:`;
  // Only root reads /etc/shadow; the hash field alone comes back, and only when the task sets a password.
  const shadow = present?.passwordHash !== undefined ? sh`if [ -n "$p" ] && [ "$(id -u)" = 0 ]; then echo "shadow $(getent shadow "$n" | cut -d: -f2)"; fi` : sh`:`;
  // Symlinks are reported, never followed: a user could point ~/.ssh/authorized_keys at any file root can read.
  const keys =
    present?.authorizedKeys !== undefined
      ? sh`d="$home/.ssh"; f="$d/authorized_keys"
# One stat: the directory's line, then the file's when it is there (no file without the directory).
s=$(stat -c '%a %U %F' -- "$d" "$f" 2>/dev/null) nl='
'
case $s in
'') echo 'ssh-dir absent'; echo 'keys-file absent' ;;
*"$nl"*) echo "ssh-dir \${s%%"$nl"*}"; echo "keys-file \${s#*"$nl"}" ;;
*) echo "ssh-dir $s"; echo 'keys-file absent' ;;
esac
if [ ! -L "$d" ] && [ ! -L "$f" ] && [ -f "$f" ]; then echo "keys $(base64 -w0 < "$f")"; fi`
      : sh`:`;
  const processes = wanted.state === 'absent' ? sh`if [ -n "$p" ]; then ps -o pid=,comm= -u "$n" | sed 's/^ */process /'; fi` : sh`:`;
  return sh`${whoami}
n=${wanted.name}
if p=$(getent passwd "$n"); then
  echo "passwd $p"
  # name:password:uid:gid:gecos:home:shell, split by the shell (no field holds a colon)
  f=\${p#*:*:*:}; pgid=\${f%%:*}; f=\${f#*:*:}; home=\${f%:*}
  if g=$(getent group "$pgid"); then echo "primary $g"; fi
  getent group | awk -F: -v u="$n" '{ k = split($4, m, ","); for (i = 1; i <= k; i++) if (m[i] == u) { print "member " $1; break } }'
else
  p=
  defaults=$(useradd -D 2>/dev/null)
  home="$(printf '%s\\n' "$defaults" | sed -n 's/^HOME=//p')/$n"
  if printf '%s\\n' "$defaults" | grep -qx 'CREATE_MAIL_SPOOL=yes'; then echo "spool $(sed -n 's/^MAIL_DIR[[:space:]]\\{1,\\}//p' /etc/login.defs 2>/dev/null | tail -n 1)/$n"; fi
fi
${setHome}
echo "home $home"
if [ -d "$home" ]; then echo home-exists; fi
getent group ${groupNames} | while IFS= read -r l; do echo "known $l"; done
${shadow}
${keys}
${processes}
true`;
}

/**
 * What userProbe's output depends on: the account, the groups it names, and
 * its home, and for an account useradd would create, its mail spool. Before
 * probing the home is the one the task names, or else a guess (`/home/<name>`,
 * useradd's usual default) whose path the probes' round trip resolves; with
 * the probes' outputs it is the home the probe did read (the account's own,
 * or useradd's default): when that is not the guess, it was not resolved and
 * counts as any path. The user's membership of groups it does not name
 * changes only with this account or a group's removal, which writes every
 * group (see userWrites, groupWrites).
 */
export function userReads(wanted: WantedUser, outputs?: ProbeOutputs<Probes<'user'>>): ResourceKey[] {
  const present = wanted.state === 'present' ? wanted : undefined;
  const groups = [wanted.name, ...(present?.group !== undefined ? [present.group] : []), ...(present?.groups ?? [])];
  const account = [resourceKey(UserResource, wanted.name), ...groups.map((g) => resourceKey(GroupResource, g))];
  if (!outputs) return [...account, resourceKey(PathResource, present?.home ?? `/home/${wanted.name}`), resourceKey(PathResource, `/var/spool/mail/${wanted.name}`)];
  const lines = linesByTag(outputs.user.stdout);
  const [home, spool] = [lines.get('home')?.[0], lines.get('spool')?.[0]];
  return [...account, namedPath(home), ...(spool !== undefined ? [namedPath(spool)] : [])];
}

/** A path the probe printed: itself when it is absolute and below a directory other than `/` (a missing HOME default prints `/<name>`), else any path. */
function namedPath(path: string | undefined): ResourceKey {
  return resourceKey(PathResource, path !== undefined && /^\/[^/]+\/./.test(path) ? path : ANY);
}

export function parseUserProbe(wanted: WantedUser, outputs: ProbeOutputs<Probes<'user'>>): ObservedUser {
  const result = outputs.user;
  if (result.code !== 0) throw probeFailed(`user ${wanted.name}`, result);
  const lines = linesByTag(result.stdout);
  const first = (tag: string) => lines.get(tag)?.[0];
  const passwd = first('passwd');
  const entry = passwd !== undefined ? parsePasswdLine(passwd) : undefined;
  const primaryLine = first('primary');
  const primary = primaryLine !== undefined ? parseGroupLine(primaryLine) : undefined;
  const knownGroups = new Map<string, number>();
  for (const line of lines.get('known') ?? []) {
    const g = parseGroupLine(line);
    if (g) knownGroups.set(g.name, g.gid);
  }
  const shadow = first('shadow');
  const encodedKeys = first('keys');
  const dir = first('ssh-dir');
  const file = first('keys-file');
  return {
    root: lines.has('root'),
    ...(entry
      ? {
          account: {
            ...entry,
            ...(primary ? { primaryGroup: primary.name } : {}),
            groups: lines.get('member') ?? [],
          },
        }
      : {}),
    home: first('home') ?? '',
    homeExists: lines.has('home-exists'),
    ...(first('spool') !== undefined ? { spool: first('spool') as string } : {}),
    ...(shadow !== undefined ? { passwordHash: shadow } : {}),
    knownGroups,
    ...(dir !== undefined && file !== undefined
      ? { keys: { dir: pathEntry(dir), file: pathEntry(file), lines: encodedKeys !== undefined ? keyLines(Buffer.from(encodedKeys, 'base64').toString('utf8')) : [] } }
      : {}),
    processes: (lines.get('process') ?? []).map((l) => {
      const [pid = '', ...command] = l.trim().split(/\s+/);
      return { pid: Number(pid), command: command.join(' ') };
    }),
  };
}

function pathEntry(text: string): PathEntry {
  if (text === 'absent') return { type: 'absent' };
  const [mode = '', owner = '', ...type] = text.split(' ');
  return { type: type.join(' '), mode: mode.padStart(4, '0'), owner };
}

// ── group ────────────────────────────────────────────────────────────────

export interface ObservedGroup {
  readonly root: boolean;
  readonly group?: GroupEntry;
  /** Users whose primary group this is: groupdel refuses to remove it. */
  readonly primaryOf: readonly string[];
  /** The group that already has the wanted gid, if any. */
  readonly gidOwner?: GroupEntry;
}

/** One probe: the group, who has it as primary group, and who holds the wanted gid. */
export function groupProbe(wanted: WantedGroup) {
  const gid = wanted.state === 'present' && wanted.gid !== undefined ? wanted.gid : undefined;
  return sh`${whoami}
if g=$(getent group ${wanted.name}); then
  echo "group $g"
  f=\${g#*:*:}; getent passwd | awk -F: -v gid="\${f%%:*}" '$4 == gid { print "primary-of " $1 }'
fi
${gid !== undefined ? sh`if o=$(getent group ${gid}); then echo "gid-owner $o"; fi` : sh`true`}`;
}

/** What groupProbe's output depends on: the group, every account (whose primary group it is), and every group when the task wants a gid. */
export function groupReads(wanted: WantedGroup): ResourceKey[] {
  const gid = wanted.state === 'present' && wanted.gid !== undefined;
  return [resourceKey(GroupResource, gid ? undefined : wanted.name), resourceKey(UserResource)];
}

export function parseGroupProbe(wanted: WantedGroup, outputs: ProbeOutputs<Probes<'group'>>): ObservedGroup {
  const result = outputs.group;
  if (result.code !== 0) throw probeFailed(`group ${wanted.name}`, result);
  const lines = linesByTag(result.stdout);
  const group = lines.get('group')?.[0];
  const owner = lines.get('gid-owner')?.[0];
  const gidOwner = owner !== undefined ? parseGroupLine(owner) : undefined;
  const entry = group !== undefined ? parseGroupLine(group) : undefined;
  return {
    root: lines.has('root'),
    ...(entry ? { group: entry } : {}),
    primaryOf: lines.get('primary-of') ?? [],
    ...(gidOwner ? { gidOwner } : {}),
  };
}
