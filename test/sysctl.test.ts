import t from 'tap';
import { sysctl } from '../modules/sysctl/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// sysctl on an el9-like container. Its network namespace is its own, so
// net.* parameters are writable there; the rest of /proc/sys is read-only
// (the machine's kernel), which is what the "cannot be set here" test uses.
// Kernel-wide parameters are set for real on the VM in test/mount-nfs-vm.test.ts.

const [h] = (await hosts.up(1, 'el9')) as [TestHost];
t.teardown(() => hosts.down());

const on = async (cmd: string) => {
  const r = await h.exec(cmd, { timeoutMs: 60_000 });
  return { ...r, out: `${r.stdout}${r.stderr}` };
};
const PATH = '/etc/sysctl.d/90-hostform.conf';
const task = sysctl({ settings: { 'net.ipv4.ip_forward': 1, 'net.ipv4.tcp_rmem': '4096 87380 6291456' } });

t.test('sysctl: invalid parameters fail before any host is touched, naming task, parameter and value', async (t) => {
  await t.rejects(runTasks(h.inventoryEntry(), [task, sysctl({ settings: { 'net/ipv4/ip_forward': 1 } })], 'apply'), /parameter 'settings' .*net\/ipv4\/ip_forward.*must be a dotted kernel parameter name/);
  await t.rejects(runTasks(h.inventoryEntry(), [sysctl({ settings: { 'net.ipv4.ip_forward': '1\nkernel.panic = 1' } })], 'apply'), /parameter 'settings\.net\.ipv4\.ip_forward' = "1\\nkernel\.panic = 1": must be one line of text without a space or tab at either end/);
  await t.rejects(runTasks(h.inventoryEntry(), [sysctl({ settings: { 'vm.swappiness': 10 }, file: '../sysctl.conf' })], 'apply'), /parameter 'file' = "\.\.\/sysctl\.conf": must be a file name ending in \.conf/);
  t.equal((await on(`test -e ${PATH}`)).code, 1, 'the valid task before them did not run either');
  t.equal((await on('cat /proc/sys/net/ipv4/ip_forward')).stdout, '0\n');
});

t.test('sysctl: the first run writes the file and sets the running kernel, the second changes nothing', async (t) => {
  const first = await runTasks(h.inventoryEntry(), [task], 'apply');
  t.same(statuses(first), ['changed'], errors(first));
  const summaries = tasksOf(first)[0]?.changes.map((c) => c.summary) ?? [];
  t.same(summaries.slice(0, 2), [`create ${PATH}`, 'net.ipv4.ip_forward 0 → 1 (running kernel)']);
  t.match(summaries[2], /^net\.ipv4\.tcp_rmem 4096 \d+ \d+ → 4096 87380 6291456 \(running kernel\)$/);
  t.equal((await on(`cat ${PATH}`)).stdout, '# Managed by hostform (sysctl): edits here are replaced on the next run.\nnet.ipv4.ip_forward = 1\nnet.ipv4.tcp_rmem = 4096 87380 6291456\n');
  t.equal((await on('cat /proc/sys/net/ipv4/ip_forward')).stdout, '1\n');
  t.equal((await on('cat /proc/sys/net/ipv4/tcp_rmem')).stdout, '4096\t87380\t6291456\n', 'the kernel prints it with tabs, which counts as the same value');
  t.same(statuses(await runTasks(h.inventoryEntry(), [task], 'apply')), ['ok']);
});

t.test('sysctl: systemd-sysctl applies the file at boot to the same values', async (t) => {
  await on('sysctl -q -w net.ipv4.ip_forward=0');
  t.equal((await on('/usr/lib/systemd/systemd-sysctl')).code, 0);
  t.equal((await on('cat /proc/sys/net/ipv4/ip_forward')).stdout, '1\n');
});

t.test('sysctl: check after a change of the running value reports exactly that and leaves the host untouched', async (t) => {
  await on('sysctl -q -w net.ipv4.ip_forward=0');
  const report = await runTasks(h.inventoryEntry(), [task], 'check');
  t.same(tasksOf(report)[0]?.changes, [{ summary: 'net.ipv4.ip_forward 0 → 1 (running kernel)', diff: '- net.ipv4.ip_forward 0\n+ net.ipv4.ip_forward 1' }]);
  t.equal((await on('cat /proc/sys/net/ipv4/ip_forward')).stdout, '0\n', 'check mode changed nothing');
  const apply = await runTasks(h.inventoryEntry(), [task], 'apply');
  t.same(tasksOf(apply)[0]?.changes.map((c) => c.summary), ['net.ipv4.ip_forward 0 → 1 (running kernel)'], 'only the differing parameter is set');
  t.equal((await on('cat /proc/sys/net/ipv4/ip_forward')).stdout, '1\n');
});

t.test('sysctl: check after a hand edit of the file reports exactly that and leaves the host untouched', async (t) => {
  await on(`sed -i 's/^net.ipv4.ip_forward = 1$/net.ipv4.ip_forward = 0/' ${PATH}`);
  const before = (await on(`stat -c %Y ${PATH}; cat ${PATH}`)).stdout;
  const report = await runTasks(h.inventoryEntry(), [task], 'check');
  t.same(tasksOf(report)[0]?.changes.map((c) => c.summary), [`update ${PATH}`]);
  t.match(tasksOf(report)[0]?.changes[0]?.diff, /-net\.ipv4\.ip_forward = 0\n\+net\.ipv4\.ip_forward = 1/);
  t.equal((await on(`stat -c %Y ${PATH}; cat ${PATH}`)).stdout, before, 'check mode changed nothing');
  t.same(statuses(await runTasks(h.inventoryEntry(), [task], 'apply')), ['changed']);
});

t.test('sysctl: a parameter the container cannot set fails saying why, before anything changes', async (t) => {
  const current = (await on('cat /proc/sys/kernel/pid_max')).stdout.trim();
  const report = await runTasks(h.inventoryEntry(), [sysctl({ file: '91-kernel.conf', settings: { 'kernel.pid_max': Number(current) - 1 } })], 'apply');
  t.same(statuses(report), ['failed']);
  t.match(errors(report), `kernel.pid_max is ${current} and cannot become ${Number(current) - 1} on this host: /proc/sys/kernel/pid_max is read-only here (a container shares its kernel`);
  t.equal((await on('test -e /etc/sysctl.d/91-kernel.conf')).code, 1, 'nothing was written');
  const same = await runTasks(h.inventoryEntry(), [sysctl({ file: '91-kernel.conf', settings: { 'kernel.pid_max': Number(current) } })], 'apply');
  t.same(statuses(same), ['changed'], 'a read-only parameter that already has the value is only written to the file');
});

t.test("sysctl: a value the kernel refuses fails with the kernel's message, one it stores otherwise fails saying so, an unknown parameter is named", async (t) => {
  const refused = await runTasks(h.inventoryEntry(), [sysctl({ file: '92-bad.conf', settings: { 'net.ipv4.ip_default_ttl': 300 } })], 'apply');
  t.same(statuses(refused), ['failed']);
  t.match(errors(refused), /the kernel refused net\.ipv4\.ip_default_ttl = 300/);
  t.match(errors(refused), /Invalid argument/);
  const rewritten = await runTasks(h.inventoryEntry(), [sysctl({ file: '92-bad.conf', settings: { 'net.ipv4.ip_default_ttl': '063' } })], 'apply');
  t.same(statuses(rewritten), ['failed']);
  t.match(errors(rewritten), 'the kernel changed the values as it stored them, so they would show as drift on every run: net.ipv4.ip_default_ttl: given 063, the kernel keeps 51', 'a leading 0 is octal to the kernel');
  const unknown = await runTasks(h.inventoryEntry(), [sysctl({ file: '92-bad.conf', settings: { 'net.ipv4.no_such_thing': 1 } })], 'check');
  t.match(errors(unknown), /net\.ipv4\.no_such_thing: the running kernel has no such parameter \(\/proc\/sys\/net\/ipv4\/no_such_thing does not exist\)/);
  await on('rm -f /etc/sysctl.d/92-bad.conf; sysctl -q -w net.ipv4.ip_default_ttl=64');
});

t.test('sysctl: a file read after this one that sets another value is refused, naming it', async (t) => {
  await on("printf 'net.ipv4.ip_forward = 0\\n' > /etc/sysctl.d/99-local.conf");
  t.teardown(() => on('rm -f /etc/sysctl.d/99-local.conf'));
  const report = await runTasks(h.inventoryEntry(), [task], 'check');
  t.same(statuses(report), ['failed']);
  t.match(errors(report), 'at boot these would replace the values of /etc/sysctl.d/90-hostform.conf, since their files are read after it: net.ipv4.ip_forward = 0 in /etc/sysctl.d/99-local.conf');
  const later = await runTasks(h.inventoryEntry(), [sysctl({ file: '99-zz-hostform.conf', settings: { 'net.ipv4.ip_forward': 1 } })], 'apply');
  t.same(statuses(later), ['changed'], `${errors(later)}: a file sorting after it wins`);
});
