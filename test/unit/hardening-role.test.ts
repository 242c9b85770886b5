import t from 'tap';
import type { HostView, Task } from '../../lib/module/types.ts';
import { hardening } from '../../roles/index.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: { platform: 'el9' } } as unknown as HostView;

/** The role's firewalld tasks, as module name and parameters. */
const firewall = (options: Parameters<typeof hardening>[0]) =>
  hardening(options)
    .expand(host)
    .filter((s): s is Task => s.kind === 'task' && s.module.name.startsWith('firewalld.'))
    .map((s) => [s.module.name, s.params]);

t.test('hardening: the default zone gets exactly the listed services, ssh alone by default', async (t) => {
  t.same(firewall({}), [
    ['firewalld.zone', { name: 'public', default: true }],
    ['firewalld.service', { zone: 'public', services: ['ssh'], exact: true }],
  ]);
  t.same(firewall({ zone: 'home', services: ['ssh', 'http', 'https'] })[1], ['firewalld.service', { zone: 'home', services: ['ssh', 'http', 'https'], exact: true }]);
});

t.test('hardening: a service list without ssh is refused unless the caller says sshd is reached another way', async (t) => {
  t.throws(() => hardening({ services: ['https'] }).expand(host), /services \[https\] lacks ssh, so zone public would close sshd's port .*add 'ssh' to services, or set withoutSsh: true/);
  t.throws(() => hardening({ services: [] }).expand(host), /lacks ssh/);
  t.same(firewall({ services: ['https'], withoutSsh: true })[1], ['firewalld.service', { zone: 'public', services: ['https'], exact: true }]);
  t.same(firewall({ services: [], withoutSsh: true })[1], ['firewalld.service', { zone: 'public', services: [], exact: true }], 'no service at all');
});

t.test('hardening: closing port 22 after a port move while services keeps ssh open is refused as a contradiction', async (t) => {
  t.throws(() => hardening({ ssh: { port: 2222, closePreviousPort: true } }).expand(host), /closePreviousPort closes the ssh service .*take 'ssh' off services and set withoutSsh: true/);
  t.ok(hardening({ ssh: { port: 2222, keepPreviousPort: true } }).expand(host), 'while 22 stays in use, ssh stays listed');
  t.ok(hardening({ ssh: { port: 2222, closePreviousPort: true }, services: [], withoutSsh: true }).expand(host));
});
