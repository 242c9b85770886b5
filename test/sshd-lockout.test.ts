import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import type { HostEntry } from '../lib/inventory/types.ts';
import { command } from '../modules/command.ts';
import { sshd } from '../modules/sshd/index.ts';
import type { SshdOptions } from '../modules/sshd/options.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { runPlay } from './support/play.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// The test host's sshd (OpenSSH 10, ssh.service) is what the harness and
// hostform log in through, as root with a key, on port 22 of the host's
// address. A configuration that turns that login away must never stay:
// refused before it is installed when sshd -T proves it, put back after the
// reload when only a new login can tell.

const [a] = (await hosts.up(1, 'el9')) as [TestHost];
t.teardown(() => hosts.down());

const PATH = '/etc/ssh/sshd_config.d/00-hostform.conf';
const on = (cmd: string) => a.exec(cmd, { timeoutMs: 60_000 });
const dropIn = async () => (await on(`cat ${PATH}`)).stdout;
/** A brand-new SSH connection and login, as the next run would make. */
const newLoginWorks = async () => (await a.exec('echo in', { timeoutMs: 30_000 })).stdout === 'in\n';

const previous = sshd.config({ options: { MaxAuthTries: 5 } });
let previousContent = '';

t.before(async () => {
  const report = await runTasks(a.inventoryEntry(), [previous], 'apply');
  if (statuses(report).join() !== 'changed,changed') throw new Error(`could not install the starting drop-in: ${errors(report)}`);
  previousContent = await dropIn();
});

t.test('sshd lock-out: ListenAddress * is refused with exit 64 before any change, naming task, parameter and value', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hostform-sshd-lockout-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const inventory = join(dir, 'inventory.yml');
  await writeFile(inventory, stringify({ hosts: { testhost: a.inventoryEntry() } }));
  const book = join(dir, 'book.mts');
  const modules = new URL('../modules/index.ts', import.meta.url).pathname;
  const lib = new URL('../lib/index.ts', import.meta.url).pathname;
  await writeFile(
    book,
    `import { playbook } from ${JSON.stringify(lib)};\nimport { sshd } from ${JSON.stringify(modules)};\n` +
      `export default playbook({ name: 'listen', hosts: 'all', tasks: [sshd.config({ options: { ListenAddress: ['*'] } })] });\n`,
  );
  const result = await runPlay([book, '-i', inventory]);
  t.equal(result.code, 64, result.stderr);
  t.match(result.stderr, /task 'sshd drop-in \/etc\/ssh\/sshd_config\.d\/00-hostform\.conf' \(sshd\.config\): parameter 'options\.ListenAddress' = "\*": sshd has no wildcard addresses/);
  t.match(result.stderr, /nothing was changed on any host/);
  t.equal(await dropIn(), previousContent, 'the drop-in is as it was');
  t.ok(await newLoginWorks(), 'a new SSH login works');
});

const provable: [string, SshdOptions, Record<string, string> | undefined, RegExp][] = [
  ['ListenAddress on loopback only', { ListenAddress: ['127.0.0.1', '::1'] }, undefined, /sshd would listen on 127\.0\.0\.1:22, \[::1\]:22, and hostform's connection arrives at [\d.]+ port 22 \(Port, ListenAddress\)/],
  ['a Port that drops the one hostform uses', { Port: 2222 }, undefined, /sshd would listen on .*:2222.*, and hostform's connection arrives at [\d.]+ port 22/],
  ['AllowUsers without the login user', { AllowUsers: ['admin'] }, undefined, /AllowUsers admin does not include root from [\d.]+/],
  ['AllowUsers for the login user from another address', { AllowUsers: ['root@192.0.2.1'] }, undefined, /AllowUsers root@192\.0\.2\.1 does not include root from/],
  ['DenyUsers matching the login user', { DenyUsers: ['r*'] }, undefined, /DenyUsers r\* matches root/],
  ['AllowGroups without a group of the login user', { AllowGroups: ['wheel'] }, undefined, /AllowGroups wheel includes no group of root \(root\)/],
  ['DenyGroups with a group of the login user', { DenyGroups: ['root'] }, undefined, /DenyGroups root matches a group of root/],
  ['PermitRootLogin no for a root login', { PermitRootLogin: 'no' }, undefined, /PermitRootLogin no: hostform logs in as root/],
  ['PermitRootLogin forced-commands-only for a root login', { PermitRootLogin: 'forced-commands-only' }, undefined, /PermitRootLogin forced-commands-only/],
  ['PubkeyAuthentication no', { PubkeyAuthentication: false }, undefined, /PubkeyAuthentication no: hostform logs in with a key/],
  ['AuthenticationMethods without a key-only list', { PasswordAuthentication: true, AuthenticationMethods: ['password'] }, undefined, /AuthenticationMethods password: no list of them is satisfied by a key alone/],
  ['PasswordAuthentication no and an AuthorizedKeysFile with no keys', { PasswordAuthentication: false, AuthorizedKeysFile: ['/etc/ssh/no-such-keys/%u'] }, undefined, /AuthorizedKeysFile \/etc\/ssh\/no-such-keys\/%u: none of \/etc\/ssh\/no-such-keys\/root holds a key for root/],
  ['MaxSessions 0', { MaxSessions: 0 }, undefined, /MaxSessions 0: hostform runs every command in a session/],
  ['a ForceCommand', { MaxAuthTries: 4 }, { ForceCommand: '/bin/false' }, /ForceCommand \/bin\/false: sshd would run it instead of hostform's commands/],
];

t.test('sshd lock-out: a configuration that provably turns hostform away is refused before install, saying why, and new logins still work', async (t) => {
  for (const [what, options, extra, reason] of provable) {
    const report = await runTasks(a.inventoryEntry(), [sshd.config({ options, ...(extra ? { extra } : {}) })], 'apply');
    t.same(statuses(report), ['failed'], `${what}: ${errors(report)}`);
    t.match(errors(report), /with 00-hostform\.conf sshd would turn away hostform's own login \(root from [\d.]+ to [\d.]+ port 22\), so the next run could not reach the host; nothing was installed and the running sshd is unchanged/, what);
    t.match(errors(report), reason, what);
    t.equal(await dropIn(), previousContent, `${what}: the drop-in is as it was`);
    t.ok(await newLoginWorks(), `${what}: a new SSH login works`);
  }
});

const REVERTED = new RegExp(
  'the new sshd configuration locks hostform out: after the reload, a new SSH login to the host failed \\(5 tries over 3\\.75 s\\): [\\s\\S]+\\n' +
    'reverted, in this order: put back the previous /etc/ssh/sshd_config\\.d/00-hostform\\.conf; then sshd reload ran again and the check passes: the previous state is back$',
);

t.test('sshd lock-out: a configuration only a new login can catch is put back after the reload, and new logins work again', async (t) => {
  // A key sshd would read, that is not hostform's: the candidate check cannot tell them apart.
  await on('ssh-keygen -q -t ed25519 -N "" -f /root/other && mv /root/other.pub /etc/ssh/other_keys && rm /root/other');
  t.teardown(() => on('rm -f /etc/ssh/other_keys'));
  const cases: [string, SshdOptions][] = [
    ['a key algorithm other than the login key', { PubkeyAcceptedAlgorithms: ['rsa-sha2-512'] }],
    ["an AuthorizedKeysFile holding someone else's key", { AuthorizedKeysFile: ['/etc/ssh/other_keys'] }],
  ];
  for (const [what, options] of cases) {
    const report = await runTasks(a.inventoryEntry(), [sshd.config({ options })], 'apply');
    t.same(statuses(report), ['changed', 'failed'], `${what}: ${errors(report)}`);
    t.equal(tasksOf(report)[1]?.name, 'deferred: sshd reload');
    t.match(tasksOf(report)[1]?.error?.message, REVERTED, what);
    t.equal(await dropIn(), previousContent, `${what}: the previous drop-in is back`);
    t.match((await on('sshd -T')).stdout, /^maxauthtries 5$/m, `${what}: and sshd runs with it`);
    t.ok(await newLoginWorks(), `${what}: a new SSH login works`);
  }
});

t.test('sshd lock-out: two sshd tasks share one reload, and a failed login puts both drop-ins back', async (t) => {
  const report = await runTasks(
    a.inventoryEntry(),
    [sshd.config({ options: { MaxAuthTries: 4 } }), sshd.config({ name: 'keys', order: 10, options: { PubkeyAcceptedAlgorithms: ['rsa-sha2-512'] } })],
    'apply',
  );
  t.same(statuses(report), ['changed', 'changed', 'failed'], errors(report));
  t.same(
    tasksOf(report).filter((x) => x.name === 'deferred: sshd reload').length,
    1,
    'one reload',
  );
  t.match(
    tasksOf(report)[2]?.error?.message,
    /\nreverted, in this order: remove \/etc\/ssh\/sshd_config\.d\/10-keys\.conf \(it did not exist before\); put back the previous \/etc\/ssh\/sshd_config\.d\/00-hostform\.conf; then sshd reload ran again and the check passes/,
  );
  t.equal(await dropIn(), previousContent);
  t.equal((await on('test -e /etc/ssh/sshd_config.d/10-keys.conf')).code, 1, 'the new drop-in is gone');
  t.ok(await newLoginWorks(), 'a new SSH login works');
});

t.test('sshd lock-out: when a later task fails, the installed drop-in is still reloaded, checked with a new login, and put back', async (t) => {
  const report = await runTasks(a.inventoryEntry(), [sshd.config({ options: { PubkeyAcceptedAlgorithms: ['rsa-sha2-512'] } }), command({ argv: ['false'] })], 'apply');
  t.same(statuses(report), ['changed', 'failed', 'failed'], errors(report));
  t.match(tasksOf(report)[2]?.error?.message, REVERTED);
  t.equal(await dropIn(), previousContent);
  t.ok(await newLoginWorks(), 'a new SSH login works');
});

t.test('sshd lock-out: check mode reports the verdict of the same checks and changes nothing', async (t) => {
  const locked = await runTasks(a.inventoryEntry(), [sshd.config({ options: { AllowUsers: ['admin'] } })], 'check');
  t.same(statuses(locked), ['changed'], errors(locked));
  const [diff, verdict] = tasksOf(locked)[0]?.changes ?? [];
  t.match(diff?.summary, /^update \/etc\/ssh\/sshd_config\.d\/00-hostform\.conf and reload sshd$/);
  t.match(verdict?.summary, /^on the host as it is now, applying would refuse this drop-in/);
  t.match(verdict?.diff, /AllowUsers admin does not include root/);
  const fine = await runTasks(a.inventoryEntry(), [sshd.config({ options: { MaxAuthTries: 4 } })], 'check');
  t.equal(tasksOf(fine)[0]?.changes[1]?.summary, "sshd -t accepts the configuration, and hostform's own login would still get in");
  t.equal(await dropIn(), previousContent, 'nothing was written');
});

t.test('sshd lock-out: logged in as a sudo user, the check is about that user, not root', async (t) => {
  const asAdmin: HostEntry = { ...a.inventoryEntry(), user: 'admin' };
  const refused = await runTasks(asAdmin, [sshd.config({ options: { AllowUsers: ['root'] } })], 'apply', { become: true });
  t.same(statuses(refused), ['failed'], errors(refused));
  t.match(errors(refused), /turn away hostform's own login \(admin from [\d.]+ to [\d.]+ port 22\)[\s\S]*AllowUsers root does not include admin/);
  t.equal(await dropIn(), previousContent);
  const kept = await runTasks(asAdmin, [sshd.config({ options: { MaxAuthTries: 5, PermitRootLogin: 'no' } })], 'apply', { become: true });
  t.same(statuses(kept), ['changed', 'changed'], `PermitRootLogin no does not concern admin: ${errors(kept)}`);
  t.equal((await a.exec('echo in', { user: 'admin' })).stdout, 'in\n', 'a new SSH login as admin works');
  const back = await runTasks(asAdmin, [previous], 'apply', { become: true });
  t.same(statuses(back), ['changed', 'changed'], errors(back));
});

t.test('sshd lock-out: a change that keeps hostform in is kept once a new login proves it', async (t) => {
  const report = await runTasks(a.inventoryEntry(), [sshd.config({ options: { MaxAuthTries: 6, AllowUsers: ['root', 'admin'], Port: [22, 2222] } })], 'apply');
  t.same(statuses(report), ['changed', 'changed'], errors(report));
  t.match((await on('sshd -T')).stdout, /^maxauthtries 6$/m);
  t.ok(await newLoginWorks(), 'a new SSH login works');
});
