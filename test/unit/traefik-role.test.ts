import t from 'tap';
import { parse } from 'yaml';
import { secret } from '../../lib/index.ts';
import type { HostView, Task } from '../../lib/module/types.ts';
import { ACCESS_LOG, ADMIN_AUTH, LOGIN_JAIL, traefik } from '../../roles/index.ts';

// The traefik role's login guard and fail2ban jail, as planned: what the integration test (site.test.ts)
// exercises end to end, checked here where a wrong path or a missing mount is a one-line diff.

const host = { name: 'h', groups: ['all'], vars: {}, facts: { platform: 'el9' } } as unknown as HostView;
const tasksOf = (o: Parameters<typeof traefik>[0]) =>
  traefik(o)
    .expand(host)
    .filter((s): s is Task => s.kind === 'task');
const param = (task: Task | undefined, name: string) => (task?.params as Record<string, unknown> | undefined)?.[name];
const named = (list: readonly Task[], module: string, name?: string) => list.find((task) => task.module.name === module && (name === undefined || param(task, 'name') === name));
const at = (list: readonly Task[], path: string) => list.find((task) => param(task, 'path') === path);

t.test('traefik: the login jail reads the access log on the host path the container writes it to, in the format the static configuration asks for', async (t) => {
  const tasks = tasksOf({});
  const jail = named(tasks, 'fail2ban.jail', LOGIN_JAIL);
  t.equal(param(jail, 'logpath'), ACCESS_LOG);
  t.equal(param(jail, 'filter'), LOGIN_JAIL);
  t.ok(named(tasks, 'fail2ban.filter', LOGIN_JAIL), 'with its own filter');
  const log = (parse(String(param(at(tasks, '/etc/traefik/traefik.yml'), 'content'))) as { accessLog: unknown }).accessLog;
  t.same(log, { filePath: ACCESS_LOG, format: 'common', addInternals: true, fields: { names: { ClientUsername: 'drop' } } }, 'Traefik writes the common format there, the dashboard included, without the client-given user name');
  const volumes = param(named(tasks, 'quadlet.container', 'traefik'), 'volume') as string[];
  t.ok(volumes.includes('/var/log/traefik:/var/log/traefik:z'), 'mounted at the same path, shared label (fail2ban may read it)');
  const made = tasks.findIndex((task) => task.module.name === 'command' && param(task, 'creates') === ACCESS_LOG);
  t.ok(made >= 0 && made < tasks.indexOf(jail!), 'the log file is made before the jail that needs it');
});

t.test('traefik: the jail bans in prerouting (before Podman forwards the port), keeps localhost and the given LAN, and fail2ban: false leaves it out', async (t) => {
  const jail = named(tasksOf({ fail2ban: { ignoreip: ['192.168.1.0/24'] } }), 'fail2ban.jail', LOGIN_JAIL);
  t.match(param(jail, 'action'), /^nftables\[.*chain_hook=prerouting, chain_priority=-150/);
  t.same(param(jail, 'ignoreip'), ['127.0.0.1/8', '::1', '192.168.1.0/24']);
  t.equal(param(jail, 'maxretry'), 10);
  const without = tasksOf({ fail2ban: false });
  t.same(without.filter((task) => task.module.name.startsWith('fail2ban.')), []);
});

t.test('traefik: adminAuth writes its users 0600 as a secret, mounts them read-only, and defines the middleware ADMIN_AUTH names', async (t) => {
  const tasks = tasksOf({ adminAuth: { users: secret.env('HF_TEST_ADMIN_USERS') } });
  const users = at(tasks, '/etc/traefik/admin-users');
  t.equal(param(users, 'mode'), '0600');
  t.equal(param(users, 'secret'), true);
  t.ok((param(named(tasks, 'quadlet.container', 'traefik'), 'volume') as string[]).includes('/etc/traefik/admin-users:/etc/traefik/admin-users:ro,z'));
  const dynamic = parse(String(param(at(tasks, '/etc/traefik/dynamic/traefik.yml'), 'content'))) as { http: { middlewares?: Record<string, unknown> } };
  t.same(dynamic.http.middlewares?.[ADMIN_AUTH.replace(/@file$/, '')], { basicAuth: { usersFile: '/etc/traefik/admin-users' } });
  t.equal(at(tasksOf({}), '/etc/traefik/admin-users'), undefined, 'left out, no users file');
});
