// First run, no-op run and --check of the 17-task workload (bench/workload.ts
// and bench/ansible/first-run.yml), hostform against Ansible, on the same
// el9-like test hosts, the two tools alternating.
//
//   apt-get install ansible && npm run bench -- --hosts 1,10 [--rounds 2]
//   (the same as npx tsx bench/first-run.ts --hosts 1,10)
//
// Each round, for each tool (the order alternates between rounds): the hosts
// are reset (users, files, units, firewall rule removed), then a first run,
// a no-op run and a check run, each timed end to end. After each first run
// the state both tools leave (accounts, keys, files and their modes and
// owners, units, firewall) is read from every host and compared. hostform runs
// in this process (forks = N); Ansible runs with pipelining, ControlPersist
// (its default SSH arguments; the masters are closed when its turn ends) and
// forks = N. The machine's load average is
// read before every run; control CPU is this process's for hostform and
// ansible-playbook's with its children for Ansible; target CPU is each host
// container's cgroup usage over the run (its idle daemons included). Prints
// a markdown table for bench/RESULTS.md; the peak RSS it prints is this
// whole process's, test-host harness included: an upper bound for hostform.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout } from 'node:timers/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { loadInventory } from '../lib/inventory/load.ts';
import { playbook } from '../lib/playbook.ts';
import type { RunMode } from '../lib/run/results.ts';
import { runPlaybooks } from '../lib/run/run.ts';
import { hosts, type TestHost } from '../test/hosts/index.ts';
import { firstRunWorkload } from './workload.ts';

const run = promisify(execFile);
const option = (name: string, fallback: string) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
};
const hostCounts = option('--hosts', '1').split(',').map(Number);
const rounds = Number(option('--rounds', '1'));

type Tool = 'hostform' | 'ansible';
type Kind = 'first run' | 'no-op' | '--check';
interface Sample {
  readonly n: number;
  readonly tool: Tool;
  readonly kind: Kind;
  readonly seconds: number;
  readonly load: string;
  /** Seconds of CPU of the control process (hostform: this process; Ansible: ansible-playbook and its children). */
  readonly controlCpu: number;
  /** Seconds of CPU per host, from the container's cgroup (cpu.stat, read on this machine: TestHost.cpuSeconds), daemons' background included. */
  readonly targetCpu: number;
  /** hostform: round trips per host. */
  readonly roundTrips?: number;
}

const RESET = `systemctl disable --now bench-report.timer >/dev/null 2>&1
rm -f /etc/systemd/system/bench-report.service /etc/systemd/system/bench-report.timer; systemctl daemon-reload
for u in alice bob; do userdel -r "$u" >/dev/null 2>&1; done; rm -rf /srv/app
firewall-cmd -q --remove-service=http 2>/dev/null; firewall-cmd -q --permanent --remove-service=http 2>/dev/null
true`;

const STATE = `for u in alice bob; do getent passwd "$u" | cut -d: -f1,6,7; stat -c '%n %a %U %G' /home/$u/.ssh /home/$u/.ssh/authorized_keys; sha256sum /home/$u/.ssh/authorized_keys; done
stat -c '%n %a %U %G' /srv/app /srv/app/*; sha256sum /srv/app/*
stat -c '%n %a %U %G' /etc/systemd/system/bench-report.*; sha256sum /etc/systemd/system/bench-report.*
systemctl is-enabled bench-report.timer; systemctl is-active bench-report.timer
firewall-cmd --query-service=http; firewall-cmd --permanent --query-service=http`;

const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** CPU seconds used so far by each host's container. */
async function targetCpu(hs: readonly TestHost[]): Promise<number[]> {
  return Promise.all(hs.map((h) => h.cpuSeconds()));
}

/** Seconds of `times` output (`0m1.234s 0m0.100s` lines): the children's user + system time, its second line. */
function childCpu(times: string): number {
  const line = times.trim().split('\n').at(-1) ?? '';
  return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
}

async function onAll(hs: readonly TestHost[], script: string): Promise<string[]> {
  return Promise.all(hs.map(async (h) => (await h.exec(script)).stdout));
}

const samples: Sample[] = [];
for (const n of hostCounts) {
  const hs = await hosts.up(n, 'el9');
  const dir = await mkdtemp(join(tmpdir(), 'hostform-bench-first-'));
  try {
    const names = hs.map((_, i) => `h${i + 1}`);
    const inventoryFile = join(dir, 'inventory.yml');
    await writeFile(inventoryFile, stringify({ hosts: Object.fromEntries(hs.map((h, i) => [names[i], h.inventoryEntry()])) }));
    const inventory = await loadInventory([inventoryFile]);
    const book = playbook({ name: 'first-run', hosts: 'all', become: true, tasks: firstRunWorkload() });
    const ini = join(dir, 'hosts.ini');
    await writeFile(
      ini,
      hs
        .map(
          (h, i) =>
            `${names[i]} ansible_host=${h.address} ansible_port=${h.port} ansible_user=${h.user} ansible_become=${h.user === 'root' ? 'false' : 'true'} ansible_ssh_private_key_file=${h.identityFile} ansible_python_interpreter=/usr/bin/python3 ansible_ssh_common_args='-o UserKnownHostsFile=${h.knownHostsFile}'`,
        )
        .join('\n') + '\n',
    );
    // Ansible's ControlPersist masters live in a directory of their own, so its turn can end them (closeAnsibleMasters).
    const controlDir = join(dir, 'cp');
    await mkdir(controlDir);
    const env = {
      ...process.env,
      ANSIBLE_PIPELINING: 'true',
      ANSIBLE_HOST_KEY_CHECKING: 'true',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: 'false',
      ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
    };
    /**
     * A ControlPersist master outlives ansible-playbook by a minute; closing on the host during
     * hostform's turn, it would count in hostform's figures. The end of Ansible's turn ends them.
     */
    const closeAnsibleMasters = async () => {
      for (const socket of await readdir(controlDir)) await run('ssh', ['-O', 'exit', '-o', `ControlPath=${join(controlDir, socket)}`, 'unused']).catch(() => undefined);
    };
    const playbookFile = new URL('./ansible/first-run.yml', import.meta.url).pathname;

    /** One timed run; returns the number of changed tasks over all hosts. */
    const timed = async (tool: Tool, kind: Kind): Promise<number> => {
      const mode: RunMode = kind === '--check' ? 'check' : 'apply';
      const at = load();
      // The pause lets the hosts finish closing the sessions before (the harness's reset and reads).
      await setTimeout(500);
      const cpuBefore = await targetCpu(hs);
      // The pause lets the hosts finish closing the run's ssh sessions, which are part of its cost.
      const perHost = async () => (await setTimeout(500), (await targetCpu(hs)).reduce((sum, c, i) => sum + c - (cpuBefore[i] ?? 0), 0)) / n;
      const started = performance.now();
      if (tool === 'hostform') {
        const cpu = process.cpuUsage();
        const report = await runPlaybooks([book], inventory, { mode, forks: n });
        const seconds = (performance.now() - started) / 1000;
        const used = process.cpuUsage(cpu);
        const failed = report.hosts.flatMap((h) => [h.error, ...h.tasks.map((x) => x.error)]).filter((e) => e !== undefined);
        if (failed.length > 0) throw new Error(`hostform ${kind} failed: ${failed.map((e) => e.message).join('\n')}`);
        const roundTrips = report.hosts.reduce((sum, h) => sum + h.roundTrips, 0) / n;
        samples.push({ n, tool, kind, seconds, load: at, controlCpu: (used.user + used.system) / 1e6, targetCpu: await perHost(), roundTrips });
        return report.hosts.reduce((sum, h) => sum + h.tasks.filter((x) => x.status === 'changed' && !x.handler).length, 0);
      }
      // bash's `times` says what ansible-playbook and its children (forks, ssh) used.
      const command = `ansible-playbook "$@" >"$BENCH_OUT"; rc=$?; times >"$BENCH_TIMES"; exit $rc`;
      const [out, times] = [join(dir, 'ansible.out'), join(dir, 'ansible.times')];
      await run('bash', ['-c', command, 'bash', '-i', ini, '-f', String(n), ...(mode === 'check' ? ['--check'] : []), playbookFile], { env: { ...env, BENCH_OUT: out, BENCH_TIMES: times } }).catch(
        (error: unknown) => {
          throw new Error(`ansible ${kind} failed: ${error instanceof Error ? error.message : String(error)}\n${readFileSync(out, 'utf8').slice(-3000)}`);
        },
      );
      const seconds = (performance.now() - started) / 1000;
      const stdout = readFileSync(out, 'utf8');
      samples.push({ n, tool, kind, seconds, load: at, controlCpu: childCpu(readFileSync(times, 'utf8')), targetCpu: await perHost() });
      if (/(failed|unreachable)=[1-9]/.test(stdout)) throw new Error(`ansible ${kind} failed:\n${stdout.slice(-3000)}`);
      return [...stdout.matchAll(/changed=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    };

    const states = new Map<Tool, string[]>();
    for (let round = 0; round < rounds; round++) {
      const order: Tool[] = round % 2 === 0 ? ['hostform', 'ansible'] : ['ansible', 'hostform'];
      for (const tool of order) {
        await onAll(hs, RESET);
        if ((await timed(tool, 'first run')) === 0) throw new Error(`${tool}: the first run changed nothing`);
        states.set(tool, await onAll(hs, STATE));
        for (const kind of ['no-op', '--check'] as const) {
          const changed = await timed(tool, kind);
          if (changed !== 0) throw new Error(`${tool} ${kind}: ${changed} tasks changed on a converged host`);
        }
        if (tool === 'ansible') await closeAnsibleMasters();
        console.error(`n=${n} round ${round + 1} ${tool}: ${samples.slice(-3).map((s) => `${s.kind} ${s.seconds.toFixed(1)} s`).join(', ')}`);
      }
      const [a, b] = [states.get('hostform'), states.get('ansible')];
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`the two tools leave different states:\n--- hostform\n${a?.join('\n')}\n--- ansible\n${b?.join('\n')}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await hosts.down();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
console.log('| N hosts | run | hostform | round trips per host | Ansible | Ansible ÷ hostform time | control CPU, hostform / Ansible | target CPU per host, hostform / Ansible | load average (1, 5, 15 min) before each run, hostform / Ansible |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const n of hostCounts) {
  for (const kind of ['first run', 'no-op', '--check'] as const) {
    const of = (tool: Tool) => samples.filter((s) => s.n === n && s.kind === kind && s.tool === tool);
    const [hf, an] = [of('hostform'), of('ansible')];
    const [h, a] = [median(hf.map((s) => s.seconds)), median(an.map((s) => s.seconds))];
    const loads = `${hf.map((s) => s.load).join('; ')} / ${an.map((s) => s.load).join('; ')}`;
    const cpu = (xs: Sample[], key: 'controlCpu' | 'targetCpu') => `${median(xs.map((s) => s[key])).toFixed(2)} s`;
    const roundTrips = median(hf.map((s) => s.roundTrips ?? 0));
    console.log(
      `| ${n} | ${kind} | ${h.toFixed(1)} s | ${roundTrips} | ${a.toFixed(1)} s | ${(a / h).toFixed(1)}× | ${cpu(hf, 'controlCpu')} / ${cpu(an, 'controlCpu')} | ${cpu(hf, 'targetCpu')} / ${cpu(an, 'targetCpu')} | ${loads} |`,
    );
  }
}
console.log(`\nhostform control process peak RSS over the whole bench: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
console.log(`\n${JSON.stringify(samples)}`);
