// Pull mode at scale (issue 16): N el9-like test hosts set up for pull mode by one push, then left to
// pull by themselves from a git daemon on the test bridge; what it costs the control machine and the
// git server while they do.
//
//   npx tsx bench/fleet-pull.ts 50          # 50 hosts (default 10)
//   npx tsx bench/fleet-pull.ts 50 --interval 2 --delay 30 --window 6
//
// Steps: boot N hosts; one push of the site sets them up (roles/pull: a timer every --interval minutes,
// default 5, with up to --delay seconds of random delay, default 120; signed commits required); a
// --window minutes long window, default 10, with no new commit (every
// pull fetches, finds nothing new and checks for drift); then one new commit, timed until every host
// has applied it. During each phase it records the CPU time of this process (the control machine's
// only part: it hosts the npm mirror and waits), of the git daemon and the upload-pack processes it
// served, the fetches it served, the bytes on the hosts' links to the test bridge, and the CPU each host's pulls used
// (systemd's accounting of hostform-pull.service). Prints bench/RESULTS.md rows.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { hosts, type TestHost } from '../test/hosts/index.ts';
import { exec, git, packHostform, siteLock, startGitDaemon, startNpmMirror, writeFiles } from '../test/support/fleet.ts';

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: { interval: { type: 'string', default: '5' }, delay: { type: 'string', default: '120' }, window: { type: 'string', default: '10' } },
});
const N = Number(positionals[0] ?? 10);
const INTERVAL_MIN = Number(options.interval);
const DELAY_S = Number(options.delay);
const WINDOW_MS = Number(options.window) * 60_000;

const dir = mkdtempSync(join(tmpdir(), 'hostform-bench-fleet-'));
const site = join(dir, 'site');
const served = join(dir, 'served');

/**
 * Bytes both ways on this fleet's links (nspawn's host side of each host's veth, vb-NAME): the bridge itself
 * also carries other test runs' hosts.
 */
const bridgeBytes = () =>
  fleet.reduce((sum, h) => sum + ['rx_bytes', 'tx_bytes'].reduce((s, f) => s + Number(readFileSync(`/sys/class/net/vb-${h.name}/statistics/${f}`, 'utf8')), 0), 0);
const cpuOfThisProcess = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** CPU seconds of every pull this host ran since `since` (systemd logs what each run of the service consumed). */
async function pullCpu(h: TestHost, since: string): Promise<{ runs: number; seconds: number }> {
  const lines = (await h.exec(`journalctl -u hostform-pull.service --since '${since}' --no-pager -o cat | grep 'Consumed'`)).stdout.split('\n').filter(Boolean);
  const seconds = lines.map((l) => {
    const m = /Consumed (?:(\d+)min )?([\d.]+)(ms|s) CPU time/.exec(l);
    if (!m) return 0;
    return Number(m[1] ?? 0) * 60 + Number(m[2]) / (m[3] === 'ms' ? 1000 : 1);
  });
  return { runs: lines.length, seconds: seconds.reduce((a, b) => a + b, 0) };
}

const snapshot = (daemon: Awaited<ReturnType<typeof startGitDaemon>>) => ({ at: Date.now(), control: cpuOfThisProcess(), git: daemon.cpuSeconds(), fetches: daemon.fetches(), bytes: bridgeBytes() });
const journalTime = () => new Date().toISOString().replace('T', ' ').slice(0, 19);

const bootStarted = Date.now();
const fleet = await hosts.up(N, 'el9');
const bootS = (Date.now() - bootStarted) / 1000;
try {
  const packed = packHostform(dir);
  const lock = siteLock(packed);
  const mirror = await startNpmMirror(packed, lock);
  mkdirSync(served);
  const daemon = await startGitDaemon(served);
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'signer', '-f', join(dir, 'signer')]);
  const signers = `admin@example.org namespaces="git" ${readFileSync(join(dir, 'signer.pub'), 'utf8').trim()}\n`;
  await writeFiles(site, {
    'package.json': `${JSON.stringify({ name: 'site', private: true, type: 'module', dependencies: { hostform: packed.version } }, null, 2)}\n`,
    'package-lock.json': `${JSON.stringify({ name: 'site', lockfileVersion: 3, requires: true, packages: lock.packages }, null, 2)}\n`,
    '.npmrc': `registry=${mirror.url}\n`,
    '.gitignore': 'node_modules\n',
    'inventory/hosts.yml': JSON.stringify({ hosts: Object.fromEntries(fleet.map((h) => [h.name, h.inventoryEntry()])) }, null, 2),
    'motd.txt': 'version 1\n',
    'playbooks/site.ts': `import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { playbook } from 'hostform';
import { file } from 'hostform/modules';
import { pull } from 'hostform/roles';

export default playbook({
  name: 'site',
  hosts: 'all',
  roles: [pull({ repo: ${JSON.stringify(daemon.url('site.git'))}, playbook: 'playbooks/site.ts', intervalMinutes: ${INTERVAL_MIN}, randomizedDelaySeconds: ${DELAY_S}, installTools: false, allowedSigners: ${JSON.stringify(signers)}, project: fileURLToPath(new URL('..', import.meta.url)) })],
  tasks: [file({ path: '/etc/motd', content: readFileSync(new URL('../motd.txt', import.meta.url), 'utf8') })],
});
`,
  });
  const publish = (message: string) => {
    git(site, ['add', '-A']);
    git(site, ['-c', 'user.name=Admin', '-c', 'user.email=admin@example.org', '-c', 'gpg.format=ssh', '-c', `user.signingkey=${join(dir, 'signer')}`, 'commit', '-S', '-q', '-m', message]);
    git(site, ['push', '-q', join(served, 'site.git'), 'main']);
  };
  git(site, ['init', '-q', '-b', 'main']);
  git(dir, ['init', '-q', '--bare', join(served, 'site.git')]);
  publish('version 1');
  const installed = await exec('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: site });
  if (installed.code !== 0) throw new Error(installed.stderr);
  for (const h of fleet) await h.exec('mkdir -p /var/lib/node_exporter/textfile_collector');

  // The set-up: one push to every host (the control machine's only work in pull mode).
  const setupStarted = Date.now();
  const setup = await exec('/usr/bin/time', ['-f', '%U %S', process.execPath, 'node_modules/hostform/bin/play.js', 'playbooks/site.ts', '-i', 'inventory', '--forks', '20'], { cwd: site });
  const setupCpu = (setup.stderr.trim().split('\n').pop() ?? '0 0').split(' ').reduce((a, b) => a + Number(b), 0);
  if (setup.code !== 0) throw new Error(`set-up push failed:\n${setup.stderr}`);
  const setupS = (Date.now() - setupStarted) / 1000;
  console.error(`set-up push: ${setupS.toFixed(0)} s, ${setupCpu.toFixed(1)} s CPU on the control machine; the mirror served ${(mirror.bytes / 1e6).toFixed(0)} MB`);

  // A reference for push: the same playbook in check mode from the control machine, every host at once.
  const check = await exec('/usr/bin/time', ['-f', '%U %S %e', process.execPath, 'node_modules/hostform/bin/play.js', 'playbooks/site.ts', '-i', 'inventory', '--forks', '50', '--check'], { cwd: site });
  const [checkUser = 0, checkSys = 0, checkWall = 0] = (check.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);

  // Steady state: wait for every host's first pull (it installs the checkout), then a window with no new commit.
  const firstPulls = Date.now();
  for (;;) {
    const done = await Promise.all(fleet.map(async (h) => (await h.exec('test -s /var/lib/hostform/pull/state.json')).code === 0));
    if (done.every(Boolean)) break;
    if (Date.now() - firstPulls > (INTERVAL_MIN * 60 + DELAY_S + 300) * 1000) throw new Error('not every host pulled');
    await sleep(10_000);
  }
  const since = journalTime();
  const before = snapshot(daemon);
  await sleep(WINDOW_MS);
  const after = snapshot(daemon);
  const hostCpu = await Promise.all(fleet.map((h) => pullCpu(h, since)));
  const pulls = after.fetches - before.fetches;
  const minutes = (after.at - before.at) / 60_000;

  // One new commit: until every host has fetched it (counted by the daemon, so nothing else crosses the
  // bridge meanwhile), then each host's metrics say when its run that applied it ended.
  writeFileSync(join(site, 'motd.txt'), 'version 2\n');
  const beforeCommit = snapshot(daemon);
  publish('version 2');
  const commit = git(site, ['rev-parse', 'HEAD']);
  const commitAt = Date.now();
  while (daemon.fetches() - beforeCommit.fetches < N) await sleep(1000);
  await sleep(5000);
  const afterCommit = snapshot(daemon);
  const commitFetches = afterCommit.fetches - beforeCommit.fetches;
  const applied = await Promise.all(
    fleet.map(async (h) => {
      for (let i = 0; ; i++) {
        const text = (await h.exec('cat /var/lib/node_exporter/textfile_collector/hostform_pull.prom; cat /etc/motd')).stdout;
        if (text.includes(`commit="${commit}"`) && text.endsWith('version 2\n')) return Number(/^hostform_last_run_timestamp_seconds\{mode="pull"\} (\d+)$/m.exec(text)?.[1]) - commitAt / 1000;
        if (i > 100) throw new Error(`${h.name} did not apply version 2:\n${text}`);
        await sleep(10_000);
      }
    }),
  );

  const f = (x: number, d = 2) => x.toFixed(d);
  applied.sort((a, b) => a - b);
  console.log(`| hosts | boot | set-up push (control CPU) | push --check, all hosts (control CPU / wall) | pulls in ${f(minutes, 0)} min | control CPU in the window | git server CPU per pull | network bytes per pull | host CPU per pull |`);
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  console.log(
    `| ${N} | ${f(bootS, 0)} s | ${f(setupCpu, 1)} s | ${f(checkUser + checkSys, 1)} s / ${f(checkWall, 1)} s | ${pulls} | ${f(after.control - before.control)} s (${f(((after.control - before.control) / minutes) * 1000 / 60, 1)} ms/s) | ${f(((after.git - before.git) / Math.max(1, pulls)) * 1000, 1)} ms | ${f((after.bytes - before.bytes) / Math.max(1, pulls) / 1024, 1)} KiB | ${f(hostCpu.reduce((a, h) => a + h.seconds, 0) / Math.max(1, hostCpu.reduce((a, h) => a + h.runs, 0)), 2)} s |`,
  );
  console.log('');
  console.log(`| hosts | new commit applied by all after | median | fetches | git server CPU per fetch | network bytes per fetch |`);
  console.log('| --- | --- | --- | --- | --- | --- |');
  console.log(
    `| ${N} | ${f(applied[applied.length - 1] ?? 0, 0)} s | ${f(applied[Math.floor(applied.length / 2)] ?? 0, 0)} s | ${commitFetches} | ${f(((afterCommit.git - beforeCommit.git) / Math.max(1, commitFetches)) * 1000, 1)} ms | ${f((afterCommit.bytes - beforeCommit.bytes) / Math.max(1, commitFetches) / 1024, 1)} KiB |`,
  );
  await mirror.close();
  await daemon.close();
} finally {
  await hosts.down();
  rmSync(dir, { recursive: true, force: true });
}
