/**
 * writeFile's shared path: one command that gets the bytes on its standard
 * input. The sudo path (login user not root) is driven through a transport
 * that claims a non-root login and records what it is asked to do; the
 * commands themselves run for real on this machine (the tests run as root).
 */
import { chmod, chown, lchown, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { writeFileAtomically, type WriteTransport } from '../../lib/connection/atomic-write.ts';
import { openConnection } from '../../lib/connection/open.ts';
import type { ExecResult, RunOptions } from '../../lib/connection/types.ts';
import { RemoteCommandError } from '../../lib/errors.ts';
import type { ShellScript } from '../../lib/shell/quote.ts';

const dir = await mkdtemp(join(tmpdir(), 'hostform-atomic-'));
await chmod(dir, 0o755);
t.teardown(() => rm(dir, { recursive: true, force: true }));
const local = await openConnection({ kind: 'local', hostName: 'control' });
const isRoot = process.getuid?.() === 0;

function transport(sudo?: ExecResult) {
  const runs: RunOptions[] = [];
  const fake: WriteTransport = {
    hostName: 'web1',
    loginUser: 'deploy',
    loginIsRoot: false,
    // Stands in for `sudo -n`: the tests already run as root.
    run: async (script: ShellScript, options: RunOptions = {}) => {
      runs.push(options);
      return sudo ?? local.run(script, options.stdin !== undefined ? { stdin: options.stdin } : {});
    },
  };
  return { fake, runs };
}

t.test('atomic write with become: one sudo command gets the bytes on its standard input and installs them', async (t) => {
  const target = join(dir, 'etc-app.conf');
  await writeFile(target, 'old\n', { mode: 0o600 });
  const { fake, runs } = transport();
  await writeFileAtomically(fake, target, 'new\n', { become: true, mode: 0o640, owner: 'nobody' });
  t.equal(await readFile(target, 'utf8'), 'new\n');
  t.equal((await stat(target)).mode & 0o7777, 0o640);
  t.same(runs, [{ become: true, stdin: Buffer.from('new\n') }], 'exactly one command, through become, the content on stdin');
  t.same((await readdir(dir)).sort(), ['etc-app.conf'], 'no temporary file left next to the target');
});

t.test('atomic write with become: when sudo wants a password, the error says so and nothing is written', async (t) => {
  const target = join(dir, 'never-written.conf');
  const { fake } = transport({ stdout: '', stderr: 'sudo: a password is required\n', code: 1 });
  const error = await writeFileAtomically(fake, target, 'x', { become: true }).catch((e: unknown) => e);
  t.type(error, RemoteCommandError);
  t.match(
    error instanceof Error ? error.message : '',
    'sudo on web1 needs a password; hostform only uses passwordless sudo (sudo -n). Add a NOPASSWD rule for deploy or connect as root.',
  );
  await t.rejects(stat(target), 'the target was not created');
});

t.test('atomic write without become: one command, not through sudo', async (t) => {
  const target = join(dir, 'plain.conf');
  const { fake, runs } = transport();
  await writeFileAtomically(fake, target, 'plain\n', {});
  t.same(runs, [{ become: false, stdin: Buffer.from('plain\n') }]);
  t.equal(await readFile(target, 'utf8'), 'plain\n');
});

t.test('atomic write: bytes arrive exactly, NUL and invalid UTF-8 included', async (t) => {
  const target = join(dir, 'binary.bin');
  const bytes = Buffer.from([0, 1, 0xff, 0xfe, 10, 13, 0, 0x80]);
  await writeFileAtomically(transport().fake, target, bytes, {});
  t.same(await readFile(target), bytes);
});

t.test('atomic write: an owner that does not exist fails with the command and stderr, leaving the old file', async (t) => {
  const target = join(dir, 'kept.conf');
  await writeFile(target, 'kept\n');
  const error = await writeFileAtomically(transport().fake, target, 'new', { owner: 'no-such-user-hf' }).catch((e: unknown) => e);
  t.type(error, RemoteCommandError);
  t.match(error instanceof RemoteCommandError ? error.details.stderr : '', 'no-such-user-hf');
  t.equal(await readFile(target, 'utf8'), 'kept\n');
  t.notOk((await readdir(dir)).some((name) => name.startsWith('.kept.conf.hostform-')), 'temporary file removed');
});

t.test('atomic write: a target that is a link to a directory is refused, never written into the directory', async (t) => {
  const real = join(dir, 'real-dir');
  await mkdir(real);
  await symlink(real, join(dir, 'link-to-dir'));
  await t.rejects(writeFileAtomically(transport().fake, join(dir, 'link-to-dir'), 'x', {}), /is a directory, not a file/);
  t.same(await readdir(real), []);
});

t.test('atomic write as root into a directory a user owns: written as that user, so a planted link leads nowhere', { skip: !isRoot && 'needs root' }, async (t) => {
  const home = join(dir, 'home-nobody');
  const protectedDir = join(dir, 'root-only');
  await mkdir(home);
  await mkdir(protectedDir);
  await chown(home, 65534, 65534);
  // What the user does: replace a directory root will write into with a link to one only root may write.
  await symlink(protectedDir, join(home, 'config'));
  await lchown(join(home, 'config'), 65534, 65534);

  const error = await writeFileAtomically(transport().fake, join(home, 'config', 'evil.conf'), 'x\n', { become: true, mode: 0o644 }).catch((e: unknown) => e);
  t.type(error, RemoteCommandError, 'the write fails');
  t.match(error instanceof RemoteCommandError ? error.details.stderr : '', /Permission denied/);
  t.same(await readdir(protectedDir), [], 'nothing appeared in the directory the link points to');

  await writeFileAtomically(transport().fake, join(home, 'own.conf'), 'mine\n', { become: true });
  const written = await stat(join(home, 'own.conf'));
  t.equal(written.uid, 65534, "a file in the user's own directory is written as the user");

  const foreign = await writeFileAtomically(transport().fake, join(home, 'root.conf'), 'x', { become: true, owner: 'root' }).catch((e: unknown) => e);
  t.match(foreign instanceof Error ? foreign.message : '', /refusing to write .*root\.conf.* owned by root: nobody controls .*home-nobody/);
  await t.rejects(stat(join(home, 'root.conf')), 'and it is not written');
});

t.test('atomic write: content cut short on the way (the connection died mid-transfer) is never installed', async (t) => {
  const target = join(dir, 'cut.conf');
  await writeFile(target, 'old and whole\n');
  const whole = Buffer.from('x'.repeat(10_000));
  // The transport delivers only part of the bytes, then end of input: what a
  // killed sshd or control process looks like to the script on the host.
  const cut: WriteTransport = {
    hostName: 'web1',
    loginUser: 'root',
    loginIsRoot: true,
    run: (script, options = {}) => local.run(script, { stdin: Buffer.from(options.stdin ?? '').subarray(0, 4096) }),
  };
  const error = await writeFileAtomically(cut, target, whole, {}).catch((e: unknown) => e);
  t.type(error, RemoteCommandError, 'the write fails');
  t.match(error instanceof Error ? error.message : '', /arrived incomplete: 4096 of 10000 bytes/);
  t.equal(await readFile(target, 'utf8'), 'old and whole\n', 'the old file is untouched');
  t.same((await readdir(dir)).filter((f) => f.includes('cut.conf')), ['cut.conf'], 'no temporary file left');
});
