import t from 'tap';
import { sudoers } from '../modules/sudoers/index.ts';
import { candidateCheck } from '../modules/sudoers/apply.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// sudoers on an el9-like container with sudo 1.9 and visudo; rules are
// proven by sudo itself: `sudo -l -U` lists them and the user runs the command.

const [h] = (await hosts.up(1, 'el9')) as [TestHost];
t.teardown(() => hosts.down());

const on = async (cmd: string) => {
  const r = await h.exec(cmd, { timeoutMs: 60_000 });
  return { ...r, out: `${r.stdout}${r.stderr}` };
};
await on('useradd -m hfdeploy && groupadd hfops && useradd -m -G hfops hfop');
const PATH = '/etc/sudoers.d/deploy';
const task = sudoers({
  name: 'deploy',
  rules: [
    { users: ['hfdeploy'], commands: [{ command: '/usr/bin/systemctl restart app', options: ['NOPASSWD'] }, '/usr/bin/journalctl'] },
    { groups: ['hfops'], runAs: 'ALL:ALL', commands: [{ command: '/usr/bin/id', options: ['NOPASSWD'] }] },
  ],
});
const asUser = (user: string, cmd: string) => on(`runuser -u ${user} -- sudo -n ${cmd} 2>&1`);

t.test('sudoers: invalid parameters fail before any host is touched, naming task, parameter and value', async (t) => {
  await t.rejects(runTasks(h.inventoryEntry(), [task, sudoers({ name: 'bad.conf', rules: [{ users: ['a'], commands: ['ALL'] }] })], 'apply'), /parameter 'name' = "bad\.conf": must be a file name of letters, digits, _ and - \(sudo skips names with a dot\)/);
  await t.rejects(runTasks(h.inventoryEntry(), [sudoers({ name: 'x', rules: [{ users: ['a'], commands: ['/usr/bin/echo a\\'] }] })], 'apply'), /parameter 'rules\.0\.commands\.0'.*must be/);
  await t.rejects(runTasks(h.inventoryEntry(), [sudoers({ name: 'x', rules: [{ commands: ['ALL'] } as never] })], 'apply'), /parameter 'rules\.0' needs at least one of 'users', 'groups'/);
  await t.rejects(runTasks(h.inventoryEntry(), [sudoers({ name: 'x', rules: [{ users: ['a'], commands: ['systemctl restart app'] }] })], 'apply'), /must be an absolute path with arguments, ALL, or sudoedit and a path/);
  t.equal((await on(`test -e ${PATH}`)).code, 1, 'the valid task before them did not run either');
});

t.test('sudoers: the first run installs the rules, 0440 root, and sudo follows them; the second changes nothing', async (t) => {
  const first = await runTasks(h.inventoryEntry(), [task], 'apply');
  t.same(statuses(first), ['changed'], errors(first));
  t.equal(
    (await on(`cat ${PATH}`)).stdout,
    '# Managed by hostform (sudoers): edits here are replaced on the next run.\nhfdeploy ALL=(root) NOPASSWD: /usr/bin/systemctl restart app\nhfdeploy ALL=(root) /usr/bin/journalctl\n%hfops ALL=(ALL:ALL) NOPASSWD: /usr/bin/id\n',
  );
  t.equal((await on(`stat -c '%a %U %G' ${PATH}`)).stdout, '440 root root\n');
  const listed = (await on('sudo -l -U hfdeploy')).stdout;
  t.match(listed, '(root) NOPASSWD: /usr/bin/systemctl restart app');
  t.match(listed, /\(root\) \/usr\/bin\/journalctl$/m, 'the second command does not inherit NOPASSWD');
  t.equal((await asUser('hfop', '-u hfdeploy /usr/bin/id -un')).stdout, 'hfdeploy\n', 'a group member runs the command as another user, without a password');
  t.match((await asUser('hfdeploy', '/usr/bin/journalctl -n0')).stdout, /a password is required/);
  t.same(statuses(await runTasks(h.inventoryEntry(), [task], 'apply')), ['ok']);
});

t.test('sudoers: check after a hand edit reports exactly that drift and leaves the host untouched', async (t) => {
  await on(`sed -i 's|^hfdeploy ALL=(root) /usr/bin/journalctl$|hfdeploy ALL=(root) NOPASSWD: ALL|' ${PATH}`);
  const before = (await on(`stat -c %Y ${PATH}; cat ${PATH}`)).stdout;
  const report = await runTasks(h.inventoryEntry(), [task], 'check');
  t.same(tasksOf(report)[0]?.changes.map((c) => c.summary), [`update ${PATH}`, 'visudo -cf accepts the new file'], 'the change, and visudo\'s verdict on it');
  t.match(tasksOf(report)[0]?.changes[0]?.diff, /-hfdeploy ALL=\(root\) NOPASSWD: ALL\n\+hfdeploy ALL=\(root\) \/usr\/bin\/journalctl/);
  t.equal((await on(`stat -c %Y ${PATH}; cat ${PATH}`)).stdout, before, 'check mode changed nothing');
  t.same(statuses(await runTasks(h.inventoryEntry(), [task], 'apply')), ['changed']);
  await on(`chmod 0644 ${PATH}`);
  const mode = await runTasks(h.inventoryEntry(), [task], 'check');
  t.same(tasksOf(mode)[0]?.changes.map((c) => c.summary), [`mode of ${PATH} 0644 → 0440`, 'visudo -cf accepts the new file'], 'a wrong mode is drift too');
  t.same(statuses(await runTasks(h.inventoryEntry(), [task], 'apply')), ['changed']);
});

t.test("sudoers: ',', ':', '=' and '#' in a command are escaped, and sudo lets exactly that command run", async (t) => {
  const report = await runTasks(h.inventoryEntry(), [sudoers({ name: 'escapes', rules: [{ users: ['hfdeploy'], commands: [{ command: '/usr/bin/printf %s| a,b c:d e=f g#h', options: ['NOPASSWD'] }] }] })], 'apply');
  t.same(statuses(report), ['changed'], errors(report));
  const allowed = await asUser('hfdeploy', "/usr/bin/printf '%s|' a,b c:d e=f g#h");
  t.equal(allowed.stdout, 'a,b|c:d|e=f|g#h|', allowed.out);
  t.match((await asUser('hfdeploy', "/usr/bin/printf '%s|' a,b c:d e=f g")).stdout, /a password is required/, 'a # does not start a comment that would cut the rule short');
});

t.test('sudoers: a file visudo refuses is never installed (the check on a private copy)', async (t) => {
  const result = await on(candidateCheck('/etc/sudoers.d/broken', 'hfdeploy ALL=(root) /\n').text);
  t.equal(result.code, 65, result.out);
  t.match(result.stdout, /expected a fully-qualified path name/);
  t.equal((await on('test -e /etc/sudoers.d/broken')).code, 1);
  t.equal((await on('ls -A /run/hostform | grep -c "^hostform\\."')).stdout.trim(), '0', 'the private copy is gone');
});

t.test('sudoers: absent removes the file and sudo forgets the rules', async (t) => {
  const report = await runTasks(h.inventoryEntry(), [sudoers({ name: 'deploy', state: 'absent' }), sudoers({ name: 'escapes', state: 'absent' })], 'apply');
  t.same(statuses(report), ['changed', 'changed'], errors(report));
  t.match((await on('sudo -l -U hfdeploy')).stdout, /not allowed to run sudo/);
  t.same(statuses(await runTasks(h.inventoryEntry(), [sudoers({ name: 'deploy', state: 'absent' })], 'apply')), ['ok']);
});
