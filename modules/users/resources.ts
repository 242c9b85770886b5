import { ResourceKind } from '../../lib/module/resources.ts';

/**
 * A user account an earlier task of this run creates, changes or removes, so
 * a later task plans against it in check mode (a second user task for the
 * same name, a file owned by the user). Fields left out are not known until
 * the task runs (a uid the system picks).
 */
export type PlannedUser =
  | { readonly present: false }
  | {
      readonly present: true;
      readonly uid?: number;
      /** Primary group name. */
      readonly group?: string;
      /** Supplementary groups: the exact set, or (append) at least these. */
      readonly groups?: { readonly names: readonly string[]; readonly exact: boolean };
      readonly shell?: string;
      readonly home?: string;
      readonly comment?: string;
    };

/** Keyed by user name. */
export const UserResource = new ResourceKind<PlannedUser>('user');

/** A group an earlier task of this run creates or removes; keyed by group name. */
export type PlannedGroup = { readonly present: false } | { readonly present: true; readonly gid?: number };

export const GroupResource = new ResourceKind<PlannedGroup>('group');
