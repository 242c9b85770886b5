import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { stringify } from 'yaml';
import { hosts, type TestHost } from './hosts/index.ts';
import { runPlay, writePlaybook } from './support/play.ts';

// One hostform run per host at a time: issue 14 ("Two `play` runs against the
// same host at the same time are not prevented") and issue 17, item 7 (two
// concurrent runs both reported the same package install while dnf ran one
// transaction). The lock is /run/hostform/run.lock on the host, held by the
// run's connection, so it dies with it.

const LOCK = '/run/hostform/run.lock';
const PLAY = new URL('../bin/play.js', import.meta.url).pathname;

let h: TestHost;
let dir: string;
let asRoot: string;
let asAdmin: string;
let asPwuser: string;

t.before(async () => {
  [h] = (await hosts.up(1, 'el9')) as [TestHost];
  dir = await mkdtemp(join(tmpdir(), 'hostform-lock-'));
  asRoot = join(dir, 'root.yml');
  asAdmin = join(dir, 'admin.yml');
  asPwuser = join(dir, 'pwuser.yml');
  await writeFile(asRoot, stringify({ hosts: { box: h.inventoryEntry() } }));
  await writeFile(asAdmin, stringify({ hosts: { box: { ...h.inventoryEntry(), user: 'admin' } } }));
  await writeFile(asPwuser, stringify({ hosts: { box: { ...h.inventoryEntry(), user: 'pwuser' } } }));
});
t.teardown(async () => {
  await hosts.down();
  await rm(dir, { recursive: true, force: true });
});

const modules = new URL('../modules/index.ts', import.meta.url).pathname;

/** A playbook (run as root, through sudo when the login user is admin) that installs a package, writes a file, then takes `seconds`. */
const slowBook = (name: string, seconds: number) =>
  writePlaybook(
    dir,
    name,
    `import { packages } from ${JSON.stringify(modules)};
export default playbook({ name: '${name}', hosts: 'all', become: true, tasks: [
  packages({ present: ['hostform-test-a'] }),
  file({ path: '/etc/hostform-lock-test', content: 'one run at a time\\n' }, { name: 'stamp' }),
  command({ argv: ['sleep', '${seconds}'] }, { name: 'slow' }),
] });`,
  );

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const report = (stdout: string) => JSON.parse(stdout) as { hosts: { status: string; error?: { kind: string; message: string }; roundTrips: number; tasks: { name: string; status: string }[] }[] };
const statusOf = (r: ReturnType<typeof report>, task: string) => r.hosts[0]?.tasks.find((x) => x.name === task)?.status;

/** Whether a hostform run holds the host's lock now (a flock that fails at once). */
const held = async () => (await h.exec(`flock -n ${LOCK} true`)).code !== 0;

/** Wait until `condition` holds, up to `ms`; whether it did. */
async function until(condition: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await condition()) return true;
  return condition();
}

t.test('two concurrent runs on one host: exactly one installs the package, the other fails naming who holds the lock', async (t) => {
  const book = await slowBook('install', 3);
  // One logs in as root, the other as admin with sudo: both take root's lock.
  const results = await Promise.all([runPlay([book, '-i', asRoot, '--json', '--lock-timeout', '0']), runPlay([book, '-i', asAdmin, '--json', '--lock-timeout', '0'])]);
  t.same(results.map((r) => r.code).sort(), [0, 1], 'one run converges, the other fails');
  const winner = report((results.find((r) => r.code === 0) ?? results[0]!).stdout);
  const loser = report((results.find((r) => r.code === 1) ?? results[1]!).stdout);
  t.equal(statusOf(winner, 'packages hostform-test-a'), 'changed', 'the run that holds the lock installs');
  t.equal(loser.hosts[0]?.status, 'failed');
  t.same(loser.hosts[0]?.tasks, [], 'the other run planned and changed nothing');
  t.equal(loser.hosts[0]?.error?.kind, 'lock');
  t.match(
    loser.hosts[0]?.error?.message,
    new RegExp(`^box is locked by another hostform run \\(${LOCK}\\): playbook ${escapeRegExp(book)}, started \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z by \\S+@${hostname()} \\(pid ${process.pid}, run [0-9a-f-]{36}\\); waited 0 s\\n  try: run again when it has finished, or wait longer with --lock-timeout SECONDS$`),
  );
  t.notOk(await held(), 'the lock is free once both runs ended');
});

t.test('a run waits up to --lock-timeout for the holder to finish, then plans against what it did', async (t) => {
  await h.exec('rm -f /etc/hostform-lock-test');
  const book = await slowBook('first', 3);
  const first = runPlay([book, '-i', asRoot, '--json']);
  t.ok(await until(async () => (await h.exec(`grep -qx 'playbook=${book}' ${LOCK} && ! flock -n ${LOCK} true`)).code === 0, 10_000), 'the first run holds the lock');
  const second = await runPlay([(await slowBook('second', 0)), '-i', asAdmin, '--json', '--lock-timeout', '60']);
  const firstResult = await first;
  t.equal(firstResult.code, 0, firstResult.stderr);
  t.equal(second.code, 0, second.stderr);
  t.equal(statusOf(report(firstResult.stdout), 'stamp'), 'changed');
  t.equal(statusOf(report(second.stdout), 'stamp'), 'ok', 'the second run saw the file the first one wrote');
});

t.test('a user who cannot become root takes a lock of their own, in a directory only they can write', async (t) => {
  const book = await writePlaybook(dir, 'mine', `export default playbook({ name: 'mine', hosts: 'all', tasks: [command({ argv: ['sleep', '2'] })] });`);
  const results = await Promise.all([runPlay([book, '-i', asPwuser, '--json', '--lock-timeout', '0']), runPlay([book, '-i', asPwuser, '--json', '--lock-timeout', '0'])]);
  t.same(results.map((r) => r.code).sort(), [0, 1], 'one run converges, the other fails');
  const loser = report((results.find((r) => r.code === 1) ?? results[1]!).stdout);
  const [, path] = /^box is locked by another hostform run \((\S+)\)/.exec(loser.hosts[0]?.error?.message ?? '') ?? [];
  t.match(path, /^(\/run\/user\/\d+|\/home\/pwuser\/\.cache)\/hostform\/run\.lock$/, loser.hosts[0]?.error?.message ?? 'no error');
  t.equal((await h.exec(`stat -c '%U %a' ${path} $(dirname ${path})`)).stdout, 'pwuser 600\npwuser 700\n');
});

t.test('a no-op run still costs two round trips: facts and lock in one, the probes in the other', async (t) => {
  const book = await writePlaybook(dir, 'noop', `export default playbook({ name: 'noop', hosts: 'all', tasks: [file({ path: '/etc/hostform-lock-test', content: 'one run at a time\\n' })] });`);
  const result = await runPlay([book, '-i', asRoot, '--json']);
  t.equal(result.code, 0, result.stderr);
  t.equal(report(result.stdout).hosts[0]?.roundTrips, 2);
});

t.test('a SIGKILLed control process leaves no lock behind: the next run proceeds at once', async (t) => {
  const book = await slowBook('killed', 60);
  const child = spawn(process.execPath, [PLAY, book, '-i', asRoot], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.ok(await until(async () => (await h.exec(`grep -qx 'playbook=${book}' ${LOCK} && ! flock -n ${LOCK} true`)).code === 0, 20_000), 'the run holds the lock');
  child.kill('SIGKILL');
  await exited;
  t.ok(await until(async () => !(await held()), 5_000), 'the lock is free within seconds of the kill');
  const next = await runPlay([await writePlaybook(dir, 'next', `export default playbook({ name: 'next', hosts: 'all', tasks: [command({ argv: ['true'], creates: '/' })] });`), '-i', asRoot, '--json', '--lock-timeout', '0']);
  t.equal(next.code, 0, 'the next run converges without waiting');
});

t.test('a host without flock fails, saying what it needs, and nothing runs there', async (t) => {
  await h.exec('mv /usr/bin/flock /usr/bin/flock.away');
  t.teardown(() => h.exec('mv /usr/bin/flock.away /usr/bin/flock'));
  const book = await writePlaybook(dir, 'noflock', `export default playbook({ name: 'noflock', hosts: 'all', tasks: [file({ path: '/etc/hostform-noflock', content: 'x\\n' })] });`);
  const result = await runPlay([book, '-i', asRoot, '--json']);
  t.equal(result.code, 1);
  const host = report(result.stdout).hosts[0];
  t.equal(host?.status, 'failed');
  t.match(host?.error?.message, /^cannot take the run lock on box: flock is not installed \(it comes with util-linux\)\n  try: /);
  t.equal((await h.exec('test -e /etc/hostform-noflock')).code, 1, 'the file task never ran');
});
