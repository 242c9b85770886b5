// The home server hostform was born from, as one playbook: an el9 box at home
// with an admin account reached by SSH key only, fail2ban and firewalld
// (roles/base.ts); Prometheus, node_exporter, cAdvisor, Grafana and
// Alertmanager as Podman quadlets on one network (roles/monitoring.ts);
// Traefik in front with HTTPS (roles/reverse-proxy.ts); Home Assistant
// (roles/home-assistant.ts); and nightly restic backups with a weekly
// `restic check` (roles/backup.ts). See what it would change, then apply:
//
//   npx play playbooks/homeserver.ts -i examples/homeserver.yml --check
//   npx play playbooks/homeserver.ts -i examples/homeserver.yml
//
// Edit examples/homeserver.yml (address, user) and the options below (keys,
// host names). The restic password is a secret read when the run starts,
// never printed: here from secrets/restic-password, a file of yours that only
// you can read (`chmod 600`) and that stays out of git; a run without it
// stops before touching the host, naming the file. Any other source works the
// same way: `secret.pass('homeserver/restic')`, `secret.env('RESTIC_PASSWORD')`,
// `secret.sops('secrets.yaml', '["restic"]')` (see docs/secrets.md).
import { playbook } from '../lib/playbook.ts';
import { secret } from '../lib/secret/secret.ts';
import { backup, base, homeAssistant, monitoring, reverseProxy } from '../roles/index.ts';

const domain = 'home.example.org';

export default playbook({
  name: 'homeserver',
  hosts: 'homeserver',
  become: true,
  roles: [
    base({
      admin: { name: 'admin', authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFm3S4l2i5oP6w1YVxJ1yJ6tq2eM9o0kzq2f0rYQh3kE admin@laptop'] },
      timezone: 'Europe/Berlin',
      fail2ban: { ignoreip: ['192.168.1.0/24'] },
    }),
    monitoring({ scrape: [{ job: 'router', targets: ['192.168.1.1:9100'] }] }),
    reverseProxy({
      acmeEmail: `admin@${domain}`,
      networks: ['monitoring.network'],
      routes: [
        { name: 'grafana', host: `grafana.${domain}`, url: 'http://grafana:3000' },
        { name: 'home', host: `ha.${domain}`, url: 'http://host.containers.internal:8123' },
      ],
    }),
    homeAssistant({ timezone: 'Europe/Berlin' }),
    backup({ password: secret.file(process.env['RESTIC_PASSWORD_FILE'] ?? 'secrets/restic-password') }),
  ],
});
