import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type tap from 'tap';
import { BRIDGE, CGROUP_PREFIX, HARNESS_DIR, hostsDir } from './hosts/config.ts';
import { hosts } from './hosts/index.ts';

/** What a host could leave on the machine; each entry names the leftover. */
function leftovers(name: string): string[] {
  const found: string[] = [];
  if (fs.existsSync(path.join(hostsDir(), name))) found.push(`directory ${path.join(hostsDir(), name)}`);
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd']) {
    if (fs.existsSync(path.join(root, CGROUP_PREFIX + name))) found.push(`cgroup ${path.join(root, CGROUP_PREFIX + name)}`);
  }
  if (fs.existsSync(`/sys/class/net/vb-${name}`)) found.push(`veth vb-${name}`);
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(`hosts/${name} `) || cmd.includes(`hosts/${name}/`) || cmd.includes(`--machine=${name} `)) found.push(`process ${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (line.includes(`/hosts/${name}/`)) found.push(`mount ${line.split(' ')[4]}`);
  }
  return found;
}

/** Leftovers can take a moment to go (a network namespace is freed asynchronously by the kernel). */
async function settledLeftovers(name: string): Promise<string[]> {
  for (let i = 0; i < 50; i++) {
    const found = leftovers(name);
    if (found.length === 0) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return leftovers(name);
}

/** The bridge goes with the last host; other test files may still have hosts up, so only check when none has. */
function checkBridge(t: Pick<typeof tap, 'notOk' | 'comment'>): void {
  const others = fs.existsSync(hostsDir()) ? fs.readdirSync(hostsDir()) : [];
  if (others.length === 0) t.notOk(fs.existsSync(`/sys/class/net/${BRIDGE}`), 'the bridge is gone with the last host');
  else t.comment(`bridge check skipped: other hosts are up (${others.join(', ')})`);
}

t.test('test hosts: down() leaves no process, mount, cgroup, device or directory behind', async (t) => {
  const hs = await hosts.up(2, 'el9');
  const names = hs.map((h) => h.name);
  for (const name of names) t.not(leftovers(name).length, 0, `${name} is visible while up`);
  await hosts.down();
  for (const name of names) t.same(await settledLeftovers(name), [], `nothing of ${name} is left`);
  checkBridge(t);
});

function runFixture(how: string): Promise<{ name: string; code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(HARNESS_DIR, 'fixtures', 'up-and-end.ts'), how], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let name = '';
    child.stdout.on('data', (d: Buffer) => {
      name += d.toString();
      if (how === 'term' && name.endsWith('\n')) child.kill('SIGTERM');
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ name: name.trim(), code, signal }));
  });
}

for (const how of ['term', 'throw', 'forget']) {
  t.test(`test hosts: a test process that ends by ${how} takes its host down with it`, async (t) => {
    const r = await runFixture(how);
    t.match(r.name, /^hf-/, `the fixture booted ${r.name}`);
    t.same(await settledLeftovers(r.name), [], `nothing of ${r.name} is left`);
  });
}

t.test('test hosts: hosts of a killed process are swept at the next up()', async (t) => {
  const r = await runFixture('kill');
  t.equal(r.signal, 'SIGKILL');
  t.not(leftovers(r.name).length, 0, `${r.name} outlives its SIGKILLed owner`);
  await hosts.sweep();
  t.same(await settledLeftovers(r.name), [], `nothing of ${r.name} is left after the sweep`);
  checkBridge(t);
});
