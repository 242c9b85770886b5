import t from 'tap';
import { hostname } from '../modules/hostname/index.ts';
import { timezone } from '../modules/timezone/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// hostname and timezone on an el9-like container: hostnamectl and timedatectl
// through systemd-hostnamed and systemd-timedated, as on RHEL 9.

const [h] = (await hosts.up(1, 'el9')) as [TestHost];
t.teardown(() => hosts.down());

const on = async (cmd: string) => (await h.exec(cmd, { timeoutMs: 60_000 })).stdout;
const original = (await on('uname -n')).trim();
// sudo warns about a name it cannot resolve; the harness's logins do not use sudo, but keep the host as it was.
t.teardown(() => h.exec(`hostnamectl set-hostname ${original}`));

t.test('hostname and timezone: invalid parameters fail before any host is touched, naming task, parameter and value', async (t) => {
  await t.rejects(runTasks(h.inventoryEntry(), [hostname({ name: 'Web_1' })], 'apply'), /task 'hostname Web_1' \(hostname\): parameter 'name' = "Web_1": must be a host name of lower-case letters/);
  await t.rejects(runTasks(h.inventoryEntry(), [hostname({ name: 'web1' }), timezone({ zone: '../etc/passwd' })], 'apply'), /parameter 'zone' = "\.\.\/etc\/passwd": must be a time zone name/);
  t.equal((await on('uname -n')).trim(), original, 'the valid task before it did not run either');
});

t.test('hostname: the first run sets the static and transient name, the second changes nothing', async (t) => {
  const task = hostname({ name: 'web1.example.com' });
  const first = await runTasks(h.inventoryEntry(), [task], 'apply');
  t.same(statuses(first), ['changed'], errors(first));
  t.match(tasksOf(first)[0]?.changes[0]?.summary, `host name static ${original} → web1.example.com, transient ${original} → web1.example.com`);
  t.equal(await on('cat /etc/hostname'), 'web1.example.com\n');
  t.equal(await on('uname -n'), 'web1.example.com\n');
  t.same(statuses(await runTasks(h.inventoryEntry(), [task], 'apply')), ['ok']);
});

t.test('hostname: check after a hand change of the transient name reports exactly that and leaves the host untouched', async (t) => {
  await on('hostname other-name');
  const report = await runTasks(h.inventoryEntry(), [hostname({ name: 'web1.example.com' })], 'check');
  t.same(statuses(report), ['changed']);
  t.same(tasksOf(report)[0]?.changes, [{ summary: 'host name transient other-name → web1.example.com', diff: '- transient other-name\n+ transient web1.example.com' }]);
  t.equal(await on('uname -n'), 'other-name\n', 'check mode changed nothing');
  t.equal(await on('cat /etc/hostname'), 'web1.example.com\n');
  t.same(statuses(await runTasks(h.inventoryEntry(), [hostname({ name: 'web1.example.com' })], 'apply')), ['changed']);
  t.equal(await on('uname -n'), 'web1.example.com\n', 'apply set only the transient name back');
});

t.test('hostname: a hand edit of /etc/hostname is drift of the static name, and apply puts it back', async (t) => {
  await on('echo edited > /etc/hostname');
  const report = await runTasks(h.inventoryEntry(), [hostname({ name: 'web1.example.com' })], 'check');
  t.same(tasksOf(report)[0]?.changes.map((c) => c.summary), ['host name static edited → web1.example.com']);
  t.same(statuses(await runTasks(h.inventoryEntry(), [hostname({ name: 'web1.example.com' })], 'apply')), ['changed']);
  t.equal(await on('cat /etc/hostname'), 'web1.example.com\n');
});

t.test('timezone: the first run links /etc/localtime to the zone, the second changes nothing', async (t) => {
  const task = timezone({ zone: 'Europe/Berlin' });
  const first = await runTasks(h.inventoryEntry(), [task], 'apply');
  t.same(statuses(first), ['changed'], errors(first));
  t.match(tasksOf(first)[0]?.changes[0]?.summary, /^time zone Etc\/UTC → Europe\/Berlin$/);
  t.match(await on('readlink /etc/localtime'), /zoneinfo\/Europe\/Berlin$/m);
  t.match(await on('timedatectl show -p Timezone --value'), /^Europe\/Berlin$/m, 'timedated agrees');
  t.same(statuses(await runTasks(h.inventoryEntry(), [task], 'apply')), ['ok']);
});

t.test('timezone: check after a hand change reports exactly that and leaves the host untouched', async (t) => {
  await on('ln -sf ../usr/share/zoneinfo/Asia/Tokyo /etc/localtime');
  const report = await runTasks(h.inventoryEntry(), [timezone({ zone: 'Europe/Berlin' })], 'check');
  t.same(tasksOf(report)[0]?.changes, [{ summary: 'time zone Asia/Tokyo → Europe/Berlin', diff: '- time zone Asia/Tokyo\n+ time zone Europe/Berlin' }]);
  t.match(await on('readlink /etc/localtime'), /Asia\/Tokyo$/m, 'check mode changed nothing');
  t.same(statuses(await runTasks(h.inventoryEntry(), [timezone({ zone: 'Europe/Berlin' })], 'apply')), ['changed']);
  t.match(await on('readlink /etc/localtime'), /Europe\/Berlin$/m, 'apply put it back, although timedated still believed it was Europe/Berlin');
});

t.test('timezone: a zone the host does not have fails naming it, and nothing changes', async (t) => {
  const report = await runTasks(h.inventoryEntry(), [timezone({ zone: 'Mars/Olympus_Mons' })], 'apply');
  t.same(statuses(report), ['failed']);
  t.match(errors(report), /unknown time zone 'Mars\/Olympus_Mons': \/usr\/share\/zoneinfo\/Mars\/Olympus_Mons is not a zone file on this host/);
  t.match(await on('readlink /etc/localtime'), /Europe\/Berlin$/m);
});
