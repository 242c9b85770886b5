import t from 'tap';
import { unit } from '../modules/index.ts';
import { hosts } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// Check mode asks systemd-analyze verify about new unit files (on a temporary
// copy) and reports its verdict with the diff, without installing anything.

const [h] = await hosts.up(1, 'el9');
t.teardown(() => hosts.down());
if (!h) throw new Error('no test host');

t.test('systemd: check mode reports that systemd-analyze verify accepts a good unit', async (t) => {
  const report = await runTasks(h.inventoryEntry(), [unit({ name: 'preview-ok.service', sections: { Service: { ExecStart: '/bin/true' } } })], 'check');
  t.same(statuses(report), ['changed'], errors(report));
  const summaries = tasksOf(report)[0]?.changes.map((c) => c.summary) ?? [];
  t.ok(summaries.some((s) => /systemd-analyze verify accepts the new files/.test(s)), summaries.join('\n'));
  t.equal((await h.exec('test -e /etc/systemd/system/preview-ok.service; echo $?')).stdout.trim(), '1', 'nothing installed');
});

t.test('systemd: check mode shows what systemd-analyze verify says about a unit it would refuse', async (t) => {
  const tmpBefore = (await h.exec('ls -A /tmp')).stdout;
  const report = await runTasks(h.inventoryEntry(), [unit({ name: 'preview-bad.service', sections: { Service: { ExecStart: 'relative/path' } } })], 'check');
  t.same(statuses(report), ['changed'], 'reported, not failed: an earlier task may provide what the unit needs');
  const preview = tasksOf(report)[0]?.changes.find((c) => /verify refuses/.test(c.summary));
  t.ok(preview, 'the refusal is shown');
  t.match(preview?.diff, /ExecStart|absolute/i);
  t.equal((await h.exec('ls -A /tmp')).stdout, tmpBefore, 'the temporary copy was removed');
  t.equal((await h.exec('test -e /etc/systemd/system/preview-bad.service; echo $?')).stdout.trim(), '1', 'nothing installed');
});
