import t from 'tap';
import { taskName } from '../../lib/module/define.ts';
import type { HostView } from '../../lib/module/types.ts';
import { playbook, role } from '../../lib/playbook.ts';
import { preparePlay } from '../../lib/run/prepare.ts';
import { file, service } from '../../modules/index.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: { platform: 'el9' } } as unknown as HostView;

t.test('task options come apart from parameters, so a handler is named even when its module has a name parameter', async (t) => {
  const handler = service({ name: 'app', state: 'restarted' }, { name: 'restart app' });
  t.equal(taskName(handler), 'restart app');
  t.same(handler.params, { name: 'app', state: 'restarted' }, 'the module keeps its own name parameter');
  const play = playbook({ name: 'p', hosts: 'all', tasks: [file({ path: '/etc/app.conf', content: 'x' }, { notify: 'restart app' })], handlers: [handler] });
  t.doesNotThrow(() => preparePlay(play, host, {}), 'the notify finds the handler');
});

t.test('a notify naming no handler is an error that lists the handlers', async (t) => {
  const play = playbook({ name: 'p', hosts: 'all', tasks: [file({ path: '/a', content: 'x' }, { notify: 'restart ap' })], handlers: [service({ name: 'app', state: 'restarted' }, { name: 'restart app' })] });
  t.throws(() => preparePlay(play, host, {}), /notifies 'restart ap', but the play has no handler named so \(handlers: restart app\)/);
});

t.test('a role that throws while building its tasks is a usage error naming the role', async (t) => {
  const broken = role('backup', (o: { repo?: string }) => {
    if (!o.repo) throw new Error('option repo is required');
    return [];
  });
  const play = playbook({ name: 'p', hosts: 'all', roles: [broken({})] });
  t.throws(() => preparePlay(play, host, {}), /host h: role 'backup' could not build its tasks: option repo is required/);
});

t.test('a role may list another role; its tasks are named after both', async (t) => {
  const inner = role('inner', (o: { path: string }) => [file({ path: o.path, content: 'x' })]);
  const outer = role('outer', () => [inner({ path: '/a' }), file({ path: '/b', content: 'y' }, { name: 'own' })]);
  const prepared = preparePlay(playbook({ name: 'p', hosts: 'all', roles: [outer()] }), host, {});
  t.same(prepared.steps.map((s) => (s.kind === 'task' ? s.name : s.kind)), ['outer > inner : file /a', 'outer : own']);
});

t.test('a role brings its handlers; the play’s own handler of the same name wins', async (t) => {
  const restart = service({ name: 'app', state: 'restarted' }, { name: 'restart app' });
  const app = role('app', () => [file({ path: '/etc/app.conf', content: 'x' }, { notify: 'restart app' })], { handlers: [restart] });
  const prepared = preparePlay(playbook({ name: 'p', hosts: 'all', roles: [app(), app()] }), host, {});
  t.same(prepared.handlers.map((h) => h.name), ['restart app'], 'two uses of the role, one handler');
  const own = service({ name: 'app', state: 'reloaded' }, { name: 'restart app' });
  const withOwn = preparePlay(playbook({ name: 'p', hosts: 'all', roles: [app()], handlers: [own] }), host, {});
  t.equal(withOwn.handlers[0]?.task, own);
});
