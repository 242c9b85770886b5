import { defineModule } from '../../lib/module/define.ts';
import { effect } from '../../lib/module/resources.ts';
import type { Backend } from '../../lib/module/types.ts';
import { nixosUser } from './nixos.ts';
import { resolveUser, userSchema, type UserParams, type WantedUser } from './params.ts';
import { UserResource, type PlannedUser } from './resources.ts';
import { applyUser } from './user-apply.ts';
import { parseUserProbe, userProbe, type ObservedUser } from './user-observe.ts';
import { planUser, type UserAction } from './user-plan.ts';

const shadowUtils: Backend<WantedUser, ObservedUser, UserAction> = {
  probes: (wanted) => ({ user: { script: userProbe(wanted) } }),
  parse: parseUserProbe,
  plan: planUser,
  apply: applyUser,
  effects: (wanted) => [effect(UserResource, wanted.name, plannedUser(wanted))],
};

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
  capabilities: { checkMode: true, diff: true, notes: 'password hashes are never shown; diffs say "password changed"' },
  describe: (p) => `user ${p.name}${p.state === 'absent' ? ' (absent)' : ''}`,
  resolve: resolveUser,
  backends: { el9: shadowUtils, linux: shadowUtils, nixos: nixosUser },
});
