/**
 * The sudo path of writeFile (login user not root) cannot run for real while
 * the tests run as root, so it is driven here through a transport that
 * claims a non-root login and records what it is asked to do.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { writeFileAtomically, type WriteTransport } from '../../lib/connection/atomic-write.ts';
import { openConnection } from '../../lib/connection/open.ts';
import type { ExecResult, RunOptions } from '../../lib/connection/types.ts';
import { RemoteCommandError } from '../../lib/errors.ts';
import type { ShellScript } from '../../lib/shell/quote.ts';

const dir = await mkdtemp(join(tmpdir(), 'hostform-atomic-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const local = await openConnection({ kind: 'local', hostName: 'control' });

function transport(staging: string, sudo?: ExecResult) {
  const calls: { uploads: string[]; runs: RunOptions[]; removed: string[] } = { uploads: [], runs: [], removed: [] };
  const fake: WriteTransport = {
    hostName: 'web1',
    loginUser: 'deploy',
    loginIsRoot: false,
    privateTempDir: staging,
    upload: async (path, data) => {
      calls.uploads.push(path);
      await writeFile(path, data, { flag: 'wx', mode: 0o600 });
    },
    remove: async (path) => {
      calls.removed.push(path);
      await rm(path);
    },
    // Stands in for `sudo -n`: the tests already run as root.
    run: async (script: ShellScript, options: RunOptions = {}) => {
      calls.runs.push(options);
      return sudo ?? local.run(script);
    },
  };
  return { fake, calls };
}

t.test('atomic write with become: upload to a private staging file, then one sudo command installs it', async (t) => {
  const staging = await mkdtemp(join(dir, 'staging-'));
  const target = join(dir, 'etc-app.conf');
  await writeFile(target, 'old\n', { mode: 0o600 });
  const { fake, calls } = transport(staging);
  await writeFileAtomically(fake, target, 'new\n', { become: true, mode: 0o640, owner: 'nobody' });
  t.equal(await readFile(target, 'utf8'), 'new\n');
  t.equal((await stat(target)).mode & 0o7777, 0o640);
  t.equal(calls.uploads.length, 1);
  t.match(calls.uploads[0], new RegExp(`^${staging}/\\.hostform-[0-9a-f]{12}$`), 'the upload goes to the private directory');
  t.same(calls.runs, [{ become: true }], 'exactly one command, through become');
  t.same(await readdir(staging), [], 'the staging file is removed');
  t.same((await readdir(dir)).sort(), ['etc-app.conf', staging.slice(dir.length + 1)], 'no temporary file next to the target');
});

t.test('atomic write with become: when sudo wants a password, the error says so and the staging file is removed', async (t) => {
  const staging = await mkdtemp(join(dir, 'staging-'));
  const target = join(dir, 'never-written.conf');
  const { fake, calls } = transport(staging, { stdout: '', stderr: 'sudo: a password is required\n', code: 1 });
  const error = await writeFileAtomically(fake, target, 'x', { become: true }).catch((e: unknown) => e);
  t.type(error, RemoteCommandError);
  t.match(
    error instanceof Error ? error.message : '',
    'sudo on web1 needs a password; hostform only uses passwordless sudo (sudo -n). Add a NOPASSWD rule for deploy or connect as root.',
  );
  t.equal(calls.removed.length, 1);
  t.same(await readdir(staging), []);
  await t.rejects(stat(target), 'the target was not created');
});

t.test('atomic write without become: the temporary file sits next to the target and is renamed', async (t) => {
  const staging = await mkdtemp(join(dir, 'staging-'));
  const target = join(dir, 'plain.conf');
  const { fake, calls } = transport(staging);
  await writeFileAtomically(fake, target, 'plain\n', {});
  t.match(calls.uploads[0], new RegExp(`^${dir}/\\.plain\\.conf\\.hostform-[0-9a-f]{12}$`));
  t.same(calls.runs, [{ become: false }]);
  t.equal(await readFile(target, 'utf8'), 'plain\n');
});

t.test('atomic write: an owner that does not exist fails with the command and stderr, leaving the old file', async (t) => {
  const target = join(dir, 'kept.conf');
  await writeFile(target, 'kept\n');
  const { fake } = transport(dir);
  const error = await writeFileAtomically(fake, target, 'new', { owner: 'no-such-user-hf' }).catch((e: unknown) => e);
  t.type(error, RemoteCommandError);
  t.match(error instanceof RemoteCommandError ? error.details.stderr : '', 'no-such-user-hf');
  t.equal(await readFile(target, 'utf8'), 'kept\n');
  t.notOk((await readdir(dir)).some((name) => name.startsWith('.kept.conf.hostform-')), 'temporary file removed');
});
