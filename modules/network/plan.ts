import { fieldDiff, textDiff } from '../../lib/diff.ts';
import { effect, PathResource, type Effect } from '../../lib/module/resources.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import { ownedFileText } from '../shared/owned-file.ts';
import type { Field, IpAddress, IpRoute, ObservedConnection } from './observe.ts';
import type { WantedConnection, WantedIp } from './params.ts';

/**
 * What apply does, with what a revert needs to put the interface back as
 * it was: the keyfile's previous content, and the profile that was active
 * on the interface (when it had a file of its own) or else its addresses
 * and routes.
 */
export interface ConnectionAction {
  /** The keyfile differs (present) or exists (absent). */
  readonly write: boolean;
  readonly previous?: string;
  readonly before: {
    readonly profile?: string;
    readonly addresses: readonly IpAddress[];
    readonly routes: readonly IpRoute[];
  };
}

/** The fields as `nmcli -t` prints them for the wanted profile. */
export function wantedFields(w: WantedConnection): Record<Field, string> {
  const ip = (family: 'ipv4' | 'ipv6', s: WantedIp) =>
    ({
      [`${family}.method`]: s.method,
      [`${family}.addresses`]: s.addresses.join(', '),
      [`${family}.gateway`]: s.gateway,
      [`${family}.dns`]: s.dns.join(','),
      [`${family}.dns-search`]: s.dnsSearch.join(','),
    });
  return {
    'connection.interface-name': w.interface,
    'connection.type': '802-3-ethernet',
    'connection.autoconnect': w.autoconnect ? 'yes' : 'no',
    '802-3-ethernet.mtu': w.mtu === undefined ? 'auto' : String(w.mtu),
    ...ip('ipv4', w.ipv4),
    ...ip('ipv6', w.ipv6),
  } as Record<Field, string>;
}

/** nmcli separates list items with ',' or ', ' depending on the field. */
const normalize = (value: string) => value.split(/,\s*/).map((v) => v.trim()).filter((v) => v !== '' && v !== '--').join(',');

/**
 * Pure. Three sides, each reported: the keyfile (bytes), NetworkManager's
 * loaded profile (field by field, from `nmcli -t`), and whether the profile
 * is the one active on the interface. Any of them differing means: write the
 * keyfile if it differs, reload, bring the connection up.
 */
export function planConnection(w: WantedConnection, observed: ObservedConnection, context: PlanContext): Change<ConnectionAction>[] {
  const before = ownedFileText(w.path, observed.file, context);
  if (observed.nm !== 'running') {
    const why = observed.nm === 'missing' ? 'NetworkManager is not installed on this host (no nmcli)' : 'NetworkManager is not running on this host';
    if (!context.checkMode) {
      throw new Error(`${why}: networkConnection needs it (RHEL 9 runs it by default). Install and start it first: service({ name: 'NetworkManager', state: 'started', enabled: true })`);
    }
    if ((before === undefined && !w.present) || before === w.content) return [];
    return [{ ...fileChange(w, before), action: { write: true, before: { addresses: [], routes: [] } }, note: `${why}, so only the keyfile was compared` }];
  }
  const duplicates = observed.profiles.filter((p) => p.name === w.name && p.filename !== w.path);
  if (duplicates.length > 0) {
    throw new Error(`NetworkManager already has a connection named ${w.name} in ${duplicates.map((d) => d.filename).join(', ')}; hostform manages ${w.path}. Delete or rename the other one (nmcli connection delete uuid ${duplicates[0]?.uuid})`);
  }
  const device = observed.device;
  if (!device && w.present) throw new Error(`there is no interface ${w.interface} on this host (ip link show lists them)`);
  const activeProfile = observed.profiles.find((p) => p.uuid === device?.activeUuid);
  const action: ConnectionAction = {
    write: w.present ? before !== w.content : before !== undefined,
    ...(before !== undefined ? { previous: before } : {}),
    before: {
      ...(activeProfile && !activeProfile.filename.startsWith('/run/') ? { profile: activeProfile.uuid } : {}),
      addresses: device?.addresses ?? [],
      routes: device?.routes ?? [],
    },
  };

  if (!w.present) {
    if (before === undefined && !observed.profile) return [];
    const active = observed.profile?.active ? ` and take it down on ${observed.profile.devices || w.interface}` : '';
    return [{ summary: `remove ${w.path}${active}`, ...(before !== undefined ? { diff: textDiff(w.path, before, '') } : {}), action }];
  }

  const changes: Change<ConnectionAction>[] = [];
  if (before !== w.content) changes.push({ ...fileChange(w, before), action });
  else if (!observed.profile) changes.push({ summary: `load ${w.path} into NetworkManager (nmcli connection reload)`, action });
  else {
    const wanted = wantedFields(w);
    const drift = (Object.keys(wanted) as Field[]).filter((f) => normalize(observed.profile?.fields.get(f) ?? '') !== normalize(wanted[f]));
    if (drift.length > 0) {
      changes.push({
        summary: `NetworkManager's profile ${w.name} differs from ${w.path} in ${drift.join(', ')}: reload it`,
        diff: fieldDiff(drift.map((f) => ({ name: f, before: observed.profile?.fields.get(f) || '(none)', after: wanted[f] || '(none)' }))),
        action,
      });
    }
  }
  if (device?.activeUuid !== w.uuid || changes.length > 0) {
    // A profile in /run is NetworkManager's own, in memory only: an interface set up outside it, or a DHCP default.
    const now = activeProfile ? `${activeProfile.name}${activeProfile.filename.startsWith('/run/') ? ', in memory only' : ''}` : 'none';
    const rival = activeProfile && activeProfile.uuid !== w.uuid && activeProfile.autoconnect && !activeProfile.filename.startsWith('/run/') && activeProfile.filename !== w.path ? activeProfile : undefined;
    changes.push({
      summary: `bring ${w.name} up on ${w.interface} (active there now: ${now})`,
      ...(device?.activeUuid !== w.uuid ? { diff: fieldDiff([{ name: `active on ${w.interface}`, before: now, after: w.name }]) } : {}),
      action,
      ...(rival ? { note: `${rival.name} (${rival.filename}) is up on ${w.interface} now and starts at boot too: remove it, or NetworkManager may bring it up instead of ${w.name} at the next boot` } : {}),
    });
  }
  return changes;
}

function fileChange(w: WantedConnection, before: string | undefined): { summary: string; diff: string } {
  if (!w.present) return { summary: `remove ${w.path}`, diff: textDiff(w.path, before ?? '', '') };
  return { summary: `${before === undefined ? 'create' : 'update'} ${w.path}`, diff: textDiff(w.path, before ?? '', w.content) };
}

/** The keyfile as the task leaves it, for later tasks in check mode. */
export function connectionEffects(w: WantedConnection): Effect[] {
  return [effect(PathResource, w.path, w.present ? { type: 'file', content: Buffer.from(w.content), mode: '0600' } : { type: 'absent' })];
}
