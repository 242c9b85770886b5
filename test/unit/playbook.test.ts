import t from 'tap';
import { taskName } from '../../lib/module/define.ts';
import type { HostView } from '../../lib/module/types.ts';
import { playbook, role } from '../../lib/playbook.ts';
import { preparePlay } from '../../lib/run/prepare.ts';
import { playbookProblems } from '../../lib/run/problems.ts';
import { file, service } from '../../modules/index.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: { platform: 'el9' } } as unknown as HostView;
/** The play prepared for `host`; its problems as the run would report them, when there are any. */
const prepared = (play: ReturnType<typeof playbook>) => {
  const result = preparePlay(play, host, {});
  if (result.problems.length > 0) throw playbookProblems(result.problems, new Map());
  return result.play;
};

t.test('task options come apart from parameters, so a handler is named even when its module has a name parameter', async (t) => {
  const handler = service({ name: 'app', state: 'restarted' }, { name: 'restart app' });
  t.equal(taskName(handler), 'restart app');
  t.same(handler.params, { name: 'app', state: 'restarted' }, 'the module keeps its own name parameter');
  const play = playbook({ name: 'p', hosts: 'all', tasks: [file({ path: '/etc/app.conf', content: 'x' }, { notify: 'restart app' })], handlers: [handler] });
  t.doesNotThrow(() => prepared(play), 'the notify finds the handler');
});

t.test('a notify naming no handler is an error that lists the handlers', async (t) => {
  const play = playbook({ name: 'p', hosts: 'all', tasks: [file({ path: '/a', content: 'x' }, { notify: 'restart ap' })], handlers: [service({ name: 'app', state: 'restarted' }, { name: 'restart app' })] });
  t.throws(() => prepared(play), /notifies 'restart ap', but the play has no handler named so \(did you mean 'restart app'\?\)/);
  const unlike = playbook({ name: 'p', hosts: 'all', tasks: [file({ path: '/a', content: 'x' }, { notify: 'reload web' })], handlers: [service({ name: 'app', state: 'restarted' }, { name: 'restart app' })] });
  t.throws(() => prepared(unlike), /notifies 'reload web', but the play has no handler named so \(handlers: restart app\)/, 'with no close name, the handlers are listed');
});

t.test('a role that throws while building its tasks is a usage error naming the role', async (t) => {
  const broken = role('backup', (o: { repo?: string }) => {
    if (!o.repo) throw new Error('option repo is required');
    return [];
  });
  const play = playbook({ name: 'p', hosts: 'all', roles: [broken({})] });
  t.throws(() => prepared(play), /play 'p', role 'backup' on h: could not build its tasks: Error: option repo is required/);
});

t.test('a role may list another role; its tasks are named after both', async (t) => {
  const inner = role('inner', (o: { path: string }) => [file({ path: o.path, content: 'x' })]);
  const outer = role('outer', () => [inner({ path: '/a' }), file({ path: '/b', content: 'y' }, { name: 'own' })]);
  const play = prepared(playbook({ name: 'p', hosts: 'all', roles: [outer()] }));
  t.same(play.steps.map((s) => (s.kind === 'task' ? s.name : s.kind)), ['outer > inner : file /a', 'outer : own']);
});

t.test('a role brings its handlers; the play’s own handler of the same name wins', async (t) => {
  const restart = service({ name: 'app', state: 'restarted' }, { name: 'restart app' });
  const app = role('app', () => [file({ path: '/etc/app.conf', content: 'x' }, { notify: 'restart app' })], { handlers: [restart] });
  const play = prepared(playbook({ name: 'p', hosts: 'all', roles: [app(), app()] }));
  t.same(play.handlers.map((h) => h.name), ['restart app'], 'two uses of the role, one handler');
  const own = service({ name: 'app', state: 'reloaded' }, { name: 'restart app' });
  const withOwn = prepared(playbook({ name: 'p', hosts: 'all', roles: [app()], handlers: [own] }));
  t.equal(withOwn.handlers[0]?.task, own);
});
