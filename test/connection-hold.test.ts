/**
 * Connection.hold(), on a real OpenSSH server and on the local connection: a
 * script that answers, keeps running while the run needs what it holds (the
 * run lock), and ends when released or when the control process dies, even
 * by SIGKILL (issue 14: a run lock that a dead run never leaves behind).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { openConnection } from '../lib/connection/open.ts';
import type { ConnectionSpec } from '../lib/connection/types.ts';
import { sh, trusted } from '../lib/shell/quote.ts';
import { startSshd } from './support/sshd.ts';

const server = await startSshd();
t.teardown(() => server.stop());
const dir = await mkdtemp(join(tmpdir(), 'hostform-hold-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const specs: ConnectionSpec[] = [
  { kind: 'ssh', hostName: 'sshd-fixture', address: server.address, port: server.port, user: server.user, identityFile: server.identityFile, knownHostsFile: server.knownHostsFile },
  { kind: 'local', hostName: 'control' },
];
const CHILD = new URL('./support/hold-child.ts', import.meta.url).pathname;

/** Both connections reach this machine, so the test checks the lock files directly. */
const free = (file: string) => {
  try {
    execFileSync('flock', ['-n', file, 'true']);
    return true;
  } catch {
    return false;
  }
};

for (const spec of specs) {
  const conn = await openConnection(spec);
  t.teardown(() => conn.close());

  t.test(`${spec.kind}: hold answers at the ready line and the script holds on until released`, async (t) => {
    const lock = join(dir, `${spec.kind}-release.lock`);
    const before = conn.roundTrips;
    const held = await conn.hold(sh`exec 9>>${lock}; flock -n 9 || exit 3; echo one; echo READY; echo later; exec cat >/dev/null`, { ready: 'READY' });
    t.equal(conn.roundTrips - before, 1, 'one round trip');
    t.same({ stdout: held.stdout, code: held.code }, { stdout: 'one\nREADY\n', code: undefined });
    t.notOk(free(lock), 'held while the script runs');
    await held.release();
    t.ok(free(lock), 'free once release() returned');
  });

  t.test(`${spec.kind}: a script that ends before its ready line gives its output and exit code`, async (t) => {
    const held = await conn.hold(trusted('echo partial; echo oops >&2; exit 4'), { ready: 'READY' });
    t.same({ stdout: held.stdout, stderr: held.stderr, code: held.code }, { stdout: 'partial\n', stderr: 'oops\n', code: 4 });
  });

  t.test(`${spec.kind}: a script that ends at once gives its exit code every time, even when the control process is too busy to read each packet as it comes`, async (t) => {
    // A loaded control machine reads the host's answer (exec accepted, output, exit status, close) in one go: here
    // the event loop is kept busy in slices of 40 ms while a script that exits at once is held (a busy lock with --lock-timeout 0).
    const busy = setInterval(() => {
      for (const end = Date.now() + 40; Date.now() < end; );
    }, 1);
    try {
      for (let round = 0; round < 10; round++) {
        const held = await conn.hold(trusted('echo busy; exit 4'), { ready: 'READY' });
        t.same({ stdout: held.stdout, code: held.code }, { stdout: 'busy\n', code: 4 }, `try ${round + 1}`);
      }
    } finally {
      clearInterval(busy);
    }
  });

  t.test(`${spec.kind}: a control process killed with SIGKILL lets go of what its script held`, async (t) => {
    const lock = join(dir, `${spec.kind}-kill.lock`);
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(spec), lock], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => String(chunk).includes('held') && resolve());
      child.once('exit', () => reject(new Error('the holding process ended before it held the lock')));
    });
    t.notOk(free(lock), 'held by the child');
    child.kill('SIGKILL');
    await exited;
    let released = false;
    for (const end = Date.now() + 5_000; !released && Date.now() < end; await sleep(50)) released = free(lock);
    t.ok(released, 'free within seconds, with no one left to release it');
  });
}
