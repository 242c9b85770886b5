import t from 'tap';
import { parse } from 'yaml';
import { DEFAULT_TEXTFILE_DIR, HOSTFORM_ALERT_RULES, secret } from '../../lib/index.ts';
import type { HostView, Task } from '../../lib/module/types.ts';
import { monitoring, TEXTFILE_DIR } from '../../roles/index.ts';

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
