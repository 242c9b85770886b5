import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Probes } from '../../lib/module/types.ts';
import { applyGroup, applyUser } from './apply.ts';
import { nixosGroup, nixosUser } from './nixos.ts';
import { groupProbe, groupReads, parseGroupProbe, parseUserProbe, userProbe, userReads, type ObservedGroup, type ObservedUser } from './observe.ts';
import { groupSchema, resolveGroup, resolveUser, userSchema, type GroupParams, type UserParams, type WantedGroup, type WantedUser } from './params.ts';
import { groupEffects, groupWrites, planGroup, planUser, userEffects, userWrites, type GroupAction, type UserAction } from './plan.ts';

export type { GroupParams, UserParams } from './params.ts';
export { GroupResource, UserResource, type PlannedGroup, type PlannedUser } from './resources.ts';

const userBackend: Backend<WantedUser, ObservedUser, UserAction, Probes<'user'>> = {
  probes: (wanted) => ({ user: { script: userProbe(wanted) } }),
  parse: parseUserProbe,
  reads: userReads,
  plan: planUser,
  apply: applyUser,
  effects: userEffects,
  writes: userWrites,
};

const groupBackend: Backend<WantedGroup, ObservedGroup, GroupAction, Probes<'group'>> = {
  probes: (wanted) => ({ group: { script: groupProbe(wanted) } }),
  parse: parseGroupProbe,
  reads: groupReads,
  plan: planGroup,
  apply: applyGroup,
  effects: groupEffects,
  writes: groupWrites,
};

/**
 * A local user account, through useradd, usermod, chpasswd and userdel.
 *
 *   user({ name: 'alice', groups: ['wheel'], shell: '/bin/bash', authorizedKeys: ['ssh-ed25519 AAAA... alice@laptop'] })
 *   user({ name: 'deploy', groups: ['media'], append: true })
 *   user({ name: 'backup', system: true, home: '/var/lib/backup', passwordHash: '!' })
 *   user({ name: 'olduser', state: 'absent', removeHome: true, force: true })
 *
 * `groups` is the exact set of supplementary groups unless `append: true`;
 * `authorizedKeys` is the exact set of lines of ~/.ssh/authorized_keys.
 * The password hash is compared with /etc/shadow and never shown.
 */
export const user = defineModule<UserParams, WantedUser>({
  name: 'user',
  schema: userSchema,
  capabilities: { checkMode: true, diff: true, changes: ['tool-commands', 'atomic-file'], validates: 'useradd and usermod refuse bad values before changing anything; authorized_keys is written whole, as the user', notes: 'password hashes are never shown; diffs say "password changed"' },
  describe: (p) => `user ${p.name}${p.state === 'absent' ? ' (absent)' : ''}`,
  resolve: resolveUser,
  backends: { el9: userBackend, linux: userBackend, nixos: nixosUser },
});

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
  capabilities: { checkMode: true, diff: true, changes: ['tool-commands'], validates: 'groupadd and groupmod refuse bad values before changing anything' },
  describe: (p) => `group ${p.name}${p.state === 'absent' ? ' (absent)' : ''}`,
  resolve: resolveGroup,
  backends: { el9: groupBackend, linux: groupBackend, nixos: nixosGroup },
});
