import t, { type Test } from 'tap';
import { Skip } from '../../lib/module/skip.ts';
import { hostname, mount, networkConnection, sudoers, sysctl, systemdConfig, timezone } from '../../modules/index.ts';
import { renderTask } from '../support/nixos-samples.ts';

const skipNote = (t: Test, fn: () => unknown): string => {
  const error = t.throws(fn) as Skip;
  t.type(error, Skip, 'skipped, not failed');
  return error.note;
};

t.test('nixos hostname: a fully qualified name is split into networking.hostName and networking.domain', async (t) => {
  t.same(renderTask(hostname({ name: 'web1' })), { networking: { hostName: 'web1' } });
  t.same(renderTask(hostname({ name: 'web1.lab.example.com' })), { networking: { hostName: 'web1', domain: 'lab.example.com' } });
});

t.test('nixos timezone and sysctl: time.timeZone, boot.kernel.sysctl with whole numbers kept numbers', async (t) => {
  t.same(renderTask(timezone({ zone: 'Europe/Berlin' })), { time: { timeZone: 'Europe/Berlin' } });
  t.same(renderTask(sysctl({ settings: { 'net.ipv4.ip_forward': 1, 'vm.swappiness': '10', 'net.ipv4.tcp_rmem': '4096 87380 6291456' } })), {
    boot: { kernel: { sysctl: { 'net.ipv4.ip_forward': 1, 'net.ipv4.tcp_rmem': '4096 87380 6291456', 'vm.swappiness': 10 } } },
  });
});

t.test('nixos mount: fileSystems with automount and unmounted as options; absent is skipped', async (t) => {
  t.same(renderTask(mount({ where: '/srv/media', what: 'nas:/media', type: 'nfs4', options: ['ro'], automount: true })), {
    fileSystems: { '/srv/media': { device: 'nas:/media', fsType: 'nfs4', options: ['ro', 'x-systemd.automount', 'noauto'] } },
  });
  t.same(renderTask(mount({ where: '/srv/www', what: '/data/www', options: ['bind'] })), { fileSystems: { '/srv/www': { device: '/data/www', fsType: 'none', options: ['bind'] } } });
  t.same(renderTask(mount({ where: '/x', what: 'tmpfs', type: 'tmpfs', state: 'unmounted' })), { fileSystems: { '/x': { device: 'tmpfs', fsType: 'tmpfs', options: ['noauto'] } } });
  t.match(skipNote(t, () => renderTask(mount({ where: '/x', state: 'absent' }))), /unmounted and its unit removed when no module declares it/);
});

t.test("nixos systemdConfig: the settings as lines of each component's extraConfig", async (t) => {
  t.same(renderTask(systemdConfig({ component: 'journald', settings: { SystemMaxUse: '500M', Compress: true } })), { services: { journald: { extraConfig: 'SystemMaxUse=500M\nCompress=yes\n' } } });
  t.same(renderTask(systemdConfig({ component: 'system', settings: { DefaultTimeoutStopSec: '30s' } })), { systemd: { extraConfig: 'DefaultTimeoutStopSec=30s\n' } });
  t.same(renderTask(systemdConfig({ component: 'resolved', settings: { DNS: ['192.0.2.1', '192.0.2.2'] } })), { services: { resolved: { extraConfig: 'DNS=192.0.2.1 192.0.2.2\n' } } });
  t.match(skipNote(t, () => renderTask(systemdConfig({ component: 'logind', state: 'absent' }))), /a logind setting goes back to its default/);
});

t.test('nixos sudoers: one extraRules entry per command, escaped for sudoers, runAs explicit', async (t) => {
  t.same(renderTask(sudoers({ name: 'd', rules: [{ users: ['deploy'], commands: [{ command: '/usr/bin/systemctl restart app', options: ['NOPASSWD'] }, '/usr/bin/printf a,b'] }] })), {
    security: {
      sudo: {
        extraRules: [
          { users: ['deploy'], groups: [], host: 'ALL', runAs: 'root', commands: [{ command: '/usr/bin/systemctl restart app', options: ['NOPASSWD'] }] },
          { users: ['deploy'], groups: [], host: 'ALL', runAs: 'root', commands: [{ command: '/usr/bin/printf a\\,b', options: [] }] },
        ],
      },
    },
  });
});

t.test('nixos networkConnection: networking.interfaces, default gateways, nameservers and search domains', async (t) => {
  t.same(renderTask(networkConnection({ name: 'lan', interface: 'eth1', ipv4: { method: 'manual', address: '192.0.2.10/24', gateway: '192.0.2.1', dns: ['192.0.2.53'] }, ipv6: { method: 'disabled' }, mtu: 9000 })), {
    networking: {
      interfaces: { eth1: { useDHCP: false, ipv4: { addresses: [{ address: '192.0.2.10', prefixLength: 24 }] }, mtu: 9000 } },
      defaultGateway: { address: '192.0.2.1', interface: 'eth1' },
      nameservers: ['192.0.2.53'],
      enableIPv6: false,
    },
  });
  t.same(renderTask(networkConnection({ name: 'dhcp', interface: 'eth0' })), { networking: { interfaces: { eth0: { useDHCP: true } } } });
  t.match(skipNote(t, () => renderTask(networkConnection({ name: 'lan', interface: 'eth1', state: 'absent' }))), /the settings of eth1 go away/);
});
