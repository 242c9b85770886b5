import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HARNESS_DIR, imagesDir, runLockFile } from './config.ts';
import type { Image } from './image.ts';
import { withLock } from './lock.ts';
import { addUser, hostDir, readRecords, registerHost, sweepLocked } from './registry.ts';
import type { HostRecord } from './registry.ts';
import { run } from './run.ts';
import { waitUntilBooted } from './ssh.ts';
import { TestHost } from './test-host.ts';

/**
 * The el9-selinux profile: one qemu VM (SELinux is the kernel's, so containers cannot have it), booted
 * from the image's own kernel on a qcow2 overlay over a pre-labelled disk. /dev/kvm does not run ordinary
 * guests on these machines, so it is TCG: slow to boot, hence one VM per test run, shared by every test
 * process that asks for it and torn down when the last of them is done. SELinux starts permissive.
 */

const BOOT_TIMEOUT_MS = 300_000;
const MEMORY_MB = 1536;

export async function ensureVmDisk(image: Image, log: (line: string) => void = () => {}): Promise<string> {
  const disk = path.join(image.dir, 'vm', 'disk.raw');
  const ready = path.join(image.dir, 'vm', 'ready');
  if (fs.existsSync(ready)) return disk;
  return withLock(path.join(imagesDir(), 'build.lock'), async () => {
    if (fs.existsSync(ready)) return disk;
    const started = Date.now();
    await run('unshare', ['--mount', '--propagation', 'private', 'bash', path.join(HARNESS_DIR, 'build-vm-disk.sh'), image.dir]);
    log(`built the VM disk in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return disk;
  });
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function bootSelinuxVm(image: Image, onRegistered: (name: string) => void): Promise<TestHost> {
  const disk = await ensureVmDisk(image, (line) => process.stderr.write(`[hosts] ${line}\n`));
  const { record, fresh } = await withLock(runLockFile(), async () => {
    await sweepLocked();
    const running = readRecords().find((r) => r.kind === 'vm' && r.imageKey === image.key);
    if (running) {
      addUser(running.name);
      onRegistered(running.name);
      return { record: running, fresh: false };
    }
    const port = await freeLoopbackPort();
    const created: HostRecord = { name: `hf-vm-${port}`, profile: 'el9-selinux', kind: 'vm', address: '127.0.0.1', port, imageKey: image.key };
    registerHost(created);
    onRegistered(created.name);
    return { record: created, fresh: true };
  });

  const dir = hostDir(record.name);
  const knownHostsFile = path.join(dir, 'known_hosts');
  let child: ChildProcess | undefined;
  if (fresh) {
    const [type, key] = fs.readFileSync(path.join(image.dir, 'vm', 'host_key.pub'), 'utf8').split(' ');
    fs.writeFileSync(knownHostsFile, `[${record.address}]:${record.port} ${type} ${key}\n`);
    const overlay = path.join(dir, 'disk.qcow2');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', disk, overlay]);
    const log = fs.openSync(path.join(dir, 'qemu.log'), 'w');
    child = spawn(
      path.join(HARNESS_DIR, 'launch.sh'),
      ['hostform-test-' + record.name, '--', 'qemu-system-x86_64', ...qemuArgs(image, overlay, dir, record.port)],
      { detached: true, stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    child.unref();
  }
  const knownHostsLine = fs.readFileSync(knownHostsFile, 'utf8').trim();
  const target = { address: record.address, port: record.port, identityFile: image.identityFile, knownHostsFile };
  const timings = await waitUntilBooted(target, record.name, BOOT_TIMEOUT_MS, () => {
    if (child && (child.exitCode !== null || child.signalCode !== null)) return tail(path.join(dir, 'qemu.log')) + '\n' + tail(path.join(dir, 'console.log'));
    if (!fs.existsSync(dir)) return 'its directory was removed';
    return undefined;
  });
  return new TestHost(record.name, 'el9-selinux', record.address, record.port, image.identityFile, knownHostsFile, knownHostsLine, timings);
}

function qemuArgs(image: Image, overlay: string, dir: string, port: number): string[] {
  const cmdline = [
    'root=/dev/vda', 'rootfstype=ext4', 'rw', 'console=ttyS0', 'net.ifnames=0',
    'security=selinux', 'selinux=1', 'quiet', 'systemd.show_status=0',
  ].join(' ');
  return [
    '-name', 'hostform-el9-selinux',
    '-machine', 'q35',
    '-accel', 'tcg,thread=multi,tb-size=256',
    '-cpu', 'max',
    '-smp', '2',
    '-m', String(MEMORY_MB),
    '-nodefaults', '-no-user-config', '-display', 'none',
    '-kernel', image.kernel,
    '-initrd', image.initrd,
    '-append', cmdline,
    '-drive', `file=${overlay},if=virtio,format=qcow2,cache=unsafe`,
    // User-mode networking with only a loopback port forward; restrict=on: the guest reaches nothing.
    '-netdev', `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:22`,
    '-device', 'virtio-net-pci,netdev=n0',
    '-device', 'virtio-rng-pci',
    '-serial', `file:${path.join(dir, 'console.log')}`,
  ];
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}
