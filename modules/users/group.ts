import { fieldDiff } from '../../lib/diff.ts';
import { defineModule } from '../../lib/module/define.ts';
import { effect } from '../../lib/module/resources.ts';
import type { Backend, Change, PlanContext, ProbeOutputs } from '../../lib/module/types.ts';
import { argv, sh } from '../../lib/shell/quote.ts';
import { linesByTag, parseGroupLine, probeFailed, rootNeeded, whoami, type GroupEntry } from './accounts.ts';
import { nixosGroup } from './nixos.ts';
import { groupSchema, resolveGroup, type GroupParams, type WantedGroup } from './params.ts';
import { GroupResource } from './resources.ts';

// ── observe ──────────────────────────────────────────────────────────────

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
  getent passwd | awk -F: -v gid="$(echo "$g" | cut -d: -f3)" '$4 == gid { print "primary-of " $1 }'
fi
${gid !== undefined ? sh`if o=$(getent group ${gid}); then echo "gid-owner $o"; fi` : sh`true`}`;
}

export function parseGroupProbe(wanted: WantedGroup, outputs: ProbeOutputs): ObservedGroup {
  const result = outputs['group'];
  if (!result || result.code !== 0) throw probeFailed(`group ${wanted.name}`, result ?? { code: -1, stderr: 'no probe output' });
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

// ── plan ─────────────────────────────────────────────────────────────────

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

// ── apply ────────────────────────────────────────────────────────────────

const shadowUtils: Backend<WantedGroup, ObservedGroup, GroupAction> = {
  probes: (wanted) => ({ group: { script: groupProbe(wanted) } }),
  parse: parseGroupProbe,
  plan: planGroup,
  async apply(wanted, changes, context) {
    for (const { action } of changes) {
      switch (action.do) {
        case 'groupadd':
          await context.run(argv(['groupadd', ...(action.system ? ['--system'] : []), ...(action.gid !== undefined ? ['--gid', String(action.gid)] : []), wanted.name]));
          break;
        case 'groupmod':
          await context.run(argv(['groupmod', '--gid', String(action.gid), wanted.name]));
          break;
        case 'groupdel':
          await context.run(argv(['groupdel', wanted.name]));
          break;
      }
    }
  },
  effects: (wanted) => [
    effect(GroupResource, wanted.name, wanted.state === 'absent' ? { present: false } : { present: true, ...(wanted.gid !== undefined ? { gid: wanted.gid } : {}) }),
  ],
};

/**
 * A local group (/etc/group), through groupadd, groupmod and groupdel.
 *
 *   group({ name: 'media' })
 *   group({ name: 'backup', gid: 1500 })
 *   group({ name: 'old-team', state: 'absent' })
 *
 * Changing a gid does not renumber files owned by the old one; removing a
 * group that is some user's primary group fails with their names.
 */
export const group = defineModule<GroupParams, WantedGroup>({
  name: 'group',
  schema: groupSchema,
  capabilities: { checkMode: true, diff: true },
  describe: (p) => `group ${p.name}${p.state === 'absent' ? ' (absent)' : ''}`,
  resolve: resolveGroup,
  backends: { el9: shadowUtils, linux: shadowUtils, nixos: nixosGroup },
});
