import { fieldDiff } from '../../lib/diff.ts';
import { effect, type Effect, type PlannedState } from '../../lib/module/resources.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import type { ObservedFirewall, SideState, ZoneState } from './observe.ts';
import { emptyItems, type Category, type Wanted, type WantedItem } from './params.ts';
import { exactId, FirewalldDefaultZoneResource, FirewalldExactResource, FirewalldItemResource, FirewalldZoneResource, itemId } from './resources.ts';

export type Side = 'permanent' | 'runtime';

interface Common {
  readonly zone: string;
  /** firewall-offline-cmd instead of firewall-cmd: firewalld is not running. */
  readonly offline: boolean;
  /** The runtime gets this change only from `firewall-cmd --reload`. */
  readonly reload: boolean;
}

export type FirewalldAction = Common &
  (
    | { readonly do: 'create-zone' }
    | { readonly do: 'delete-zone' }
    | { readonly do: 'target'; readonly target: string }
    | { readonly do: 'item'; readonly add: boolean; readonly category: Category; readonly argument: string; readonly sides: readonly Side[] }
    | { readonly do: 'default-zone' }
    | { readonly do: 'reload' }
  );

const LABEL: Readonly<Record<Category, string>> = {
  service: 'service',
  port: 'port',
  // A rule reads as itself: "add rule family=…".
  'rich-rule': '',
  masquerade: 'masquerading',
  'forward-port': 'forward port',
  interface: 'interface',
  source: 'source',
};

/**
 * Pure: the changes that make the zone what the task wants, on both sides
 * when firewalld runs (the permanent configuration and the runtime), or the
 * permanent configuration alone when it does not. When the sides disagree,
 * only the side that differs is changed and the summary says so.
 */
export function planFirewalld(w: Wanted, onHost: ObservedFirewall, context: PlanContext): Change<FirewalldAction>[] {
  const online = onHost.mode === 'online';
  const defaultZone = context.planned.get(FirewalldDefaultZoneResource, 'default') ?? (online ? onHost.runtime?.defaultZone : onHost.permanent.defaultZone);
  const zone = w.zone ?? defaultZone;
  if (!zone) throw new Error('firewalld reports no default zone: name the zone in the task (zone: ...)');
  refuseContradictions(w, zone, zone === defaultZone, context.planned);
  // The probe reads the zone a task names, or the host's default zone (zonesToRead). Another zone is
  // planned only when an earlier task of a check run makes it the default: its settings were not read.
  if (onHost.permanent.unread?.has(zone) || onHost.runtime?.unread?.has(zone)) {
    throw new Error(
      `an earlier task of this run makes zone '${zone}' the default zone, and this task, which names no zone, read only the host's default zone ` +
        `(${(online ? onHost.runtime?.defaultZone : onHost.permanent.defaultZone) ?? 'none'}) in check mode: name the zone in this task (zone: '${zone}')`,
    );
  }
  const o = withPlanned(onHost, context.planned, zone, w);
  const permanent = o.permanent.zones.get(zone);
  const runtime = o.runtime?.zones.get(zone);
  const base = { zone, offline: !online };
  const tag = online ? '' : ' (offline)';

  if (w.zoneTask && !w.present) return planDeletion(zone, o, permanent !== undefined, runtime !== undefined, defaultZone, base, tag);

  const changes: Change<FirewalldAction>[] = [];
  let perm = permanent;
  if (!perm) {
    if (!w.zoneTask) {
      const known = [...o.permanent.zones.keys(), ...(o.permanent.unread ?? [])].sort().join(', ');
      throw new Error(`zone '${zone}' does not exist (zones: ${known}); create it with firewalld.zone({ name: '${zone}' }) in an earlier task`);
    }
    changes.push({
      summary: `create zone ${zone}${online ? ' (runtime after firewall-cmd --reload)' : tag}`,
      diff: fieldDiff([{ name: 'zone', before: undefined, after: zone }]),
      action: { ...base, do: 'create-zone', reload: online },
    });
    perm = { target: 'default', items: emptyItems() };
  }
  // A zone only in the permanent configuration reaches the runtime at the next reload.
  const runtimeByReload = online && !runtime;

  const target = w.zoneTask?.target;
  if (target !== undefined && perm.target !== target) {
    changes.push({
      summary: `zone ${zone}: target ${perm.target} → ${target}${online ? ' (runtime after firewall-cmd --reload)' : tag}`,
      diff: fieldDiff([{ name: `${online ? 'permanent ' : ''}target`, before: perm.target, after: target }]),
      action: { ...base, do: 'target', target, reload: online },
    });
  } else if (target !== undefined && runtime && runtime.target !== target) {
    changes.push({
      summary: `zone ${zone}: runtime target is ${runtime.target} but permanent is ${target}: reload firewalld`,
      diff: fieldDiff([{ name: 'runtime target', before: runtime.target, after: target }]),
      action: { ...base, do: 'reload', reload: true },
    });
  }

  for (const item of itemsToCompare(w, perm, runtime)) {
    const change = planItem(item, perm, runtime, online, base, tag, o, runtimeByReload);
    if (change) changes.push(change);
  }

  if (w.zoneTask?.makeDefault) {
    const before = [o.permanent.defaultZone, ...(online ? [o.runtime?.defaultZone] : [])];
    if (before.some((d) => d !== zone)) {
      changes.push({
        summary: `default zone ${before.find((d) => d !== zone) ?? '(none)'} → ${zone}${tag}`,
        diff: fieldDiff([{ name: 'default zone', before: before.find((d) => d !== zone), after: zone }]),
        action: { ...base, do: 'default-zone', reload: runtimeByReload },
      });
    }
  }

  // The host's permanent configuration has the zone and the runtime does not (a reload never ran).
  if (changes.length === 0 && runtimeByReload && onHost.permanent.zones.has(zone)) {
    changes.push({
      summary: `zone ${zone} is in the permanent configuration but not at runtime: reload firewalld`,
      diff: fieldDiff([{ name: 'runtime zone', before: undefined, after: zone }]),
      action: { ...base, do: 'reload', reload: true },
    });
  }
  return changes.map((c) => (c.action.do === 'item' && runtimeByReload ? { ...c, action: { ...c.action, reload: true } } : c));
}

/** The task's items with whether each should be there; for exact sets (a zone's interfaces, an exact service list), also what must go. */
function itemsToCompare(w: Wanted, perm: ZoneState, runtime: ZoneState | undefined): { item: WantedItem; present: boolean }[] {
  const list = w.items.map((item) => ({ item, present: w.present }));
  for (const category of w.exact ?? []) {
    const wanted = new Set(w.items.filter((i) => i.category === category).map((i) => i.value));
    const extra = new Set([...perm.items[category], ...(runtime?.items[category] ?? [])].filter((v) => !wanted.has(v)));
    for (const value of extra) list.push({ item: { category, value, argument: value }, present: false });
  }
  return list;
}

function planItem(
  { item, present }: { item: WantedItem; present: boolean },
  perm: ZoneState,
  runtime: ZoneState | undefined,
  online: boolean,
  base: { zone: string; offline: boolean },
  tag: string,
  o: ObservedFirewall,
  runtimeByReload: boolean,
): Change<FirewalldAction> | undefined {
  const inPerm = perm.items[item.category].includes(item.value);
  const inRuntime = runtime?.items[item.category].includes(item.value);
  const sides: Side[] = [];
  if (inPerm !== present) sides.push('permanent');
  if (runtime && inRuntime !== present) sides.push('runtime');
  if (sides.length === 0) return undefined;
  if (present && item.category === 'service' && !o.services.has(item.value)) {
    throw new Error(`service '${item.value}' is not defined in firewalld on this host (firewall-cmd --get-services lists the known ones): check the spelling, or use firewalld.port for a port`);
  }

  const label = LABEL[item.category];
  const named = label ? `${label} ${item.value}` : item.value;
  const what = item.category === 'masquerade' ? `${present ? 'enable' : 'disable'} masquerading` : `${present ? 'add' : 'remove'} ${named}`;
  const moved = present && (item.category === 'interface' || item.category === 'source') ? ownerElsewhere(o, base.zone, item) : undefined;
  let where = tag;
  if (online && sides.length === 1) {
    const [has, lacks] = inPerm ? ['permanent', 'runtime'] : ['runtime', 'permanent'];
    where = sides[0] === 'permanent' ? ' in the permanent configuration' : ' at runtime';
    where += ` (${has} has ${item.category === 'masquerade' ? 'masquerading' : named} but ${lacks} does not)`;
  }
  if (runtimeByReload) where = ' (runtime after firewall-cmd --reload)';
  const shown = (has: boolean | undefined) => (item.category === 'masquerade' ? (has ? 'yes' : 'no') : has ? item.value : undefined);
  return {
    summary: `zone ${base.zone}: ${what}${moved ? ` (moved from zone ${moved})` : ''}${where}`,
    diff: fieldDiff(
      sides.map((side) => ({
        name: [online ? side : '', label].filter(Boolean).join(' ') || 'rich rule',
        before: shown(side === 'permanent' ? inPerm : inRuntime),
        after: shown(present),
      })),
    ),
    action: { ...base, do: 'item', add: present, category: item.category, argument: item.argument, sides, reload: false },
  };
}

/** The zone an interface or source is bound to now, when that is another zone. */
function ownerElsewhere(o: ObservedFirewall, zone: string, item: WantedItem): string | undefined {
  for (const side of [o.permanent, o.runtime]) {
    for (const [name, state] of side?.zones ?? []) if (name !== zone && state.items[item.category].includes(item.value)) return name;
  }
  return undefined;
}

function planDeletion(
  zone: string,
  o: ObservedFirewall,
  inPermanent: boolean,
  inRuntime: boolean,
  defaultZone: string | undefined,
  base: { zone: string; offline: boolean },
  tag: string,
): Change<FirewalldAction>[] {
  if (!inPermanent && !inRuntime) return [];
  if (zone === defaultZone) throw new Error(`zone '${zone}' is the default zone and cannot be deleted: make another zone the default first (firewalld.zone({ name, default: true }))`);
  if (o.builtinZones.has(zone)) throw new Error(`zone '${zone}' is built into firewalld and cannot be deleted`);
  const online = o.mode === 'online';
  if (!inPermanent) {
    return [{ summary: `zone ${zone} is at runtime but not in the permanent configuration: reload firewalld`, diff: fieldDiff([{ name: 'runtime zone', before: zone, after: undefined }]), action: { ...base, do: 'reload', reload: true } }];
  }
  return [
    {
      summary: `delete zone ${zone}${online ? ' (runtime after firewall-cmd --reload)' : tag}`,
      diff: fieldDiff([{ name: 'zone', before: zone, after: undefined }]),
      action: { ...base, do: 'delete-zone', reload: online },
    },
  ];
}

// ── what earlier tasks of the run will have done ─────────────────────────

export function firewalldEffects(w: Wanted): Effect[] {
  const zone = w.zone ?? '';
  const effects: Effect[] = w.items.map((i) => effect(FirewalldItemResource, itemId(zone, i.category, i.value), w.present));
  if (w.present) {
    for (const category of w.exact ?? []) effects.push(effect(FirewalldExactResource, exactId(zone, category), valuesOf(w, category)));
  }
  if (w.zoneTask) {
    effects.push(effect(FirewalldZoneResource, zone, { present: w.present, ...(w.zoneTask.target ? { target: w.zoneTask.target } : {}) }));
    if (w.zoneTask.makeDefault) effects.push(effect(FirewalldDefaultZoneResource, 'default', zone));
  }
  return effects;
}

/**
 * The observation with the planned effects laid over it, for one zone and
 * the values the task cares about. A zone only planned (created by an
 * earlier task) exists in the permanent configuration and reaches the
 * runtime at the reload, as it will when the tasks run.
 */
export function withPlanned(o: ObservedFirewall, planned: PlannedState, zone: string, w: Wanted): ObservedFirewall {
  const defaultZone = planned.get(FirewalldDefaultZoneResource, 'default');
  const plannedZone = planned.get(FirewalldZoneResource, zone);
  const overlay = (side: SideState, isRuntime: boolean): SideState => {
    const zones = new Map(side.zones);
    let state = zones.get(zone);
    if (plannedZone && !plannedZone.present) state = undefined;
    else if (plannedZone?.present && !isRuntime) state = { target: plannedZone.target ?? state?.target ?? 'default', items: state?.items ?? emptyItems() };
    if (state) {
      const items: Record<Category, string[]> = { ...emptyItems() };
      for (const [category, values] of Object.entries(state.items) as [Category, readonly string[]][]) items[category] = [...values];
      const isDefault = zone === (defaultZone ?? side.defaultZone);
      for (const category of new Set([...w.items.map((i) => i.category), ...(w.exact ?? [])])) {
        const exact = plannedExact(planned, zone, category, isDefault);
        if (exact) items[category] = [...exact];
        for (const [value, present] of plannedItems(planned, zone, category, isDefault)) {
          items[category] = present ? [...new Set([...items[category], value])] : items[category].filter((v) => v !== value);
        }
      }
      zones.set(zone, { target: state.target, items });
    } else zones.delete(zone);
    return { ...side, zones, defaultZone: defaultZone ?? side.defaultZone };
  };
  return {
    ...o,
    permanent: overlay(o.permanent, false),
    ...(o.runtime ? { runtime: overlay(o.runtime, true) } : {}),
  };
}

const valuesOf = (w: Wanted, category: Category): string[] => w.items.filter((i) => i.category === category).map((i) => i.value);

/** The set an earlier exact task of the run leaves in the zone, named by zone or as "the default zone". */
function plannedExact(planned: PlannedState, zone: string, category: Category, isDefault: boolean): readonly string[] | undefined {
  return planned.get(FirewalldExactResource, exactId(zone, category)) ?? (isDefault ? planned.get(FirewalldExactResource, exactId('', category)) : undefined);
}

/** The values of one category that earlier tasks of the run add (true) or remove (false) in the zone; a task naming the zone wins over one meaning the default zone. */
function plannedItems(planned: PlannedState, zone: string, category: Category, isDefault: boolean): Map<string, boolean> {
  const entries = planned.entries(FirewalldItemResource).map(([id, present]) => ({ at: id.split('\0'), present }));
  const found = new Map<string, boolean>();
  for (const from of isDefault ? ['', zone] : [zone]) {
    for (const { at, present } of entries) if (at[0] === from && at[1] === category) found.set(at[2] as string, present);
  }
  return found;
}

/**
 * An exact list and another task of the play that disagree on a value would change it back and forth on
 * every run, each undoing the other: refused when planned together (check mode, or tasks applied
 * together), naming the value and what would make them agree.
 */
function refuseContradictions(w: Wanted, zone: string, isDefault: boolean, planned: PlannedState): void {
  for (const category of new Set([...w.items.map((i) => i.category), ...(w.exact ?? [])])) {
    const mine = valuesOf(w, category);
    const kind = LABEL[category] || 'rich rule';
    const earlier = plannedExact(planned, zone, category, isDefault);
    if (w.exact?.includes(category)) {
      if (earlier && (earlier.length !== mine.length || earlier.some((v) => !mine.includes(v)))) {
        throw new Error(`an earlier task of this run keeps exactly the ${kind}s [${earlier.join(', ')}] in zone ${zone}, and this one [${mine.join(', ')}]: make them one list`);
      }
      for (const [value, present] of plannedItems(planned, zone, category, isDefault)) {
        if (present === mine.includes(value)) continue;
        throw new Error(
          `an earlier task of this run ${present ? 'adds' : 'removes'} ${kind} ${value} in zone ${zone}, which this exact list ${present ? 'leaves out' : 'keeps'}: ` +
            `${present ? 'add it to the list' : 'take it off the list'} or drop that task, or every run would undo the other`,
        );
      }
    } else if (earlier) {
      for (const value of mine) {
        if (earlier.includes(value) === w.present) continue;
        throw new Error(
          `an earlier task of this run keeps exactly the ${kind}s [${earlier.join(', ')}] in zone ${zone}, so ${kind} ${value} ${w.present ? 'would be removed and added' : 'would be added and removed'} on every run: ` +
            `${w.present ? 'add it to that list' : 'take it off that list'} or drop this task`,
        );
      }
    }
  }
}
