import t from 'tap';
import { command, file } from '../modules/index.ts';
import { hosts } from './hosts/index.ts';
import { errors, runTasks, statuses } from './support/run-tasks.ts';

// become through `sudo -n` for a login user who is not root, on a real host:
// `admin` has passwordless sudo, `pwuser` needs a password (which hostform
// never types).

const [h] = await hosts.up(1, 'el9');
t.teardown(() => hosts.down());
if (!h) throw new Error('no test host');

t.test('become: a passwordless-sudo user writes a root-owned file atomically and reads it back as in sync', async (t) => {
  const entry = { ...h.inventoryEntry(), user: 'admin' };
  const tasks = [file({ path: '/etc/hostform-become.conf', content: 'as root\n', mode: '0600', owner: 'root' }, { become: true })];
  const first = await runTasks(entry, tasks, 'apply');
  t.same(statuses(first), ['changed'], errors(first));
  t.equal((await h.exec('stat -c "%a %U" /etc/hostform-become.conf && cat /etc/hostform-become.conf')).stdout, '600 root\nas root\n');
  const second = await runTasks(entry, tasks, 'apply');
  t.same(statuses(second), ['ok'], 'the root-only file is probed through sudo too');
  t.equal((await h.exec('ls /tmp | grep -c hostform || true')).stdout.trim(), '0', 'no staging file left in /tmp');
});

t.test('become: without become, the same user cannot read the file and is told to use become', async (t) => {
  const entry = { ...h.inventoryEntry(), user: 'admin' };
  const report = await runTasks(entry, [file({ path: '/etc/hostform-become.conf', content: 'as root\n' })], 'check');
  t.equal(report.exitCode, 1);
  t.match(errors(report), /set become: true/);
});

t.test('become: a user whose sudo needs a password gets a clear error and nothing runs', async (t) => {
  const entry = { ...h.inventoryEntry(), user: 'pwuser' };
  const report = await runTasks(entry, [command({ argv: ['touch', '/root/should-not-exist'], creates: '/root/should-not-exist' }, { become: true })], 'apply');
  t.equal(report.exitCode, 1);
  t.match(errors(report), /sudo on testhost needs a password or is missing; hostform only uses passwordless sudo \(sudo -n\): add a NOPASSWD rule for pwuser or connect as root/);
  t.equal((await h.exec('test -e /root/should-not-exist; echo $?')).stdout.trim(), '1');
});
