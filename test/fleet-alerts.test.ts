import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { HOSTFORM_ALERT_RULES } from '../lib/pull/alert-rules.ts';
import { renderTextfile } from '../lib/pull/metrics.ts';
import { prometheusConfig } from '../roles/monitoring/index.ts';
import { checkPrometheusConfig, checkPrometheusRules, toolPath } from './hosts/site-validators.ts';

// The alert rules hostform ships for its run metrics (lib/pull/alert-rules.ts), checked with
// Prometheus' own promtool (2.53.3, the version the site images run): the file is valid, each
// alert fires on the series it is about and stays quiet on a healthy host, and the textfile a
// run writes is what Prometheus' exposition format checker accepts.

const promtool = toolPath('promtool');
const missing = existsSync(promtool) ? false : `${promtool} is missing: run bash test/hosts/install-deps.sh`;

function run(args: readonly string[], input?: string, cwd?: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(promtool, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
    child.stdin.end(input ?? '');
  });
}

t.test('promtool check rules accepts the alert rules', { skip: missing }, async (t) => {
  const result = await checkPrometheusRules({ 'hostform.rules.yml': HOSTFORM_ALERT_RULES });
  t.ok(result.ok, result.output);
  t.match(result.output, /SUCCESS: 3 rules found/);
});

t.test('the monitoring role\'s prometheus.yml loads the rules file it installs beside it (promtool check config)', { skip: missing }, async (t) => {
  const result = await checkPrometheusConfig({ 'prometheus.yml': prometheusConfig('30s', [{ job: 'node', targets: ['host.containers.internal:9100'] }]), 'rules/hostform.rules.yml': HOSTFORM_ALERT_RULES });
  t.ok(result.ok, result.output);
  t.match(result.output, /Checking rules\/hostform\.rules\.yml\n {2}SUCCESS: 3 rules found/);
});

t.test('docs/fleet.md shows the alert rules hostform ships, as they are', async (t) => {
  const doc = readFileSync(new URL('../docs/fleet.md', import.meta.url), 'utf8');
  t.ok(doc.includes(`\`\`\`yaml\n${HOSTFORM_ALERT_RULES}\`\`\``), 'the rules block in docs/fleet.md is HOSTFORM_ALERT_RULES');
});

t.test('each alert fires on the host it is about, after its delay, and on no healthy host (promtool test rules)', { skip: missing }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hostform-alerts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'hostform.rules.yml'), HOSTFORM_ALERT_RULES);
  const tests = {
    rule_files: ['hostform.rules.yml'],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: [
          // drifted: drift for 90 minutes; repaired: drift for 30 minutes, then none.
          { series: 'hostform_drift_tasks{instance="drifted",mode="pull"}', values: '1x90' },
          { series: 'hostform_drift_tasks{instance="repaired",mode="pull"}', values: '1x30 0x60' },
        ],
        alert_rule_test: [
          { eval_time: '59m', alertname: 'HostformDrift', exp_alerts: [] },
          {
            eval_time: '61m',
            alertname: 'HostformDrift',
            exp_alerts: [
              {
                exp_labels: { severity: 'warning', instance: 'drifted', mode: 'pull' },
                exp_annotations: { summary: 'drifted: 1 hostform tasks drifted from the repository for over an hour (pull)' },
              },
            ],
          },
        ],
      },
      {
        interval: '1m',
        input_series: [
          // Times are seconds since the start of the test. stuck: last success at 60 s; never: 0;
          // fresh: a success every minute. Each pulls every 65 s at most.
          { series: 'hostform_last_success_timestamp_seconds{instance="stuck",mode="pull"}', values: '60x20' },
          { series: 'hostform_last_success_timestamp_seconds{instance="never",mode="pull"}', values: '0x20' },
          { series: 'hostform_last_success_timestamp_seconds{instance="fresh",mode="pull"}', values: '0+60x20' },
          { series: 'hostform_pull_interval_seconds{instance="stuck",mode="pull"}', values: '65x20' },
          { series: 'hostform_pull_interval_seconds{instance="never",mode="pull"}', values: '65x20' },
          { series: 'hostform_pull_interval_seconds{instance="fresh",mode="pull"}', values: '65x20' },
        ],
        alert_rule_test: [
          { eval_time: '3m', alertname: 'HostformPullStale', exp_alerts: [{ exp_labels: { severity: 'warning', instance: 'never', mode: 'pull' }, exp_annotations: { summary: 'never: no successful hostform pull for over two intervals' } }] },
          {
            eval_time: '10m',
            alertname: 'HostformPullStale',
            exp_alerts: [
              { exp_labels: { severity: 'warning', instance: 'never', mode: 'pull' }, exp_annotations: { summary: 'never: no successful hostform pull for over two intervals' } },
              { exp_labels: { severity: 'warning', instance: 'stuck', mode: 'pull' }, exp_annotations: { summary: 'stuck: no successful hostform pull for over two intervals' } },
            ],
          },
        ],
      },
      {
        interval: '1m',
        input_series: [
          { series: 'hostform_last_run_success{instance="broken",mode="push"}', values: '1 1 0x10' },
          { series: 'hostform_last_run_success{instance="healthy",mode="pull"}', values: '1x12' },
        ],
        alert_rule_test: [
          { eval_time: '5m', alertname: 'HostformRunFailing', exp_alerts: [] },
          { eval_time: '8m', alertname: 'HostformRunFailing', exp_alerts: [{ exp_labels: { severity: 'critical', instance: 'broken', mode: 'push' }, exp_annotations: { summary: 'broken: the last hostform push run failed' } }] },
        ],
      },
    ],
  };
  writeFileSync(join(dir, 'tests.yml'), stringify(tests));
  const result = await run(['test', 'rules', 'tests.yml'], undefined, dir);
  t.equal(result.code, 0, result.output);
  t.match(result.output, /SUCCESS/);
});

t.test('the textfile a run writes passes promtool check metrics', { skip: missing }, async (t) => {
  const text = renderTextfile({ mode: 'pull', finishedAt: 1_800_000_000, success: false, lastSuccessAt: 1_799_999_000, driftTasks: 2, changedTasks: 0, failedTasks: 1, commit: 'f'.repeat(40), intervalSeconds: 2100 });
  const result = await run(['check', 'metrics'], text);
  t.equal(result.code, 0, result.output);
  t.equal(result.output.trim(), '', 'no lint problem');
});
