import t from 'tap';
import { selinux } from '../modules/selinux/index.ts';
import { hosts } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// A container host (profile el9) has the SELinux tools but no SELinux of its
// own: the kernel's belongs to the machine it runs on.

const [h] = await hosts.up(1, 'el9');
t.teardown(() => hosts.down());
const host = h!.inventoryEntry();

const tasks = [
  selinux.mode({ mode: 'enforcing' }),
  selinux.boolean({ values: { httpd_can_network_connect: true } }),
  selinux.fileContext({ target: '/srv/www(/.*)?', type: 'httpd_sys_content_t' }),
  selinux.port({ ports: ['8443/tcp'], type: 'http_port_t' }),
];

for (const mode of ['apply', 'check'] as const) {
  t.test(`where SELinux is disabled every selinux task reports skipped with "SELinux disabled" (${mode})`, async (t) => {
    const report = await runTasks(host, tasks, mode);
    t.same(statuses(report), ['skipped', 'skipped', 'skipped', 'skipped'], errors(report));
    for (const task of tasksOf(report)) t.match(task.note, /^SELinux disabled: /, task.name);
    t.equal(report.exitCode, 0);
  });
}

t.test('with required: true a task fails instead, saying what to do', async (t) => {
  const report = await runTasks(host, [selinux.boolean({ values: { httpd_can_network_connect: true }, required: true })], 'apply');
  t.same(statuses(report), ['failed']);
  t.match(errors(report), /SELinux is required by this task \(required: true\) but is disabled on this host: selinuxenabled says it is off.*drop required: true/);
  t.equal(report.exitCode, 1);
});

t.test('the config file of a container is left alone', async (t) => {
  const r = await h!.exec('grep ^SELINUX= /etc/selinux/config');
  t.equal(r.stdout, 'SELINUX=permissive\n');
});
