import t from 'tap';
import type { HostView, Task } from '../lib/index.ts';
import { hardening } from '../roles/index.ts';
import { hosts } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

/**
 * The hardening role's SELinux tasks on the el9-selinux VM (the container hosts of site.test.ts have no
 * SELinux, so the site skips them there): the booleans the site's containers need, virt_use_nfs when
 * media is on NFS, and a boolean flipped by hand found by --check and put back. Only the role's selinux
 * tasks run here: the VM is shared with other test processes, whose sshd and firewall stay as they are;
 * the mode stays permissive for the same reason, and the booleans are put back at the end.
 */

const [vm] = await hosts.up(1, 'el9-selinux');
const host = vm!.inventoryEntry();
async function sh(command: string): Promise<string> {
  const r = await vm!.exec(command, { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`${command}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}
t.teardown(async () => {
  await sh('setsebool -P container_manage_cgroup=0 virt_use_nfs=0').catch(() => undefined);
  await hosts.down();
});

const view = { name: 'vm', groups: ['all'], vars: {}, facts: { platform: 'el9' } } as unknown as HostView;
const selinuxTasks = hardening({ nfs: true, selinuxMode: 'permissive' })
  .expand(view)
  .filter((s): s is Task => s.kind === 'task' && s.module.name.startsWith('selinux.'));

await sh('setsebool -P container_manage_cgroup=0 virt_use_nfs=0');

t.test('hardening on SELinux: the containers\' booleans and virt_use_nfs are set, then left alone', async (t) => {
  t.same(selinuxTasks.map((task) => task.module.name), ['selinux.mode', 'selinux.boolean']);
  const first = await runTasks(host, selinuxTasks, 'apply');
  t.same(statuses(first), ['ok', 'changed'], errors(first));
  t.match(await sh('getsebool container_manage_cgroup virt_use_nfs'), 'container_manage_cgroup --> on\nvirt_use_nfs --> on\n');
  t.match(await sh('semanage boolean -l -C'), /virt_use_nfs\s+\(on\s+,\s+on\)/, 'persistent, not only for this boot');
  t.same(statuses(await runTasks(host, selinuxTasks, 'apply')), ['ok', 'ok'], 'a second run changes nothing');
});

t.test('hardening on SELinux: a boolean flipped by hand is reported by --check, left off, and the next run turns it on', async (t) => {
  await sh('setsebool -P virt_use_nfs=0');
  const check = await runTasks(host, selinuxTasks, 'check');
  t.same(statuses(check), ['ok', 'changed']);
  t.match(tasksOf(check)[1]?.changes.map((c) => c.summary).join('\n'), /virt_use_nfs/, 'the change names the boolean');
  t.match(await sh('getsebool virt_use_nfs'), 'virt_use_nfs --> off', 'check left it off');
  t.same(statuses(await runTasks(host, selinuxTasks, 'apply')), ['ok', 'changed']);
  t.match(await sh('getsebool virt_use_nfs'), 'virt_use_nfs --> on');
});
