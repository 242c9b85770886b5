import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import type { RunReport } from '../lib/run/results.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { runPlay } from './support/play.ts';

// A rolling push (issue 16): ten el9-like test hosts, --serial 3, and a health gate at the end of the
// play. The fifth host (in the second batch) is broken on purpose: its web server serves no /health, so
// its gate waits, gives up, and fails the host. The rollout must stop there, say which host failed and
// why, and leave the third and fourth batches as they were.

const dir = mkdtempSync(join(tmpdir(), 'hostform-fleet-serial-'));
const lib = new URL('../lib/index.ts', import.meta.url).pathname;
const modules = new URL('../modules/index.ts', import.meta.url).pathname;
let fleet: TestHost[];

t.teardown(async () => {
  await hosts.down();
  rmSync(dir, { recursive: true, force: true });
});

t.before(async () => {
  fleet = await hosts.up(10, 'el9');
  for (const h of fleet) await h.exec('mkdir -p /var/lib/node_exporter/textfile_collector');
  const inventory = { hosts: Object.fromEntries(fleet.map((h, i) => [h.name, { ...h.inventoryEntry(), vars: i === 4 ? { broken: true } : {} }])) };
  writeFileSync(join(dir, 'inventory.yml'), stringify(inventory));
  writeFileSync(
    join(dir, 'rollout.mts'),
    `import { playbook } from ${JSON.stringify(lib)};
import { file, service, unit, waitFor } from ${JSON.stringify(modules)};

export default playbook({
  name: 'rollout',
  hosts: 'all',
  tasks: [
    file({ path: '/srv/www', state: 'directory' }),
    file({ path: '/srv/www/health', content: 'ok\\n' }, { when: (host) => host.vars['broken'] !== true }),
    file({ path: '/srv/www/version', content: 'v2\\n' }, { notify: 'restart web' }),
    unit({ name: 'web.service', sections: { Service: { ExecStart: '/usr/bin/busybox httpd -f -p 8080 -h /srv/www' }, Install: { WantedBy: 'multi-user.target' } } }),
    waitFor.http({ url: 'http://127.0.0.1:8080/health', status: 200, timeout: 5 }),
    service({ name: 'web', state: 'started', enabled: true }),
  ],
  handlers: [service({ name: 'web', state: 'restarted' }, { name: 'restart web' })],
});
`,
  );
});

const names = (list: readonly TestHost[]) => list.map((h) => h.name);

t.test('a push with --serial 3 whose second batch fails its health gate stops there, says which host and why, and leaves the later batches untouched', async (t) => {
  const text = await runPlay([join(dir, 'rollout.mts'), '-i', join(dir, 'inventory.yml'), '--serial', '3']);
  t.equal(text.code, 1, 'the run failed');
  const broken = fleet[4] as TestHost;
  t.match(text.stderr, new RegExp(`rollout stopped after batch 2 of 4: 1 of 3 hosts failed \\(${broken.name}\\), more than --max-fail-percentage 0; not run: ${names(fleet.slice(6)).join(', ')}`));
  t.match(text.stderr, new RegExp(`\\[${broken.name}\\] failed: .*task 'wait for GET http://127\\.0\\.0\\.1:8080/health → 200' on ${broken.name}: health gate GET http://127\\.0\\.0\\.1:8080/health → 200: still not healthy after 5 s \\(last try: status 404\\)`));
  for (const h of fleet.slice(6)) t.match(text.stderr, new RegExp(`\\[${h.name}\\] not run: the rollout stopped after batch 2 of 4`), `${h.name} is said not run`);

  for (const [i, h] of fleet.entries()) {
    const version = (await h.exec('cat /srv/www/version 2>/dev/null; systemctl is-active web.service')).stdout;
    if (i < 6) t.equal(version, 'v2\nactive\n', `${h.name} (batch ${Math.floor(i / 3) + 1}) was deployed and its web server runs`);
    else t.equal(version, 'inactive\n', `${h.name} (batch ${Math.floor(i / 3) + 1}) was not touched`);
  }
  t.equal((await fleet[9]!.exec('ls /srv/www /etc/systemd/system/web.service 2>&1 | grep -c "No such file"')).stdout.trim(), '2', 'nothing of the play is on the last batch');
});

t.test('the --json report has the batches, the stop with its hosts, the gate failure as a record of kind gate, and the hosts not run', async (t) => {
  // The same rollout again: the first two batches are in place already, and the broken host fails again.
  const json = await runPlay([join(dir, 'rollout.mts'), '-i', join(dir, 'inventory.yml'), '--serial', '3', '--json']);
  const report = JSON.parse(json.stdout) as RunReport;
  t.equal(report.exitCode, 1);
  t.same(report.rollout?.batches, [names(fleet.slice(0, 3)), names(fleet.slice(3, 6)), names(fleet.slice(6, 9)), names(fleet.slice(9))]);
  t.same(report.rollout?.stopped?.afterBatch, 2);
  t.same(report.rollout?.stopped?.failedHosts, [fleet[4]!.name]);
  t.same(report.rollout?.stopped?.notRun, names(fleet.slice(6)));
  const brokenResult = report.hosts.find((h) => h.name === fleet[4]!.name);
  const gate = brokenResult?.tasks.find((task) => task.status === 'failed');
  t.equal(gate?.module, 'waitFor.http');
  t.equal(gate?.error?.kind, 'gate');
  t.equal(report.hosts.filter((h) => h.status === 'skipped').map((h) => h.name).join(' '), names(fleet.slice(6)).join(' '));
  const healthy = report.hosts.find((h) => h.name === fleet[0]!.name);
  t.same(healthy?.tasks.filter((task) => task.module === 'waitFor.http').map((task) => task.status), ['ok'], 'a healthy host passes its gate');
});

t.test('with --max-fail-percentage 34, one failed host in a batch of three does not stop the rollout; --textfile-dir leaves each host its metrics', async (t) => {
  const text = await runPlay([join(dir, 'rollout.mts'), '-i', join(dir, 'inventory.yml'), '--serial', '3', '--max-fail-percentage', '34', '--textfile-dir', '/var/lib/node_exporter/textfile_collector']);
  t.equal(text.code, 1, 'the broken host still fails');
  t.notMatch(text.stderr, /rollout stopped/);
  for (const h of fleet.slice(6)) t.equal((await h.exec('cat /srv/www/version')).stdout, 'v2\n', `${h.name} was deployed`);
  const metrics = async (h: TestHost) => (await h.exec('cat /var/lib/node_exporter/textfile_collector/hostform_push.prom')).stdout;
  t.match(await metrics(fleet[9]!), /^hostform_last_run_success\{mode="push"\} 1$/m, 'a host deployed now: success');
  t.match(await metrics(fleet[9]!), /^hostform_changed_tasks\{mode="push"\} [1-9]\d*$/m, 'with what it changed');
  t.match(await metrics(fleet[0]!), /^hostform_changed_tasks\{mode="push"\} 0$/m, 'a host already in place changed nothing');
  t.match(await metrics(fleet[4]!), /^hostform_last_run_success\{mode="push"\} 0$/m, 'the broken host: failure');
  t.match(await metrics(fleet[4]!), /^hostform_failed_tasks\{mode="push"\} 1$/m);
  t.equal((await fleet[0]!.exec('stat -c %a /var/lib/node_exporter/textfile_collector/hostform_push.prom')).stdout.trim(), '644', 'readable by node_exporter');
});

t.test('check mode does not wait at a gate: an unhealthy one is skipped with what it saw', async (t) => {
  const json = await runPlay([join(dir, 'rollout.mts'), '-i', join(dir, 'inventory.yml'), '--limit', fleet[4]!.name, '--check', '--json']);
  const report = JSON.parse(json.stdout) as RunReport;
  const gate = report.hosts[0]?.tasks.find((task) => task.module === 'waitFor.http');
  t.equal(gate?.status, 'skipped');
  t.match(gate?.note, /^not healthy now \(status 404\); in apply mode this gate waits up to 5 s/);
  t.ok((report.hosts[0]?.durationMs ?? 0) < 5000, 'and did not wait');
});
