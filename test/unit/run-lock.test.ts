import t from 'tap';
import { parsePlayArgs } from '../../lib/cli/args.ts';
import { UsageError } from '../../lib/errors.ts';
import { describeHolder, holderText, HostLockedError, newHolder, parseHolder, parseLockOutput } from '../../lib/run/run-lock.ts';

// The run lock's pure parts: what is written into the lock file, what the
// host's lock script says back, and the message a second run shows. The
// lock itself is tested on test hosts in test/run-lock.test.ts (issue 14).

const holder = { run: '6f1c1a0e-2b9c-4a41-9d6e-0c5d0b8f2a11', control: 'laptop', user: 'me', pid: 4242, started: '2026-01-02T03:04:05.000Z', playbook: 'site.ts' };

t.test('the lock file names the holder one field a line, and reads back the same', async (t) => {
  t.equal(holderText(holder), 'run=6f1c1a0e-2b9c-4a41-9d6e-0c5d0b8f2a11\ncontrol=laptop\nuser=me\npid=4242\nstarted=2026-01-02T03:04:05.000Z\nplaybook=site.ts');
  t.same(parseHolder(holderText(holder)), { ...holder, pid: '4242' });
});

t.test('a playbook name with control characters cannot add a line of its own to the lock file', async (t) => {
  const text = holderText({ ...holder, playbook: 'evil\nrun=someone-else\r\x1b[2J' });
  t.equal(text.split('\n').length, 6);
  t.equal(parseHolder(text).run, holder.run);
});

t.test('a new holder is this process on this machine, with a fresh run id', async (t) => {
  const a = newHolder('site.ts');
  t.equal(a.pid, process.pid);
  t.match(a.run, /^[0-9a-f-]{36}$/);
  t.not(newHolder('site.ts').run, a.run);
});

t.test("the lock script's answer is split from the facts before it", async (t) => {
  const facts = '@@hostform-fact uid\n0\n@@hostform-fact end\n';
  t.same(parseLockOutput(`${facts}@@hostform-lock acquired /run/hostform/run.lock\n@@hostform-lock ready\n`), { factsText: facts, outcome: { kind: 'acquired', path: '/run/hostform/run.lock' } });
  t.same(parseLockOutput(`${facts}@@hostform-lock joined /run/hostform/run.lock\n@@hostform-lock ready\n`).outcome, { kind: 'joined', path: '/run/hostform/run.lock' });
  t.same(parseLockOutput(`${facts}@@hostform-lock busy /run/hostform/run.lock\n${holderText(holder)}\n`).outcome, { kind: 'busy', path: '/run/hostform/run.lock', holder: { ...holder, pid: '4242' } });
  t.same(parseLockOutput(`${facts}@@hostform-lock error flock is not installed (it comes with util-linux)\n`).outcome, { kind: 'error', message: 'flock is not installed (it comes with util-linux)' });
  t.same(parseLockOutput(facts), { factsText: facts, outcome: undefined }, 'nothing from the lock part');
});

t.test('a host locked by another run fails naming the holder, the lock file and what to do', async (t) => {
  const error = new HostLockedError({ host: 'nas', path: '/run/hostform/run.lock', holder: parseHolder(holderText(holder)), waitedSeconds: 10 });
  t.equal(
    error.message,
    'nas is locked by another hostform run (/run/hostform/run.lock): playbook site.ts, started 2026-01-02T03:04:05.000Z by me@laptop (pid 4242, run 6f1c1a0e-2b9c-4a41-9d6e-0c5d0b8f2a11); waited 10 s\n' +
      '  try: run again when it has finished, or wait longer with --lock-timeout SECONDS',
  );
  t.equal(describeHolder({}), 'the holder left no information (a run that is starting, or not hostform)');
});

t.test('--lock-timeout takes whole seconds, 10 by default', async (t) => {
  t.equal(parsePlayArgs(['site.ts']).lockTimeoutSeconds, 10);
  t.equal(parsePlayArgs(['site.ts', '--lock-timeout', '0']).lockTimeoutSeconds, 0);
  t.equal(parsePlayArgs(['site.ts', '--lock-timeout', '600']).lockTimeoutSeconds, 600);
  for (const bad of ['-1', '1.5', 'soon', '']) {
    t.throws(() => parsePlayArgs(['site.ts', `--lock-timeout=${bad}`]), new UsageError(`--lock-timeout must be a whole number of seconds (0 or more), got '${bad}'`));
  }
});
