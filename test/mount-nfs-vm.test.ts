import t from 'tap';
import { mount } from '../modules/mount/index.ts';
import { sysctl } from '../modules/sysctl/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// What a container cannot do, on the shared qemu VM (its own Debian kernel,
// with modules): an NFS mount, served by the VM's own kernel NFS server
// over loopback (the VM reaches nothing else), an NFS automount, and
// kernel-wide sysctl parameters. Everything is put back at the end: other
// test files share the VM.

const [vm] = (await hosts.up(1, 'el9-selinux')) as [TestHost];
t.teardown(() => hosts.down());

const on = async (cmd: string) => {
  const r = await vm.exec(cmd, { timeoutMs: 300_000 });
  return { ...r, out: `${r.stdout}${r.stderr}` };
};
const findmnt = async (where: string) => (await on(`findmnt -n -o SOURCE,FSTYPE --mountpoint ${where}`)).stdout.trim();

const served = await on('mkdir -p /srv/hf-export && echo over-nfs > /srv/hf-export/marker && systemctl start nfs-server && exportfs -o rw,no_root_squash,insecure 127.0.0.1:/srv/hf-export && exportfs -v');
t.teardown(async () => {
  await on('exportfs -u 127.0.0.1:/srv/hf-export; systemctl stop nfs-server; rm -rf /srv/hf-export');
});

const nfs = mount({ where: '/mnt/hf-nfs', what: '127.0.0.1:/srv/hf-export', type: 'nfs4', options: ['soft', 'timeo=50'] });

t.test('mount (VM): the VM serves an NFS export from its own kernel', async (t) => {
  t.equal(served.code, 0, served.out);
  t.match(served.stdout, /\/srv\/hf-export\s+127\.0\.0\.1/);
});

t.test('mount (VM): the first run mounts the NFS export, the second changes nothing', async (t) => {
  const first = await runTasks(vm.inventoryEntry(), [nfs], 'apply');
  t.same(statuses(first), ['changed'], errors(first));
  t.match((await on('cat /etc/systemd/system/mnt-hf\\\\x2dnfs.mount')).stdout, /WantedBy=remote-fs\.target/, 'a network file system belongs to remote-fs.target');
  t.equal(await findmnt('/mnt/hf-nfs'), '127.0.0.1:/srv/hf-export nfs4');
  t.equal((await on('cat /mnt/hf-nfs/marker')).stdout, 'over-nfs\n');
  t.same(statuses(await runTasks(vm.inventoryEntry(), [nfs], 'apply')), ['ok']);
});

t.test('mount (VM): check after a hand unmount of the NFS mount reports exactly that and leaves it unmounted', async (t) => {
  await on('umount /mnt/hf-nfs');
  const report = await runTasks(vm.inventoryEntry(), [nfs], 'check');
  t.same(tasksOf(report)[0]?.changes.map((c) => c.summary), ['mount /mnt/hf-nfs']);
  t.equal(await findmnt('/mnt/hf-nfs'), '');
  t.same(statuses(await runTasks(vm.inventoryEntry(), [nfs], 'apply')), ['changed']);
  t.equal((await on('cat /mnt/hf-nfs/marker')).stdout, 'over-nfs\n');
});

t.test('mount (VM): an NFS automount mounts on first access; type nfs settling on NFSv4 is no drift', async (t) => {
  const auto = mount({ where: '/mnt/hf-auto', what: '127.0.0.1:/srv/hf-export', type: 'nfs', automount: true });
  const report = await runTasks(vm.inventoryEntry(), [auto], 'apply');
  t.same(statuses(report), ['changed'], errors(report));
  t.match(await findmnt('/mnt/hf-auto'), /^systemd-1 autofs$/, 'armed, not mounted');
  t.equal((await on('cat /mnt/hf-auto/marker')).stdout, 'over-nfs\n');
  t.match(await findmnt('/mnt/hf-auto'), /127\.0\.0\.1:\/srv\/hf-export nfs4?$/m, 'mounted on first access');
  t.same(statuses(await runTasks(vm.inventoryEntry(), [auto], 'apply')), ['ok']);
});

t.test("mount (VM): an NFS mount the server refuses fails with the server's reason, from mount.nfs", async (t) => {
  const report = await runTasks(vm.inventoryEntry(), [mount({ where: '/mnt/hf-refused', what: '127.0.0.1:/srv/not-exported', type: 'nfs4' })], 'apply');
  t.same(statuses(report), ['failed']);
  t.match(errors(report), /mount\.nfs4: mounting 127\.0\.0\.1:\/srv\/not-exported failed, reason given by server: No such file or directory/);
  t.match(errors(report), /Failed to mount mnt-hf\\x2drefused\.mount/);
  await runTasks(vm.inventoryEntry(), [mount({ where: '/mnt/hf-refused', state: 'absent' })], 'apply');
});

t.test('sysctl (VM): kernel-wide parameters, read-only in a container, are set in the running kernel and the file', async (t) => {
  const old = (await on('cat /proc/sys/vm/swappiness /proc/sys/kernel/sysrq')).stdout.split('\n');
  t.teardown(() => on(`rm -f /etc/sysctl.d/93-hf-vm.conf; sysctl -q -w vm.swappiness=${old[0]} kernel.sysrq=${old[1]}`));
  const task = sysctl({ file: '93-hf-vm.conf', settings: { 'vm.swappiness': 17, 'kernel.sysrq': 16 } });
  const first = await runTasks(vm.inventoryEntry(), [task], 'apply');
  t.same(statuses(first), ['changed'], errors(first));
  t.equal((await on('cat /proc/sys/vm/swappiness /proc/sys/kernel/sysrq')).stdout, '17\n16\n');
  t.same(statuses(await runTasks(vm.inventoryEntry(), [task], 'apply')), ['ok']);
});

t.test('mount (VM): absent unmounts and removes the units', async (t) => {
  const report = await runTasks(vm.inventoryEntry(), [mount({ where: '/mnt/hf-nfs', state: 'absent' }), mount({ where: '/mnt/hf-auto', state: 'absent' })], 'apply');
  t.same(statuses(report), ['changed', 'changed', 'changed'], errors(report));
  t.equal(await findmnt('/mnt/hf-nfs'), '');
  t.equal(await findmnt('/mnt/hf-auto'), '');
});
