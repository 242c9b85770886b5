import t, { type Test } from 'tap';
import { Skip } from '../../lib/module/skip.ts';
import type { Task } from '../../lib/module/types.ts';
import { firewalld } from '../../modules/firewalld/index.ts';
import { renderTask } from '../support/nixos-samples.ts';

const skipNote = (t: Test, task: Task): string => {
  const skip = t.throws(() => renderTask(task)) as Skip;
  t.type(skip, Skip, 'skipped, not failed');
  return skip.note;
};

t.test('nixos firewall: ports open in networking.firewall by protocol, ranges as from/to', async (t) => {
  t.same(renderTask(firewalld.port({ port: 8080 })), { networking: { firewall: { allowedTCPPorts: [8080] } } });
  t.same(renderTask(firewalld.port({ ports: ['443/tcp', '53/udp', '60000-61000/udp', '8000-8010/tcp'] })), {
    networking: { firewall: { allowedTCPPorts: [443], allowedUDPPorts: [53], allowedTCPPortRanges: [{ from: 8000, to: 8010 }], allowedUDPPortRanges: [{ from: 60000, to: 61000 }] } },
  });
  t.same(renderTask(firewalld.port({ port: '5000-5010', protocol: 'udp' })), { networking: { firewall: { allowedUDPPortRanges: [{ from: 5000, to: 5010 }] } } });
  t.throws(() => renderTask(firewalld.port({ port: 9899, protocol: 'sctp' })), /networking\.firewall opens TCP and UDP ports only/);
});

t.test('nixos firewall: services whose definition is only ports open those ports', async (t) => {
  t.same(renderTask(firewalld.service({ services: ['ssh', 'https', 'dns'] })), { networking: { firewall: { allowedTCPPorts: [22, 443, 53], allowedUDPPorts: [53] } } });
  t.match(skipNote(t, firewalld.service({ services: ['http', 'ftp', 'mdns'] })), /^firewalld service ftp, mdns has no exact port list in hostform, so nothing is opened on nixos/);
});

t.test('nixos firewall: an exact list renders as the list itself (the configuration declares every open port); one that cannot render whole opens nothing', async (t) => {
  t.same(renderTask(firewalld.service({ services: ['ssh', 'https'], exact: true })), renderTask(firewalld.service({ services: ['ssh', 'https'] })));
  t.same(renderTask(firewalld.port({ ports: ['8443/tcp', '5000-5010/udp'], exact: true })), { networking: { firewall: { allowedTCPPorts: [8443], allowedUDPPortRanges: [{ from: 5000, to: 5010 }] } } });
  t.same(renderTask(firewalld.service({ services: [], exact: true })), { networking: { firewall: {} } }, 'no service: nothing opened');
  t.match(skipNote(t, firewalld.service({ services: ['ssh', 'cockpit'], exact: true })), /^firewalld service cockpit has no exact port list in hostform, so nothing is opened on nixos/);
  t.match(skipNote(t, firewalld.service({ zone: 'public', services: ['ssh'], exact: true })), /networking\.firewall has no zones/);
  t.throws(() => renderTask(firewalld.service({ services: ['ssh'], exact: true, state: 'absent' })), /^parameter 'exact' = true: goes with state 'present'/);
});

t.test('nixos firewall: zones, rich rules, masquerading and forwarded ports are not applicable, with where to declare them', async (t) => {
  t.match(skipNote(t, firewalld.zone({ name: 'internal', sources: ['192.168.1.0/24'], target: 'ACCEPT' })), /^not applicable on nixos: networking\.firewall has no zones/);
  t.match(skipNote(t, firewalld.richRule({ rule: 'rule family="ipv4" source address="192.0.2.0/24" service name="ssh" accept' })), /no rich rules: .*extraCommands.*extraInputRules/);
  t.match(skipNote(t, firewalld.masquerade({})), /networking\.nat/);
  t.match(skipNote(t, firewalld.forwardPort({ forwardPort: { port: 80, protocol: 'tcp', toPort: 8080 } })), /networking\.nat\.forwardPorts/);
});

t.test('nixos firewall: a port in a named zone or a closed port is skipped, never opened wider', async (t) => {
  t.match(skipNote(t, firewalld.port({ port: 8080, zone: 'internal' })), /a port opened in zone internal is not rendered on nixos/);
  t.match(skipNote(t, firewalld.service({ service: 'http', zone: 'public' })), /zone public/);
  t.match(skipNote(t, firewalld.port({ port: 8080, state: 'absent' })), /on nixos a port is closed when no module opens it/);
});
