import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { HostView } from '../lib/module/types.ts';
import type { RoleCall } from '../lib/playbook.ts';
import { sshHardening } from '../roles/ssh-hardening.ts';
import { hosts, TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses } from './support/run-tasks.ts';

const [a] = (await hosts.up(1, 'el9')) as [TestHost];
t.teardown(() => hosts.down());

/** The first bytes a TCP connection to the port gets: sshd's banner, or the connection error. */
function banner(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: a.address, port, timeout: 5000 });
    socket.once('data', (data) => (socket.destroy(), resolve(data.toString('utf8'))));
    socket.once('timeout', () => (socket.destroy(), resolve('timeout')));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

// The same host reached on the new port: a known_hosts line of the form [address]:2222.
const knownHosts2222 = join(tmpdir(), `hostform-sshd-port-${process.pid}`);
await writeFile(knownHosts2222, `${a.knownHostsLine.replace(/^(\S+)/, `[$1]:2222`)}\n`);
const on2222 = new TestHost(a.name, a.profile, a.address, 2222, a.identityFile, knownHosts2222, a.knownHostsLine, a.timings);
const entry2222 = { ...a.inventoryEntry(), port: 2222, knownHostsFile: knownHosts2222 };

// runTasks takes tasks: a role's are its expansion (this role does not look at the host).
const tasksOf = (call: RoleCall) => call.expand({ name: 'testhost', groups: [], vars: {}, facts: {} } as unknown as HostView);
const moving = sshHardening({ options: { PasswordAuthentication: false }, port: 2222, keepPreviousPort: true });
const moved = sshHardening({ options: { PasswordAuthentication: false }, port: 2222, closePreviousPort: true });

t.test('ssh-hardening: moving the port opens it in firewalld before sshd listens on both ports', async (t) => {
  const report = await runTasks(a.inventoryEntry(), tasksOf(moving), 'apply');
  t.notOk(statuses(report).includes('failed'), errors(report));
  t.match(statuses(report), ['skipped', 'changed', 'changed'], 'SELinux is disabled in the container host; firewalld and sshd change');
  t.match((await a.exec('sshd -T | grep ^port')).stdout, /^port 22\nport 2222$/m);
  t.match((await a.exec('firewall-cmd --list-ports')).stdout, /\b2222\/tcp\b/);
  t.match(await banner(2222), /^SSH-2\.0-/, 'the new port answers from outside');
  t.match(await banner(22), /^SSH-2\.0-/, 'and the old one still does');
  t.same(
    statuses(await runTasks(a.inventoryEntry(), tasksOf(moving), 'apply')).filter((s) => s === 'changed'),
    [],
    'a second run changes nothing',
  );
});

t.test('ssh-hardening: closing the port hostform itself connects on is refused, and nothing closes', async (t) => {
  const report = await runTasks(a.inventoryEntry(), tasksOf(moved), 'apply');
  t.equal(statuses(report).at(-1), 'failed');
  t.match(errors(report), /sshd would listen on \[::\]:2222, 0\.0\.0\.0:2222, and hostform's connection arrives at [\d.]+ port 22 \(Port, ListenAddress\)/);
  t.match((await a.exec('sshd -T | grep ^port')).stdout, /^port 22\nport 2222$/m, 'sshd still listens on both ports');
  t.match(await banner(22), /^SSH-2\.0-/, 'port 22 still answers');
});

t.test('ssh-hardening: once the inventory uses the new port, closing the previous one happens after the reload, and the host stays reachable on the new one', async (t) => {
  const report = await runTasks(entry2222, tasksOf(moved), 'apply');
  t.notOk(statuses(report).includes('failed'), errors(report));
  const names = report.hosts[0]?.tasks.map((task) => task.name) ?? [];
  t.ok(names.indexOf('deferred: sshd reload') < names.findIndex((n) => /ssh.*absent/.test(n)), `sshd reloads before the ssh service closes: ${names.join(' | ')}`);
  t.notMatch(await banner(22), /^SSH-2\.0-/, 'port 22 is closed');
  t.match(await banner(2222), /^SSH-2\.0-/);
  t.equal((await on2222.exec('true')).code, 0, 'a fresh SSH login on the new port works');
  const again = await runTasks(entry2222, tasksOf(moved), 'apply');
  t.same(statuses(again).filter((s) => s === 'changed' || s === 'failed'), [], `a second run over the new port changes nothing ${errors(again)}`);
});
