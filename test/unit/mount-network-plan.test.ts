import t from 'tap';
import { PlannedState } from '../../lib/module/resources.ts';
import type { HostView, PlanContext } from '../../lib/module/types.ts';
import { parsePathProbe } from '../../modules/file/observe.ts';
import { parseMountPoint, pairs } from '../../modules/mount/observe.ts';
import { escapePath, resolveMount } from '../../modules/mount/params.ts';
import { planMount } from '../../modules/mount/plan.ts';
import { refuseCuttingOff, undoScript } from '../../modules/network/apply.ts';
import { parseConnection, terseFields } from '../../modules/network/observe.ts';
import { canonicalIp, connectionUuid, resolveConnection } from '../../modules/network/params.ts';
import { planConnection } from '../../modules/network/plan.ts';
import type { UnitState } from '../../modules/systemd/observe.ts';
import { pathProbeOutput } from '../support/path-probe.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: {} } as unknown as HostView;
const context = (checkMode = false): PlanContext => ({ host, checkMode, planned: new PlannedState() });
const ok = (stdout: string) => ({ code: 0, stdout, stderr: '' });
const file = (path: string, content: string | undefined, mode = '600') =>
  parsePathProbe(path, ok(pathProbeOutput(content, `${mode} root root`)));

// ── mount ───────────────────────────────────────────────────────────────

t.test('mount: units are named after the path as systemd-escape --path names them', async (t) => {
  // Each pair checked against systemd-escape --path (systemd 252).
  const cases: [string, string][] = [['/srv/hf-nfs', 'srv-hf\\x2dnfs'], ['/', '-'], ['/.hidden', '\\x2ehidden'], ['/a b', 'a\\x20b'], ['/ü', '\\xc3\\xbc'], ['/srv/x.y', 'srv-x.y'], ['/a:b_c', 'a:b_c']];
  for (const [path, escaped] of cases) t.equal(escapePath(path), escaped, path);
});

t.test('mount: the unit holds What, Where, Type and Options, % doubled; network types belong to remote-fs.target', async (t) => {
  const w = resolveMount({ where: '/srv/media', what: 'nas:/export/50%', type: 'nfs4', options: ['ro', 'soft'] });
  t.equal(w.mountUnit, 'srv-media.mount');
  t.equal(w.files[0]?.content, '# Managed by hostform (mount): edits here are replaced on the next run.\n[Unit]\nDescription=Mount /srv/media (hostform)\n\n[Mount]\nWhat=nas:/export/50%%\nWhere=/srv/media\nType=nfs4\nOptions=ro,soft\n\n[Install]\nWantedBy=remote-fs.target\n');
  t.equal(w.files[1]?.content, null, 'no automount unit');
  const auto = resolveMount({ where: '/srv/media', what: 'nas:/export', type: 'nfs', automount: true });
  t.notMatch(auto.files[0]?.content ?? '', /\[Install\]/, 'with automount the mount unit is not enabled itself');
  t.match(auto.files[1]?.content ?? '', /\[Automount\]\nWhere=\/srv\/media\n\n\[Install\]\nWantedBy=remote-fs\.target\n$/);
  t.match(resolveMount({ where: '/x', what: '/dev/sdb1', type: 'xfs', options: ['_netdev'] }).files[0]?.content ?? '', /WantedBy=remote-fs\.target/, '_netdev makes it a network mount');
  t.throws(() => resolveMount({ where: '/x ', what: 'tmpfs' }), /parameter 'where' = "\/x ": starts or ends with a space or tab/);
});

t.test('mount: findmnt -P output is read with its escapes; automount points apart from what is mounted on them', async (t) => {
  t.equal(pairs('SOURCE="a\\x20b" FSTYPE="tmpfs"').get('SOURCE'), 'a b');
  const point = parseMountPoint(ok('helper=yes\nmounted=SOURCE="systemd-1" FSTYPE="autofs" OPTIONS="rw"\nmounted=SOURCE="nas:/e" FSTYPE="nfs4" OPTIONS="rw,soft"\n'));
  t.same(point, { mounted: { source: 'nas:/e', fstype: 'nfs4', options: 'rw,soft' }, autofs: true, helper: true, fstab: [] });
});

const unit = (over: Partial<UnitState> = {}): UnitState => ({ loadState: 'loaded', activeState: 'inactive', subState: 'dead', unitFileState: 'disabled', needDaemonReload: false, fragmentPath: '', ...over });
const notFound = unit({ loadState: 'not-found', unitFileState: '' });

t.test('mount: a new mount is installed, enabled and started; a mounted one with the same unit is left alone', async (t) => {
  const w = resolveMount({ where: '/srv/cache', what: 'tmpfs', type: 'tmpfs' });
  const fresh = { files: { dir: '/etc/systemd/system', needDaemonReload: [], files: { [w.mountUnit]: null, [w.automountUnit]: null } }, mount: notFound, automount: notFound, point: { autofs: false, helper: true, fstab: [] } };
  t.same(planMount(w, fresh, context()).map((c) => c.summary), ['install /etc/systemd/system/srv-cache.mount', 'enable srv-cache.mount (enabled: no → yes)', 'mount /srv/cache']);
  const done = {
    files: { dir: '/etc/systemd/system', needDaemonReload: [], files: { [w.mountUnit]: w.files[0]?.content ?? null, [w.automountUnit]: null } },
    mount: unit({ activeState: 'active', subState: 'mounted', unitFileState: 'enabled' }),
    automount: notFound,
    point: { mounted: { source: 'tmpfs', fstype: 'tmpfs', options: 'rw' }, autofs: false, helper: true, fstab: [] },
  };
  t.same(planMount(w, done, context()), []);
  t.same(planMount(w, { ...done, point: { ...done.point, mounted: { source: 'other', fstype: 'tmpfs', options: 'rw' } } }, context()).map((c) => c.summary), ['mount /srv/cache anew (now other (tmpfs))']);
  const bind = resolveMount({ where: '/srv/www', what: '/data/www', options: ['bind'] });
  t.same(planMount(bind, { ...done, files: { dir: '/etc/systemd/system', needDaemonReload: [], files: { [bind.mountUnit]: bind.files[0]?.content ?? null, [bind.automountUnit]: null } }, point: { ...done.point, mounted: { source: '/dev/vda[/data/www]', fstype: 'ext4', options: 'rw' } } }, context()), [], 'a bind mount shows its device: only its presence is compared');
});

t.test('mount: a missing mount helper fails before anything changes (check mode only notes nothing), fstab is refused', async (t) => {
  const w = resolveMount({ where: '/srv/nfs', what: 'nas:/e', type: 'nfs' });
  const observed = { files: { dir: '/etc/systemd/system', needDaemonReload: [], files: { [w.mountUnit]: null, [w.automountUnit]: null } }, mount: notFound, automount: notFound, point: { autofs: false, helper: false, fstab: [] } };
  t.throws(() => planMount(w, observed, context()), /mounting nfs needs mount\.nfs, which is not installed on this host: install nfs-utils first/);
  t.equal(planMount(w, observed, context(true)).length, 3, 'check mode: an earlier task may install nfs-utils');
  t.throws(() => planMount(w, { ...observed, point: { ...observed.point, fstab: ['nas:/e /srv/nfs nfs defaults 0 0'] } }, context()), /\/srv\/nfs is also in \/etc\/fstab/);
});

// ── networkConnection ───────────────────────────────────────────────────

const lan = resolveConnection({ name: 'lan', interface: 'eth0', ipv4: { method: 'manual', address: ['192.0.2.10/24'], gateway: '192.0.2.1', dns: ['192.0.2.53'] }, ipv6: { method: 'manual', address: '2001:DB8:0:0::10/64' } });

t.test('networkConnection: the keyfile has a UUID made from the name, and canonical IPv6 addresses', async (t) => {
  t.equal(connectionUuid('lan'), lan.uuid);
  t.match(lan.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.equal(canonicalIp('2001:DB8:0:0::10/64'), '2001:db8::10/64');
  t.equal(
    lan.content,
    `# Managed by hostform (networkConnection): edits here are replaced on the next run.\n[connection]\nid=lan\nuuid=${lan.uuid}\ntype=ethernet\ninterface-name=eth0\nautoconnect=true\n\n[ipv4]\nmethod=manual\naddress1=192.0.2.10/24\ngateway=192.0.2.1\ndns=192.0.2.53;\n\n[ipv6]\nmethod=manual\naddress1=2001:db8::10/64\n`,
  );
  t.match(lan.revertId, /^network-lan-[0-9a-f]{6}$/);
});

const probeOutput = (profileFields: string | undefined, activeUuid = '') =>
  ok(
    [
      'nm=running',
      '@profiles',
      `${lan.uuid}:yes:${activeUuid === lan.uuid ? 'eth0' : ''}:/etc/NetworkManager/system-connections/lan.nmconnection:lan`,
      'aaaa-ext:no:eth0:/run/NetworkManager/system-connections/eth0.nmconnection:eth0',
      '@device',
      `GENERAL.CON-UUID:${activeUuid}`,
      '@addresses',
      '[{"ifname":"eth0","addr_info":[{"family":"inet","local":"10.0.0.5","prefixlen":24,"scope":"global"},{"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"}]}]',
      '@routes4',
      '[{"dst":"default","gateway":"10.0.0.1","protocol":"static","metric":100},{"dst":"10.0.0.0/24","protocol":"kernel"}]',
      '@routes6',
      '[]',
      ...(profileFields === undefined ? [] : ['@profile', profileFields]),
    ].join('\n') + '\n',
  );
const fields = (over: Record<string, string> = {}) =>
  Object.entries({
    'connection.interface-name': 'eth0',
    'connection.type': '802-3-ethernet',
    'connection.autoconnect': 'yes',
    '802-3-ethernet.mtu': 'auto',
    'ipv4.method': 'manual',
    'ipv4.addresses': '192.0.2.10/24',
    'ipv4.gateway': '192.0.2.1',
    'ipv4.dns': '192.0.2.53',
    'ipv4.dns-search': '',
    'ipv6.method': 'manual',
    'ipv6.addresses': '2001:db8::10/64',
    'ipv6.gateway': '',
    'ipv6.dns': '',
    'ipv6.dns-search': '',
    'GENERAL.STATE': 'activated',
    ...over,
  })
    .map(([k, v]) => `${k}:${v}`)
    .join('\n');

t.test('networkConnection: the probe output is read: profiles, the interface, its addresses and routes, our profile', async (t) => {
  t.same(terseFields('u:yes::/run/a\\:b.nmconnection:name\\:x'), ['u', 'yes', '', '/run/a:b.nmconnection', 'name:x']);
  const observed = parseConnection(probeOutput(fields(), lan.uuid));
  t.equal(observed.nm, 'running');
  t.same(observed.device, { activeUuid: lan.uuid, addresses: [{ family: 'inet', local: '10.0.0.5', prefixlen: 24 }], routes: [{ dst: 'default', family: 4, gateway: '10.0.0.1', metric: 100 }] });
  t.equal(observed.profile?.active, true);
  t.same(parseConnection(ok('nm=stopped\n')), { nm: 'stopped', profiles: [] });
});

t.test('networkConnection: keyfile, fields and activation are compared apart', async (t) => {
  const base = (profile: string | undefined, active: string, content: string | null = lan.content) => ({ file: file(lan.path, content ?? undefined), ...parseConnection(probeOutput(profile, active)) });
  t.same(planConnection(lan, base(fields(), lan.uuid), context()), [], 'all three agree');
  t.same(planConnection(lan, base(fields({ 'ipv4.dns': '9.9.9.9' }), lan.uuid), context()).map((c) => [c.summary, c.diff]), [
    ["NetworkManager's profile lan differs from /etc/NetworkManager/system-connections/lan.nmconnection in ipv4.dns: reload it", '- ipv4.dns 9.9.9.9\n+ ipv4.dns 192.0.2.53'],
    ['bring lan up on eth0 (active there now: lan)', undefined],
  ]);
  const takeOver = planConnection(lan, base(undefined, 'aaaa-ext', null), context());
  t.same(takeOver.map((c) => c.summary), ['create /etc/NetworkManager/system-connections/lan.nmconnection', 'bring lan up on eth0 (active there now: eth0, in memory only)']);
  t.same(takeOver[0]?.action.before, { addresses: [{ family: 'inet', local: '10.0.0.5', prefixlen: 24 }], routes: [{ dst: 'default', family: 4, gateway: '10.0.0.1', metric: 100 }] }, 'what the revert puts back: addresses and routes, as no profile with a file was active');
  t.throws(() => planConnection(lan, { file: file(lan.path, undefined), ...parseConnection(ok('nm=stopped\n')) }, context()), /NetworkManager is not running on this host: networkConnection needs it/);
  t.equal(planConnection(lan, { file: file(lan.path, undefined), ...parseConnection(ok('nm=stopped\n')) }, context(true))[0]?.note, 'NetworkManager is not running on this host, so only the keyfile was compared');
});

t.test('networkConnection: a change that takes away the address hostform logs in at is refused; DHCP and other addresses are left to the revert', async (t) => {
  const login = { user: 'root', uid: 0, groups: [], home: '/root', clientAddress: '10.0.0.1', serverAddress: '10.0.0.5', serverPort: 22 };
  const before = { addresses: [{ family: 'inet' as const, local: '10.0.0.5', prefixlen: 24 }], routes: [] };
  t.throws(() => refuseCuttingOff(lan, { write: true, before }, login), /hostform's own login arrives at 10\.0\.0\.5 on eth0, and the new configuration of lan would take that address off/);
  t.doesNotThrow(() => refuseCuttingOff(resolveConnection({ name: 'lan', interface: 'eth0', ipv4: { method: 'manual', address: ['10.0.0.5/24', '192.0.2.10/24'] } }), { write: true, before }, login));
  t.doesNotThrow(() => refuseCuttingOff(resolveConnection({ name: 'lan', interface: 'eth0' }), { write: true, before }, login), 'DHCP may hand it out again');
  t.doesNotThrow(() => refuseCuttingOff(lan, { write: true, before: { addresses: [], routes: [] } }, login), 'another interface');
  t.throws(() => refuseCuttingOff(resolveConnection({ name: 'lan', interface: 'eth0', state: 'absent' }), { write: true, before }, login), /removing lan would take the interface down/);
});

t.test('networkConnection: the way back restores the keyfile, then the previous profile, or else the addresses and routes', async (t) => {
  const external = undoScript(lan, { write: true, before: { addresses: [{ family: 'inet', local: '10.0.0.5', prefixlen: 24 }], routes: [{ dst: 'default', family: 4, gateway: '10.0.0.1', metric: 100 }] } }).text;
  t.match(external, /rm -f -- \/etc\/NetworkManager\/system-connections\/lan\.nmconnection\nnmcli connection reload\nif ! false; then/);
  t.match(external, /ip -4 address add 10\.0\.0\.5\/24 dev eth0 ; ip -4 route replace default via 10\.0\.0\.1 dev eth0 metric 100 ; true/);
  t.notMatch(external, /\bexit\b/, 'no exit: the self-revert removes its script after it');
  const profile = undoScript(lan, { write: true, previous: 'old', before: { profile: 'u-1', addresses: [], routes: [] } }).text;
  t.match(profile, new RegExp(`printf %s ${Buffer.from('old').toString('base64')} \\| base64 -d`));
  t.match(profile, /if ! nmcli --wait 60 connection up uuid u-1; then/);
});
