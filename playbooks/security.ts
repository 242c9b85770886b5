// The home server's security play: base and hardening: the admin account, updates, journald, sysctl, sshd, firewalld, SELinux, fail2ban.
// Settings come from the inventory's `site` var, secrets from the environment (playbooks/lib/site.ts).
//
//   npx play playbooks/security.ts -i inventory/miraclemax.yml --check
import { playbook } from 'hostform';
import { securityRoles } from './lib/site.ts';

export default playbook({ name: 'security', hosts: 'homeserver', become: true, roles: [securityRoles()] });
