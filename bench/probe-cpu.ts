// Target CPU of each module's probes: what a no-op run of the 17-task
// workload (bench/workload.ts) costs the host, module by module.
//
//   npx tsx bench/probe-cpu.ts [--repeat 10]
//
// One el9-like test host; the workload is applied once, then for each
// module, a play of only that module's tasks of the workload (the two users,
// the directory, the ten files, the two unit files, the service task,
// firewalld) runs in check mode `--repeat` times, and the host container's
// cgroup CPU (cpu.stat usage_usec) is read before and after. A play of no
// task (the facts and the lock's round trip) is measured the same way, and
// its cost is subtracted: what is left is the probes'. The host's idle
// daemons count too (about 0.05 s per second here); the runs take well under
// a second each. Prints a markdown table for bench/RESULTS.md.
import { loadavg } from 'node:os';
import { setTimeout } from 'node:timers/promises';
import type { Step } from '../lib/playbook.ts';
import type { RunMode } from '../lib/run/results.ts';
import { hosts } from '../test/hosts/index.ts';
import { errors, runTasks } from '../test/support/run-tasks.ts';
import { firstRunWorkload } from './workload.ts';

const at = process.argv.indexOf('--repeat');
const repeat = at >= 0 ? Number(process.argv[at + 1]) : 10;

const [h] = await hosts.up(1, 'el9');
if (!h) throw new Error('no test host');
try {
  const run = async (tasks: readonly Step[], mode: RunMode) => {
    const report = await runTasks(h.inventoryEntry(), tasks, mode, { become: true, name: 'bench' });
    const failed = errors(report);
    if (failed) throw new Error(failed);
    return report;
  };
  const cpu = () => h.cpuSeconds();
  /** Seconds of host CPU per check run of these tasks, and the round trips of one. */
  const measure = async (tasks: readonly Step[]) => {
    const before = await cpu();
    let roundTrips = 0;
    for (let i = 0; i < repeat; i++) roundTrips = (await run(tasks, 'check')).hosts[0]?.roundTrips ?? 0;
    // cpu.stat is read on this machine (TestHost.cpuSeconds): measuring costs the host nothing. The
    // pause lets the host finish closing the last run's ssh session, which is part of its cost.
    await setTimeout(500);
    return { seconds: ((await cpu()) - before) / repeat, roundTrips };
  };

  const workload = firstRunWorkload();
  await run(workload, 'apply');
  const again = await run(workload, 'apply');
  if (again.hosts[0]?.tasks.some((task) => task.status !== 'ok')) throw new Error('the workload did not converge');

  const moduleOf = (step: Step) => (step as { module: { name: string } }).module.name;
  const groups = new Map<string, Step[]>();
  for (const step of workload) groups.set(moduleOf(step), [...(groups.get(moduleOf(step)) ?? []), step]);

  const base = await measure([]);
  const rows = [];
  for (const [name, tasks] of groups) {
    const m = await measure(tasks);
    rows.push(`| ${name} | ${tasks.length} | ${((m.seconds - base.seconds) * 1000).toFixed(0)} ms | ${(((m.seconds - base.seconds) * 1000) / tasks.length).toFixed(1)} ms |`);
  }
  const all = await measure(workload);
  console.log(`Measured ${new Date().toISOString()}, ${repeat} check runs each, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  console.log('| module | tasks | host CPU of its probes per run | per task |');
  console.log('| --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
  console.log(`| all 17 together | 17 | ${((all.seconds - base.seconds) * 1000).toFixed(0)} ms | |`);
  console.log(`| (a run of no task: the ssh login, facts, lock) | 0 | ${(base.seconds * 1000).toFixed(0)} ms (not subtracted here) | |`);
  console.log(`\nA whole check run of the workload: ${(all.seconds * 1000).toFixed(0)} ms of host CPU, ${all.roundTrips} round trips.`);
} finally {
  await hosts.down();
}
