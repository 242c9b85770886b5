import t from 'tap';
import { PlannedState } from '../../lib/module/resources.ts';
import type { HostView, PlanContext } from '../../lib/module/types.ts';
import { parsePathProbe } from '../../modules/file/observe.ts';
import { parseHostname } from '../../modules/hostname/observe.ts';
import { planHostname } from '../../modules/hostname/plan.ts';
import { parseCatConfig } from '../../modules/shared/cat-config.ts';
import { sudoersCommand, resolveSudoers } from '../../modules/sudoers/params.ts';
import { planSudoers } from '../../modules/sudoers/plan.ts';
import { assignments, parseRuntime } from '../../modules/sysctl/observe.ts';
import { resolveSysctl } from '../../modules/sysctl/params.ts';
import { planSysctl } from '../../modules/sysctl/plan.ts';
import { sectionAssignments } from '../../modules/systemd-config/observe.ts';
import { resolveSystemdConfig } from '../../modules/systemd-config/params.ts';
import { planSystemdConfig } from '../../modules/systemd-config/plan.ts';
import { zoneOf } from '../../modules/timezone/observe.ts';
import { planTimezone } from '../../modules/timezone/plan.ts';
import { pathProbeOutput } from '../support/path-probe.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: {} } as unknown as HostView;
const context = (checkMode = false): PlanContext => ({ host, checkMode, planned: new PlannedState() });
const ok = (stdout: string) => ({ code: 0, stdout, stderr: '' });
const file = (path: string, content: string | undefined, mode = '644') =>
  parsePathProbe(path, ok(pathProbeOutput(content, `${mode} root root`)));

// ── hostname, timezone ──────────────────────────────────────────────────

t.test('hostname: /etc/hostname and the kernel name are compared apart, and only what differs is set', async (t) => {
  const observed = parseHostname(ok('static=web1\ntransient=localhost\ntool=yes\n'));
  t.same(observed, { static: 'web1', transient: 'localhost', hostnamectl: true });
  const [change, ...rest] = planHostname({ name: 'web1' }, observed, context());
  t.same(rest, []);
  t.equal(change?.summary, 'host name transient localhost → web1');
  t.same(change?.action, { static: false, transient: true });
  t.same(planHostname({ name: 'web1' }, { ...observed, transient: 'web1' }, context()), []);
  t.equal(planHostname({ name: 'web1' }, parseHostname(ok('static=\ntransient=x\ntool=yes\n')), context())[0]?.summary, 'host name static (none) → web1, transient x → web1');
  t.throws(() => planHostname({ name: 'web2' }, { ...observed, hostnamectl: false }, context()), /hostnamectl is not installed/);
});

t.test('timezone: the zone is read from the /etc/localtime link, and an unknown zone fails before anything changes', async (t) => {
  t.equal(zoneOf('../usr/share/zoneinfo/America/Argentina/Buenos_Aires'), 'America/Argentina/Buenos_Aires');
  t.equal(zoneOf('/usr/share/zoneinfo/UTC'), 'UTC');
  t.equal(zoneOf('a regular file'), '');
  const observed = { current: 'UTC', localtime: '/usr/share/zoneinfo/UTC', known: true, timedatectl: true };
  t.same(planTimezone({ zone: 'UTC' }, observed, context()), []);
  t.equal(planTimezone({ zone: 'Europe/Berlin' }, observed, context())[0]?.summary, 'time zone UTC → Europe/Berlin');
  t.equal(planTimezone({ zone: 'UTC' }, { ...observed, current: '', localtime: 'a regular file' }, context())[0]?.summary, 'time zone (/etc/localtime: a regular file) → UTC');
  t.throws(() => planTimezone({ zone: 'Mars/Base' }, { ...observed, known: false }, context()), /unknown time zone 'Mars\/Base'/);
});

// ── sysctl ──────────────────────────────────────────────────────────────

const sysctlWanted = resolveSysctl({ settings: { 'vm.swappiness': 10, 'net.ipv4.ip_forward': 1, 'net.ipv4.tcp_rmem': '4096 87380 6291456' } });
const runtime = (values: Record<string, string | null>, uid = 0, writable = true) =>
  parseRuntime(sysctlWanted, ok(`uid=${uid}\n${sysctlWanted.settings.map(([k]) => (values[k] === null ? 'missing\n' : `${writable ? 'rw' : 'ro'}\n${Buffer.from(values[k] ?? '').toString('base64')}`)).join('\n')}\n`));
const allSet = { 'net.ipv4.ip_forward': '1', 'net.ipv4.tcp_rmem': '4096\t87380\t6291456', 'vm.swappiness': '10' };

t.test('sysctl: the file holds the settings sorted by name, one "key = value" a line', async (t) => {
  t.equal(sysctlWanted.path, '/etc/sysctl.d/90-hostform.conf');
  t.equal(sysctlWanted.content, '# Managed by hostform (sysctl): edits here are replaced on the next run.\nnet.ipv4.ip_forward = 1\nnet.ipv4.tcp_rmem = 4096 87380 6291456\nvm.swappiness = 10\n');
});

t.test('sysctl: the running values are compared word by word, and only differing ones are set', async (t) => {
  const observed = { file: file(sysctlWanted.path, sysctlWanted.content), config: [], ...runtime(allSet) };
  t.same(planSysctl(sysctlWanted, observed, context()), [], 'tabs in the kernel value are no drift');
  const drift = planSysctl(sysctlWanted, { ...observed, ...runtime({ ...allSet, 'vm.swappiness': '60' }) }, context());
  t.same(drift.map((c) => [c.summary, c.action]), [['vm.swappiness 60 → 10 (running kernel)', { do: 'runtime', key: 'vm.swappiness', value: '10' }]]);
  t.same(planSysctl(sysctlWanted, { ...observed, file: file(sysctlWanted.path, undefined) }, context()).map((c) => c.summary), ['create /etc/sysctl.d/90-hostform.conf']);
});

t.test('sysctl: a missing parameter, a read-only one that differs, and a non-root login are refused with the reason', async (t) => {
  const base = { file: file(sysctlWanted.path, undefined), config: [] };
  t.throws(() => planSysctl(sysctlWanted, { ...base, ...runtime({ ...allSet, 'vm.swappiness': null }) }, context()), /vm\.swappiness: the running kernel has no such parameter/);
  t.throws(() => planSysctl(sysctlWanted, { ...base, ...runtime({ ...allSet, 'vm.swappiness': '60' }, 0, false) }, context()), /vm\.swappiness is 60 and cannot become 10 on this host: \/proc\/sys\/vm\/swappiness is read-only here/);
  t.same(planSysctl(sysctlWanted, { ...base, ...runtime(allSet, 0, false) }, context()).map((c) => c.summary), ['create /etc/sysctl.d/90-hostform.conf'], 'read-only but already right: only the file');
  t.throws(() => planSysctl(sysctlWanted, { ...base, ...runtime(allSet, 1000) }, context()), /needs root: set become: true/);
});

t.test('sysctl: assignments are read as systemd-sysctl reads them; a later file with another value is refused', async (t) => {
  t.same([...assignments('# c\n; c\n-net.ipv4.ip_forward = 0\nnet/ipv4/conf/eth0.100/rp_filter=2\nnet.ipv4.conf.*.rp_filter = 1\n  vm.swappiness=  5  \n')], [
    ['net.ipv4.ip_forward', '0'],
    ['net.ipv4.conf.eth0/100.rp_filter', '2'],
    ['vm.swappiness', '5'],
  ]);
  const config = parseCatConfig(
    'sysctl.d',
    ok('# /usr/lib/sysctl.d/50-default.conf\nvm.swappiness = 30\n# /etc/sysctl.d/60-x.conf\n\n# /etc/sysctl.d/99-sysctl.conf\nnet.ipv4.ip_forward = 0\n'),
    (p) => p.includes('/sysctl.d/'),
  );
  t.same(config.map((f) => f.path), ['/usr/lib/sysctl.d/50-default.conf', '/etc/sysctl.d/99-sysctl.conf'], 'a comment naming a file is not a heading unless a blank line comes before it');
  t.throws(
    () => planSysctl(sysctlWanted, { file: file(sysctlWanted.path, undefined), config, ...runtime(allSet) }, context()),
    /net\.ipv4\.ip_forward = 0 in \/etc\/sysctl\.d\/99-sysctl\.conf/,
  );
  const last = resolveSysctl({ settings: { 'net.ipv4.ip_forward': 1 }, file: '99-zz.conf' });
  t.doesNotThrow(() => planSysctl(last, { file: file(last.path, undefined), config, uid: 0, runtime: new Map([['net.ipv4.ip_forward', { state: 'present', writable: true, value: '1' }]]) }, context()));
});

// ── systemdConfig ───────────────────────────────────────────────────────

t.test('systemdConfig: the drop-in has the component\'s section, yes/no for booleans, lists as words', async (t) => {
  const w = resolveSystemdConfig({ component: 'journald', settings: { SystemMaxUse: '500M', Compress: true, ForwardToSyslog: false, MaxRetentionSec: 0 } });
  t.equal(w.path, '/etc/systemd/journald.conf.d/hostform.conf');
  t.equal(w.content, '# Managed by hostform (systemdConfig): edits here are replaced on the next run.\n[Journal]\nSystemMaxUse=500M\nCompress=yes\nForwardToSyslog=no\nMaxRetentionSec=0\n');
  t.equal(resolveSystemdConfig({ component: 'resolved', name: '10-dns', settings: { DNS: ['192.0.2.1', '192.0.2.2'] } }).content?.split('\n').slice(1, 3).join('\n'), '[Resolve]\nDNS=192.0.2.1 192.0.2.2');
  t.equal(resolveSystemdConfig({ component: 'system', settings: { DefaultTimeoutStopSec: '30s' } }).path, '/etc/systemd/system.conf.d/hostform.conf');
  t.throws(() => resolveSystemdConfig({ component: 'logind', settings: { HandleLidSwitch: ' ignore' } }), /parameter 'settings\.HandleLidSwitch' = " ignore": starts or ends with a space or tab/);
  t.throws(() => resolveSystemdConfig({ component: 'logind', settings: { KillExcludeUsers: ['root', 'a\nb'] } }), /parameter 'settings\.KillExcludeUsers\.1'/);
});

t.test('systemdConfig: a drop-in read later overrides only in its own section, and a stopped component is not restarted', async (t) => {
  t.same([...sectionAssignments('[Journal]\nStorage=auto\n[Other]\nStorage=none\n#Storage=x\n', 'Journal')], [['Storage', 'auto']]);
  const w = resolveSystemdConfig({ component: 'journald', settings: { Storage: 'persistent' } });
  const unit = { installed: true, running: true };
  const config = (text: string) => [{ path: '/etc/systemd/journald.conf.d/zz.conf', content: text }];
  t.throws(() => planSystemdConfig(w, { file: file(w.path, undefined), config: config('[Journal]\nStorage=volatile\n'), unit }, context()), /Storage=volatile in \/etc\/systemd\/journald\.conf\.d\/zz\.conf/);
  t.doesNotThrow(() => planSystemdConfig(w, { file: file(w.path, undefined), config: config('[Journal]\nStorage=persistent\n[X]\nStorage=none\n'), unit }, context()));
  t.doesNotThrow(() => planSystemdConfig(w, { file: file(w.path, undefined), config: [{ path: '/etc/systemd/journald.conf.d/00-early.conf', content: '[Journal]\nStorage=none\n' }], unit }, context()), 'an earlier drop-in loses');
  const stopped = planSystemdConfig(w, { file: file(w.path, undefined), config: [], unit: { installed: true, running: false } }, context());
  t.same([stopped[0]?.summary, stopped[0]?.note, stopped[0]?.action.reread], [
    'create /etc/systemd/journald.conf.d/hostform.conf and leave systemd-journald.service as it is (not running)',
    'systemd-journald.service is not running: it reads the drop-in when it starts',
    false,
  ]);
});

// ── sudoers ─────────────────────────────────────────────────────────────

t.test('sudoers: each command is a line of its own with its tags; , : = # are escaped', async (t) => {
  t.equal(sudoersCommand('/usr/bin/printf %s a,b c:d e=f g#h'), '/usr/bin/printf %s a\\,b c\\:d e\\=f g\\#h');
  const w = resolveSudoers({ name: 'ops', rules: [{ users: ['alice'], groups: ['ops', 'wheel'], runAs: 'ALL:ALL', commands: [{ command: '/usr/bin/systemctl restart app', options: ['NOPASSWD', 'SETENV'] }, 'ALL'] }] });
  t.equal(w.content, '# Managed by hostform (sudoers): edits here are replaced on the next run.\nalice,%ops,%wheel ALL=(ALL:ALL) NOPASSWD: SETENV: /usr/bin/systemctl restart app\nalice,%ops,%wheel ALL=(ALL:ALL) ALL\n');
  t.equal(resolveSudoers({ name: 'x', rules: [{ users: ['bob'], commands: ['/usr/bin/id'] }] }).lines[0]?.runAs, 'root', 'runAs is root unless said');
});

t.test('sudoers: a file with the wrong mode is drift; sudo not reading sudoers.d is an error', async (t) => {
  const w = resolveSudoers({ name: 'x', rules: [{ users: ['bob'], commands: ['/usr/bin/id'] }] });
  t.same(planSudoers(w, { file: file(w.path, w.content!, '440'), setup: 'include' }, context()), []);
  t.equal(planSudoers(w, { file: file(w.path, w.content!, '644'), setup: 'include' }, context())[0]?.summary, 'mode of /etc/sudoers.d/x 0644 → 0440');
  t.throws(() => planSudoers(w, { file: file(w.path, undefined), setup: 'noinclude' }, context()), /\/etc\/sudoers does not read \/etc\/sudoers\.d/);
  t.throws(() => planSudoers(w, { file: file(w.path, undefined), setup: 'missing' }, context()), /sudo is not installed/);
  t.equal(planSudoers(w, { file: file(w.path, undefined), setup: 'missing' }, context(true)).length, 1, 'check mode plans it: an earlier task may install sudo');
});
