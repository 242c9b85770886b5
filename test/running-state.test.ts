import t from 'tap';
import { sshd } from '../modules/sshd/index.ts';
import { unit } from '../modules/systemd/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// Issue 14: "the host runs the old configuration while hostform reports it in
// sync (sshd's probe reads only files, not what the daemon runs)". A file
// that is right but that its daemon has not read since it changed is
// planned as a reload: what the pending-actions journal cannot know about
// (a reload lost before it existed, a file changed by hand).

const [h] = (await hosts.up(1, 'el9')) as [TestHost];
t.teardown(() => hosts.down());

t.test('systemd: a unit file that is right but that the manager has not read is planned as a daemon-reload, then nothing', async (t) => {
  const service = (exec: string) => unit({ name: 'hf-stale.service', sections: { Service: { ExecStart: exec } } });
  t.same(statuses(await runTasks(h.inventoryEntry(), [service('/usr/bin/sleep infinity')], 'apply')), ['changed', 'changed']);
  // Loaded (a unit nothing holds is unloaded, and read afresh when next asked about).
  await h.exec('systemctl start hf-stale.service');
  t.teardown(() => h.exec('systemctl stop hf-stale.service'));
  // By hand, the way a lost daemon-reload leaves it: the new file on disk, the manager still on the old one.
  await h.exec("sed -i 's|sleep infinity|sleep 1000|' /etc/systemd/system/hf-stale.service");
  t.equal((await h.exec('systemctl show -p NeedDaemonReload --value hf-stale.service')).stdout.trim(), 'yes');

  const check = await runTasks(h.inventoryEntry(), [service('/usr/bin/sleep 1000')], 'check');
  t.same(statuses(check), ['changed'], 'check mode: drift, though the file matches');
  t.equal(tasksOf(check)[0]?.changes[0]?.summary, 'daemon-reload: the manager has not read the current files of hf-stale.service (NeedDaemonReload)');
  const apply = await runTasks(h.inventoryEntry(), [service('/usr/bin/sleep 1000')], 'apply');
  t.same(statuses(apply), ['changed', 'changed'], errors(apply));
  t.equal(tasksOf(apply)[1]?.name, 'deferred: systemctl daemon-reload');
  t.equal((await h.exec('systemctl show -p NeedDaemonReload --value hf-stale.service')).stdout.trim(), 'no', 'the manager has read it');
  t.match((await h.exec('systemctl show -p ExecStart --value hf-stale.service')).stdout, /sleep 1000/);
  t.same(statuses(await runTasks(h.inventoryEntry(), [service('/usr/bin/sleep 1000')], 'apply')), ['ok'], 'then nothing');
});

t.test('sshd: a drop-in that is right but newer than the running sshd is planned as a reload (the daemon then listens where the file says), then nothing', async (t) => {
  const ports = sshd.config({ options: { Port: [22, 2222] } });
  const path = '/etc/ssh/sshd_config.d/00-hostform.conf';
  t.teardown(() => h.exec(`rm -f ${path} && systemctl reload ssh`));
  const listening = async () => (await h.exec('ss -Htln sport = :2222 | grep -c .')).stdout.trim() !== '0';
  t.same(statuses(await runTasks(h.inventoryEntry(), [ports], 'apply')), ['changed', 'changed']);
  t.ok(await listening(), 'hostform installed it and reloaded sshd');
  // The drop-in taken away and sshd reloaded without it, then put back by hand (a copy: a new file time), with no reload.
  await h.exec(`mv ${path} /root/dropin && systemctl reload ssh && sleep 0.5 && cp /root/dropin ${path} && chmod 600 ${path}`);
  t.notOk(await listening(), 'sshd runs without it');

  const check = await runTasks(h.inventoryEntry(), [ports], 'check');
  t.same(statuses(check), ['changed'], 'check mode: drift, though the file matches');
  t.equal(tasksOf(check)[0]?.changes[0]?.summary, `reload sshd: it has not read ${path} since it changed (the file is newer than sshd's last start or reload)`);
  const apply = await runTasks(h.inventoryEntry(), [ports], 'apply');
  t.same(statuses(apply), ['changed', 'changed'], errors(apply));
  t.equal(tasksOf(apply)[1]?.name, 'deferred: sshd reload');
  t.ok(await listening(), 'sshd listens on 2222 again');
  t.same(statuses(await runTasks(h.inventoryEntry(), [ports], 'apply')), ['ok'], 'then nothing');
});
