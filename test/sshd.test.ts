import t from 'tap';
import { sshd } from '../modules/sshd/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

const [a] = (await hosts.up(1, 'el9')) as [TestHost];
t.teardown(() => hosts.down());

const on = async (cmd: string, user: 'root' | 'admin' | 'pwuser' = 'root') => {
  const r = await a.exec(cmd, { user, timeoutMs: 60_000 });
  return { ...r, out: `${r.stdout}${r.stderr}` };
};
const PATH = '/etc/ssh/sshd_config.d/00-hostform.conf';

// pwuser is left out of AllowUsers: its refused login proves sshd was reloaded.
const hardening = sshd.config({
  options: {
    PermitRootLogin: 'prohibit-password',
    PubkeyAuthentication: true,
    PasswordAuthentication: false,
    KbdInteractiveAuthentication: false,
    AllowUsers: ['root', 'admin'],
    MaxAuthTries: 4,
    LoginGraceTime: '45s',
    X11Forwarding: false,
    ClientAliveInterval: 300,
    ClientAliveCountMax: 2,
    LogLevel: 'VERBOSE',
  },
});

t.test('sshd: the test host reads sshd_config.d first, so an early drop-in wins', async (t) => {
  t.match((await on("grep -v '^#' /etc/ssh/sshd_config | grep -m1 .")).stdout, /^Include \/etc\/ssh\/sshd_config\.d\/\*\.conf/);
});

t.test('sshd: invalid parameters fail before any host is touched, naming task, parameter and value', async (t) => {
  const bad = [hardening, sshd.config({ name: 'bad', options: { PermitRootLogin: 'maybe' as 'no' } })];
  await t.rejects(runTasks(a.inventoryEntry(), bad, 'apply'), /task 'sshd drop-in \/etc\/ssh\/sshd_config\.d\/00-bad\.conf' \(sshd\.config\): parameter 'options\.PermitRootLogin' = "maybe"/);
  await t.rejects(runTasks(a.inventoryEntry(), [sshd.config({ options: { MaxAuthTries: 0 } })], 'apply'), /parameter 'options\.MaxAuthTries' = 0/);
  t.equal((await on(`test -e ${PATH}`)).code, 1, 'the valid task before it did not run either');
});

t.test('sshd: the first run installs the drop-in, reloads sshd, and sshd -T shows the values', async (t) => {
  const report = await runTasks(a.inventoryEntry(), [hardening], 'apply');
  t.same(statuses(report), ['changed', 'changed'], errors(report));
  t.equal(tasksOf(report)[1]?.name, 'deferred: sshd reload');
  const effective = (await on('sshd -T')).stdout;
  for (const line of ['maxauthtries 4', 'logingracetime 45', 'x11forwarding no', 'clientaliveinterval 300', 'clientalivecountmax 2', 'passwordauthentication no', 'allowusers root', 'allowusers admin', 'loglevel VERBOSE']) {
    t.match(effective, new RegExp(`^${line}$`, 'm'), line);
  }
  t.equal((await on('stat -c %a ' + PATH)).stdout.trim(), '600');
  t.not((await on('true', 'pwuser')).code, 0, 'the reloaded sshd refuses a user outside AllowUsers');
  t.equal((await on('true', 'admin')).code, 0, 'and lets an allowed one in');
});

t.test('sshd: the second run changes nothing and does not reload', async (t) => {
  const report = await runTasks(a.inventoryEntry(), [hardening], 'apply');
  t.same(statuses(report), ['ok'], errors(report));
});

t.test('sshd: check after a hand edit reports exactly that drift and leaves the host untouched', async (t) => {
  await on(`sed -i 's/^MaxAuthTries 4$/MaxAuthTries 6/' ${PATH}`);
  const report = await runTasks(a.inventoryEntry(), [hardening], 'check');
  t.same(statuses(report), ['changed']);
  const change = tasksOf(report)[0]?.changes[0];
  t.match(change?.summary, `update ${PATH} and reload sshd`);
  t.match(change?.diff, /-MaxAuthTries 6\n\+MaxAuthTries 4/);
  t.match((await on(`cat ${PATH}`)).stdout, /MaxAuthTries 6/, 'check mode did not write');
  t.same(statuses(await runTasks(a.inventoryEntry(), [hardening], 'apply')), ['changed', 'changed']);
});

t.test('sshd: an option sshd refuses is never installed, and the running sshd keeps working', async (t) => {
  const refused = [
    { task: sshd.config({ name: 'broken', order: 1, options: { MaxSessions: 5 }, extra: { NoSuchOption: 'yes' } }), message: /Bad configuration option: NoSuchOption/ },
    { task: sshd.config({ name: 'ciphers', order: 1, options: { Ciphers: ['no-such-cipher'] } }), message: /[Bb]ad SSH2 cipher spec 'no-such-cipher'/ },
  ];
  for (const { task, message } of refused) {
    const report = await runTasks(a.inventoryEntry(), [task], 'apply');
    t.same(statuses(report), ['failed']);
    t.match(errors(report), /sshd -t refused the configuration with 01-\w+\.conf; nothing was installed/);
    t.match(errors(report), message);
  }
  t.equal((await on('ls /etc/ssh/sshd_config.d/01-*')).code, 2, 'no refused drop-in reached /etc/ssh');
  t.equal((await on('sshd -t')).code, 0, 'the installed configuration still passes sshd -t');
  t.equal((await on('true')).code, 0, 'a fresh SSH connection still succeeds');
});

t.test('sshd: a value that an earlier line overrides is refused, since sshd keeps the first value it reads', async (t) => {
  await on("cp /etc/ssh/sshd_config /root/sshd_config.orig && sed -i '1i MaxAuthTries 9' /etc/ssh/sshd_config");
  t.teardown(() => on('mv /root/sshd_config.orig /etc/ssh/sshd_config'));
  const report = await runTasks(a.inventoryEntry(), [sshd.config({ options: { MaxAuthTries: 3 } })], 'apply');
  t.same(statuses(report), ['failed']);
  t.match(errors(report), /sshd would not use MaxAuthTries 3 \(it would use 9\)/);
  t.match((await on(`cat ${PATH}`)).stdout, /MaxAuthTries 4/, 'the drop-in was left as it was');
});

t.test('sshd: absent removes the drop-in and sshd goes back to the rest of its configuration', async (t) => {
  const gone = sshd.config({ state: 'absent' });
  const report = await runTasks(a.inventoryEntry(), [gone], 'apply');
  t.same(statuses(report), ['changed', 'changed'], errors(report));
  t.equal((await on(`test -e ${PATH}`)).code, 1);
  t.equal((await on('true', 'pwuser')).code, 0, 'pwuser may log in again');
  t.same(statuses(await runTasks(a.inventoryEntry(), [gone], 'apply')), ['ok']);
});
