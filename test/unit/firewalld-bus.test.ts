import t from 'tap';
import { PlannedState } from '../../lib/module/resources.ts';
import type { HostView } from '../../lib/module/types.ts';
import { firewallProbe, parseBusZones, parseFirewallProbe, parseZones, zonesToRead } from '../../modules/firewalld/observe.ts';
import { resolvePort, resolveService, resolveZone } from '../../modules/firewalld/params.ts';
import { firewalldEffects, planFirewalld } from '../../modules/firewalld/plan.ts';

// Captured from the firewalld probe's D-Bus reading (busctl --json=short) on a
// test host (firewalld 2.3.1), trimmed to four zones and without the zones'
// descriptions; the default zones as the probe prints them now (#default-name).
// Zone work carries runtime-only changes; myzone exists only in the permanent
// configuration.
const CAPTURED = String.raw`@mode online
@runtime-bus
#default-name public
#zone block
{"type":"a{sv}","data":[{"short":{"type":"s","data":"Block"},"target":{"type":"s","data":"%%REJECT%%"},"masquerade":{"type":"b","data":false},"icmp_block_inversion":{"type":"b","data":false},"forward":{"type":"b","data":true},"ingress_priority":{"type":"i","data":0},"egress_priority":{"type":"i","data":0}}]}
#zone public
{"type":"a{sv}","data":[{"short":{"type":"s","data":"Public"},"target":{"type":"s","data":"default"},"services":{"type":"as","data":["ssh","dhcpv6-client"]},"masquerade":{"type":"b","data":false},"icmp_block_inversion":{"type":"b","data":false},"forward":{"type":"b","data":true},"ingress_priority":{"type":"i","data":0},"egress_priority":{"type":"i","data":0}}]}
#zone work
{"type":"a{sv}","data":[{"short":{"type":"s","data":"Work"},"target":{"type":"s","data":"default"},"services":{"type":"as","data":["ssh","dhcpv6-client"]},"masquerade":{"type":"b","data":true},"interfaces":{"type":"as","data":["dummy7"]},"sources":{"type":"as","data":["10.9.0.0/24"]},"icmp_block_inversion":{"type":"b","data":false},"forward":{"type":"b","data":true},"ingress_priority":{"type":"i","data":0},"egress_priority":{"type":"i","data":0},"ports":{"type":"a(ss)","data":[["8080","tcp"],["9000-9010","udp"]]},"forward_ports":{"type":"a(ssss)","data":[["80","tcp","8080",""],["81","tcp","","10.0.0.2"]]},"rules_str":{"type":"as","data":["rule family=\"ipv4\" source address=\"10.1.0.0/16\" service name=\"ssh\" accept"]}}]}
@permanent-bus
#default-name public
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
  t.equal(o.runtime?.defaultZone, 'public', 'the runtime default zone');
  t.equal(o.permanent.defaultZone, 'public', 'the permanent default zone');
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

// The probe as it reads a task in the default zone (firewallProbe({})) on a test host: both
// default zones, every zone's name, the settings of the default zone only.
const NARROW = String.raw`@mode online
@runtime-bus
#default-name public
#names block dmz public work
#zone public
{"type":"a{sv}","data":[{"target":{"type":"s","data":"default"},"services":{"type":"as","data":["ssh","dhcpv6-client"]}}]}
@permanent-bus
#default-name public
#names block dmz public work
#zone public
{"type":"a{sv}","data":[{"target":{"type":"s","data":"default"},"services":{"type":"as","data":["ssh","dhcpv6-client","http"]}}]}
@services
http.xml
ssh.xml
@builtin-zones
public.xml
work.xml
`;

t.test('a task reads every zone only when it must: a zone task, interfaces and sources; else its zone or the default zone', async (t) => {
  t.same(zonesToRead(resolveService({ service: 'http' })), {});
  t.same(zonesToRead(resolvePort({ zone: 'work', port: 80 })), { zone: 'work' });
  t.same(zonesToRead(resolveZone({ name: 'work' })), { all: true }, 'a zone task');
  t.same(zonesToRead(resolveZone({ name: 'work', default: true })), { all: true });
  t.not(firewallProbe({}).text, firewallProbe({ zone: 'work' }).text, 'tasks of other zones have other probes');
  t.equal(firewallProbe({ zone: 'work' }).text, firewallProbe({ zone: 'work' }).text, 'tasks of one zone share one probe');
  t.match(firewallProbe({ zone: "we'rk" }).text, /^named='we'\\''rk'$/m, 'the zone name is quoted by the one helper');
});

t.test('a probe of one zone: the zones it did not read are known by name, not mistaken for absent', async (t) => {
  const o = parseFirewallProbe({ code: 0, stdout: NARROW, stderr: '' });
  t.same([...(o.runtime?.zones.keys() ?? [])], ['public']);
  t.same([...(o.permanent.unread ?? [])], ['block', 'dmz', 'work']);
  t.equal(o.runtime?.defaultZone, 'public');
  const host = { name: 'h', groups: ['all'], vars: {}, facts: {} } as unknown as HostView;
  const [change, ...rest] = planFirewalld(resolveService({ service: 'http' }), o, { host, checkMode: true, planned: new PlannedState() });
  t.equal(rest.length, 0);
  t.equal(change?.summary, 'zone public: add service http at runtime (permanent has service http but runtime does not)');
  t.throws(() => planFirewalld(resolvePort({ zone: 'nope', port: 80 }), o, { host, checkMode: true, planned: new PlannedState() }), /zone 'nope' does not exist \(zones: block, dmz, public, work\)/);
  // Check mode: an earlier task makes work the default zone; a task naming no zone read only public.
  const planned = new PlannedState();
  planned.record(firewalldEffects(resolveZone({ name: 'work', default: true })));
  t.throws(
    () => planFirewalld(resolveService({ service: 'http' }), o, { host, checkMode: true, planned }),
    /an earlier task of this run makes zone 'work' the default zone, and this task, which names no zone, read only the host's default zone \(public\) in check mode: name the zone in this task \(zone: 'work'\)/,
  );
  // A zone an earlier task creates was never on the host: planned as empty, no refusal.
  const created = new PlannedState();
  created.record(firewalldEffects(resolveZone({ name: 'fresh', default: true })));
  t.equal(planFirewalld(resolveService({ service: 'http' }), o, { host, checkMode: true, planned: created })[0]?.summary, 'zone fresh: add service http (runtime after firewall-cmd --reload)');
});
