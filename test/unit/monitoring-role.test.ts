import t from 'tap';
import { HOSTFORM_ALERT_RULES } from '../../lib/pull/alert-rules.ts';
import type { HostView, Task } from '../../lib/module/types.ts';
import { monitoring } from '../../roles/index.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: { platform: 'el9' } } as unknown as HostView;
const tasks = monitoring({ configDir: '/srv/mon' })
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
  t.match(param(fileAt('/srv/mon/prometheus/prometheus.yml'), 'content'), /\nrule_files:\n {2}- "rules\/\*\.yml"\n/);
});

t.test('monitoring has node_exporter read the textfile directory hostform runs write their metrics to, and makes that directory', async (t) => {
  t.equal(param(fileAt('/var/lib/node_exporter/textfile_collector'), 'state'), 'directory');
  const exporter = tasks.find((task) => param(task, 'containerName') === 'node-exporter');
  t.ok(exporter, 'the node-exporter quadlet is planned');
  t.match(JSON.stringify(param(exporter, 'exec')), /"--collector\.textfile\.directory=\/host\/var\/lib\/node_exporter\/textfile_collector"/, 'the host root is at /host in the container');
});
