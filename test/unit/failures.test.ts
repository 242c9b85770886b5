import t from 'tap';
import { ConnectionError } from '../../lib/errors.ts';
import { taskSource } from '../../lib/module/define.ts';
import { hostFailure, inPhase, taskFailure } from '../../lib/run/failures.ts';
import { HostLockedError } from '../../lib/run/run-lock.ts';
import { file } from '../../modules/index.ts';

const thrownBy = (work: () => Promise<unknown>) => work().then(() => undefined, (error: unknown) => error);

t.test('a task\'s failure is of the phase it came from; a command or a connection says what it is', async (t) => {
  const task = file({ path: '/etc/motd', content: 'x' });
  const failed = { name: 'motd', module: 'file', task };
  const probe = await thrownBy(() => inPhase('probe', () => Promise.reject(new Error('cannot read /etc/motd'))));
  t.equal(taskFailure(probe, failed, 'nas', []).kind, 'probe');
  const inner = await thrownBy(() => inPhase('apply', () => inPhase('plan', () => Promise.reject(new Error('no')))));
  t.equal(taskFailure(inner, failed, 'nas', []).kind, 'plan', 'the innermost phase');
  const lost = await thrownBy(() => inPhase('probe', () => Promise.reject(new ConnectionError('the connection to nas was lost'))));
  t.equal(taskFailure(lost, failed, 'nas', []).kind, 'connection');
  t.equal(taskFailure(new Error('x'), failed, 'nas', []).kind, 'apply', 'outside any phase: applying');
});

t.test('a task\'s failure names where it was written, the task and the host on its first line, and keeps the rest under it', async (t) => {
  const task = file({ path: '/etc/motd', content: 'x' });
  const where = taskSource(task);
  const record = taskFailure(new Error('the directory /etc does not exist\n  try: create it first'), { name: 'motd', module: 'file', task }, 'nas', []);
  t.equal(record.shortMessage, `${where?.file}:${where?.line}: task 'motd' on nas: the directory /etc does not exist`);
  t.equal(record.message, `${record.shortMessage}\n  try: create it first`);
  t.match(record, { source: where, host: 'nas', task: 'motd', module: 'file', hint: 'create it first' });
  const engineStep = taskFailure(new Error('switch failed'), { name: 'nixos-rebuild switch', module: 'nixos.switch', task }, 'nas', []);
  t.equal(engineStep.source, undefined, 'a step the engine made from a task is not located at that task');
});

t.test('a host\'s failure keeps its message, and says why as data', async (t) => {
  const locked = hostFailure(new HostLockedError({ host: 'nas', path: '/run/hostform/run.lock', holder: {}, waitedSeconds: 0 }), 'nas');
  t.match(locked, { kind: 'lock', host: 'nas', shortMessage: /^nas is locked by another hostform run/, hint: 'run again when it has finished, or wait longer with --lock-timeout SECONDS' });
  t.notMatch(locked.shortMessage, /\n/);
});
