// The home server's containers play: podman, Traefik, Home Assistant, the apps and Plex (and the restore, with site.restore on).
// Settings come from the inventory's `site` var, secrets from the environment (playbooks/lib/site.ts).
//
//   npx play playbooks/containers.ts -i inventory/miraclemax.yml --check
import { playbook } from 'hostform';
import { containerRoles } from './lib/site.ts';

export default playbook({ name: 'containers', hosts: 'homeserver', become: true, roles: [containerRoles()] });
