import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { hosts, type TestHost } from './hosts/index.ts';
import { runPlay, writePlaybook } from './support/play.ts';

// Secrets of issue 17: each case puts this canary where a secret goes and
// searches everything the CLI printed (stdout and stderr, --json included).
const CANARY = 'hfCANARY7q3z';

let h: TestHost;
let dir: string;
let inventory: string;

t.before(async () => {
  [h] = (await hosts.up(1, 'el9')) as [TestHost];
  dir = await mkdtemp(join(tmpdir(), 'hostform-secrets-'));
  inventory = join(dir, 'inventory.yml');
  await writeFile(inventory, stringify({ hosts: { th: h.inventoryEntry() } }));
});
t.teardown(async () => {
  await hosts.down();
  await rm(dir, { recursive: true, force: true });
});

const exec = async (cmd: string, input?: string) => {
  const r = await h.exec(cmd, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
};

const modules = new URL('../modules/index.ts', import.meta.url).pathname;
let books = 0;

/** A playbook file whose tasks are this TypeScript source. */
const book = (tasks: string) =>
  writePlaybook(dir, `secrets${books++}`, `import { user, repo, timer } from ${JSON.stringify(modules)};\nexport default playbook({ name: 'secrets', hosts: 'all', tasks: [${tasks}] });`);

/** Run the CLI on the test host; `all` is everything it printed. */
const play = async (tasks: string, ...flags: string[]) => {
  const result = await runPlay([await book(tasks), '-i', inventory, ...flags]);
  return { ...result, all: result.stdout + result.stderr };
};

t.test('file: removing a secret file prints none of its content, with --check, --diff or --json', async (t) => {
  const tasks = `file({ path: '/etc/hf-token', state: 'absent', secret: true })`;
  const plant = () => exec('umask 077; cat > /etc/hf-token', `token=${CANARY}\n`);
  await plant();
  for (const flags of [['--check'], ['--check', '--diff'], ['--check', '--json']]) {
    const r = await play(tasks, ...flags);
    t.equal(r.code, 2, `${flags.join(' ')}: drift found`);
    t.notMatch(r.all, CANARY, `${flags.join(' ')}: the content is not printed`);
  }
  t.match((await play(tasks, '--check')).all, /remove file \/etc\/hf-token \(secret: content not shown\)/);
  for (const flags of [['--diff'], ['--json']]) {
    await plant();
    const r = await play(tasks, ...flags);
    t.equal(r.code, 0, `${flags.join(' ')}: applied`);
    t.notMatch(r.all, CANARY, `${flags.join(' ')}: the content is not printed`);
    t.equal((await h.exec('test -e /etc/hf-token')).code, 1, 'the file is gone');
  }
});

t.test('repo: updating or removing a repository whose file holds a password prints none of the file', async (t) => {
  const plant = () => exec('cat > /etc/yum.repos.d/hf-private.repo', `[hf-private]\nname=hf-private\nbaseurl=file:///srv/hf-private\nenabled=0\nusername=me\npassword=${CANARY}\n`);
  const update = `repo({ name: 'hf-private', baseurl: 'file:///srv/hf-private', enabled: false })`;
  const removal = `repo({ name: 'hf-private', state: 'absent' })`;
  for (const tasks of [update, removal]) {
    await plant();
    for (const flags of [['--check'], ['--check', '--diff'], ['--check', '--json'], ['--diff', '--json']]) {
      await plant();
      const r = await play(tasks, ...flags);
      t.equal(r.code, flags.includes('--check') ? 2 : 0, `${flags.join(' ')}: drift found, or applied`);
      t.notMatch(r.all, CANARY, `${tasks} ${flags.join(' ')}: the old password is not printed`);
    }
  }
  t.equal((await h.exec('test -e /etc/yum.repos.d/hf-private.repo')).code, 1, 'the last run removed the file');
});

t.test('parameter errors name the task and parameter but print no sensitive value, --json included', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['a misspelt password key on user', `user({ name: 'hfbob', password: '${CANARY}' } as never)`, /task 'user hfbob' \(user\): parameter 'password' is not known to user \(did you mean 'passwordHash'\?\)/],
    ['a repo password ending in a newline', `repo({ name: 'hf-r', baseurl: 'https://example.org/', password: '${CANARY}\\n' })`, /task 'repo hf-r' \(repo\): parameter 'password' = \(secret, not shown: a string of 13 characters, ending in a line break\)/],
    ['a command env map with one bad key', `command({ argv: ['true'], env: { TOKEN: '${CANARY}', 'bad-key': '${CANARY}' } })`, /parameter 'env' has a key "bad-key" that is not valid/],
    [
      'a timer environment map with one bad key',
      `timer({ name: 'hf-backup', onCalendar: 'daily', service: { execStart: '/bin/true', environment: { TOKEN: '${CANARY}', 'bad-key': '${CANARY}' } } })`,
      /parameter 'service\.environment' has a key "bad-key" that is not valid/,
    ],
    ['content and template on a secret file', `file({ path: '/etc/hf-x', secret: true, content: '${CANARY}', template: '${CANARY}' } as never)`, /task 'file \/etc\/hf-x' \(file\): needs exactly one of 'content', 'template'/],
  ];
  for (const [what, tasks, message] of cases) {
    for (const flags of [['--check'], ['--json']]) {
      const r = await play(tasks, ...flags);
      t.equal(r.code, 64, `${what} ${flags.join(' ')}: refused as bad usage`);
      t.match(r.stderr, message, what);
      t.notMatch(r.all, CANARY, `${what} ${flags.join(' ')}: the value is not printed`);
    }
  }
});

t.test('modes: a secret file without a mode is 0600, new or already there; a repo file with a password is 0600', async (t) => {
  await exec('printf old > /etc/hf-old-secret && chmod 0644 /etc/hf-old-secret');
  const r = await play(
    [
      `file({ path: '/etc/hf-new-secret', content: 'token', secret: true })`,
      `file({ path: '/etc/hf-old-secret', content: 'old', secret: true })`,
      `repo({ name: 'hf-auth', baseurl: 'file:///srv/hf-auth', enabled: false, username: 'me', password: 'pw-1234' })`,
    ].join(', '),
  );
  t.equal(r.code, 0, r.stderr);
  t.equal(await exec('stat -c "%a %n" /etc/hf-new-secret /etc/hf-old-secret /etc/yum.repos.d/hf-auth.repo'), '600 /etc/hf-new-secret\n600 /etc/hf-old-secret\n600 /etc/yum.repos.d/hf-auth.repo\n');
});

t.test('user: an empty password hash (an unset variable) is refused, and no account is made', async (t) => {
  const r = await play(`user({ name: 'hfnopw', passwordHash: process.env['HF_UNSET_HASH'] ?? '' })`);
  t.equal(r.code, 64);
  t.match(r.stderr, /task 'user hfnopw' \(user\): parameter 'passwordHash' is empty, which would let anyone log in as this user without a password .*'!' to lock the password explicitly/);
  t.equal((await h.exec('getent passwd hfnopw')).code, 2, 'no account, so no passwordless su to it');
  t.equal((await play(`user({ name: 'hflocked', passwordHash: '!' })`)).code, 0, "a locked account is said with '!'");
  t.equal(await exec('getent shadow hflocked | cut -d: -f2'), '!\n');
});

t.test('command: a failing command shows its env values neither in the command nor in what it printed', async (t) => {
  const tasks = `command({ argv: ['sh', '-c', 'echo "using $TOKEN" >&2; exit 3'], env: { TOKEN: '${CANARY}' } })`;
  for (const flags of [[], ['--json']]) {
    const r = await play(tasks, ...flags);
    t.equal(r.code, 1);
    t.match(r.all, /command failed with exit code 3/);
    t.match(r.all, /command: # environment from standard input && sh -c 'echo /, 'the command is shown; its environment was never in it (it travels on standard input)');
    t.match(r.all, /stderr: using \*\*\*/, "so is the command's output");
    t.notMatch(r.all, CANARY);
  }
});

t.test('a NUL byte or a value too large for a command line is refused before the host is touched (exit 64), not a lost connection', async (t) => {
  const nul = await play(`command({ argv: ['true'], unless: ['test', 'a\\0b'] })`, '--check');
  t.equal(nul.code, 64, 'a NUL byte is bad usage');
  t.match(nul.stderr, /task 'command true' \(command\): parameter 'unless\.1' holds a NUL byte \(character 2 of 3\)/);
  const large = await play(`command({ argv: ['true'], unless: ['test', "'".repeat(100000)] })`, '--check');
  t.equal(large.code, 64, 'an oversized value is bad usage');
  t.match(large.stderr, /parameter 'unless\.1' is too large for the host's command line: a string of 100000 characters takes 1269\.5 KiB there, at most 16 KiB/);
});

t.test('a run killed with SIGKILL, in check mode or while applying, leaves no copy of a secret file in /tmp or /run', async (t) => {
  const content = `token=${CANARY}-killed\n`;
  // The probe copies the file base64-encoded: search for both forms.
  const encoded = Buffer.from(content).toString('base64');
  const bin = new URL('../bin/play.js', import.meta.url).pathname;
  const tasks = `file({ path: '/etc/hf-killed', content: 'new\\n', secret: true }), command({ argv: ['true'], unless: ['sh', '-c', 'sleep 4.25'] })`;
  const sleeping = async () => /sleep 4\.25/.test((await h.exec('pgrep -a -x sleep')).stdout);
  for (const flags of [['--check'], []]) {
    await exec('umask 077; cat > /etc/hf-killed', content);
    const child = spawn(process.execPath, [bin, await book(tasks), '-i', inventory, ...flags], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // The batch probes the secret file first, then sleeps in the guard: kill the control side there.
    await until(sleeping);
    child.kill('SIGKILL');
    await exited;
    // The host's script outlives the control side until its sleep ends and it finds nobody listening.
    await until(async () => !(await sleeping()));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const found = await h.exec(`grep -rlsF -e ${CANARY} -e ${encoded} /tmp /var/tmp /run /dev/shm`);
    t.equal(found.stdout, '', `${flags.join(' ') || 'apply'}: no file on the host holds the secret`);
    t.equal(await exec('cat /etc/hf-killed'), content, 'and the file is as it was');
  }
});

async function until(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the host');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
