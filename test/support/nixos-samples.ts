import type { HostView, Task } from '../../lib/module/types.ts';
import { isNixosRenderer } from '../../lib/nixos/renderer.ts';
import type { NixAttrs } from '../../lib/nixos/value.ts';
import { dropIn, fail2ban, file, firewalld, group, hostname, mount, networkConnection, nixos, packages, quadlet, service, sshd, sudoers, sysctl, systemdConfig, timer, timezone, unit, user } from '../../modules/index.ts';

/**
 * Representative tasks of every module with a NixOS renderer, one play per
 * family, tasks that only skip on NixOS included. test/nixos-eval.test.ts
 * evaluates each play's module with the real NixOS module system and
 * asserts option values, and fails for a module with a NixOS renderer that
 * has no task here: a family added here is evaluated in CI.
 */
export const SAMPLE_HOST = { name: 'nix1', groups: ['all'], vars: {}, facts: { platform: 'nixos' } } as unknown as HostView;

export const SAMPLE_PLAYS: Record<string, readonly Task[]> = {
  files: [
    file({ path: '/etc/motd', content: 'Welcome ${USER} "home"\n', mode: '0644' }, { name: 'motd' }),
    file({ path: '/etc/app/config.toml', template: (h) => `host = "${h.name}"\n` }),
    file({ path: '/srv/backup', state: 'directory', mode: '0750', owner: 'root' }),
    file({ path: '/srv/current', state: 'link', target: '/srv/backup' }),
    file({ path: '/srv/old', state: 'absent' }),
    file({ path: '/srv/app/banner', content: '  indented, 100%\n' }),
    file({ path: '/etc/app/owned.conf', content: 'key = value\n', owner: 'nobody', group: 'nogroup' }),
  ],
  packages: [packages({ present: ['htop', 'python3Packages.requests', 'libstdc++'], latest: ['openssl'] })],
  users: [
    group({ name: 'media', gid: 1500 }),
    group({ name: 'team' }),
    user({ name: 'alice', uid: 1001, groups: ['wheel', 'media'], shell: '/bin/bash', comment: 'Alice "A" ${x}', authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0example alice@laptop'] }),
    user({ name: 'zed', shell: '/usr/bin/zsh', groups: ['media'], append: true, passwordHash: '!' }),
    user({ name: 'backup', system: true, home: '/var/lib/backup', createHome: true, shell: '/sbin/nologin' }),
  ],
  systemd: [
    unit({ name: 'app.service', sections: { Unit: { Description: 'App ${HOME}', After: ['network-online.target'] }, Service: { ExecStart: '/usr/local/bin/app --port 8080', Environment: '"A=b c"' }, Install: { WantedBy: 'multi-user.target' } } }),
    service({ name: 'app', state: 'started', enabled: true }),
    dropIn({ unit: 'nginx.service', name: 'limits', sections: { Service: { LimitNOFILE: 65536, ExecStart: ['', '/usr/bin/nginx -g "daemon off;"'] } } }),
    dropIn({ unit: 'getty@tty2.service', name: 'env', content: '[Service]\nEnvironment="TERM=vt100"\n' }),
    service({ name: 'cups', state: 'stopped', enabled: false, masked: true }),
    timer({
      name: 'backup',
      onCalendar: 'daily',
      persistent: true,
      randomizedDelaySec: '30m',
      service: { execStart: '/usr/local/bin/backup --quiet', user: 'backup', environment: { RESTIC_REPOSITORY: '/srv/backup' }, options: { Nice: 10 } },
    }),
  ],
  containers: [
    quadlet.container({
      name: 'web',
      image: 'docker.io/library/nginx:1.27',
      publishPort: ['8080:80'],
      volume: ['/srv/www:/usr/share/nginx/html:ro,Z'],
      environment: { TZ: 'Europe/Berlin', GREETING: 'say "hi" ${USER}' },
      label: { 'traefik.http.routers.web.rule': 'Host(`web.example`)' },
      healthCmd: 'curl -f http://localhost/ || exit 1',
      addCapability: ['NET_BIND_SERVICE'],
      restart: 'on-failure',
      timeoutStartSec: 900,
    }),
    quadlet.container({ name: 'job', image: 'localhost/job:1', exec: ['/job', '--once'], user: 1000, group: 1000, wantedBy: [] }),
    quadlet.container({ name: 'desk', image: 'localhost/desk:1', wantedBy: ['default.target'], extra: { Service: { TimeoutStopSec: 30, Environment: ['A=1'] } } }),
    quadlet.network({ name: 'backend' }),
    quadlet.volume({ name: 'data' }),
    quadlet.pod({ name: 'stack' }),
  ],
  firewall: [
    firewalld.port({ ports: ['443/tcp', '53/udp', '60000-61000/udp', '8000-8010/tcp'] }),
    firewalld.port({ port: 8080 }),
    firewalld.service({ services: ['ssh', 'http', 'dns'], exact: true }),
    firewalld.zone({ name: 'internal' }),
    firewalld.richRule({ rule: 'rule family="ipv4" source address="192.0.2.0/24" accept' }),
    firewalld.masquerade({}),
    firewalld.forwardPort({ forwardPort: { port: 8080, protocol: 'tcp', toPort: 80 } }),
  ],
  fail2ban: [
    fail2ban.jail({ name: 'sshd', maxretry: 3, bantime: '1h', bantimeIncrement: { factor: 2, maxtime: '1w' }, ignoreip: ['192.0.2.0/24'] }),
    fail2ban.filter({ name: 'myapp', failregex: ['^Login failed for .* from <HOST>$', '^Bad token from <HOST> "${x}"$'], datepattern: '^%%Y-%%m-%%d %%H:%%M:%%S' }),
    fail2ban.action({ name: 'log-ban', actionban: 'logger -t fail2ban "ban <ip> in <name>"', actionunban: 'logger -t fail2ban "unban <ip>"' }),
    fail2ban.jail({ name: 'myapp', filter: 'myapp', port: ['http', 'https'], logpath: ['/var/log/myapp/a.log', '/var/log/myapp/b.log'], backend: 'auto', action: ['%(action_)s', 'log-ban'] }),
  ],
  sshd: [
    sshd.config({
      options: { PermitRootLogin: 'prohibit-password', PasswordAuthentication: false, KbdInteractiveAuthentication: false, X11Forwarding: false, MaxAuthTries: 3, AllowGroups: ['wheel'], MACs: ['hmac-sha2-512-etm@openssh.com'], UseDNS: false, Port: [22, 2222], LoginGraceTime: '30s' },
      extra: { VersionAddendum: 'none' },
    }),
  ],
  options: [
    nixos.options({
      services: {
        prometheus: {
          enable: true,
          port: 9090,
          scrapeConfigs: [{ job_name: 'node', static_configs: [{ targets: ['localhost:9100'] }] }],
          exporters: { node: { enable: true, enabledCollectors: ['systemd'] } },
        },
        loki: { enable: true, configuration: { auth_enabled: false, server: { http_listen_port: 3100 } } },
        tailscale: { enable: true, useRoutingFeatures: 'client', package: { $pkgs: 'tailscale' } },
      },
      system: { autoUpgrade: { enable: true, dates: '04:40', allowReboot: false } },
      nix: { gc: { automatic: true, dates: 'weekly', options: '--delete-older-than 30d' } },
      networking: { firewall: { allowedTCPPorts: [9090] } },
    }),
  ],
  basics: [
    hostname({ name: 'web1.example.com' }),
    timezone({ zone: 'Europe/Berlin' }),
    sysctl({ settings: { 'net.ipv4.ip_forward': 1, 'net.ipv4.tcp_rmem': '4096 87380 6291456', 'kernel.core_pattern': '|/bin/false %p "${x}"' } }),
    mount({ where: '/srv/media', what: 'nas.lan:/export/media', type: 'nfs4', options: ['ro', 'soft'], automount: true }),
    mount({ where: '/srv/www', what: '/data/www', options: ['bind'] }),
    mount({ where: '/var/cache/build', what: 'tmpfs', type: 'tmpfs', options: ['size=2G'], state: 'unmounted' }),
    systemdConfig({ component: 'journald', settings: { SystemMaxUse: '500M', Compress: true } }),
    systemdConfig({ component: 'logind', settings: { HandleLidSwitch: 'ignore' } }),
    systemdConfig({ component: 'resolved', settings: { DNSSEC: false, DNS: ['192.0.2.53', '192.0.2.54'] } }),
    systemdConfig({ component: 'timesyncd', settings: { NTP: 'ntp.example.com' } }),
    systemdConfig({ component: 'system', settings: { DefaultTimeoutStopSec: '30s' } }),
    sudoers({ name: 'deploy', rules: [{ users: ['deploy'], groups: ['ops'], commands: [{ command: '/usr/bin/systemctl restart app', options: ['NOPASSWD'] }, '/usr/bin/printf %s a,b c:d'] }] }),
    networkConnection({ name: 'lan', interface: 'eth1', ipv4: { method: 'manual', address: ['192.0.2.10/24', '198.51.100.7/24'], gateway: '192.0.2.1', dns: ['192.0.2.53'], dnsSearch: ['lab.example'] }, ipv6: { method: 'manual', address: '2001:db8::10/64', gateway: '2001:db8::1' }, mtu: 9000 }),
  ],
};

/** The NixOS fragment one task renders to on the sample host (throws Skip or Error as the renderer does). */
export function renderTask(task: Task): NixAttrs {
  const backend = task.module.backends.nixos;
  if (!isNixosRenderer(backend)) throw new Error(`${task.module.name} has no NixOS renderer`);
  return backend.render(task.module.resolve(task.params, SAMPLE_HOST), SAMPLE_HOST);
}
