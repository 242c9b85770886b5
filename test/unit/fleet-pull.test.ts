import { readFileSync } from 'node:fs';
import t from 'tap';
// @ts-expect-error: the bins are plain JavaScript, without declarations.
import { NODE_MAJOR, nodeTooOld } from '../../bin/load-cli.js';
import { parsePullArgs } from '../../lib/cli/pull.ts';
import { decidePull, pullOutcome, type PullRun } from '../../lib/pull/decide.ts';
import { renderTextfile, textfileName } from '../../lib/pull/metrics.ts';
import { pushMetrics } from '../../lib/pull/push-metrics.ts';
import { applyScript, fetchScript, statePaths } from '../../lib/pull/scripts.ts';
import type { HostResult } from '../../lib/run/results.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const NOW = 1_800_000_000;
const apply = (changed: number, exitCode = 0, failed = 0): PullRun => ({ mode: 'apply', exitCode, changed, failed });
const check = (changed: number, exitCode = changed > 0 ? 2 : 0): PullRun => ({ mode: 'check', exitCode, changed, failed: 0 });

t.test('pull: a host that applied nothing yet, or a new commit, applies; an unchanged commit is checked first', async (t) => {
  t.same(decidePull({}, A, { checkOnlyIfUnchanged: false }), { kind: 'apply', why: 'no commit applied on this host yet' });
  t.same(decidePull({ applied: A }, B, { checkOnlyIfUnchanged: true }), { kind: 'apply', why: 'new commit (last applied aaaaaaaaaaaa)' });
  t.same(decidePull({ applied: A }, A, { checkOnlyIfUnchanged: false }).kind, 'check');
  t.same(decidePull({ applied: A }, A, { checkOnlyIfUnchanged: false }), { kind: 'check', applyOnDrift: true, why: 'commit unchanged: checking for drift, applying only if there is some' });
  t.same(decidePull({ applied: A }, A, { checkOnlyIfUnchanged: true }), { kind: 'check', applyOnDrift: false, why: 'commit unchanged: checking for drift only (--check-only-if-unchanged)' });
});

t.test('pull: applying a new commit records it, counts its changes, and no drift', async (t) => {
  const out = pullOutcome({ applied: A, lastSuccessAt: 1 }, B, [apply(3)], NOW, { intervalSeconds: 1800 });
  t.equal(out.success, true);
  t.same(out.state, { applied: B, lastSuccessAt: NOW });
  t.same(out.metrics, { mode: 'pull', finishedAt: NOW, success: true, lastSuccessAt: NOW, driftTasks: 0, changedTasks: 3, failedTasks: 0, commit: B, intervalSeconds: 1800 });
});

t.test('pull: drift on an unchanged commit is counted from the check, and what the apply repaired as changed', async (t) => {
  const out = pullOutcome({ applied: A }, A, [check(1), apply(1)], NOW);
  t.equal(out.metrics.driftTasks, 1);
  t.equal(out.metrics.changedTasks, 1);
  t.equal(out.success, true);
});

t.test('pull: drift that is only reported (--check-only-if-unchanged) is a successful run that leaves the commit as applied', async (t) => {
  const out = pullOutcome({ applied: A }, A, [check(2)], NOW);
  t.equal(out.success, true);
  t.equal(out.metrics.driftTasks, 2);
  t.equal(out.state.applied, A);
});

t.test('pull: a failed apply keeps the last commit applied and the last success, so the next pull tries again', async (t) => {
  const out = pullOutcome({ applied: A, lastSuccessAt: 1234 }, B, [apply(1, 1, 1)], NOW);
  t.equal(out.success, false);
  t.same(out.state, { applied: A, lastSuccessAt: 1234 });
  t.equal(out.metrics.failedTasks, 1);
  t.equal(out.metrics.lastSuccessAt, 1234);
  t.equal(out.metrics.commit, B, 'the metrics name the commit that failed');
});

t.test('pull: a pull that stopped before any run (a refused signature) failed; a host that never succeeded says 0', async (t) => {
  const out = pullOutcome({}, B, [], NOW);
  t.equal(out.success, false);
  t.equal(out.metrics.lastSuccessAt, 0);
  t.same(out.state, { lastSuccessAt: 0 });
});

t.test('metrics: the textfile has every metric with its help and type, and a commit label escaped as the format wants', async (t) => {
  const text = renderTextfile({ mode: 'pull', finishedAt: NOW, success: true, lastSuccessAt: NOW, driftTasks: 1, changedTasks: 2, failedTasks: 0, commit: 'a"b\\c\nd', intervalSeconds: 65 });
  t.equal(textfileName('pull'), 'hostform_pull.prom');
  t.same(
    text.split('\n').filter((l) => l !== '' && !l.startsWith('#')),
    [
      'hostform_last_run_timestamp_seconds{mode="pull"} 1800000000',
      'hostform_last_run_success{mode="pull"} 1',
      'hostform_last_success_timestamp_seconds{mode="pull"} 1800000000',
      'hostform_drift_tasks{mode="pull"} 1',
      'hostform_changed_tasks{mode="pull"} 2',
      'hostform_failed_tasks{mode="pull"} 0',
      'hostform_commit_info{mode="pull",commit="a\\"b\\\\c\\nd"} 1',
      'hostform_pull_interval_seconds{mode="pull"} 65',
    ],
  );
  t.match(text, /^# HELP hostform_drift_tasks .+\n# TYPE hostform_drift_tasks gauge\n/m);
});

t.test('metrics: a push counts what a check would change as drift, and what an apply changed as changed', async (t) => {
  const host = (status: HostResult['status'], statuses: ('changed' | 'ok' | 'failed')[]): HostResult => ({
    name: 'h',
    status,
    tasks: statuses.map((s, i) => ({ name: `t${i}`, module: 'file', status: s, changes: [], handler: false, durationMs: 0 })),
    roundTrips: 2,
    durationMs: 1,
  });
  t.same(pushMetrics(host('changed', ['changed', 'ok']), 'check', NOW, A), { mode: 'push', finishedAt: NOW, success: true, driftTasks: 1, changedTasks: 0, failedTasks: 0, commit: A });
  t.same(pushMetrics(host('failed', ['changed', 'failed']), 'apply', NOW, undefined), { mode: 'push', finishedAt: NOW, success: false, driftTasks: 0, changedTasks: 1, failedTasks: 1 });
  t.notMatch(renderTextfile(pushMetrics(host('ok', []), 'apply', NOW, undefined)), /last_success|interval/, 'a push writes no last success or interval: those are the timer’s');
});

t.test('play pull: the command line, with its defaults, and the mistakes it refuses', async (t) => {
  t.same(parsePullArgs(['--repo', 'https://git.example.org/site.git', 'playbooks/site.ts']), {
    repo: 'https://git.example.org/site.git',
    ref: 'main',
    playbook: 'playbooks/site.ts',
    inventory: [],
    stateDir: '/var/lib/hostform/pull',
    checkOnlyIfUnchanged: false,
    textfileDir: '/var/lib/node_exporter/textfile_collector',
    lockTimeoutSeconds: 10,
  });
  const full = parsePullArgs(['--repo', 'git://g/s', '--ref', 'v2', '--host', 'nas', '-i', 'inventory/home.yml', '--verify-signatures', '--check-only-if-unchanged', '--interval', '1900', 'site.ts']);
  t.equal(full.allowedSigners, '/etc/hostform/allowed_signers', 'signatures are checked against the default file');
  t.same([full.ref, full.host, full.inventory, full.intervalSeconds, full.checkOnlyIfUnchanged], ['v2', 'nas', ['inventory/home.yml'], 1900, true]);
  t.throws(() => parsePullArgs(['site.ts']), /--repo URL is required/);
  t.throws(() => parsePullArgs(['--repo', 'r', '--ref', 'main:evil', 'site.ts']), /--ref must name one branch or tag/);
  t.throws(() => parsePullArgs(['--repo', 'r', '--ref=--upload-pack=x', 'site.ts']), /--ref must name one branch or tag/, 'a ref git would read as an option');
  t.throws(() => parsePullArgs(['--repo', 'r', '/etc/site.ts']), /the playbook must be a path inside the repository/);
  t.throws(() => parsePullArgs(['--repo', 'r', '../site.ts']), /the playbook must be a path inside the repository/);
  t.throws(() => parsePullArgs(['--repo', 'r', '--allowed-signers', '/etc/keys', 'site.ts']), /give --verify-signatures too/);
  t.throws(() => parsePullArgs(['--repo', 'r', '--state-dir', 'state', 'site.ts']), /--state-dir must be an absolute path/);
});

t.test('play pull: the playbook runs with the repository’s own hostform, on this machine as the one host, joining the pull’s lock', async (t) => {
  const script = applyScript(statePaths('/var/lib/hostform/pull'), '/usr/bin/node', { playbook: 'playbooks/site.ts', inventory: ['inventory'], host: 'nas', check: true, runIdVariable: 'HOSTFORM_RUN_ID', runId: 'r-1' });
  t.equal(
    script.text,
    "cd /var/lib/hostform/pull/checkout && exec env HOSTFORM_RUN_ID=r-1 /usr/bin/node /var/lib/hostform/pull/checkout/node_modules/hostform/bin/play.js playbooks/site.ts -i inventory --limit nas --connection local --json --check",
  );
  t.match(fetchScript(statePaths('/s'), "git://h/x'; rm -rf /", 'main').text, /-- 'git:\/\/h\/x'\\''; rm -rf \/' main/, 'the URL is one quoted word');
});

t.test('the Node.js version hostform needs is the one package.json states, and an older one is told so before anything loads', async (t) => {
  const engines = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }).engines.node;
  t.equal(engines, `>=${NODE_MAJOR}`);
  t.equal(nodeTooOld('20.0.0'), undefined);
  t.match(nodeTooOld('16.20.2'), /^hostform needs Node\.js 20 or later, and this is Node\.js 16\.20\.2 \(.+\)\.\n  try: on RHEL 9, dnf module enable -y nodejs:20 && dnf install -y nodejs npm/);
});
