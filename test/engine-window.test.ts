import t from 'tap';
import { command, file } from '../modules/index.ts';
import { hosts } from './hosts/index.ts';
import { errors, runTasks, statuses } from './support/run-tasks.ts';

// Independent tasks apply together (docs/modules.md, "Applying together:
// windows"): their commands travel in shared round trips.

const [h] = await hosts.up(1, 'el9');
t.teardown(() => hosts.down());
if (!h) throw new Error('no test host');
const host = h.inventoryEntry();

const sh = (cmd: string) => h.sh(cmd);

const files = (dir: string, count: number, force = false) =>
  Array.from({ length: count }, (_, i) => file({ path: `${dir}/f${i}.conf`, content: `file ${i}\n`, mode: '0640', ...(force ? { force } : {}) }));

t.test('ten new files in an existing directory are written in one round trip, each byte for byte, and the next run changes nothing', async (t) => {
  await sh('mkdir -p /srv/win');
  const first = await runTasks(host, files('/srv/win', 10), 'apply', { become: true });
  t.same(statuses(first), Array(10).fill('changed'), errors(first));
  t.equal(first.hosts[0]?.roundTrips, 3, 'facts, one probe batch, one batch of ten writes');
  for (let i = 0; i < 10; i++) t.equal(await sh(`cat /srv/win/f${i}.conf; stat -c %a /srv/win/f${i}.conf`), `file ${i}\n640\n`);
  const again = await runTasks(host, files('/srv/win', 10), 'apply', { become: true });
  t.same(statuses(again), Array(10).fill('ok'), errors(again));
});

t.test('a file replacing a directory or a link is written as planned inside a window', async (t) => {
  await sh('mkdir -p /srv/win2/f0.conf/sub && ln -sfn /etc/hostname /srv/win2/f1.conf');
  const run = await runTasks(host, files('/srv/win2', 3, true), 'apply', { become: true });
  t.same(statuses(run), ['changed', 'changed', 'changed'], errors(run));
  t.equal(await sh('cat /srv/win2/f0.conf /srv/win2/f1.conf; test -L /srv/win2/f1.conf || echo no link'), 'file 0\nfile 1\nno link\n');
  t.notSame(await sh('cat /etc/hostname'), 'file 1\n', 'the link was replaced, not followed');
});

t.test('a task that fails in a window does not stop the others already under way; the host stops after the window', async (t) => {
  await sh('mkdir -p /srv/win3');
  const run = await runTasks(
    host,
    [
      file({ path: '/srv/win3/a', content: 'a\n' }),
      // /sys is read-only in the test host: planned as a new file, refused when written.
      file({ path: '/sys/fs/hostform-window-test', content: 'x\n' }),
      file({ path: '/srv/win3/c', content: 'c\n' }),
      command({ argv: ['touch', '/srv/win3/after'] }),
      file({ path: '/srv/win3/d', content: 'd\n' }),
    ],
    'apply',
    { become: true },
  );
  t.same(statuses(run), ['changed', 'failed', 'changed']);
  t.match(errors(run), /hostform-window-test/);
  t.equal(await sh('cat /srv/win3/a /srv/win3/c'), 'a\nc\n');
  t.equal(await sh('ls /srv/win3'), 'a\nc\n', 'nothing after the window ran');
});
