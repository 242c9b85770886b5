import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { evaluateTasks } from './support/nixos-eval.ts';
import { SAMPLE_PLAYS } from './support/nixos-samples.ts';

// The NixOS renderings of hostname, timezone, sysctl, mount, systemdConfig,
// sudoers and networkConnection (the `basics` sample play), evaluated with
// the real NixOS module system of the vendored nixos-eval kit (NixOS modules
// and lib of 2024-08, stub packages) down to the toplevel derivation, and the
// option values they set read back. The sudoers file NixOS writes from them
// is checked with this machine's visudo.

const dir = mkdtempSync(join(tmpdir(), 'hostform-nixos-eval-basics-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const OPTIONS = [
  'networking.hostName',
  'networking.domain',
  'networking.fqdn',
  'time.timeZone',
  'boot.kernel.sysctl',
  'fileSystems."/srv/media"',
  'fileSystems."/srv/www"',
  'fileSystems."/var/cache/build"',
  'services.journald.extraConfig',
  'services.logind.extraConfig',
  'services.resolved.extraConfig',
  'services.timesyncd.extraConfig',
  'systemd.extraConfig',
  'environment.etc."systemd/journald.conf".text',
  'security.sudo.extraRules',
  'security.sudo.configFile',
  'networking.interfaces.eth1.ipv4.addresses',
  'networking.interfaces.eth1.ipv6.addresses',
  'networking.interfaces.eth1.useDHCP',
  'networking.interfaces.eth1.mtu',
  'networking.defaultGateway',
  'networking.defaultGateway6',
  'networking.nameservers',
  'networking.search',
] as const;

t.test('nixos basics: the sample play evaluates as a whole NixOS system, with the option values its tasks set', async (t) => {
  const out = await evaluateTasks(SAMPLE_PLAYS['basics'] ?? [], { values: OPTIONS });
  t.match(out.drvPath, /^\/nix\/store\/.*nixos-system-web1-.*\.drv$/);
  t.same(out.missingValues, []);
  t.same(out.failedAssertions, []);
  const v = out.values;
  t.same([v['networking.hostName'], v['networking.domain'], v['networking.fqdn'], v['time.timeZone']], ['web1', 'example.com', 'web1.example.com', 'Europe/Berlin']);
  t.match(v['boot.kernel.sysctl'], { 'net.ipv4.ip_forward': 1, 'net.ipv4.tcp_rmem': '4096 87380 6291456', 'kernel.core_pattern': '|/bin/false %p "${x}"' }, 'values arrive exactly, ${ and quotes included');
  t.match(v['fileSystems."/srv/media"'], { device: 'nas.lan:/export/media', fsType: 'nfs4', options: ['ro', 'soft', 'x-systemd.automount', 'noauto'] });
  t.match(v['fileSystems."/srv/www"'], { device: '/data/www', fsType: 'none', options: ['bind'] });
  t.match(v['fileSystems."/var/cache/build"'], { device: 'tmpfs', fsType: 'tmpfs', options: ['size=2G', 'noauto'] });
  t.equal(v['services.journald.extraConfig'], 'SystemMaxUse=500M\nCompress=yes\n');
  t.equal(v['services.logind.extraConfig'], 'HandleLidSwitch=ignore\n');
  t.equal(v['services.resolved.extraConfig'], 'DNSSEC=no\nDNS=192.0.2.53 192.0.2.54\n');
  t.equal(v['services.timesyncd.extraConfig'], 'NTP=ntp.example.com\n');
  t.equal(v['systemd.extraConfig'], 'DefaultTimeoutStopSec=30s\n');
  t.match(v['environment.etc."systemd/journald.conf".text'], /^\[Journal\]\n[\s\S]*SystemMaxUse=500M\nCompress=yes\n\s*$/, 'journald.conf ends with our lines, so they win');
  t.match(v['security.sudo.extraRules'], [
    {},
    {},
    { users: ['deploy'], groups: ['ops'], runAs: 'root', host: 'ALL', commands: [{ command: '/usr/bin/systemctl restart app', options: ['NOPASSWD'] }] },
    { users: ['deploy'], groups: ['ops'], runAs: 'root', commands: [{ command: '/usr/bin/printf %s a\\,b c\\:d', options: [] }] },
  ]);
  t.same(v['networking.interfaces.eth1.ipv4.addresses'], [
    { address: '192.0.2.10', prefixLength: 24 },
    { address: '198.51.100.7', prefixLength: 24 },
  ]);
  t.same(v['networking.interfaces.eth1.ipv6.addresses'], [{ address: '2001:db8::10', prefixLength: 64 }]);
  t.same([v['networking.interfaces.eth1.useDHCP'], v['networking.interfaces.eth1.mtu']], [false, 9000]);
  t.match(v['networking.defaultGateway'], { address: '192.0.2.1', interface: 'eth1' });
  t.match(v['networking.defaultGateway6'], { address: '2001:db8::1', interface: 'eth1' });
  t.same([v['networking.nameservers'], v['networking.search']], [['192.0.2.53'], ['lab.example']]);

  const sudoers = join(dir, 'sudoers');
  writeFileSync(sudoers, String(v['security.sudo.configFile']));
  const visudo = spawnSync('visudo', ['-cf', sudoers], { encoding: 'utf8' });
  t.equal(visudo.status, 0, `visudo accepts the sudoers NixOS writes: ${visudo.stdout}${visudo.stderr}`);
  t.match(String(v['security.sudo.configFile']), /^deploy +ALL=\(root\) +NOPASSWD: \/usr\/bin\/systemctl restart app$/m);
  t.match(String(v['security.sudo.configFile']), /^%ops +ALL=\(root\) +\/usr\/bin\/printf %s a\\,b c\\:d$/m, 'the second command does not get the first one\'s NOPASSWD');
});
