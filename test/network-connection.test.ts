import t from 'tap';
import { networkConnection } from '../modules/network/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// networkConnection on el9-like containers with NetworkManager started
// (the image installs it but does not start it at boot). A second interface
// is a veth pair made inside the container; the connected interface is
// host0, the one hostform's own SSH connection comes through, on which the
// revert is exercised for real: a change that cuts the host off is put
// back by the host's own timer, and hostform reaches the host again.

const [a, b] = (await hosts.up(2, 'el9')) as [TestHost, TestHost];
t.teardown(() => hosts.down());

const onHost = (h: TestHost) => async (cmd: string) => {
  const r = await h.exec(cmd, { timeoutMs: 120_000 });
  return { ...r, out: `${r.stdout}${r.stderr}` };
};
const on = onHost(a);
// As on many servers, NetworkManager makes no "Wired connection N" DHCP profiles of its own for new interfaces.
for (const h of [a, b]) {
  const up = await onHost(h)("printf '[main]\\nno-auto-default=*\\n' > /etc/NetworkManager/conf.d/90-hf-test.conf && systemctl start NetworkManager && nmcli -t general status");
  if (up.code !== 0) throw new Error(`NetworkManager did not start: ${up.out}`);
}
// hf-b, the peer, stays out of NetworkManager's hands (it would run DHCP there).
await on('ip link add hf-a type veth peer name hf-b && ip link set hf-b up && nmcli device set hf-b managed no');

const KEYFILE = '/etc/NetworkManager/system-connections/lab.nmconnection';
const lab = networkConnection({
  name: 'lab',
  interface: 'hf-a',
  ipv4: { method: 'manual', address: ['192.0.2.10/24', '198.51.100.7/24'], gateway: '192.0.2.1', dns: ['192.0.2.53', '192.0.2.54'], dnsSearch: ['lab.example'] },
  ipv6: { method: 'manual', address: '2001:db8:0:0::10/64' },
  mtu: 1400,
});

t.test('networkConnection: invalid parameters fail before any host is touched, naming task, parameter and value', async (t) => {
  const bad: [Parameters<typeof networkConnection>[0], RegExp][] = [
    [{ name: 'lab', interface: 'hf-a', ipv4: { method: 'manual' } }, /parameter 'ipv4' needs 'address'|address/],
    [{ name: 'lab', interface: 'hf-a', ipv4: { method: 'manual', address: '192.0.2.300/24' } }, /parameter 'ipv4\.address' = "192\.0\.2\.300\/24": must be an IPv4 address with its prefix length/],
    [{ name: 'lab', interface: 'hf-a', ipv6: { method: 'manual', address: '2001:db8::1::2/64' } }, /parameter 'ipv6\.address' = "2001:db8::1::2\/64": not an IPv6 address/],
    [{ name: '../x', interface: 'hf-a' }, /parameter 'name' = "\.\.\/x": must be a connection name/],
    [{ name: 'lab', interface: 'a-very-long-interface-name' }, /parameter 'interface'/],
    [{ name: 'lab', interface: 'hf-a', confirmWithin: 2 }, /parameter 'confirmWithin' = 2/],
  ];
  for (const [params, message] of bad) await t.rejects(runTasks(a.inventoryEntry(), [lab, networkConnection(params)], 'apply'), message, JSON.stringify(params));
  t.equal((await on(`test -e ${KEYFILE}`)).code, 1, 'the valid task before them did not run either');
});

t.test('networkConnection: the first run writes the keyfile and brings the connection up, confirmed by a new login; the second changes nothing', async (t) => {
  const first = await runTasks(a.inventoryEntry(), [lab], 'apply');
  t.same(statuses(first), ['changed'], errors(first));
  t.same(tasksOf(first)[0]?.changes.map((c) => c.summary), [`create ${KEYFILE}`, 'bring lab up on hf-a (active there now: none)']);
  t.equal((await on(`stat -c '%a %U' ${KEYFILE}`)).stdout, '600 root\n');
  t.match((await on('ip -o addr show dev hf-a')).stdout, /inet 192\.0\.2\.10\/24 .*\n.*inet 198\.51\.100\.7\/24.*\n.*inet6 2001:db8::10\/64/);
  t.match((await on('ip -4 route show default')).stdout, /default via 192\.0\.2\.1 dev hf-a/);
  t.equal((await on('nmcli -t -f GENERAL.STATE connection show lab')).stdout, 'GENERAL.STATE:activated\n');
  t.equal((await on('ls -A /var/lib/hostform/revert')).stdout, '', 'the revert timer was disarmed');
  t.equal((await on('systemctl list-timers --all --no-legend | grep -c hostform-revert')).stdout.trim(), '0');
  t.same(statuses(await runTasks(a.inventoryEntry(), [lab], 'apply')), ['ok']);
});

t.test('networkConnection: check after nmcli changes a field reports exactly that drift and leaves the host untouched', async (t) => {
  await on('nmcli connection modify lab ipv4.dns 9.9.9.9');
  const before = (await on(`cat ${KEYFILE}; nmcli -t -f ipv4.dns connection show lab`)).stdout;
  const report = await runTasks(a.inventoryEntry(), [lab], 'check');
  t.same(statuses(report), ['changed']);
  const changes = tasksOf(report)[0]?.changes ?? [];
  t.same(changes.map((c) => c.summary).slice(0, 2), [`update ${KEYFILE}`, 'bring lab up on hf-a (active there now: lab)'], 'nmcli rewrote the keyfile in its own words');
  const diff = changes[0]?.diff ?? '';
  t.match(diff, /^-dns=9\.9\.9\.9;$/m);
  t.match(diff, /^\+dns=192\.0\.2\.53;192\.0\.2\.54;$/m);
  t.equal((await on(`cat ${KEYFILE}; nmcli -t -f ipv4.dns connection show lab`)).stdout, before, 'check mode changed nothing');
  t.same(statuses(await runTasks(a.inventoryEntry(), [lab], 'apply')), ['changed']);
  t.equal((await on('nmcli -t -f ipv4.dns connection show lab')).stdout, 'ipv4.dns:192.0.2.53,192.0.2.54\n');
});

t.test('networkConnection: a profile NetworkManager has not reloaded is drift field by field', async (t) => {
  await on(`sed -i 's/^mtu=1400$/mtu=1300/' ${KEYFILE} && nmcli connection reload && sed -i 's/^mtu=1300$/mtu=1400/' ${KEYFILE}`);
  const report = await runTasks(a.inventoryEntry(), [lab], 'check');
  t.same(tasksOf(report)[0]?.changes[0], {
    summary: "NetworkManager's profile lab differs from /etc/NetworkManager/system-connections/lab.nmconnection in 802-3-ethernet.mtu: reload it",
    diff: '- 802-3-ethernet.mtu 1300\n+ 802-3-ethernet.mtu 1400',
  });
  t.same(statuses(await runTasks(a.inventoryEntry(), [lab], 'apply')), ['changed']);
  t.equal((await on('cat /sys/class/net/hf-a/mtu')).stdout, '1400\n');
});

t.test('networkConnection: a connection NetworkManager cannot bring up is put back at once, with its message', async (t) => {
  // An Ethernet profile for the loopback device: NetworkManager finds no compatible device.
  const report = await runTasks(a.inventoryEntry(), [networkConnection({ name: 'lab', interface: 'lo', ipv4: { method: 'manual', address: '192.0.2.20/24' } })], 'apply');
  t.same(statuses(report), ['failed']);
  t.match(errors(report), /NetworkManager refused to bring lab up on lo; the previous configuration of lo was put back/);
  t.match(errors(report), /nmcli --wait 60 connection up uuid/);
  t.match((await on(`cat ${KEYFILE}`)).stdout, /interface-name=hf-a/, 'the previous keyfile is back');
  t.equal((await on('nmcli -t -f GENERAL.STATE connection show lab')).stdout, 'GENERAL.STATE:activated\n');
  t.equal((await on('ls -A /var/lib/hostform/revert')).stdout, '', 'and the timer disarmed');
});

t.test('networkConnection: a change that takes away the address hostform logs in at is refused before anything changes', async (t) => {
  const report = await runTasks(a.inventoryEntry(), [networkConnection({ name: 'uplink', interface: 'host0', ipv4: { method: 'manual', address: '10.213.250.250/16' } })], 'apply');
  t.same(statuses(report), ['failed']);
  t.match(errors(report), `hostform's own login arrives at ${a.address} on host0, and the new configuration of uplink would take that address off, so the next run could not reach the host; nothing was changed`);
  t.equal((await on('test -e /etc/NetworkManager/system-connections/uplink.nmconnection')).code, 1);
  const check = await runTasks(a.inventoryEntry(), [networkConnection({ name: 'uplink', interface: 'host0', ipv4: { method: 'manual', address: '10.213.250.250/16' } })], 'check');
  t.match(JSON.stringify(tasksOf(check)[0]?.changes), /applying would refuse this change/, 'check mode reports the verdict');
});

t.test('networkConnection: absent removes the keyfile and NetworkManager takes the connection down', async (t) => {
  const report = await runTasks(a.inventoryEntry(), [networkConnection({ name: 'lab', interface: 'hf-a', state: 'absent' })], 'apply');
  t.same(statuses(report), ['changed'], errors(report));
  t.equal((await on(`test -e ${KEYFILE}`)).code, 1);
  t.notMatch((await on('ip -o addr show dev hf-a')).stdout, /192\.0\.2\.10/);
  t.same(statuses(await runTasks(a.inventoryEntry(), [networkConnection({ name: 'lab', interface: 'hf-a', state: 'absent' })], 'apply')), ['ok']);
});

// ── the connected interface, on host b ──────────────────────────────────

const onB = onHost(b);
const uplink = (prefix: number, confirmWithin?: number) =>
  networkConnection({ name: 'uplink', interface: 'host0', ipv4: { method: 'manual', address: `${b.address}/${prefix}` }, ipv6: { method: 'disabled' }, ...(confirmWithin ? { confirmWithin } : {}) });
const UPLINK = '/etc/NetworkManager/system-connections/uplink.nmconnection';

t.test('networkConnection: taking over the connected interface with a change that cuts the host off is put back by the host, which hostform reaches again', async (t) => {
  // /32: the address stays, but the control machine is no longer on the interface's network, so no reply reaches it.
  const report = await runTasks(b.inventoryEntry(), [uplink(32, 15)], 'apply');
  t.match(report.hosts[0]?.status, /^(failed|unreachable)$/, 'the run does not report the change as made');
  t.match(`${errors(report)}`, /did not hold|lost the connection|put back/, errors(report));
  const after = await onB('echo reachable; nmcli -t device; ip -o -4 addr show dev host0');
  t.match(after.stdout, /^reachable/, 'a new login works');
  t.match(after.stdout, new RegExp(`inet ${b.address.replace(/\./g, '\\.')}/16 `), 'the address is back as it was');
  t.match(after.stdout, /host0:ethernet:connected \(externally\):host0/, 'host0 is set up outside NetworkManager again, as before');
  t.equal((await onB(`test -e ${UPLINK}`)).code, 1, 'the keyfile hostform wrote is gone');
  t.equal((await onB('ls -A /var/lib/hostform/revert')).stdout, '');
});

t.test('networkConnection: the connected interface taken over with its own address is confirmed and kept', async (t) => {
  const report = await runTasks(b.inventoryEntry(), [uplink(16)], 'apply');
  t.same(statuses(report), ['changed'], errors(report));
  t.match((await onB('nmcli -t device')).stdout, /host0:ethernet:connected:uplink/);
  t.same(statuses(await runTasks(b.inventoryEntry(), [uplink(16)], 'apply')), ['ok']);
});

t.test('networkConnection: a later change that cuts the host off is put back to the previous keyfile by the host', async (t) => {
  const before = (await onB(`cat ${UPLINK}`)).stdout;
  const report = await runTasks(b.inventoryEntry(), [uplink(32, 15)], 'apply');
  t.match(report.hosts[0]?.status, /^(failed|unreachable)$/, 'the run does not report the change as made');
  t.match(`${errors(report)}`, /did not hold|lost the connection|put back/, errors(report));
  t.equal((await onB(`cat ${UPLINK}`)).stdout, before, 'the previous keyfile is back');
  t.match((await onB('nmcli -t device; ip -o -4 addr show dev host0')).stdout, new RegExp(`host0:ethernet:connected:uplink[\\s\\S]*inet ${b.address.replace(/\./g, '\\.')}/16 `));
  t.same(statuses(await runTasks(b.inventoryEntry(), [uplink(16)], 'apply')), ['ok'], 'and the next run finds the host as the task wants it');
});
