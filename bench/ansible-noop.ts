// Ansible on the same no-op run as bench/noop.ts, on one el9-like test host:
// ansible-playbook (Debian's ansible-core) with pipelining on, facts gathered
// as by default, SSH commands counted from -vvv output.
//
//   apt-get install ansible-core && npx tsx bench/ansible-noop.ts
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hosts } from '../test/hosts/index.ts';

const RUNS = 5;
const run = promisify(execFile);
const [h] = await hosts.up(1, 'el9');
const dir = await mkdtemp(join(tmpdir(), 'hostform-bench-ansible-'));
try {
  if (!h) throw new Error('no test host');
  const inventory = join(dir, 'hosts.ini');
  await writeFile(
    inventory,
    `bench ansible_host=${h.address} ansible_port=${h.port} ansible_user=root ansible_ssh_private_key_file=${h.identityFile} ansible_python_interpreter=/usr/bin/python3 ansible_ssh_common_args='-o UserKnownHostsFile=${h.knownHostsFile}'\n`,
  );
  const env = { ...process.env, ANSIBLE_PIPELINING: 'true', ANSIBLE_HOST_KEY_CHECKING: 'true', ANSIBLE_NOCOLOR: '1' };
  const playbook = new URL('./ansible/noop.yml', import.meta.url).pathname;
  const play = (extra: string[] = []) => run('ansible-playbook', ['-i', inventory, playbook, ...extra], { env, maxBuffer: 64 * 1024 * 1024 });
  await play();
  const times: number[] = [];
  let sshCommands = 0;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const { stdout } = await play();
    times.push(performance.now() - started);
    if (!/changed=0\s/.test(stdout)) throw new Error('the no-op run changed something');
  }
  // Counted on a separate run: -vvv itself slows Ansible down.
  sshCommands = ((await play(['-vvv'])).stdout.match(/SSH: EXEC ssh /g) ?? []).length;
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  console.log(`| Ansible ${(await run('ansible-playbook', ['--version'])).stdout.split('\n')[0]?.replace(/^ansible-playbook \[core (.*)\]$/, 'core $1')} (pipelining) on el9-like test host | 10 | ${sshCommands} | ${(median / 1000).toFixed(3)} s | ${((times[0] ?? 0) / 1000).toFixed(3)} s | ${((times.at(-1) ?? 0) / 1000).toFixed(3)} s |`);
} finally {
  await rm(dir, { recursive: true, force: true });
  await hosts.down();
}
