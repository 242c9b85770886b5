import { ResourceKind } from '../../lib/module/resources.ts';
import type { Category } from './params.ts';

/**
 * What earlier firewalld tasks of this run will have done, so a later task
 * plans against it in check mode: a port in a zone that an earlier task
 * creates is planned, not refused with "zone does not exist".
 */
export const FirewalldZoneResource = new ResourceKind<{ readonly present: boolean; readonly target?: string }>('firewalld-zone');
/** Keyed by zone (empty for "the default zone"), category and value: whether it will be there. */
export const FirewalldItemResource = new ResourceKind<boolean>('firewalld-item');
/** Keyed by zone (empty for "the default zone") and category: the values an earlier exact task leaves there, and no others. */
export const FirewalldExactResource = new ResourceKind<readonly string[]>('firewalld-exact');
/** Id `default`: the zone an earlier task makes the default. */
export const FirewalldDefaultZoneResource = new ResourceKind<string>('firewalld-default-zone');

/** The whole firewall, runtime and permanent, for re-probing: every firewalld task reads and writes all of it. */
export const FirewallResource = new ResourceKind<never>('firewalld');

export const itemId = (zone: string, category: Category, value: string): string => `${zone}\0${category}\0${value}`;
export const exactId = (zone: string, category: Category): string => `${zone}\0${category}`;
