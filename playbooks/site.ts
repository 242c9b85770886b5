// The whole home server, in order: security (base, hardening), containers (podman, Traefik, Home
// Assistant, apps, Plex), monitoring, backup. Settings come from the inventory's `site` var (see
// inventory/miraclemax.yml), secrets from the environment (playbooks/lib/site.ts):
//
//   npx play playbooks/site.ts -i inventory/miraclemax.yml --check     # what would change
//   npx play playbooks/site.ts -i inventory/miraclemax.yml             # apply
//
// Connect as the admin user with become (the inventory's `user: admin`), not as root: the hardening
// role turns root's SSH login off, which the sshd module refuses to do over root's own login.
import backup from './backup.ts';
import containers from './containers.ts';
import monitoring from './monitoring.ts';
import security from './security.ts';

export default [security, containers, monitoring, backup];
