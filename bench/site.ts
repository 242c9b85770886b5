// The home server (playbooks/site.ts, every role) on a fresh el9-like test
// host: a first run, a no-op run and a --check run, each timed end to end with
// `play` run as a user runs it (test/support/site.ts: bin/play.js, the admin
// with become, secrets in the environment), image pulls going to the local
// registry on the test bridge. For each run: time, tasks changed, round trips
// of the host, and the host's CPU (its container's cgroup, read on this
// machine: TestHost.cpuSeconds, its idle daemons and the containers the site
// starts included). Prints a markdown table for bench/RESULTS.md.
//
//   npx tsx bench/site.ts [--rounds 2]     (each round on a freshly booted host)
//
// hostform only: the site has no Ansible translation here (bench/RESULTS.md
// says why); the side-by-side comparison is the 17-task workload (first-run.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hosts } from '../test/hosts/index.ts';
import { failures, named, runSite, writeSiteInventory, type JsonReport } from '../test/support/site.ts';

const at = process.argv.indexOf('--rounds');
const rounds = at >= 0 ? Number(process.argv[at + 1]) : 1;
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number of at least 1');

interface Row {
  readonly round: number;
  readonly run: string;
  readonly seconds: number;
  readonly changed: number;
  readonly tasks: number;
  readonly roundTrips: number | undefined;
  readonly hostCpu: number;
}

const rows: Row[] = [];
for (let round = 1; round <= rounds; round++) {
  const [site] = await hosts.up(1, 'el9', { registry: true });
  if (!site) throw new Error('no test host');
  const scratch = await mkdtemp(join(tmpdir(), 'hostform-bench-site-'));
  try {
    const inventory = join(scratch, 'inventory.yml');
    await writeSiteInventory(inventory, site);
    for (const [run, mode, exitCode] of [
      ['first run', 'apply', 0],
      ['no-op', 'apply', 0],
      ['--check', 'check', 0],
    ] as const) {
      const cpuBefore = await site.cpuSeconds();
      const { report, seconds, stderr } = await runSite(inventory, mode);
      const hostCpu = (await site.cpuSeconds()) - cpuBefore;
      const failed = failures(report);
      if (failed.length > 0 || report.exitCode !== exitCode) throw new Error(`${run}: exit ${report.exitCode}\n${failed.join('\n')}\n${stderr.slice(-3000)}`);
      const changed = named(report, 'changed').length;
      if (run !== 'first run' && changed !== 0) throw new Error(`${run}: ${changed} tasks changed on a converged host: ${named(report, 'changed').join(', ')}`);
      const row = { round, run, seconds, changed, tasks: tasksOf(report), roundTrips: report.hosts[0]?.roundTrips, hostCpu };
      rows.push(row);
      console.log(`round ${round} ${run}: ${seconds.toFixed(1)} s, ${changed} of ${row.tasks} changed, ${row.roundTrips} round trips, host CPU ${hostCpu.toFixed(2)} s`);
    }
  } finally {
    await hosts.down();
    await rm(scratch, { recursive: true, force: true });
  }
}

function tasksOf(report: JsonReport): number {
  return report.hosts[0]?.tasks.length ?? 0;
}

console.log('\n| round | run | time | tasks changed | round trips | host CPU |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.round} | ${r.run} | ${r.seconds.toFixed(1)} s | ${r.changed} of ${r.tasks} | ${r.roundTrips ?? '?'} | ${r.hostCpu.toFixed(2)} s |`);
console.log(`\ncontrol process (this one, harness included) peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; play ran in child processes`);
