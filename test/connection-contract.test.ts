/**
 * The Connection contract, checked the same way against a real OpenSSH
 * server and against the local connection: a playbook must not notice which
 * one it runs on.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTick } from 'node:timers/promises';
import t from 'tap';
import { openConnection } from '../lib/connection/open.ts';
import type { Connection } from '../lib/connection/types.ts';
import { RemoteCommandError, UsageError } from '../lib/errors.ts';
import { sh, trusted } from '../lib/shell/quote.ts';
import { startSshd } from './support/sshd.ts';

const server = await startSshd();
t.teardown(() => server.stop());
const localDir = await mkdtemp(join(tmpdir(), 'hostform-local-'));
t.teardown(() => rm(localDir, { recursive: true, force: true }));

const kinds: { kind: string; dir: string; open: () => Promise<Connection> }[] = [
  {
    kind: 'ssh',
    dir: server.dir,
    open: () =>
      openConnection({
        kind: 'ssh',
        hostName: 'sshd-fixture',
        address: server.address,
        port: server.port,
        user: server.user,
        identityFile: server.identityFile,
        knownHostsFile: server.knownHostsFile,
      }),
  },
  { kind: 'local', dir: localDir, open: () => openConnection({ kind: 'local', hostName: 'control' }) },
];

const nobodyUid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
const nogroupGid = Number(execFileSync('getent', ['group', 'nogroup'], { encoding: 'utf8' }).split(':')[2]);

for (const { kind, dir, open } of kinds) {
  const conn = await open();
  t.teardown(() => conn.close());
  const files = join(dir, 'files');
  await mkdir(files);

  t.test(`${kind}: run returns stdout, stderr and the exit code exactly, trailing newlines included`, async (t) => {
    const result = await conn.run(trusted(`printf 'out\\n\\n'; printf '  err  \\n' >&2; exit 3`));
    t.same(result, { stdout: 'out\n\n', stderr: '  err  \n', code: 3 });
  });

  t.test(`${kind}: run keeps multi-byte characters and NUL bytes intact in large output`, async (t) => {
    const result = await conn.run(trusted(`i=0; while [ $i -lt 20000 ]; do printf 'é€'; i=$((i+1)); done; printf 'a\\000b'`));
    t.equal(result.stdout, `${'é€'.repeat(20000)}a\u0000b`);
  });

  t.test(`${kind}: run feeds stdin to the script, as a string or as bytes`, async (t) => {
    t.equal((await conn.run(trusted('cat'), { stdin: 'line 1\nlast, no newline' })).stdout, 'line 1\nlast, no newline');
    const bytes = Buffer.from([0xc3, 0xa9, 0x0a]);
    t.equal((await conn.run(trusted('od -An -tx1 | tr -d " \\n"'), { stdin: bytes })).stdout, 'c3a90a');
  });

  t.test(`${kind}: a script killed by a signal reports 128 + the signal number`, async (t) => {
    t.equal((await conn.run(trusted('kill -9 $$'))).code, 137);
  });

  t.test(`${kind}: values interpolated with sh reach the script as single words`, async (t) => {
    const tricky = `it's "quoted" $HOME; rm -rf / \`x\``;
    t.equal((await conn.run(sh`printf %s ${tricky}`)).stdout, tricky);
  });

  t.test(`${kind}: become as root runs the script as uid 0`, async (t) => {
    t.same(await conn.run(trusted('id -u'), { become: true }), { stdout: '0\n', stderr: '', code: 0 });
  });

  t.test(`${kind}: every run counts as a round trip`, async (t) => {
    const before = conn.roundTrips;
    await conn.run(trusted('true'));
    await conn.run(trusted('true'));
    t.equal(conn.roundTrips - before, 2);
  });

  t.test(`${kind}: writeFile replaces a file so that a reader only ever sees the old or the new content`, async (t) => {
    const path = join(files, 'atomic.bin');
    const a = Buffer.alloc(1024 * 1024, 'a');
    const b = Buffer.alloc(1024 * 1024, 'b');
    await writeFile(path, a);
    let reading = true;
    let reads = 0;
    let torn = 0;
    const reader = (async () => {
      while (reading) {
        const seen = await readFile(path);
        reads += 1;
        if (!seen.equals(a) && !seen.equals(b)) torn += 1;
        await nextTick();
      }
    })();
    let renamed = 0;
    for (const content of [b, a, b]) {
      // The temporary file is created while the old one still exists, so a rename always changes the inode.
      const inodeBefore = (await stat(path)).ino;
      await conn.writeFile(path, content);
      if ((await stat(path)).ino !== inodeBefore) renamed += 1;
    }
    reading = false;
    await reader;
    t.equal(torn, 0, `no partial content in ${reads} reads`);
    t.ok((await readFile(path)).equals(b), 'the last write wins');
    t.equal(renamed, 3, 'each write replaced the file by a rename, not rewrote it in place');
    t.same(await readdir(files), ['atomic.bin'], 'no temporary file left behind');
  });

  t.test(`${kind}: writeFile sets mode, owner and group`, async (t) => {
    const path = join(files, 'owned.conf');
    const before = conn.roundTrips;
    await conn.writeFile(path, 'key = value\n', { mode: 0o640, owner: 'nobody', group: 'nogroup', become: true });
    const info = await stat(path);
    t.equal(info.mode & 0o7777, 0o640);
    t.equal(info.uid, nobodyUid);
    t.equal(info.gid, nogroupGid);
    t.equal(await readFile(path, 'utf8'), 'key = value\n');
    t.equal(conn.roundTrips - before, 1, 'one command, the content on its standard input');
  });

  t.test(`${kind}: writeFile keeps an existing file's mode and gives a new file 0644 when no mode is asked`, async (t) => {
    const existing = join(files, 'keeps-mode');
    await writeFile(existing, 'old', { mode: 0o600 });
    await conn.writeFile(existing, 'new');
    t.equal((await stat(existing)).mode & 0o7777, 0o600);
    t.equal(await readFile(existing, 'utf8'), 'new');
    const fresh = join(files, 'fresh');
    await conn.writeFile(fresh, Buffer.from([0, 1, 2, 255]));
    t.equal((await stat(fresh)).mode & 0o7777, 0o644);
    t.same([...(await readFile(fresh))], [0, 1, 2, 255], 'bytes written as given');
    await rm(existing);
    await rm(fresh);
  });

  t.test(`${kind}: writeFile into a missing directory fails with the directory in the hint`, async (t) => {
    const path = join(files, 'no-such-dir', 'x.conf');
    const error = await conn.writeFile(path, 'x').catch((e: unknown) => e);
    t.type(error, RemoteCommandError);
    t.match(error instanceof RemoteCommandError ? error.message : '', join(files, 'no-such-dir'));
  });

  t.test(`${kind}: writeFile refuses to replace a directory and leaves nothing behind`, async (t) => {
    const path = join(files, 'a-directory');
    await mkdir(path);
    const error = await conn.writeFile(path, 'x').catch((e: unknown) => e);
    t.type(error, RemoteCommandError);
    t.match(error instanceof RemoteCommandError ? error.details.stderr : '', /is a directory/);
    t.equal((await stat(path)).isDirectory(), true);
    t.notOk((await readdir(files)).some((name) => name.includes('hostform')), 'no temporary file left behind');
    await rm(path, { recursive: true });
  });

  t.test(`${kind}: writeFile wants an absolute path`, async (t) => {
    await t.rejects(conn.writeFile('relative/x.conf', 'x'), UsageError);
  });
}
