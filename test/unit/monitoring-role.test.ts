import t from 'tap';
import { parse } from 'yaml';
import { DEFAULT_TEXTFILE_DIR, HOSTFORM_ALERT_RULES, secret, UsageError } from '../../lib/index.ts';
import type { HostView, Task } from '../../lib/module/types.ts';
import { ADMIN_AUTH, monitoring, TEXTFILE_DIR } from '../../roles/index.ts';

// The monitoring role carries hostform's own fleet alerts (issue 16) beside
// the site's: the rules file, Prometheus loading it, and node_exporter
// reading the directory pull and push runs write their metrics to.

const host = { name: 'h', groups: ['all'], vars: {}, facts: { platform: 'el9' } } as unknown as HostView;
const tasks = monitoring({ configDir: '/srv/mon', grafanaAdminPassword: secret.env('HF_TEST_GRAFANA') })
  .expand(host)
  .filter((s): s is Task => s.kind === 'task');
const param = (task: Task | undefined, name: string) => (task?.params as Record<string, unknown> | undefined)?.[name];
const fileAt = (path: string) => tasks.find((task) => task.module.name === 'file' && param(task, 'path') === path);

t.test('monitoring installs hostform alert rules beside prometheus.yml, which loads every rules/*.yml, and a change restarts Prometheus', async (t) => {
  const rules = fileAt('/srv/mon/prometheus/rules/hostform.rules.yml');
  t.equal(param(rules, 'content'), HOSTFORM_ALERT_RULES);
  t.equal(param(rules, 'mode'), '0644');
  t.equal(rules?.notify, 'restart prometheus');
  t.equal(param(fileAt('/srv/mon/prometheus/rules'), 'state'), 'directory', 'its directory is made first');
  const config = parse(String(param(fileAt('/srv/mon/prometheus/prometheus.yml'), 'content'))) as { rule_files: string[] };
  t.same(config.rule_files, ['rules/*.yml']);
});

t.test('monitoring has node_exporter read the textfile directory hostform runs write their metrics to, and makes that directory', async (t) => {
  t.equal(TEXTFILE_DIR, DEFAULT_TEXTFILE_DIR, 'the backup role and the pull/push runs write to the same directory');
  t.equal(param(fileAt(DEFAULT_TEXTFILE_DIR), 'state'), 'directory');
  const exporter = tasks.find((task) => param(task, 'containerName') === 'node-exporter');
  t.ok(exporter, 'the node-exporter quadlet is planned');
  t.ok((param(exporter, 'volume') as string[]).includes(`${DEFAULT_TEXTFILE_DIR}:/textfile:ro,z`), 'the directory is mounted into the container');
  t.ok((param(exporter, 'exec') as string[]).includes('--collector.textfile.directory=/textfile'), 'and read by the textfile collector');
});

const routed = (o: Partial<Parameters<typeof monitoring>[0]>) =>
  monitoring({ grafanaAdminPassword: secret.env('HF_TEST_GRAFANA'), ...o })
    .expand(host)
    .filter((s): s is Task => s.kind === 'task');
const routesOf = (list: readonly Task[]) => {
  const file = list.find((task) => param(task, 'path') === '/etc/traefik/dynamic/monitoring.yml');
  return (parse(String(param(file, 'content'))) as { http: { routers: Record<string, { middlewares?: string[] }> } }).http.routers;
};
const hosts = { grafana: 'grafana.x.test', prometheus: 'prometheus.x.test', alertmanager: 'alertmanager.x.test' };

t.test('monitoring refuses to route Prometheus and Alertmanager through Traefik with no login, naming the role, the option and the value', async (t) => {
  t.throws(() => routed({ hosts }), new UsageError("monitoring: option 'middlewares' = undefined: Traefik would route prometheus.x.test (Prometheus) and alertmanager.x.test (Alertmanager) with no login in front, and Prometheus and Alertmanager have none of their own; give middlewares: [ADMIN_AUTH] (with the traefik role's adminAuth), or public: true if something else guards them"));
  t.throws(() => routed({ hosts: { alertmanager: 'am.x.test' }, middlewares: [] }), { name: 'UsageError', message: /^monitoring: option 'middlewares' = \[\]: Traefik would route am\.x\.test \(Alertmanager\) with/ }, 'an empty list is no login either');
  t.doesNotThrow(() => routed({ hosts: { grafana: 'grafana.x.test' } }), 'Grafana alone has its own login');
});

t.test('monitoring puts the middlewares on the Prometheus and Alertmanager routes, and not on Grafana, which has its own login', async (t) => {
  const routers = routesOf(routed({ hosts, middlewares: [ADMIN_AUTH] }));
  t.same(routers['prometheus']?.middlewares, ['admin-auth@file']);
  t.same(routers['alertmanager']?.middlewares, ['admin-auth@file']);
  t.equal(routers['grafana']?.middlewares, undefined);
});

t.test('monitoring with public: true routes Prometheus and Alertmanager with no middleware, as asked', async (t) => {
  const routers = routesOf(routed({ hosts, public: true }));
  t.same(Object.keys(routers).sort(), ['alertmanager', 'grafana', 'prometheus']);
  t.same(Object.values(routers).map((r) => r.middlewares), [undefined, undefined, undefined]);
});
