import t from 'tap';
import type { ExecResult } from '../../lib/connection/types.ts';
import { PlannedState } from '../../lib/module/resources.ts';
import type { HostView, PlanContext } from '../../lib/module/types.ts';
import { parameterProblems } from '../../lib/module/validate.ts';
import { playbook, role } from '../../lib/playbook.ts';
import { preparePlay, type PreparedStep } from '../../lib/run/prepare.ts';
import { file, service, waitFor } from '../../modules/index.ts';
import { parseHealth, tryScript } from '../../modules/wait-for/observe.ts';
import { describeHealth, resolveHttp, resolveTcp, resolveUnitActive } from '../../modules/wait-for/params.ts';
import { planHealth } from '../../modules/wait-for/plan.ts';

const host = { name: 'web1', groups: ['all'], vars: {}, facts: { platform: 'el9' } } as unknown as HostView;
const context = (checkMode: boolean): PlanContext => ({ host, checkMode, planned: new PlannedState() });
const tried = (code: number, stdout: string): ExecResult => ({ code, stdout, stderr: '' });
const health = resolveHttp({ url: 'http://127.0.0.1:8080/health', timeout: 10 });

t.test('waitFor: each gate is named by what it waits for, with its defaults filled in', async (t) => {
  t.equal(describeHealth(health), 'GET http://127.0.0.1:8080/health → 200');
  t.same(resolveTcp({ port: 5432 }), { kind: 'tcp', host: '127.0.0.1', port: 5432, timeout: 60 });
  t.equal(describeHealth(resolveTcp({ host: '::1', port: 5432 })), 'tcp [::1]:5432');
  t.equal(describeHealth(resolveUnitActive({ unit: 'nginx' })), 'nginx.service active', 'a unit without a type is a service');
});

t.test('waitFor: a healthy try plans nothing, in check and apply mode alike', async (t) => {
  const observed = parseHealth(tried(0, 'status 200\n'));
  t.same(planHealth(health, observed, context(true)), []);
  t.same(planHealth(health, observed, context(false)), []);
});

t.test('waitFor: an unhealthy try is a wait in apply mode, and a skip with what it saw in check mode', async (t) => {
  const observed = parseHealth(tried(1, 'status 503\n'));
  const [apply] = planHealth(health, observed, context(false));
  t.equal(apply?.summary, 'wait up to 10 s for GET http://127.0.0.1:8080/health → 200 (now: status 503)');
  t.equal(apply?.uncertain, undefined, 'apply mode waits');
  const [check] = planHealth(health, observed, context(true));
  t.match(check?.uncertain, /^not healthy now \(status 503\); in apply mode this gate waits up to 10 s, after the play's changes and handlers$/);
});

t.test('waitFor: a try that cannot be made (curl missing) fails the task at once rather than waiting', async (t) => {
  const observed = parseHealth(tried(2, 'curl is not installed on the host\n'));
  t.throws(() => planHealth(health, observed, context(false)), /cannot check GET http:\/\/127\.0\.0\.1:8080\/health → 200: curl is not installed on the host/);
});

t.test('waitFor: the url and port are quoted into the try, never run', async (t) => {
  const hostile = resolveHttp({ url: "http://x/$(touch /tmp/pwned)'" });
  t.match(tryScript(hostile).text, /-- 'http:\/\/x\/\$\(touch \/tmp\/pwned\)'\\'''/);
});

t.test('waitFor: parameters are checked before any host is touched, with words for what is expected', async (t) => {
  const said = (task: Parameters<typeof parameterProblems>[0]) => parameterProblems(task).map((p) => p.message);
  t.same(said(waitFor.http({ url: 'ftp://example.org/' })), [`parameter 'url' = "ftp://example.org/": must be an http:// or https:// address without blanks, such as "http://127.0.0.1:8080/health"`]);
  t.same(said(waitFor.tcp({ port: 70000 })), [`parameter 'port' = 70000: must be at most 65535`]);
  t.same(said(waitFor.unitActive({ unit: '-x' })), [`parameter 'unit' = "-x": must be a unit name such as "nginx" or "app.socket" (not starting with -)`]);
  t.same(said(waitFor.http({ url: 'http://127.0.0.1/', timeout: 0 })), [`parameter 'timeout' = 0: must be at least 1`]);
});

const names = (steps: readonly PreparedStep[]) => steps.map((s) => (s.kind === 'task' ? s.name : '(handlers)'));

t.test('gates run last in their play, after a flush point for the handlers, in the order written, roles included', async (t) => {
  const web = role('web', () => [file({ path: '/srv/www/index.html', content: 'hi' }, { notify: 'restart web' }), waitFor.http({ url: 'http://127.0.0.1:8080/' })]);
  const play = playbook({
    name: 'rollout',
    hosts: 'all',
    roles: [web()],
    tasks: [waitFor.unitActive({ unit: 'web' }), file({ path: '/etc/motd', content: 'x' })],
    handlers: [service({ name: 'web', state: 'restarted' }, { name: 'restart web' })],
  });
  const { play: prepared, problems } = preparePlay(play, host, {});
  t.same(problems, []);
  t.same(names(prepared.steps), ['web : file /srv/www/index.html', 'file /etc/motd', '(handlers)', 'web : wait for GET http://127.0.0.1:8080/ → 200', 'wait for web.service active']);
});

t.test('a play without gates keeps its steps as written', async (t) => {
  const play = playbook({ name: 'p', hosts: 'all', tasks: [file({ path: '/a', content: 'x' }), file({ path: '/b', content: 'y' })] });
  t.same(names(preparePlay(play, host, {}).play.steps), ['file /a', 'file /b']);
});
