// The home server's backup play: restic: daily backup, weekly check, daily restore test.
// Settings come from the inventory's `site` var, secrets from the environment (playbooks/lib/site.ts).
//
//   npx play playbooks/backup.ts -i inventory/miraclemax.yml --check
import { playbook } from 'hostform';
import { backupRoles } from './lib/site.ts';

export default playbook({ name: 'backup', hosts: 'homeserver', become: true, roles: [backupRoles()] });
