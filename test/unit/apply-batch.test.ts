import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openLocal } from '../../lib/connection/local.ts';
import { ApplyBatcher } from '../../lib/run/apply-batch.ts';
import { batchScript } from '../../lib/run/probe-batch.ts';
import { sh, trusted } from '../../lib/shell/quote.ts';

// The commands of tasks applied together (lib/run/apply-batch.ts), run on the
// control machine itself through the local connection: the same sh, mktemp,
// stat, tail, head and base64 a host has.

const scratch = mkdtempSync(join(tmpdir(), 'apply-batch-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

t.test('commands asked for together go in one round trip, each with its own input, output and exit code, in the order asked', async (t) => {
  const connection = await openLocal({ kind: 'local', hostName: 'local' });
  const batcher = new ApplyBatcher(connection, false);
  const before = connection.roundTrips;
  const results = await Promise.all([
    batcher.run(trusted('cat; echo " one"'), { stdin: 'first input' }),
    batcher.run(trusted('echo two; echo warn >&2; exit 3')),
    batcher.run(trusted('cat | wc -c'), { stdin: Buffer.from('ü\n\0x') }),
    batcher.run(trusted('cat'), { stdin: '' }),
  ]);
  t.equal(connection.roundTrips - before, 1, 'one round trip');
  t.same(results, [
    { code: 0, stdout: 'first input one\n', stderr: '' },
    { code: 3, stdout: 'two\n', stderr: 'warn\n' },
    { code: 0, stdout: '5\n', stderr: '' },
    { code: 0, stdout: '', stderr: '' },
  ]);
});

t.test('a task that awaits its commands one by one keeps their order; two such tasks share the round trips', async (t) => {
  const connection = await openLocal({ kind: 'local', hostName: 'local' });
  const batcher = new ApplyBatcher(connection, false);
  const log = join(scratch, 'order');
  const task = async (name: string) => {
    await batcher.run(sh`echo ${`${name} 1`} >>${log}`);
    await batcher.writeFile(join(scratch, name), `${name}\n`, { mode: 0o600 });
    await batcher.run(sh`echo ${`${name} 3`} >>${log}`);
  };
  const before = connection.roundTrips;
  await Promise.all([task('a'), task('b')]);
  t.equal(connection.roundTrips - before, 3, 'three round trips for two tasks of three commands each');
  t.equal(readFileSync(log, 'utf8'), 'a 1\nb 1\na 3\nb 3\n');
  t.equal(readFileSync(join(scratch, 'a'), 'utf8'), 'a\n');
  t.equal(readFileSync(join(scratch, 'b'), 'utf8'), 'b\n');
});

t.test('a batch whose input arrives cut short runs none of its commands', async (t) => {
  const marker = join(scratch, 'ran');
  const script = batchScript([sh`cat >/dev/null; touch ${marker}`, sh`touch ${marker}`], [10, undefined]);
  let code = 0;
  let stderr = '';
  try {
    execFileSync('sh', ['-c', script.text], { input: 'only 5', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    code = (error as { status: number }).status;
    stderr = String((error as { stderr: Buffer }).stderr);
  }
  t.equal(code, 1);
  t.match(stderr, /standard input arrived incomplete; nothing was run/);
  t.notOk(existsSync(marker), 'nothing ran');
});

t.test('a batch whose output is not a batch\'s (sudo refused it) gives each command that result, as a failure', async (t) => {
  const connection = await openLocal({ kind: 'local', hostName: 'local' });
  const refusing = { ...connection, hostName: 'local', loginUser: connection.loginUser, roundTrips: 0, run: async () => ({ code: 1, stdout: '', stderr: 'sudo: a password is required\n' }), writeFile: connection.writeFile.bind(connection), close: connection.close.bind(connection), hold: connection.hold.bind(connection) };
  const batcher = new ApplyBatcher(refusing, false);
  const results = await Promise.all([batcher.run(trusted('true'), { become: true }), batcher.run(trusted('true'), { become: true })]);
  t.same(results, [
    { code: 1, stdout: '', stderr: 'sudo: a password is required\n' },
    { code: 1, stdout: '', stderr: 'sudo: a password is required\n' },
  ]);
});
