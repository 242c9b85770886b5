import t from 'tap';
import { systemdConfig } from '../modules/systemd-config/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// systemdConfig on an el9-like container: journald and logind are running
// there, and the manager's own settings show in `systemctl show`.
// resolved and timesyncd are not installed in the test image (timesyncd is
// masked); their drop-ins are only written, which the not-installed test covers.

const [h] = (await hosts.up(1, 'el9')) as [TestHost];
t.teardown(() => hosts.down());

const on = async (cmd: string) => {
  const r = await h.exec(cmd, { timeoutMs: 60_000 });
  return { ...r, out: `${r.stdout}${r.stderr}` };
};
const since = async () => (await on('systemctl show -p ActiveEnterTimestampMonotonic --value systemd-journald')).stdout.trim();

const journald = systemdConfig({ component: 'journald', settings: { SystemMaxUse: '64M', Compress: false, MaxLevelStore: 'info' } });
const JOURNALD = '/etc/systemd/journald.conf.d/hostform.conf';

t.test('systemdConfig: invalid parameters fail before any host is touched, naming task, parameter and value', async (t) => {
  await t.rejects(runTasks(h.inventoryEntry(), [journald, systemdConfig({ component: 'journald', settings: { SystemMaxUse: '64M\nStorage=none' } })], 'apply'), /parameter 'settings\.SystemMaxUse' = "64M\\nStorage=none": holds a line break/);
  await t.rejects(runTasks(h.inventoryEntry(), [systemdConfig({ component: 'logind', settings: { KillExcludeUsers: 'root \\' } })], 'apply'), /parameter 'settings\.KillExcludeUsers' = "root \\\\": ends in a backslash/);
  await t.rejects(runTasks(h.inventoryEntry(), [systemdConfig({ component: 'sshd' as 'logind', settings: { A: 1 } })], 'apply'), /parameter 'component' = "sshd": must be one of/);
  await t.rejects(runTasks(h.inventoryEntry(), [systemdConfig({ component: 'journald', settings: { 'Bad Key': 1 } })], 'apply'), /must be a setting name/);
  t.equal((await on(`test -e ${JOURNALD}`)).code, 1, 'the valid task before them did not run either');
});

t.test('systemdConfig: the first run writes the drop-in and restarts journald once, the second changes nothing', async (t) => {
  const started = await since();
  const first = await runTasks(h.inventoryEntry(), [journald, systemdConfig({ component: 'journald', name: 'size', settings: { SystemMaxFileSize: '8M' } })], 'apply');
  t.same(statuses(first), ['changed', 'changed', 'changed'], errors(first));
  t.same(tasksOf(first).map((r) => r.name), [`journald drop-in ${JOURNALD}`, 'journald drop-in /etc/systemd/journald.conf.d/size.conf', 'deferred: reload systemd-journald.service'], 'one restart for both drop-ins');
  t.equal((await on(`cat ${JOURNALD}`)).stdout, '# Managed by hostform (systemdConfig): edits here are replaced on the next run.\n[Journal]\nSystemMaxUse=64M\nCompress=no\nMaxLevelStore=info\n');
  t.not(await since(), started, 'journald was restarted');
  t.match((await on('systemd-analyze cat-config systemd/journald.conf')).stdout, /# \/etc\/systemd\/journald\.conf\.d\/hostform\.conf\n# Managed by hostform/, 'systemd reads it');
  await on('logger -p user.debug hf-debug-line; logger -p user.info hf-info-line; journalctl --sync');
  const stored = (await on('journalctl --no-pager -o cat | grep hf-')).stdout;
  t.equal(stored, 'hf-info-line\n', 'journald uses MaxLevelStore=info: the debug line was not stored');
  const again = await since();
  t.same(statuses(await runTasks(h.inventoryEntry(), [journald], 'apply')), ['ok']);
  t.equal(await since(), again, 'nothing was restarted');
});

t.test('systemdConfig: check after a hand edit reports exactly that drift and leaves the host untouched', async (t) => {
  await on(`sed -i 's/^Compress=no$/Compress=yes/' ${JOURNALD}`);
  const before = (await on(`stat -c %Y ${JOURNALD}; cat ${JOURNALD}`)).stdout;
  const report = await runTasks(h.inventoryEntry(), [journald], 'check');
  t.same(tasksOf(report)[0]?.changes.map((c) => c.summary), [`update ${JOURNALD} and reload or restart systemd-journald.service`]);
  t.match(tasksOf(report)[0]?.changes[0]?.diff, /-Compress=yes\n\+Compress=no/);
  t.equal((await on(`stat -c %Y ${JOURNALD}; cat ${JOURNALD}`)).stdout, before, 'check mode changed nothing');
  t.same(statuses(await runTasks(h.inventoryEntry(), [journald], 'apply')), ['changed', 'changed']);
});

t.test('systemdConfig: the service manager takes its own settings with one daemon-reload', async (t) => {
  const report = await runTasks(h.inventoryEntry(), [systemdConfig({ component: 'system', settings: { DefaultTimeoutStopSec: '42s', DefaultLimitNOFILE: '2048:8192' } })], 'apply');
  t.same(statuses(report), ['changed', 'changed'], errors(report));
  t.equal(tasksOf(report)[1]?.name, 'deferred: systemctl daemon-reload');
  t.match((await on('systemctl show -p DefaultTimeoutStopUSec -p DefaultLimitNOFILE -p DefaultLimitNOFILESoft')).stdout, /DefaultTimeoutStopUSec=42s\nDefaultLimitNOFILE=8192\nDefaultLimitNOFILESoft=2048/);
});

t.test('systemdConfig: logind is reloaded (or restarted where it cannot reload) and keeps running', async (t) => {
  const report = await runTasks(h.inventoryEntry(), [systemdConfig({ component: 'logind', settings: { KillUserProcesses: false, InhibitDelayMaxSec: 7 } })], 'apply');
  t.same(statuses(report), ['changed', 'changed'], errors(report));
  t.match((await on('busctl get-property org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager InhibitDelayMaxUSec')).stdout, /^t 7000000$/m, 'logind uses the new value');
});

t.test('systemdConfig: a component that is not installed gets its drop-in, with a note, and nothing restarted', async (t) => {
  const report = await runTasks(h.inventoryEntry(), [systemdConfig({ component: 'resolved', settings: { DNSSEC: false, DNS: ['192.0.2.53', '192.0.2.54'] } })], 'apply');
  t.same(statuses(report), ['changed'], `${errors(report)}: no deferred restart`);
  t.match(tasksOf(report)[0]?.note, 'systemd-resolved.service is not installed: it reads the drop-in once it is');
  t.equal((await on('cat /etc/systemd/resolved.conf.d/hostform.conf')).stdout, '# Managed by hostform (systemdConfig): edits here are replaced on the next run.\n[Resolve]\nDNSSEC=no\nDNS=192.0.2.53 192.0.2.54\n');
});

t.test('systemdConfig: a drop-in read after this one that sets another value is refused, naming it', async (t) => {
  await on("mkdir -p /etc/systemd/journald.conf.d && printf '[Journal]\\nSystemMaxUse=1G\\n' > /etc/systemd/journald.conf.d/zz-local.conf");
  t.teardown(() => on('rm -f /etc/systemd/journald.conf.d/zz-local.conf'));
  const report = await runTasks(h.inventoryEntry(), [journald], 'check');
  t.same(statuses(report), ['failed']);
  t.match(errors(report), `these drop-ins are read after ${JOURNALD} and would replace its values: SystemMaxUse=1G in /etc/systemd/journald.conf.d/zz-local.conf`);
});

t.test('systemdConfig: absent removes the drop-in and restarts journald once more', async (t) => {
  const report = await runTasks(h.inventoryEntry(), [systemdConfig({ component: 'journald', state: 'absent' }), systemdConfig({ component: 'journald', name: 'size', state: 'absent' })], 'apply');
  t.same(statuses(report), ['changed', 'changed', 'changed'], errors(report));
  t.equal((await on(`ls /etc/systemd/journald.conf.d/`)).stdout, '');
  t.same(statuses(await runTasks(h.inventoryEntry(), [systemdConfig({ component: 'journald', state: 'absent' })], 'apply')), ['ok']);
});
