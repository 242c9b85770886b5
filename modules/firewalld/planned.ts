import { effect, ResourceKind, type Effect, type PlannedState } from '../../lib/module/resources.ts';
import type { ObservedFirewall, SideState } from './observe.ts';
import { emptyItems, type Category, type Wanted } from './params.ts';

/**
 * What earlier firewalld tasks of this run will have done, so a later task
 * plans against it in check mode: a port in a zone that an earlier task
 * creates is planned, not refused with "zone does not exist".
 */
export const FirewalldZoneResource = new ResourceKind<{ readonly present: boolean; readonly target?: string }>('firewalld-zone');
/** Keyed by zone (empty for "the default zone"), category and value: whether it will be there. */
export const FirewalldItemResource = new ResourceKind<boolean>('firewalld-item');
/** Id `default`: the zone an earlier task makes the default. */
export const FirewalldDefaultZoneResource = new ResourceKind<string>('firewalld-default-zone');

export const itemId = (zone: string, category: Category, value: string): string => `${zone}\0${category}\0${value}`;

export function firewalldEffects(w: Wanted): Effect[] {
  const zone = w.zone ?? '';
  const effects: Effect[] = w.items.map((i) => effect(FirewalldItemResource, itemId(zone, i.category, i.value), w.present));
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
      const effectiveDefault = defaultZone ?? side.defaultZone;
      for (const i of w.items) {
        const present = planned.get(FirewalldItemResource, itemId(zone, i.category, i.value)) ?? (zone === effectiveDefault ? planned.get(FirewalldItemResource, itemId('', i.category, i.value)) : undefined);
        if (present === undefined) continue;
        items[i.category] = present ? [...new Set([...items[i.category], i.value])] : items[i.category].filter((v) => v !== i.value);
      }
      zones.set(zone, { target: state.target, items });
    } else zones.delete(zone);
    return { zones, defaultZone: defaultZone ?? side.defaultZone };
  };
  return {
    ...o,
    permanent: overlay(o.permanent, false),
    ...(o.runtime ? { runtime: overlay(o.runtime, true) } : {}),
  };
}
