import t from 'tap';
import { parseBusZones, parseFirewallProbe, parseZones } from '../../modules/firewalld/observe.ts';

// Captured from the firewalld probe's D-Bus reading (busctl --json=short) on a
// test host (firewalld 2.3.1), trimmed to four zones and without the zones'
// descriptions. Zone work carries runtime-only changes; myzone exists only in
// the permanent configuration.
const CAPTURED = String.raw`@mode online
@runtime-bus
#default
{"type":"s","data":["public"]}
#zone block
{"type":"a{sv}","data":[{"short":{"type":"s","data":"Block"},"target":{"type":"s","data":"%%REJECT%%"},"masquerade":{"type":"b","data":false},"icmp_block_inversion":{"type":"b","data":false},"forward":{"type":"b","data":true},"ingress_priority":{"type":"i","data":0},"egress_priority":{"type":"i","data":0}}]}
#zone public
{"type":"a{sv}","data":[{"short":{"type":"s","data":"Public"},"target":{"type":"s","data":"default"},"services":{"type":"as","data":["ssh","dhcpv6-client"]},"masquerade":{"type":"b","data":false},"icmp_block_inversion":{"type":"b","data":false},"forward":{"type":"b","data":true},"ingress_priority":{"type":"i","data":0},"egress_priority":{"type":"i","data":0}}]}
#zone work
{"type":"a{sv}","data":[{"short":{"type":"s","data":"Work"},"target":{"type":"s","data":"default"},"services":{"type":"as","data":["ssh","dhcpv6-client"]},"masquerade":{"type":"b","data":true},"interfaces":{"type":"as","data":["dummy7"]},"sources":{"type":"as","data":["10.9.0.0/24"]},"icmp_block_inversion":{"type":"b","data":false},"forward":{"type":"b","data":true},"ingress_priority":{"type":"i","data":0},"egress_priority":{"type":"i","data":0},"ports":{"type":"a(ss)","data":[["8080","tcp"],["9000-9010","udp"]]},"forward_ports":{"type":"a(ssss)","data":[["80","tcp","8080",""],["81","tcp","","10.0.0.2"]]},"rules_str":{"type":"as","data":["rule family=\"ipv4\" source address=\"10.1.0.0/16\" service name=\"ssh\" accept"]}}]}
@permanent-bus
#default
{"type":"s","data":"public"}
#zone block
{"type":"a{sv}","data":[{"short":{"type":"s","data":"Block"},"target":{"type":"s","data":"%%REJECT%%"},"masquerade":{"type":"b","data":false},"icmp_block_inversion":{"type":"b","data":false},"forward":{"type":"b","data":true},"ingress_priority":{"type":"i","data":0},"egress_priority":{"type":"i","data":0}}]}
#zone myzone
{"type":"a{sv}","data":[{"target":{"type":"s","data":"DROP"},"masquerade":{"type":"b","data":false},"icmp_block_inversion":{"type":"b","data":false},"forward":{"type":"b","data":false},"ingress_priority":{"type":"i","data":0},"egress_priority":{"type":"i","data":0}}]}
#zone public
{"type":"a{sv}","data":[{"short":{"type":"s","data":"Public"},"target":{"type":"s","data":"default"},"services":{"type":"as","data":["ssh","dhcpv6-client"]},"masquerade":{"type":"b","data":false},"icmp_block_inversion":{"type":"b","data":false},"forward":{"type":"b","data":true},"ingress_priority":{"type":"i","data":0},"egress_priority":{"type":"i","data":0}}]}
#zone work
{"type":"a{sv}","data":[{"short":{"type":"s","data":"Work"},"target":{"type":"s","data":"default"},"services":{"type":"as","data":["ssh","dhcpv6-client"]},"masquerade":{"type":"b","data":false},"icmp_block_inversion":{"type":"b","data":false},"forward":{"type":"b","data":true},"ingress_priority":{"type":"i","data":0},"egress_priority":{"type":"i","data":0}}]}
@services
http.xml
ssh.xml
@builtin-zones
block.xml
public.xml
work.xml
`;

// The same zone work as `firewall-cmd --zone=work --list-all` printed it on that host at that moment.
const WORK_LISTED = `work (active)
  target: default
  ingress-priority: 0
  egress-priority: 0
  icmp-block-inversion: no
  interfaces: dummy7
  sources: 10.9.0.0/24
  services: dhcpv6-client ssh
  ports: 8080/tcp 9000-9010/udp
  protocols: 
  forward: yes
  masquerade: yes
  forward-ports: 
\tport=80:proto=tcp:toport=8080:toaddr=
\tport=81:proto=tcp:toport=:toaddr=10.0.0.2
  source-ports: 
  icmp-blocks: 
  rich rules: 
\trule family="ipv4" source address="10.1.0.0/16" service name="ssh" accept
`;

const sorted = (items: Readonly<Record<string, readonly string[]>>) => Object.fromEntries(Object.entries(items).map(([k, v]) => [k, [...v].sort()]));

t.test("firewalld's D-Bus reply reads as the same zones and defaults as firewall-cmd's listing", async (t) => {
  const o = parseFirewallProbe({ code: 0, stdout: CAPTURED, stderr: '' });
  t.equal(o.mode, 'online');
  t.equal(o.runtime?.defaultZone, 'public', "a method's reply: data is a list");
  t.equal(o.permanent.defaultZone, 'public', "a property's value: data is the string");
  t.same([...(o.runtime?.zones.keys() ?? [])], ['block', 'public', 'work']);
  t.same([...o.permanent.zones.keys()], ['block', 'myzone', 'public', 'work'], 'a zone only in the permanent configuration');
  const listed = parseZones(WORK_LISTED.split('\n')).zones.get('work');
  const work = o.runtime?.zones.get('work');
  t.equal(work?.target, listed?.target);
  t.same(sorted(work?.items ?? {}), sorted(listed?.items ?? {}), 'ports, forward ports, rich rule, masquerade, interface and source as the listing has them');
  t.same(work?.items['forward-port'], ['port=80:proto=tcp:toport=8080:toaddr=', 'port=81:proto=tcp:toport=:toaddr=10.0.0.2']);
  t.same(o.permanent.zones.get('work')?.items.masquerade, [], 'the runtime-only masquerade is not in the permanent configuration');
  t.equal(o.permanent.zones.get('myzone')?.target, 'DROP');
  t.equal(o.runtime?.zones.get('block')?.target, '%%REJECT%%', 'as firewall-cmd prints it');
  t.same(sorted(o.permanent.zones.get('myzone')?.items ?? {}), { service: [], port: [], 'rich-rule': [], masquerade: [], 'forward-port': [], interface: [], source: [] }, 'settings firewalld leaves out are empty');
  t.same([...o.services].sort(), ['http', 'ssh']);
  t.same([...o.builtinZones].sort(), ['block', 'public', 'work']);
});

t.test('a D-Bus reply that is not what busctl prints fails the probe, naming the line', async (t) => {
  t.throws(() => parseBusZones(['#zone public', 'Failed to connect to bus']), /not busctl's JSON: Failed to connect to bus/);
  t.throws(() => parseBusZones(['{"type":"s","data":"x"}']), /unexpected line/);
});
