import t from 'tap';
import { taskName } from '../../lib/module/define.ts';
import type { HostView } from '../../lib/module/types.ts';
import { playbook, role } from '../../lib/playbook.ts';
import type { InventoryHost } from '../../lib/inventory/types.ts';
import { factsBeforeConnecting, preparePlay } from '../../lib/run/prepare.ts';
import { playbookProblems } from '../../lib/run/problems.ts';
import { file, selinux, service } from '../../modules/index.ts';

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

t.test('before connecting, a role sees the facts the inventory states; one that reads another is left for after connecting', async (t) => {
  const inventoryHost = (platform?: 'el9') => ({ name: 'nas', address: 'nas', port: 22, connection: 'ssh', groups: ['all'], vars: {}, ...(platform ? { platform } : {}) }) as InventoryHost;
  const before = (platform?: 'el9') => ({ name: 'nas', groups: ['all'], vars: {}, facts: factsBeforeConnecting(inventoryHost(platform)) }) as HostView;
  const byPlatform = role('web', (_o: void, h) => [file({ path: h.facts.platform === 'el9' ? 'srv/www' : '/srv/www', content: 'x' })]);
  const byArch = role('arch', (_o: void, h) => [file({ path: h.facts.arch === 'x86_64' ? 'srv/www' : '/srv/www', content: 'x' })]);
  const problemsOf = (play: ReturnType<typeof playbook>, view: HostView) => preparePlay(play, view, { beforeConnecting: true }).problems.map((p) => p.text);
  t.same(problemsOf(playbook({ name: 'p', hosts: 'all', roles: [byPlatform()] }), before('el9')), [`parameter 'path' = "srv/www": must be an absolute path (starting with /)`], 'a platform the inventory states');
  t.same(problemsOf(playbook({ name: 'p', hosts: 'all', roles: [byPlatform()] }), before()), [], 'the platform not stated: the role waits');
  t.same(problemsOf(playbook({ name: 'p', hosts: 'all', roles: [byArch()] }), before('el9')), [], 'a fact no inventory states: the role waits');
  t.throws(() => before('el9').facts.arch, /fact 'arch' of nas is not known before connecting/);
  t.throws(() => ({ ...before('el9').facts }), /the list of facts of nas is not known before connecting/, 'nor can all facts be listed');
});

t.test('before connecting, a when or a template that reads an unknown fact waits; the task\'s parameters are checked all the same', async (t) => {
  const view = { name: 'nas', groups: ['all'], vars: {}, facts: factsBeforeConnecting({ name: 'nas', groups: ['all'], vars: {} } as unknown as InventoryHost) } as HostView;
  const play = playbook({
    name: 'p',
    hosts: 'all',
    tasks: [
      file({ path: '/etc/motd', template: 'kernel {{ facts.kernel }}' }),
      file({ path: '/etc/issue', content: 'x' }, { when: (h) => h.facts.kernel.startsWith('6') }),
      file({ path: '/etc/issue.net', content: 'x', mode: '999' }, { when: (h) => h.facts.kernel.startsWith('6') }),
    ],
  });
  t.same(preparePlay(play, view, { beforeConnecting: true }).problems.map((p) => p.text), [`parameter 'mode' = "999": must be an octal mode in a string, such as "0644" or "2775"`]);
});

t.test('before connecting, a module that does not apply on every platform resolves only where the inventory states the platform', async (t) => {
  const view = (platform?: 'el9') => ({ name: 'nas', groups: ['all'], vars: {}, facts: factsBeforeConnecting({ name: 'nas', groups: ['all'], vars: {}, ...(platform ? { platform } : {}) } as unknown as InventoryHost) }) as HostView;
  // A range with its ends swapped passes the schema; the module refuses it when it resolves.
  const play = playbook({ name: 'p', hosts: 'all', tasks: [selinux.port({ port: '90-80', protocol: 'tcp', type: 'http_port_t' })] });
  t.same(preparePlay(play, view(), { beforeConnecting: true }).problems, [], 'it may not apply on this host (SELinux has no NixOS backend)');
  t.match(preparePlay(play, view('el9'), { beforeConnecting: true }).problems.map((p) => p.text), [/parameter 'port' = "90-80": not a port or range within 1-65535/]);
});
