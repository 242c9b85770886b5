import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BRIDGE, BRIDGE_ADDRESS, HARNESS_DIR, NET_PREFIX, runLockFile } from './config.ts';
import type { Image } from './image.ts';
import { withLock } from './lock.ts';
import { run } from './run.ts';
import { hostDir, readRecords, registerHost, sweepLocked } from './registry.ts';
import type { HostRecord } from './registry.ts';
import { waitUntilBooted } from './ssh.ts';
import { TestHost } from './test-host.ts';

/** Container hosts: systemd-nspawn --boot on an overlayfs per host over the image's rootfs, on the bridge. */

const BOOT_TIMEOUT_MS = 120_000;

/** files: path under / → content, written into each host's upper layer before it boots. */
export async function bootContainers(
  n: number,
  image: Image,
  onRegistered: (name: string) => void,
  files: Readonly<Record<string, string>> = {},
): Promise<TestHost[]> {
  const records = await withLock(runLockFile(), async () => {
    await sweepLocked();
    await prepareMachine();
    const used = new Set(readRecords().map((r) => r.address));
    const fresh: HostRecord[] = [];
    for (let i = 2; fresh.length < n && i < 65535; i++) {
      const [b3, b4] = [Math.floor(i / 256), i % 256];
      if (b4 === 0 || b4 === 255) continue;
      const address = `${NET_PREFIX}.${b3}.${b4}`;
      if (used.has(address)) continue;
      const record: HostRecord = { name: `hf-${b3}-${b4}`, profile: 'el9', kind: 'container', address, port: 22, imageKey: image.key };
      registerHost(record);
      onRegistered(record.name);
      fresh.push(record);
    }
    if (fresh.length < n) throw new Error(`no free address left in ${NET_PREFIX}.0.0/16 for ${n} more test hosts`);
    return fresh;
  });
  return Promise.all(records.map((r) => bootOne(r, image, files)));
}

/** The bridge, and enough inotify instances for many systemds (about 10 hosts fail with the default 128). */
export async function prepareMachine(): Promise<void> {
  const file = '/proc/sys/fs/inotify/max_user_instances';
  if (Number(fs.readFileSync(file, 'utf8')) < 8192) fs.writeFileSync(file, '8192');
  if (fs.existsSync(`/sys/class/net/${BRIDGE}`)) return;
  await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  await run('ip', ['address', 'add', `${BRIDGE_ADDRESS}/16`, 'dev', BRIDGE]);
  await run('ip', ['link', 'set', BRIDGE, 'up']);
}

async function bootOne(record: HostRecord, image: Image, files: Readonly<Record<string, string>>): Promise<TestHost> {
  const dir = hostDir(record.name);
  const upper = path.join(dir, 'upper');
  for (const sub of ['upper/etc/ssh', 'upper/etc/hostform-test', 'work', 'merged', 'containers']) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
  }
  // Every host gets its own host key, machine-id and name.
  const hostKey = path.join(upper, 'etc/ssh/ssh_host_ed25519_key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', record.name, '-f', hostKey]);
  fs.writeFileSync(path.join(upper, 'etc/hostform-test/net'), `IFACE=host0\nADDRESS=${record.address}/16\n`);
  fs.writeFileSync(path.join(upper, 'etc/machine-id'), randomBytes(16).toString('hex') + '\n');
  fs.writeFileSync(path.join(upper, 'etc/hostname'), record.name + '\n');
  fs.writeFileSync(path.join(upper, 'etc/hosts'), `127.0.0.1\tlocalhost\n127.0.1.1\t${record.name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(upper, file)), { recursive: true });
    fs.writeFileSync(path.join(upper, file), content);
  }
  // podman's storage, with the imported busybox image, on a plain directory (see build-image.sh).
  await run('cp', ['-a', path.join(image.rootfs, 'var/lib/containers') + '/.', path.join(dir, 'containers')]);
  const [type, key] = fs.readFileSync(hostKey + '.pub', 'utf8').split(' ');
  const knownHostsLine = `${record.address} ${type} ${key}`;
  const knownHostsFile = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHostsFile, knownHostsLine + '\n');

  const logFile = path.join(dir, 'console.log');
  const log = fs.openSync(logFile, 'w');
  const child: ChildProcess = spawn(
    path.join(HARNESS_DIR, 'launch.sh'),
    ['hostform-test-' + record.name, '--', 'unshare', '--mount', '--propagation', 'private',
      path.join(HARNESS_DIR, 'container-run.sh'), dir, image.rootfs, record.name, BRIDGE],
    { detached: true, stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  // Teardown goes through the host's cgroup, not through this handle; the process may outlive this one.
  child.unref();
  const target = { address: record.address, port: 22, identityFile: image.identityFile, knownHostsFile };
  const timings = await waitUntilBooted(target, record.name, BOOT_TIMEOUT_MS, () =>
    child.exitCode !== null || child.signalCode !== null ? tail(logFile) : undefined,
  );
  return new TestHost(record.name, 'el9', record.address, 22, image.identityFile, knownHostsFile, knownHostsLine, timings);
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-20).join('\n');
  } catch {
    return '(no output)';
  }
}
