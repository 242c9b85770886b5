import t from 'tap';
import { PlannedState } from '../../lib/module/resources.ts';
import type { HostView, PlanContext } from '../../lib/module/types.ts';
import { parseFirewallProbe, parseZones } from '../../modules/firewalld/observe.ts';
import { resolveForwardPort, resolveMasquerade, resolvePort, resolveRichRule, resolveService, resolveZone } from '../../modules/firewalld/params.ts';
import { planFirewalld } from '../../modules/firewalld/plan.ts';
import { firewalldEffects } from '../../modules/firewalld/plan.ts';

// Captured from the firewalld probe on a test host (firewalld 2.3), trimmed to
// a few zones: the runtime has port 8080/tcp in public that the permanent
// configuration lacks, and zone hfnew exists only in the permanent configuration.
const CAPTURED = `@mode online
@runtime
hfx (active)
  target: DROP
  ingress-priority: 0
  egress-priority: 0
  icmp-block-inversion: no
  interfaces: 
  sources: 192.168.77.0/24
  services: 
  ports: 80/tcp 443/tcp
  protocols: 
  forward: no
  masquerade: yes
  forward-ports: 
	port=2222:proto=tcp:toport=22:toaddr=
	port=25:proto=tcp:toport=:toaddr=10.0.0.2
  source-ports: 
  icmp-blocks: 
  rich rules: 
	rule family="ipv4" source address="10.0.0.0/8" service name="ssh" log prefix="ssh " level="info" limit value="3/m" accept

public (default, active)
  target: default
  ingress-priority: 0
  egress-priority: 0
  icmp-block-inversion: no
  interfaces: 
  sources: 
  services: dhcpv6-client http https ssh
  ports: 8080/tcp
  protocols: 
  forward: yes
  masquerade: no
  forward-ports: 
  source-ports: 
  icmp-blocks: 
  rich rules: 

trusted
  target: ACCEPT
  ingress-priority: 0
  egress-priority: 0
  icmp-block-inversion: no
  interfaces: 
  sources: 
  services: 
  ports: 
  protocols: 
  forward: yes
  masquerade: no
  forward-ports: 
  source-ports: 
  icmp-blocks: 
  rich rules: 

@permanent
hfnew
  target: default
  ingress-priority: 0
  egress-priority: 0
  icmp-block-inversion: no
  interfaces: 
  sources: 
  services: 
  ports: 
  protocols: 
  forward: no
  masquerade: no
  forward-ports: 
  source-ports: 
  icmp-blocks: 
  rich rules: 

hfx
  target: DROP
  ingress-priority: 0
  egress-priority: 0
  icmp-block-inversion: no
  interfaces: 
  sources: 192.168.77.0/24
  services: 
  ports: 80/tcp 443/tcp
  protocols: 
  forward: no
  masquerade: yes
  forward-ports: 
	port=2222:proto=tcp:toport=22:toaddr=
	port=25:proto=tcp:toport=:toaddr=10.0.0.2
  source-ports: 
  icmp-blocks: 
  rich rules: 
	rule family="ipv4" source address="10.0.0.0/8" service name="ssh" log prefix="ssh " level="info" limit value="3/m" accept

public (default)
  target: default
  ingress-priority: 0
  egress-priority: 0
  icmp-block-inversion: no
  interfaces: 
  sources: 
  services: dhcpv6-client http https ssh
  ports: 
  protocols: 
  forward: yes
  masquerade: no
  forward-ports: 
  source-ports: 
  icmp-blocks: 
  rich rules: 

trusted
  target: ACCEPT
  ingress-priority: 0
  egress-priority: 0
  icmp-block-inversion: no
  interfaces: 
  sources: 
  services: 
  ports: 
  protocols: 
  forward: yes
  masquerade: no
  forward-ports: 
  source-ports: 
  icmp-blocks: 
  rich rules: 

@services
dhcpv6-client.xml
http.xml
ssh.xml
https.xml
mdns.xml
@builtin-zones
home.xml
dmz.xml
internal.xml
drop.xml
block.xml
trusted.xml
public.xml
work.xml
external.xml
`;

const host = { name: 'h', groups: ['all'], vars: {}, facts: {} } as unknown as HostView;
const context = (planned = new PlannedState()): PlanContext => ({ host, checkMode: true, planned });
const online = parseFirewallProbe({ code: 0, stdout: CAPTURED, stderr: '' });
/** The same host with firewalld stopped: what firewall-offline-cmd lists. */
const offline = parseFirewallProbe({ code: 0, stdout: CAPTURED.replace('@mode online', '@mode offline').replace(/@runtime[\s\S]*?@permanent/, '@permanent'), stderr: '' });

t.test('firewalld probe: zones, default zone, settings and multi-line values are read from --list-all-zones', async (t) => {
  t.equal(online.mode, 'online');
  t.equal(online.runtime?.defaultZone, 'public');
  t.equal(online.permanent.defaultZone, 'public');
  const hfx = online.permanent.zones.get('hfx');
  t.equal(hfx?.target, 'DROP');
  t.same(hfx?.items.port, ['80/tcp', '443/tcp']);
  t.same(hfx?.items.source, ['192.168.77.0/24']);
  t.same(hfx?.items.masquerade, ['yes']);
  t.same(hfx?.items['forward-port'], ['port=2222:proto=tcp:toport=22:toaddr=', 'port=25:proto=tcp:toport=:toaddr=10.0.0.2']);
  t.same(hfx?.items['rich-rule'], ['rule family="ipv4" source address="10.0.0.0/8" service name="ssh" log prefix="ssh " level="info" limit value="3/m" accept']);
  t.same(online.runtime?.zones.get('public')?.items.port, ['8080/tcp']);
  t.notOk(online.runtime?.zones.has('hfnew'));
  t.ok(online.services.has('https'));
  t.ok(online.builtinZones.has('public'));
  t.notOk(online.builtinZones.has('hfx'));
});

t.test('firewalld probe: a host without firewalld, a failed firewalld and a failing listing each explain what to do', async (t) => {
  t.throws(() => parseFirewallProbe({ code: 0, stdout: '@mode missing\n', stderr: '' }), /not installed.*install the firewalld package/);
  t.throws(() => parseFirewallProbe({ code: 0, stdout: '@mode failed\n', stderr: '' }), /check-config/);
  t.throws(() => parseFirewallProbe({ code: 1, stdout: '@mode online\n@runtime\n', stderr: 'Authorization failed.' }), /Authorization failed.*become: true/);
});

t.test('firewalld probe: zone lines with and without trailing spaces parse alike', async (t) => {
  const zones = parseZones(['work (active)', '  target: default', '  interfaces:', '  ports: 1/tcp', '  rich rules:', '\trule service name=ssh accept']);
  t.same(zones.zones.get('work')?.items.port, ['1/tcp']);
  t.same(zones.zones.get('work')?.items['rich-rule'], ['rule service name="ssh" accept']);
  t.equal(zones.defaultZone, undefined);
});

t.test('firewalld: a port on both sides already plans nothing', async (t) => {
  t.same(planFirewalld(resolvePort({ zone: 'hfx', ports: ['80/tcp', '443/tcp'] }), online, context()), []);
  t.same(planFirewalld(resolveService({ services: ['ssh', 'http'] }), online, context()), []);
  t.same(planFirewalld(resolveMasquerade({ zone: 'hfx' }), online, context()), []);
  t.same(planFirewalld(resolveForwardPort({ zone: 'hfx', forwardPort: { port: 25, protocol: 'tcp', toAddr: '10.0.0.2' } }), online, context()), []);
});

t.test('firewalld: a new port is added to the permanent configuration and the runtime in one change', async (t) => {
  const changes = planFirewalld(resolvePort({ port: 9090 }), online, context());
  t.equal(changes.length, 1);
  t.equal(changes[0]?.summary, 'zone public: add port 9090/tcp');
  t.equal(changes[0]?.diff, '+ permanent port 9090/tcp\n+ runtime port 9090/tcp');
  t.same(changes[0]?.action, { zone: 'public', offline: false, do: 'item', add: true, category: 'port', argument: '9090/tcp', sides: ['permanent', 'runtime'], reload: false });
});

t.test('firewalld: a port only at runtime is reported as the sides disagreeing, and only the permanent side changes', async (t) => {
  const [change, ...rest] = planFirewalld(resolvePort({ port: 8080 }), online, context());
  t.same(rest, []);
  t.equal(change?.summary, 'zone public: add port 8080/tcp in the permanent configuration (runtime has port 8080/tcp but permanent does not)');
  t.same(change?.action.do === 'item' && change.action.sides, ['permanent']);
});

t.test('firewalld: removing a port that only the runtime has removes it at runtime only', async (t) => {
  const [change] = planFirewalld(resolvePort({ port: 8080, state: 'absent' }), online, context());
  t.equal(change?.summary, 'zone public: remove port 8080/tcp at runtime (runtime has port 8080/tcp but permanent does not)');
  t.equal(change?.diff, '- runtime port 8080/tcp');
});

t.test('firewalld: with firewalld stopped, only the permanent configuration is planned and the summary says (offline)', async (t) => {
  const [change] = planFirewalld(resolvePort({ port: 9090, protocol: 'udp' }), offline, context());
  t.equal(change?.summary, 'zone public: add port 9090/udp (offline)');
  t.equal(change?.diff, '+ port 9090/udp');
  t.same(change?.action.do === 'item' && change.action.sides, ['permanent']);
  t.equal(change?.action.offline, true);
});

t.test('firewalld: a rich rule written another way compares equal to the listed one', async (t) => {
  const spelled = 'rule accept family=ipv4 service name=ssh source address=10.0.0.0/8 log level=info limit value="3/minute" prefix="ssh "';
  t.same(planFirewalld(resolveRichRule({ zone: 'hfx', rule: spelled }), online, context()), []);
  const other = planFirewalld(resolveRichRule({ zone: 'hfx', rule: 'rule family=ipv4 source address=10.0.0.0/8 service name=ssh accept' }), online, context());
  t.equal(other[0]?.summary, 'zone hfx: add rule family="ipv4" source address="10.0.0.0/8" service name="ssh" accept');
});

t.test('firewalld: a port in a zone that does not exist fails and says how to create the zone', async (t) => {
  t.throws(() => planFirewalld(resolvePort({ zone: 'nosuch', port: 80 }), online, context()), /zone 'nosuch' does not exist .*firewalld\.zone\(\{ name: 'nosuch' \}\)/);
});

t.test('firewalld: in check mode a port in a zone an earlier task creates is planned, to reach the runtime by the reload', async (t) => {
  const planned = new PlannedState();
  planned.record(firewalldEffects(resolveZone({ name: 'web' })));
  const [change] = planFirewalld(resolvePort({ zone: 'web', port: 80 }), online, context(planned));
  t.equal(change?.summary, 'zone web: add port 80/tcp (runtime after firewall-cmd --reload)');
  t.equal(change?.action.reload, true);
});

t.test('firewalld: in check mode a port an earlier task adds is not added twice', async (t) => {
  const planned = new PlannedState();
  planned.record(firewalldEffects(resolvePort({ ports: ['9090/tcp'] })));
  t.same(planFirewalld(resolvePort({ port: 9090 }), online, context(planned)), []);
  t.same(planFirewalld(resolvePort({ zone: 'public', port: 9090 }), online, context(planned)), []);
});

t.test('firewalld: an unknown service fails at plan time with the way to find the known ones', async (t) => {
  t.throws(() => planFirewalld(resolveService({ service: 'htp' }), online, context()), /service 'htp' is not defined.*--get-services/);
});

t.test('firewalld: creating a zone defers the runtime to a reload and sets target and sources permanently', async (t) => {
  const changes = planFirewalld(resolveZone({ name: 'web', target: 'DROP', sources: ['10.1.0.0/16'] }), online, context());
  t.same(
    changes.map((c) => c.summary),
    ['create zone web (runtime after firewall-cmd --reload)', 'zone web: target default → DROP (runtime after firewall-cmd --reload)', 'zone web: add source 10.1.0.0/16 (runtime after firewall-cmd --reload)'],
  );
  t.ok(changes.every((c) => c.action.reload));
});

t.test('firewalld: a zone only in the permanent configuration asks for a reload', async (t) => {
  const [change, ...rest] = planFirewalld(resolveZone({ name: 'hfnew' }), online, context());
  t.same(rest, []);
  t.equal(change?.summary, 'zone hfnew is in the permanent configuration but not at runtime: reload firewalld');
  t.equal(change?.action.do, 'reload');
});

t.test('firewalld: a zone lists exactly its sources: others are removed', async (t) => {
  const changes = planFirewalld(resolveZone({ name: 'hfx', sources: ['10.9.0.0/16'] }), online, context());
  t.same(changes.map((c) => c.summary), ['zone hfx: add source 10.9.0.0/16', 'zone hfx: remove source 192.168.77.0/24']);
});

t.test('firewalld: the REJECT target compares with the %%REJECT%% firewalld lists', async (t) => {
  const [change] = planFirewalld(resolveZone({ name: 'hfx', target: 'REJECT' }), online, context());
  t.equal(change?.summary, 'zone hfx: target DROP → %%REJECT%% (runtime after firewall-cmd --reload)');
  t.same(planFirewalld(resolveZone({ name: 'trusted', target: 'ACCEPT' }), online, context()), []);
});

t.test('firewalld: making a zone the default changes both sides in one change', async (t) => {
  const [change] = planFirewalld(resolveZone({ name: 'hfx', default: true }), online, context());
  t.equal(change?.summary, 'default zone public → hfx');
  t.same(planFirewalld(resolveZone({ name: 'public', default: true }), online, context()), []);
});

t.test('firewalld: deleting the default zone or a built-in zone is refused with the reason', async (t) => {
  t.throws(() => planFirewalld(resolveZone({ name: 'public', state: 'absent' }), online, context()), /default zone and cannot be deleted/);
  t.throws(() => planFirewalld(resolveZone({ name: 'trusted', state: 'absent' }), online, context()), /built into firewalld/);
  t.equal(planFirewalld(resolveZone({ name: 'hfx', state: 'absent' }), online, context())[0]?.summary, 'delete zone hfx (runtime after firewall-cmd --reload)');
  t.same(planFirewalld(resolveZone({ name: 'gone', state: 'absent' }), online, context()), []);
});

t.test('firewalld: masquerading off is shown as yes → no on both sides', async (t) => {
  const [change] = planFirewalld(resolveMasquerade({ zone: 'hfx', state: 'absent' }), online, context());
  t.equal(change?.summary, 'zone hfx: disable masquerading');
  t.equal(change?.diff, '- permanent masquerading yes\n+ permanent masquerading no\n- runtime masquerading yes\n+ runtime masquerading no');
});

t.test('firewalld: forward ports compare in the listed form and are given to firewall-cmd without empty fields', async (t) => {
  const w = resolveForwardPort({ forwardPort: { port: 2223, protocol: 'tcp', toPort: 22 } });
  t.same(w.items[0], { category: 'forward-port', value: 'port=2223:proto=tcp:toport=22:toaddr=', argument: 'port=2223:proto=tcp:toport=22' });
});

t.test('firewalld: parameters the schema cannot check fail at resolve, naming parameter and value', async (t) => {
  t.throws(() => resolvePort({ ports: ['70000/tcp'] }), /parameter 'ports\.0' = "70000\/tcp": ports are 1 to 65535/);
  t.throws(() => resolvePort({ port: '8010-8000' }), /parameter 'port' = "8010-8000": a range goes from a lower to a higher port/);
  t.throws(() => resolveRichRule({ rules: ['rule source address=10.0.0.1 accept'] }), /parameter 'rules\.0' = .*needs family=ipv4/);
  t.throws(() => resolveForwardPort({ forwardPort: { port: 1, protocol: 'tcp', toAddr: '999' } }), /forwardPort\.toAddr/);
  t.same(resolvePort({ ports: ['80/tcp', '0080/tcp'] }).items.map((i) => i.value), ['80/tcp']);
});

// ── exact lists ──────────────────────────────────────────────────────────

t.test('firewalld: an exact service list adds what is missing and removes every other service of the zone, on both sides', async (t) => {
  const changes = planFirewalld(resolveService({ services: ['ssh', 'mdns'], exact: true }), online, context());
  t.same(
    changes.map((c) => c.summary),
    ['zone public: add service mdns', 'zone public: remove service dhcpv6-client', 'zone public: remove service http', 'zone public: remove service https'],
  );
  t.equal(changes[1]?.diff, '- permanent service dhcpv6-client\n- runtime service dhcpv6-client', 'the diff names what goes, side by side');
  t.same(changes[1]?.action, { zone: 'public', offline: false, do: 'item', add: false, category: 'service', argument: 'dhcpv6-client', sides: ['permanent', 'runtime'], reload: false });
  t.same(planFirewalld(resolveService({ services: ['https', 'ssh', 'http', 'dhcpv6-client'], exact: true }), online, context()), [], 'the zone has exactly the list already: nothing to do');
  t.same(planFirewalld(resolveService({ services: ['ssh', 'mdns'] }), online, context()).length, 1, 'without exact, the other services stay');
});

t.test('firewalld: an exact port list removes a port only the runtime has, at runtime only', async (t) => {
  const [change, ...rest] = planFirewalld(resolvePort({ zone: 'public', ports: [], exact: true }), online, context());
  t.same(rest, []);
  t.equal(change?.summary, 'zone public: remove port 8080/tcp at runtime (runtime has port 8080/tcp but permanent does not)');
  t.equal(change?.diff, '- runtime port 8080/tcp');
  const hfx = planFirewalld(resolvePort({ zone: 'hfx', ports: ['443/tcp', '8443/tcp'], exact: true }), online, context());
  t.same(hfx.map((c) => c.summary), ['zone hfx: add port 8443/tcp', 'zone hfx: remove port 80/tcp']);
});

t.test('firewalld: with firewalld stopped, an exact list is made of the permanent configuration alone', async (t) => {
  const changes = planFirewalld(resolveService({ services: ['ssh'], exact: true }), offline, context());
  t.same(changes.map((c) => c.summary), ['zone public: remove service dhcpv6-client (offline)', 'zone public: remove service http (offline)', 'zone public: remove service https (offline)']);
  t.equal(changes[0]?.diff, '- service dhcpv6-client');
});

t.test('firewalld: exact with state absent, and an empty list without exact, fail at resolve naming parameter and value', async (t) => {
  t.throws(() => resolveService({ services: ['ssh'], exact: true, state: 'absent' }), /^parameter 'exact' = true: goes with state 'present'/);
  t.throws(() => resolvePort({ port: 22, exact: true, state: 'absent' }), /^parameter 'exact' = true: goes with state 'present'.*exactly the listed ports/);
  t.throws(() => resolveService({ services: [] }), /^parameter 'services' = \[\]: names no service: .*exact: true/);
  t.throws(() => resolvePort({ ports: [] }), /^parameter 'ports' = \[\]: names no port/);
  t.same(resolveService({ services: [], exact: true }), { module: 'service', present: true, items: [], exact: ['service'] }, 'an empty exact list is a set: no service open');
});

t.test('firewalld: in check mode, a task after an exact list plans against the set it leaves', async (t) => {
  const planned = new PlannedState();
  planned.record(firewalldEffects(resolveService({ zone: 'public', services: ['ssh'], exact: true })));
  t.same(planFirewalld(resolveService({ service: 'http', state: 'absent' }), online, context(planned)), [], 'the exact list removes http already');
  t.same(planFirewalld(resolveService({ services: ['ssh'], exact: true }), online, context(planned)), [], 'the same list again (by the default zone) has nothing left to do');
  t.same(planFirewalld(resolvePort({ port: 8080 }), online, context(planned)).length, 1, 'ports are another set');
});

t.test('firewalld: a task that contradicts an exact list of the same run is refused, either way round, saying what makes them agree', async (t) => {
  const exactFirst = new PlannedState();
  exactFirst.record(firewalldEffects(resolveService({ zone: 'public', services: ['ssh'], exact: true })));
  t.throws(() => planFirewalld(resolveService({ services: ['http', 'https'] }), online, context(exactFirst)), /keeps exactly the services \[ssh\] in zone public, so service http would be removed and added on every run: add it to that list/);
  t.throws(() => planFirewalld(resolveService({ service: 'ssh', state: 'absent' }), online, context(exactFirst)), /service ssh would be added and removed on every run: take it off that list/);
  t.throws(() => planFirewalld(resolveService({ services: ['ssh', 'http'], exact: true }), online, context(exactFirst)), /keeps exactly the services \[ssh\] in zone public, and this one \[ssh, http\]: make them one list/);

  const addFirst = new PlannedState();
  addFirst.record(firewalldEffects(resolveService({ service: 'mdns' })));
  t.throws(() => planFirewalld(resolveService({ zone: 'public', services: ['ssh'], exact: true }), online, context(addFirst)), /an earlier task of this run adds service mdns in zone public, which this exact list leaves out: add it to the list/);
  t.same(
    planFirewalld(resolveService({ zone: 'public', services: ['ssh', 'mdns'], exact: true }), online, context(addFirst)).map((c) => c.summary),
    ['zone public: remove service dhcpv6-client', 'zone public: remove service http', 'zone public: remove service https'],
    'listed, the service the earlier task adds is neither refused nor added twice',
  );
  const removeFirst = new PlannedState();
  removeFirst.record(firewalldEffects(resolveService({ zone: 'public', service: 'http', state: 'absent' })));
  t.same(
    planFirewalld(resolveService({ services: ['ssh', 'https', 'dhcpv6-client'], exact: true }), online, context(removeFirst)),
    [],
    'a service an earlier task removes is not removed twice',
  );
});

t.test('firewalld: an exact list records its set for later tasks; a zone task records its exact sources', async (t) => {
  const effects = (w: Parameters<typeof firewalldEffects>[0]) => firewalldEffects(w).map((e) => [e.kind.name, e.id.split('\0').join('|'), e.value]);
  t.same(effects(resolveService({ services: ['ssh'], exact: true })), [
    ['firewalld-item', '|service|ssh', true],
    ['firewalld-exact', '|service', ['ssh']],
  ]);
  t.same(effects(resolveZone({ name: 'web', sources: ['10.0.0.0/8'] })).filter(([kind]) => kind === 'firewalld-exact'), [['firewalld-exact', 'web|source', ['10.0.0.0/8']]]);
});
