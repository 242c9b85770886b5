import t from 'tap';
import { backup } from '../roles/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, tasksOf } from './support/run-tasks.ts';

// The backup role given a password file directly in /etc (issue 17, item 6):
// it once planned `chmod 0700 /etc`, the password file's parent.

let h: TestHost;
t.before(async () => {
  [h] = (await hosts.up(1, 'el9')) as [TestHost];
});
t.teardown(() => hosts.down());

t.test('backup: passwordFile /etc/restic.pw plans the file and no change to /etc', async (t) => {
  const report = await runTasks(h.inventoryEntry(), [backup({ password: 'canary-pw', passwordFile: '/etc/restic.pw' })], 'check', { become: true });
  t.equal(report.hosts[0]?.status, 'changed', errors(report));
  const planned = tasksOf(report).flatMap((task) => task.changes.map((c) => `${task.name}: ${c.summary}`));
  t.ok(planned.some((line) => line.startsWith('backup : file /etc/restic.pw: ')), planned.join('\n'));
  t.same(planned.filter((line) => /\/etc(?![\w/.-])/.test(line)), [], 'no task touches /etc itself');
});
