import { fieldDiff } from '../../lib/diff.ts';
import { effect, PathResource, resourceKey, type Effect, type ResourceKey } from '../../lib/module/resources.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import { rootNeeded } from '../shared/become.ts';
import { keyChanges, keyDiff } from './keys.ts';
import type { ObservedGroup, ObservedUser, PathEntry } from './observe.ts';
import type { WantedAbsentUser, WantedGroup, WantedPresentUser, WantedUser } from './params.ts';
import { GroupResource, UserResource, type PlannedUser } from './resources.ts';

// ── user ─────────────────────────────────────────────────────────────────

export type UserAction =
  | { readonly do: 'useradd'; readonly args: readonly string[] }
  | { readonly do: 'usermod'; readonly args: readonly string[] }
  | { readonly do: 'mkhome'; readonly home: string }
  /** The hash travels on stdin to `chpasswd -e`, never on a command line. */
  | { readonly do: 'password'; readonly hash: string }
  | { readonly do: 'keys'; readonly home: string; readonly lines: readonly string[] }
  | { readonly do: 'userdel'; readonly removeHome: boolean; readonly force: boolean };

/** The account as this task will find it: on the host, or as an earlier task of this run leaves it. */
interface CurrentAccount {
  readonly uid?: number;
  readonly group?: string;
  readonly groups?: readonly string[];
  readonly shell?: string;
  readonly home?: string;
  readonly comment?: string;
  /** False when an earlier task creates the account: the host cannot say what it will hold. */
  readonly onHost: boolean;
}

/** Pure: what must change to make the account what the task wants. */
export function planUser(wanted: WantedUser, observed: ObservedUser, context: PlanContext): Change<UserAction>[] {
  const current = currentAccount(wanted.name, observed, context);
  const changes = wanted.state === 'absent' ? planAbsent(wanted, observed, current) : planPresent(wanted, observed, current, context);
  if (changes.length > 0 && !observed.root) throw rootNeeded(`changing user ${wanted.name}`);
  return changes;
}

function currentAccount(name: string, observed: ObservedUser, context: PlanContext): CurrentAccount | undefined {
  const planned = context.planned.get(UserResource, name);
  const host = observed.account;
  const fromHost: CurrentAccount | undefined = host && {
    uid: host.uid,
    group: host.primaryGroup ?? String(host.gid),
    groups: host.groups,
    shell: host.shell,
    home: host.home,
    comment: host.comment,
    onHost: true,
  };
  if (!planned) return fromHost;
  if (!planned.present) return undefined;
  const groups = planned.groups && (planned.groups.exact ? planned.groups.names : [...new Set([...(fromHost?.groups ?? []), ...planned.groups.names])]);
  const defined = Object.fromEntries(Object.entries({ ...planned, groups }).filter(([, v]) => v !== undefined));
  delete defined['present'];
  return { ...(fromHost ?? { onHost: false }), ...defined };
}

function planAbsent(wanted: WantedAbsentUser, observed: ObservedUser, current: CurrentAccount | undefined): Change<UserAction>[] {
  if (!current) return [];
  const running = current.onHost ? observed.processes : [];
  if (running.length > 0 && !wanted.force) {
    throw new Error(
      `user ${wanted.name} cannot be removed while it has running processes (${describeProcesses(running)}): stop them (loginctl terminate-user ${wanted.name}, or stop the service that runs them), or set force: true to kill them first`,
    );
  }
  const home = wanted.removeHome && current.home ? ` and its home ${current.home}` : '';
  const stop = running.length > 0 ? `stop ${running.length} process${running.length === 1 ? '' : 'es'} of ${wanted.name} (${describeProcesses(running)}), then ` : '';
  return [
    {
      summary: `${stop}remove user ${wanted.name}${home}`,
      action: { do: 'userdel', removeHome: wanted.removeHome, force: wanted.force },
      diff: fieldDiff([
        { name: 'user', before: describeUser(wanted.name, current.uid), after: undefined },
        ...(home ? [{ name: 'home', before: current.home, after: undefined }] : []),
      ]),
    },
  ];
}

function planPresent(wanted: WantedPresentUser, observed: ObservedUser, current: CurrentAccount | undefined, context: PlanContext): Change<UserAction>[] {
  const groupExists = (name: string) => context.planned.get(GroupResource, name)?.present ?? observed.knownGroups.has(name);
  const missing = [...(wanted.group ? [wanted.group] : []), ...(wanted.groups ?? [])].filter((g) => !groupExists(g));
  if (missing.length > 0) {
    const list = missing.join(', ');
    throw new Error(`user ${wanted.name}: group${missing.length === 1 ? '' : 's'} ${list} do${missing.length === 1 ? 'es' : ''} not exist; add group({ name: '${missing[0]}' }) before this task`);
  }
  const account = current ? planModify(wanted, current) : planCreate(wanted, groupExists(wanted.name));
  return [...account, ...planHome(wanted, observed, current), ...planPassword(wanted, observed, current), ...planKeys(wanted, observed, current)];
}

function planCreate(wanted: WantedPresentUser, ownGroupExists: boolean): Change<UserAction>[] {
  const createHome = wanted.createHome ?? !wanted.system;
  // useradd refuses to make a user whose name a group already has unless told to use it: a group task that made the user's group first means exactly that.
  const group = wanted.group ?? (ownGroupExists ? wanted.name : undefined);
  const args = [
    ...(wanted.system ? ['--system'] : []),
    ...(wanted.uid !== undefined ? ['--uid', String(wanted.uid)] : []),
    ...(group !== undefined ? ['--gid', group] : []),
    ...(wanted.groups && wanted.groups.length > 0 ? ['--groups', wanted.groups.join(',')] : []),
    ...(wanted.shell !== undefined ? ['--shell', wanted.shell] : []),
    ...(wanted.home !== undefined ? ['--home-dir', wanted.home] : []),
    ...(wanted.comment !== undefined ? ['--comment', wanted.comment] : []),
    createHome ? '--create-home' : '--no-create-home',
  ];
  const fields = [
    { name: 'user', before: undefined, after: describeUser(wanted.name, wanted.uid) },
    { name: 'group', before: undefined, after: group },
    { name: 'groups', before: undefined, after: wanted.groups?.join(',') || undefined },
    { name: 'shell', before: undefined, after: wanted.shell },
    { name: 'home', before: undefined, after: wanted.home },
    { name: 'comment', before: undefined, after: wanted.comment },
  ];
  return [{ summary: `create ${wanted.system ? 'system ' : ''}user ${describeUser(wanted.name, wanted.uid)}${createHome ? ' with a home directory' : ''}`, action: { do: 'useradd', args }, diff: fieldDiff(fields) }];
}

function planModify(wanted: WantedPresentUser, current: CurrentAccount): Change<UserAction>[] {
  const args: string[] = [];
  const fields: { name: string; before: string | undefined; after: string | undefined }[] = [];
  const parts: string[] = [];
  const compare = (name: string, flag: string, want: string | number | undefined, have: string | number | undefined) => {
    if (want === undefined || want === have) return;
    args.push(flag, String(want));
    fields.push({ name, before: have === undefined ? undefined : String(have), after: String(want) });
    parts.push(`${name} ${have === undefined ? '?' : have === '' ? "''" : have} → ${want === '' ? "''" : want}`);
  };
  compare('uid', '--uid', wanted.uid, current.uid);
  compare('group', '--gid', wanted.group, current.group);
  compare('shell', '--shell', wanted.shell, current.shell);
  compare('home', '--home', wanted.home, current.home);
  compare('comment', '--comment', wanted.comment, current.comment);

  if (wanted.groups) {
    const have = new Set(current.groups ?? []);
    const added = wanted.groups.filter((g) => !have.has(g));
    const removed = wanted.append ? [] : [...have].filter((g) => !wanted.groups!.includes(g));
    if (added.length > 0 || removed.length > 0) {
      // With append only the missing groups are named, so groups added by hand stay.
      args.push(...(wanted.append ? ['--append', '--groups', added.join(',')] : ['--groups', wanted.groups.join(',')]));
      fields.push(...removed.map((g) => ({ name: 'group member of', before: g, after: undefined })), ...added.map((g) => ({ name: 'group member of', before: undefined, after: g })));
      parts.push(`groups ${[...added.map((g) => `+${g}`), ...removed.map((g) => `-${g}`)].join(' ')}`);
    }
  }
  if (args.length === 0) return [];
  return [{ summary: `user ${wanted.name}: ${parts.join(', ')}`, action: { do: 'usermod', args }, diff: fieldDiff(fields) }];
}

/** An existing user's missing home is made only when the task asks for it explicitly; useradd makes it for a new user. */
function planHome(wanted: WantedPresentUser, observed: ObservedUser, current: CurrentAccount | undefined): Change<UserAction>[] {
  if (!current?.onHost || wanted.createHome !== true || observed.homeExists) return [];
  return [{ summary: `user ${wanted.name}: create home ${observed.home}`, action: { do: 'mkhome', home: observed.home }, diff: fieldDiff([{ name: 'directory', before: undefined, after: observed.home }]) }];
}

function planPassword(wanted: WantedPresentUser, observed: ObservedUser, current: CurrentAccount | undefined): Change<UserAction>[] {
  if (wanted.passwordHashFile !== undefined) {
    throw new Error(`user ${wanted.name}: a password hash kept on the host (secret.onHost('${wanted.passwordHashFile}')) is used on nixos only, as hashedPasswordFile; here give the hash from a source on the control machine (secret.pass, secret.file, ...)`);
  }
  if (wanted.passwordHash === undefined) return [];
  if (!observed.root) throw rootNeeded(`comparing the password of ${wanted.name} with /etc/shadow`);
  const isNew = !current?.onHost;
  if (!isNew && observed.passwordHash === wanted.passwordHash) return [];
  const what = isNew ? 'password set' : 'password changed';
  return [{ summary: `user ${wanted.name}: ${what}`, action: { do: 'password', hash: wanted.passwordHash }, diff: `~ ${what} (hashes are not shown)` }];
}

const SSH_DIR_MODE = '0700';
const KEYS_MODE = '0600';

function planKeys(wanted: WantedPresentUser, observed: ObservedUser, current: CurrentAccount | undefined): Change<UserAction>[] {
  if (wanted.authorizedKeys === undefined) return [];
  const home = observed.home;
  const keys = observed.keys ?? { dir: { type: 'absent' } as PathEntry, file: { type: 'absent' } as PathEntry, lines: [] };
  for (const [path, entry] of [[`${home}/.ssh`, keys.dir], [`${home}/.ssh/authorized_keys`, keys.file]] as const) {
    if (entry.type === 'symbolic link') {
      throw new Error(`${path} is a symlink: hostform does not write through symlinks in a user's home (they may point anywhere); remove it, or manage the keys without authorizedKeys`);
    }
  }
  const willCreateHome = !current && (wanted.createHome ?? !wanted.system);
  const homeWillExist = observed.homeExists || willCreateHome || (current !== undefined && !current.onHost) || (current?.onHost === true && wanted.createHome === true);
  if (!homeWillExist) {
    throw new Error(`user ${wanted.name}: the home directory ${home} does not exist, so authorized_keys cannot be written there; set createHome: true`);
  }

  const lines = [...new Set(wanted.authorizedKeys)];
  const changed = keyChanges(keys.lines, lines);
  const wrong = [...attributeProblems('.ssh', keys.dir, SSH_DIR_MODE, wanted.name), ...attributeProblems('authorized_keys', keys.file, KEYS_MODE, wanted.name)];
  const fileNeeded = lines.length > 0 || keys.file.type !== 'absent';
  if (!fileNeeded || (changed.added.length === 0 && changed.removed.length === 0 && wrong.length === 0)) return [];

  const counts = [changed.added.length > 0 ? `+${changed.added.length}` : '', changed.removed.length > 0 ? `-${changed.removed.length}` : ''].filter(Boolean);
  const what = [
    ...(counts.length > 0 ? [`${counts.join(' ')} key${changed.added.length + changed.removed.length === 1 ? '' : 's'}`] : []),
    ...wrong.map((w) => `${w.name} ${w.field} ${w.before} → ${w.after}`),
  ];
  const diff = [keyDiff(changed), fieldDiff(wrong.map((w) => ({ name: `${w.name} ${w.field}`, before: w.before, after: w.after })))].filter(Boolean).join('\n');
  return [{ summary: `user ${wanted.name}: authorized_keys ${what.join(', ')}`, action: { do: 'keys', home, lines }, ...(diff ? { diff } : {}) }];
}

function attributeProblems(name: string, entry: PathEntry, mode: string, owner: string) {
  if (entry.type === 'absent' || !('mode' in entry)) return [];
  return [
    ...(entry.mode !== mode ? [{ name, field: 'mode', before: entry.mode, after: mode }] : []),
    ...(entry.owner !== owner ? [{ name, field: 'owner', before: entry.owner, after: owner }] : []),
  ];
}

function describeUser(name: string, uid: number | undefined): string {
  return uid === undefined ? name : `${name} (uid ${uid})`;
}

function describeProcesses(processes: ObservedUser['processes']): string {
  const shown = processes.slice(0, 5).map((p) => `${p.pid} ${p.command}`);
  return processes.length > 5 ? `${shown.join(', ')}, and ${processes.length - 5} more` : shown.join(', ');
}

/** What the task leaves behind, for the tasks after it in check mode. */
export function userEffects(wanted: WantedUser): Effect[] {
  return [effect(UserResource, wanted.name, plannedUser(wanted))];
}

/**
 * What applying a user task may change, for re-probing: the account, its
 * own group, the groups it joins or leaves, its home (before and after), and
 * for a new account the mail spool useradd makes (it copies /etc/skel into
 * the home). The account databases (/etc/passwd, /etc/group, their shadows)
 * count as the account and its groups, not as paths. A path counts as itself
 * only where the task's probe saw it lead to itself (lib/run/probe-cache.ts),
 * else as any path. userdel removes the user from every group and its home
 * and mail: any path.
 */
export function userWrites(wanted: WantedUser, observed: ObservedUser): ResourceKey[] {
  if (wanted.state === 'absent') return [resourceKey(UserResource), resourceKey(GroupResource), resourceKey(PathResource)];
  const groups = new Set([wanted.name, ...(wanted.group !== undefined ? [wanted.group] : []), ...(wanted.groups ?? []), ...(observed.account?.groups ?? [])]);
  const homes = new Set([observed.home, ...(wanted.home !== undefined ? [wanted.home] : [])].filter((h) => h.startsWith('/')));
  const spool = !observed.account && observed.spool !== undefined ? [observed.spool] : [];
  const paths = homes.size > 0 ? [...homes, ...spool].map((h) => resourceKey(PathResource, h)) : [resourceKey(PathResource)];
  return [resourceKey(UserResource, wanted.name), ...[...groups].map((g) => resourceKey(GroupResource, g)), ...paths];
}

function plannedUser(wanted: WantedUser): PlannedUser {
  if (wanted.state === 'absent') return { present: false };
  const { uid, group, groups, shell, home, comment } = wanted;
  return {
    present: true,
    ...(uid !== undefined ? { uid } : {}),
    ...(group !== undefined ? { group } : {}),
    ...(groups !== undefined ? { groups: { names: groups, exact: !wanted.append } } : {}),
    ...(shell !== undefined ? { shell } : {}),
    ...(home !== undefined ? { home } : {}),
    ...(comment !== undefined ? { comment } : {}),
  };
}

// ── group ────────────────────────────────────────────────────────────────

export type GroupAction =
  | { readonly do: 'groupadd'; readonly gid?: number; readonly system: boolean }
  | { readonly do: 'groupmod'; readonly gid: number }
  | { readonly do: 'groupdel' };

export function planGroup(wanted: WantedGroup, observed: ObservedGroup, context: PlanContext): Change<GroupAction>[] {
  const changes = planGroupChanges(wanted, observed, context);
  if (changes.length > 0 && !observed.root) throw rootNeeded(`changing group ${wanted.name}`);
  return changes;
}

function planGroupChanges(wanted: WantedGroup, observed: ObservedGroup, context: PlanContext): Change<GroupAction>[] {
  const planned = context.planned.get(GroupResource, wanted.name);
  const exists = planned ? planned.present : observed.group !== undefined;
  // A gid an earlier task sets wins over what the host has; an unknown one (the system picks) is unknown.
  const gid = planned?.present ? planned.gid : planned ? undefined : observed.group?.gid;

  if (wanted.state === 'absent') {
    if (!exists) return [];
    if (!planned && observed.primaryOf.length > 0) {
      throw new Error(
        `group ${wanted.name} is the primary group of ${observed.primaryOf.join(', ')}: give them another primary group (user({ name, group })) or remove them before removing the group`,
      );
    }
    return [{ summary: `remove group ${wanted.name}`, action: { do: 'groupdel' }, diff: fieldDiff([{ name: 'group', before: describe(wanted.name, gid), after: undefined }]) }];
  }

  if (wanted.gid !== undefined && observed.gidOwner && observed.gidOwner.name !== wanted.name && context.planned.get(GroupResource, observed.gidOwner.name)?.present !== false) {
    throw new Error(`gid ${wanted.gid} already belongs to group ${observed.gidOwner.name}: choose another gid, or remove or renumber that group first`);
  }
  if (!exists) {
    return [
      {
        summary: `create ${wanted.system ? 'system ' : ''}group ${describe(wanted.name, wanted.gid)}`,
        action: { do: 'groupadd', system: wanted.system, ...(wanted.gid !== undefined ? { gid: wanted.gid } : {}) },
        diff: fieldDiff([{ name: 'group', before: undefined, after: describe(wanted.name, wanted.gid) }]),
      },
    ];
  }
  if (wanted.gid !== undefined && gid !== wanted.gid) {
    return [
      {
        summary: `group ${wanted.name}: gid ${gid ?? '?'} → ${wanted.gid}`,
        action: { do: 'groupmod', gid: wanted.gid },
        diff: fieldDiff([{ name: 'gid', before: gid === undefined ? undefined : String(gid), after: String(wanted.gid) }]),
      },
    ];
  }
  return [];
}

function describe(name: string, gid: number | undefined): string {
  return gid === undefined ? name : `${name} (gid ${gid})`;
}

/** A group's change (its gid renumbers its members' primary group; its removal empties it): every account and group. */
export function groupWrites(): ResourceKey[] {
  return [resourceKey(UserResource), resourceKey(GroupResource)];
}

export function groupEffects(wanted: WantedGroup): Effect[] {
  return [effect(GroupResource, wanted.name, wanted.state === 'absent' ? { present: false } : { present: true, ...(wanted.gid !== undefined ? { gid: wanted.gid } : {}) })];
}
