import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { UsageError } from '../lib/errors.ts';
import { file } from '../modules/file/index.ts';
import { group, user } from '../modules/users/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';
import { keygen } from './support/sshd.ts';

const run = promisify(execFile);

// `openssl passwd -6 -salt hostformtest1 correct-horse` (and …2 battery-staple).
const HASH_1 = '$6$hostformtest1$/3aam3gibDnymErZ0AMO3ikn/BoF7Z5t8GHsIN9iKiS/O2L2bph3rq4glBHuV.eF.UG8ysnBLhDsSRpDtCgPq/';
const HASH_2 = '$6$hostformtest2$MJtJT19eefVVfGM0B58ZIhO9pQonY8Gs02yiiKx47OCmR4QKq/S5RRPGh/Fv75c92dI5m9J.WmBe6WyFDkzz20';

let h: TestHost;
let dir: string;
let laptop: { path: string; pub: string };
let phone: { path: string; pub: string };

t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hostform-users-'));
  const key = async (name: string) => {
    const path = join(dir, name);
    await keygen(path);
    // The comment tells the keys apart in diffs.
    const [type, blob] = (await readFile(`${path}.pub`, 'utf8')).trim().split(' ');
    return { path, pub: `${type} ${blob} alice@${name}` };
  };
  [laptop, phone] = await Promise.all([key('laptop'), key('phone')]);
  [h] = (await hosts.up(1, 'el9')) as [TestHost];
});
t.teardown(async () => {
  await hosts.down();
  await rm(dir, { recursive: true, force: true });
});

const exec = async (cmd: string) => {
  const r = await h.exec(cmd);
  if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
};

/** Everything the account tasks may touch, byte for byte. */
const accountState = () => exec('sha256sum /etc/passwd /etc/group /etc/shadow /etc/gshadow; ls -ln --time-style=+%s.%N -a /home /home/alice /home/alice/.ssh 2>&1; cat /home/alice/.ssh/authorized_keys 2>&1; true');

const sshAs = async (userName: string, identityFile: string) => {
  const args = ['-F', '/dev/null', '-i', identityFile, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${h.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'LogLevel=ERROR', '-p', String(h.port), `${userName}@${h.address}`, 'id -un'];
  return run('ssh', args).then(
    (r) => r.stdout.trim(),
    () => 'refused',
  );
};

const aliceTasks = (extra: Partial<Parameters<typeof user>[0]> = {}) => [
  group({ name: 'media', gid: 1600 }),
  user({ name: 'alice', uid: 1601, group: 'media', groups: ['adm'], shell: '/bin/bash', comment: 'Alice Example', passwordHash: HASH_1, authorizedKeys: [laptop.pub], ...extra }),
];

t.test('users: the first run creates the group and the user, the second reports nothing changed', async (t) => {
  const first = await runTasks(h.inventoryEntry(), aliceTasks(), 'apply');
  t.same(statuses(first), ['changed', 'changed'], errors(first));
  t.same(
    tasksOf(first)[1]?.changes.map((c) => c.summary),
    ['create user alice (uid 1601) with a home directory', 'user alice: password set', 'user alice: authorized_keys +1 key'],
  );
  const second = await runTasks(h.inventoryEntry(), aliceTasks(), 'apply');
  t.same(statuses(second), ['ok', 'ok'], errors(second));
  t.equal(second.hosts[0]?.roundTrips, 2, 'a run that changes nothing: facts, then one batch with both probes');
  for (const report of [first, second]) t.notOk(JSON.stringify(report).includes(HASH_1), 'the hash appears nowhere in the report');

  t.equal(await exec('getent passwd alice'), 'alice:x:1601:1600:Alice Example:/home/alice:/bin/bash\n');
  t.equal(await exec('id -Gn alice'), 'media adm\n');
  t.equal(await exec('getent shadow alice | cut -d: -f2'), `${HASH_1}\n`);
  t.equal(await exec('stat -c "%a %U %G" /home/alice/.ssh /home/alice/.ssh/authorized_keys'), '700 alice media\n600 alice media\n');
  t.equal(await sshAs('alice', laptop.path), 'alice', 'alice logs in with the key');
});

t.test('users: check after a manual usermod -s reports exactly the shell drift and changes nothing', async (t) => {
  await exec('usermod -s /bin/sh alice');
  const before = await accountState();
  const check = await runTasks(h.inventoryEntry(), aliceTasks(), 'check');
  t.equal(check.exitCode, 2);
  t.same(statuses(check), ['ok', 'changed'], errors(check));
  t.same(tasksOf(check)[1]?.changes, [{ summary: 'user alice: shell /bin/sh → /bin/bash', diff: '- shell /bin/sh\n+ shell /bin/bash' }]);
  t.equal(await accountState(), before, 'passwd, group, shadow and the home are byte for byte the same');

  const fix = await runTasks(h.inventoryEntry(), aliceTasks(), 'apply');
  t.same(statuses(fix), ['ok', 'changed'], errors(fix));
  t.equal(await exec('getent passwd alice | cut -d: -f7'), '/bin/bash\n');
});

t.test('users: append adds missing groups and keeps the ones added by hand; the exact set removes them', async (t) => {
  await exec('groupadd -g 1650 photos && usermod -aG users alice');
  const ok = await runTasks(h.inventoryEntry(), aliceTasks({ groups: ['adm'], append: true }), 'apply');
  t.same(statuses(ok), ['ok', 'ok'], 'append with groups already present is not a change');

  const add = await runTasks(h.inventoryEntry(), aliceTasks({ groups: ['adm', 'photos'], append: true }), 'apply');
  t.same(statuses(add), ['ok', 'changed'], errors(add));
  t.equal(tasksOf(add)[1]?.changes[0]?.summary, 'user alice: groups +photos');
  t.equal(await exec('id -Gn alice'), 'media adm users photos\n');

  const exact = await runTasks(h.inventoryEntry(), aliceTasks({ groups: ['adm'] }), 'apply');
  t.equal(tasksOf(exact)[1]?.changes[0]?.summary, 'user alice: groups -users -photos');
  t.equal(await exec('id -Gn alice'), 'media adm\n');
  t.same(statuses(await runTasks(h.inventoryEntry(), aliceTasks(), 'apply')), ['ok', 'ok']);
});

t.test('users: a new password hash says "password changed" and no hash is ever in the report', async (t) => {
  const check = await runTasks(h.inventoryEntry(), aliceTasks({ passwordHash: HASH_2 }), 'check');
  const apply = await runTasks(h.inventoryEntry(), aliceTasks({ passwordHash: HASH_2 }), 'apply');
  t.same(statuses(apply), ['ok', 'changed'], errors(apply));
  t.same(tasksOf(apply)[1]?.changes, [{ summary: 'user alice: password changed', diff: '~ password changed (hashes are not shown)' }]);
  for (const report of [check, apply]) {
    const json = JSON.stringify(report);
    t.notOk(json.includes(HASH_1) || json.includes(HASH_2) || json.includes('hostformtest'), 'neither hash nor salt in the report');
  }
  t.equal(await exec('getent shadow alice | cut -d: -f2'), `${HASH_2}\n`);
  t.same(statuses(await runTasks(h.inventoryEntry(), aliceTasks({ passwordHash: HASH_2 }), 'apply')), ['ok', 'ok']);
});

t.test('users: authorized_keys is the exact set, with the right owner and modes, and logins follow it', async (t) => {
  const tasks = aliceTasks({ authorizedKeys: [phone.pub], passwordHash: HASH_2 });
  const check = await runTasks(h.inventoryEntry(), tasks, 'check');
  const [change] = tasksOf(check)[1]?.changes ?? [];
  t.equal(change?.summary, 'user alice: authorized_keys +1 -1 keys');
  t.match(change?.diff, /^- key ssh-ed25519 alice@laptop \(SHA256:\S+\)\n\+ key ssh-ed25519 alice@phone \(SHA256:\S+\)$/);
  t.notOk(change?.diff?.includes(phone.pub.split(' ')[1]!), 'no key blob in the diff');

  const apply = await runTasks(h.inventoryEntry(), tasks, 'apply');
  t.same(statuses(apply), ['ok', 'changed'], errors(apply));
  t.equal(await exec('cat /home/alice/.ssh/authorized_keys'), `${phone.pub}\n`);
  t.equal(await sshAs('alice', phone.path), 'alice', 'the new key logs in');
  t.equal(await sshAs('alice', laptop.path), 'refused', 'the removed key does not');

  await exec('chmod 0644 /home/alice/.ssh/authorized_keys');
  const drift = await runTasks(h.inventoryEntry(), tasks, 'check');
  t.same(tasksOf(drift)[1]?.changes.map((c) => c.summary), ['user alice: authorized_keys authorized_keys mode 0644 → 0600']);
  t.same(statuses(await runTasks(h.inventoryEntry(), tasks, 'apply')), ['ok', 'changed']);
  t.equal(await exec('stat -c "%a %U" /home/alice/.ssh/authorized_keys'), '600 alice\n');
  t.same(statuses(await runTasks(h.inventoryEntry(), tasks, 'apply')), ['ok', 'ok']);
});

t.test('users: in check mode a user whose group an earlier task creates, and a file the user owns, are planned; nothing is created', async (t) => {
  const before = await accountState();
  const tasks = [group({ name: 'builders' }), user({ name: 'bob', group: 'builders', groups: ['builders'] }), file({ path: '/srv/bob', state: 'directory', owner: 'bob', group: 'builders' })];
  const check = await runTasks(h.inventoryEntry(), tasks, 'check');
  t.same(statuses(check), ['changed', 'changed', 'changed'], errors(check));
  t.equal(tasksOf(check)[1]?.changes[0]?.summary, 'create user bob with a home directory');
  t.equal(await accountState(), before);
  t.equal((await h.exec('getent passwd bob || getent group builders || test -e /srv/bob')).code, 1, 'no bob, no builders, no /srv/bob');
});

t.test('users: removing a user with a running process fails naming it, and force stops it first', async (t) => {
  await exec('systemd-run --uid=alice --unit=alice-sleep sleep 1000');
  const refused = await runTasks(h.inventoryEntry(), [user({ name: 'alice', state: 'absent', removeHome: true })], 'apply');
  t.same(statuses(refused), ['failed']);
  // Besides the sleep, alice's systemd --user manager may still run after the test's ssh logins.
  t.match(errors(refused), /cannot be removed while it has running processes \(.*\d+ sleep.*\): stop them .*set force: true/);
  t.equal(await exec('getent passwd alice | cut -d: -f1'), 'alice\n', 'alice is still there');

  const forced = await runTasks(h.inventoryEntry(), [user({ name: 'alice', state: 'absent', removeHome: true, force: true })], 'apply');
  t.same(statuses(forced), ['changed'], errors(forced));
  t.match(tasksOf(forced)[0]?.changes[0]?.summary, /^stop \d+ process(es)? of alice \(.*\d+ sleep.*\), then remove user alice and its home \/home\/alice$/);
  t.equal((await h.exec('getent passwd alice')).code, 2, 'alice is gone');
  t.equal((await h.exec('test -e /home/alice')).code, 1, 'her home is gone');
  t.equal((await h.exec('pgrep -u 1601')).code, 1, 'her process is gone');
  t.same(statuses(await runTasks(h.inventoryEntry(), [user({ name: 'alice', state: 'absent', removeHome: true })], 'apply')), ['ok']);
});

t.test('users: removing groups, then a second run reports nothing changed', async (t) => {
  const tasks = [group({ name: 'media', state: 'absent' }), group({ name: 'photos', state: 'absent' })];
  const first = await runTasks(h.inventoryEntry(), tasks, 'apply');
  t.same(statuses(first), ['changed', 'changed'], errors(first));
  t.equal((await h.exec('getent group media photos')).code, 2);
  t.same(statuses(await runTasks(h.inventoryEntry(), tasks, 'apply')), ['ok', 'ok']);
});

t.test('users: invalid parameters fail before any host is touched, naming task, parameter and value', async (t) => {
  const before = await accountState();
  const bad = [user({ name: 'Bad Name!' }), user({ name: 'carol', uid: 'abc' as unknown as number }), group({ name: 'ops', gid: -1 })];
  await t.rejects(runTasks(h.inventoryEntry(), bad, 'apply'), UsageError);
  const message = await runTasks(h.inventoryEntry(), bad, 'apply').catch((e: Error) => e.message);
  t.match(message, /task 'user Bad Name!' \(user\): parameter 'name' = "Bad Name!": must be an account name/);
  t.match(message, /task 'user carol' \(user\): parameter 'uid' = "abc": must be an integer/);
  t.match(message, /task 'group ops' \(group\): parameter 'gid' = -1: must be at least 0/);

  const plaintext = await runTasks(h.inventoryEntry(), [user({ name: 'carol', passwordHash: 'correct horse' })], 'apply').catch((e: Error) => e);
  t.type(plaintext, UsageError);
  t.match(String(plaintext), /task 'user carol' \(user\): parameter 'passwordHash' is not a crypt\(3\) hash/);
  t.notMatch(String(plaintext), /correct horse/, 'a password given by mistake is not printed');
  t.equal(await accountState(), before);
});
