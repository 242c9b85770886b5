// No-op run benchmark: a 10-task play that changes nothing, timed end to end
// (connect, facts, probes, plan, report) and counted in SSH round trips.
//
//   npx tsx bench/noop.ts            # against a throwaway sshd on 127.0.0.1
//   npx tsx bench/noop.ts --el9      # against one el9-like test host (test/hosts)
//
// Prints one markdown table row per target for bench/RESULTS.md.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadInventory } from '../lib/inventory/load.ts';
import type { HostEntry } from '../lib/inventory/types.ts';
import { playbook } from '../lib/playbook.ts';
import { runPlaybooks } from '../lib/run/run.ts';
import { command, file } from '../modules/index.ts';
import { startSshd } from '../test/support/sshd.ts';

const RUNS = 10;

async function target(): Promise<{ name: string; entry: HostEntry; workdir: string; stop: () => Promise<void> }> {
  if (process.argv.includes('--el9')) {
    const { hosts } = await import('../test/hosts/index.ts');
    const [h] = await hosts.up(1, 'el9');
    if (!h) throw new Error('no test host');
    return { name: 'el9-like test host (nspawn)', entry: h.inventoryEntry(), workdir: '/root/bench', stop: () => hosts.down() };
  }
  const server = await startSshd();
  const entry: HostEntry = { address: server.address, port: server.port, user: server.user, identityFile: server.identityFile, knownHostsFile: server.knownHostsFile };
  return { name: 'OpenSSH on 127.0.0.1', entry, workdir: join(server.dir, 'bench'), stop: () => server.stop() };
}

const t = await target();
const dir = await mkdtemp(join(tmpdir(), 'hostform-bench-'));
try {
  const inventoryFile = join(dir, 'inventory.yml');
  await writeFile(inventoryFile, stringify({ hosts: { bench: t.entry } }));
  const inventory = await loadInventory([inventoryFile]);
  const w = t.workdir;
  const tasks = [
    file({ path: w, state: 'directory', mode: '0755' }),
    file({ path: `${w}/etc`, state: 'directory' }),
    ...[1, 2, 3, 4].map((i) => file({ path: `${w}/etc/app${i}.conf`, content: `setting=${i}\n`.repeat(20), mode: '0644' })),
    file({ path: `${w}/current`, state: 'link', target: `${w}/etc` }),
    command({ argv: ['touch', `${w}/initialized`], creates: `${w}/initialized` }),
    command({ shell: `echo ok > ${w}/stamp`, unless: ['test', '-s', `${w}/stamp`] }),
    file({ path: `${w}/old.conf`, state: 'absent' }),
  ];
  const book = playbook({ name: 'bench', hosts: 'all', tasks });
  const first = await runPlaybooks([book], inventory, { mode: 'apply', forks: 1 });
  if (first.exitCode !== 0) throw new Error(`converging failed: ${JSON.stringify(first.hosts[0]?.tasks.filter((x) => x.error))}`);

  const times: number[] = [];
  let roundTrips = 0;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const report = await runPlaybooks([book], inventory, { mode: 'apply', forks: 1 });
    times.push(performance.now() - started);
    const host = report.hosts[0];
    if (!host || host.tasks.some((x) => x.status !== 'ok')) throw new Error('the no-op run changed something');
    roundTrips = host.roundTrips;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  console.log(`| ${t.name} | ${tasks.length} | ${roundTrips} | ${(median / 1000).toFixed(3)} s | ${((times[0] ?? 0) / 1000).toFixed(3)} s | ${((times.at(-1) ?? 0) / 1000).toFixed(3)} s |`);
} finally {
  await rm(dir, { recursive: true, force: true });
  await t.stop();
}
