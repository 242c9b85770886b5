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

t.test('probes given to follow run after the commands of the first batch, in the same round trip, and say what the host is after them', async (t) => {
  const connection = await openLocal({ kind: 'local', hostName: 'local' });
  const batcher = new ApplyBatcher(connection, false);
  const file = join(scratch, 'followed');
  batcher.follow([
    { script: sh`cat ${file}`, become: false },
    { script: sh`echo probe two; exit 4`, become: false },
  ]);
  const before = connection.roundTrips;
  const results = await Promise.all([batcher.run(sh`echo first >${file}`), batcher.run(sh`echo second >>${file}`)]);
  t.equal(connection.roundTrips - before, 1, 'the commands and the probes in one round trip');
  t.same(results.map((r) => r.code), [0, 0]);
  t.same(batcher.followed, [
    { code: 0, stdout: 'first\nsecond\n', stderr: '' },
    { code: 4, stdout: 'probe two\n', stderr: '' },
  ]);
  // Only the first batch carries them: a later batch leaves them as they were.
  await batcher.run(sh`echo third >>${file}`);
  t.equal(batcher.followed?.[0]?.stdout, 'first\nsecond\n');
});

t.test('probes given to follow do not ride where they would need a round trip of their own or could not keep their place after the commands', async (t) => {
  const connection = await openLocal({ kind: 'local', hostName: 'local' });
  const cases: [string, { readonly become: boolean; readonly stdin?: string }, boolean][] = [
    ['a probe run as another user than the commands', { become: true }, false],
    ['a probe with its own standard input', { become: false, stdin: 'x' }, false],
    ['a probe like the commands', { become: false }, true],
  ];
  for (const [what, request, rides] of cases) {
    const batcher = new ApplyBatcher(connection, false);
    batcher.follow([{ script: trusted('echo probed'), ...request }]);
    const before = connection.roundTrips;
    await batcher.run(trusted('true'));
    t.equal(connection.roundTrips - before, 1, `${what}: the commands take one round trip`);
    t.equal(batcher.followed !== undefined, rides, `${what}: ${rides ? 'rides' : 'does not ride'}`);
  }
  const big = new ApplyBatcher(connection, false);
  big.follow([{ script: trusted(`echo ${'x'.repeat(100 * 1024)}`), become: false }]);
  await big.run(trusted('true'));
  t.equal(big.followed, undefined, 'probes that would outgrow the one script do not ride');

  const garbling = { ...connection, hostName: 'local', loginUser: connection.loginUser, roundTrips: 0, run: async () => ({ code: 0, stdout: 'not a batch\n', stderr: '' }), writeFile: connection.writeFile.bind(connection), close: connection.close.bind(connection), hold: connection.hold.bind(connection) };
  const garbled = new ApplyBatcher(garbling, false);
  garbled.follow([{ script: trusted('echo probed'), become: false }]);
  t.equal((await garbled.run(trusted('true'))).code, 1, 'a batch whose output is not a batch\'s fails its commands');
  t.equal(garbled.followed, undefined, '…and its probes say nothing of the host');
});
