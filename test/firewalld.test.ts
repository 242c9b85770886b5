import t from 'tap';
import { UsageError } from '../lib/errors.ts';
import { firewalld } from '../modules/firewalld/index.ts';
import { firewallListingProbe, firewallProbe, parseFirewallProbe } from '../modules/firewalld/observe.ts';
import { hosts } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// One host for the whole file: firewalld runs there with nftables, its
// default zone (public) rejects what it does not allow, and a small web
// server listens on 8080 so the firewall's effect is seen from this machine.

const [h] = await hosts.up(1, 'el9');
t.teardown(() => hosts.down());
if (!h) throw new Error('no test host');
const host = h.inventoryEntry();

const sh = (cmd: string) => h.sh(cmd);

/** Everything firewalld holds, runtime and permanent, to prove a check run left it alone. */
const firewallState = () => sh('firewall-cmd --get-default-zone; firewall-cmd --list-all-zones; echo ====; firewall-cmd --permanent --list-all-zones');

/** Whether this machine gets the page; the default zone rejects, so a closed port fails at once. */
async function reachable(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://${h!.address}:${port}/`, { signal: AbortSignal.timeout(3000) });
    return (await response.text()).includes('hostform');
  } catch {
    return false;
  }
}

const summaries = (report: Awaited<ReturnType<typeof runTasks>>) => tasksOf(report).flatMap((task) => task.changes.map((c) => c.summary));
const reloads = (report: Awaited<ReturnType<typeof runTasks>>) => tasksOf(report).filter((task) => task.name === 'deferred: firewall-cmd --reload').length;

await sh('mkdir -p /srv/www && echo hostform > /srv/www/index.html && systemd-run --unit=hf-web busybox httpd -f -p 8080 -h /srv/www');
await sh('for i in 1 2 3 4 5 6 7 8 9 10; do curl -sf http://127.0.0.1:8080/ && exit 0; sleep 0.3; done; exit 1');
/** This machine's address as the host sees it, for source-bound zones and rich rules. */
const controlAddress = (await sh('echo "$SSH_CLIENT" | cut -d" " -f1')).trim();

t.test('firewalld: an http port opened in the firewall is reachable from the control machine, and closed again by absent', async (t) => {
  t.equal(await reachable(8080), false, 'the default zone blocks 8080 before the task');
  const open = await runTasks(host, [firewalld.port({ port: 8080 })], 'apply');
  t.same(statuses(open), ['changed'], errors(open));
  t.same(summaries(open), ['zone public: add port 8080/tcp']);
  t.equal(await reachable(8080), true, 'reachable once opened');

  const again = await runTasks(host, [firewalld.port({ port: 8080 })], 'apply');
  t.same(statuses(again), ['ok'], 'second run changes nothing');

  const close = await runTasks(host, [firewalld.port({ port: 8080, state: 'absent' })], 'apply');
  t.same(statuses(close), ['changed'], errors(close));
  t.equal(await reachable(8080), false, 'closed again');
  t.notMatch(await sh('firewall-cmd --permanent --list-ports'), /8080/, 'gone from the permanent configuration too');
});

t.test('firewalld: check after a runtime-only removal reports the runtime/permanent disagreement and changes nothing', async (t) => {
  const tasks = [firewalld.port({ zone: 'public', ports: ['8080/tcp', '8443/tcp'] })];
  t.same(statuses(await runTasks(host, tasks, 'apply')), ['changed']);
  await sh('firewall-cmd --remove-port=8080/tcp');
  const before = await firewallState();

  const check = await runTasks(host, tasks, 'check');
  t.same(statuses(check), ['changed'], errors(check));
  t.same(summaries(check), ['zone public: add port 8080/tcp at runtime (permanent has port 8080/tcp but runtime does not)']);
  t.equal(await firewallState(), before, 'check mode left runtime and permanent state as they were');
  t.equal(await reachable(8080), false);

  const fix = await runTasks(host, tasks, 'apply');
  t.same(statuses(fix), ['changed']);
  t.equal(await reachable(8080), true, 'the runtime is fixed');
  t.same(statuses(await runTasks(host, tasks, 'apply')), ['ok']);
  t.same(statuses(await runTasks(host, [firewalld.port({ ports: ['8080/tcp', '8443/tcp'], state: 'absent' })], 'apply')), ['changed']);
});

t.test('firewalld: a zone and everything in it in one play: check plans it without touching the host, apply reloads once, a second run changes nothing', async (t) => {
  const play = [
    firewalld.zone({ name: 'hftest', sources: [controlAddress], target: 'default' }),
    firewalld.port({ zone: 'hftest', port: 8080 }),
    // This machine's traffic lands in the zone bound to its address: keep ssh open there.
    firewalld.service({ zone: 'hftest', services: ['ssh', 'http', 'https'] }),
    firewalld.masquerade({ zone: 'hftest' }),
    firewalld.forwardPort({ zone: 'hftest', forwardPort: { port: 8082, protocol: 'tcp', toPort: 8080 } }),
    firewalld.richRule({ zone: 'hftest', rule: 'rule family=ipv4 source address=192.0.2.0/24 drop' }),
  ];
  const before = await firewallState();
  const check = await runTasks(host, play, 'check');
  t.same(statuses(check), ['changed', 'changed', 'changed', 'changed', 'changed', 'changed'], errors(check));
  t.equal(await firewallState(), before, 'check mode changed nothing');

  const apply = await runTasks(host, play, 'apply');
  t.same(statuses(apply).filter((s) => s !== 'changed'), [], errors(apply));
  t.equal(reloads(apply), 1, 'one reload for the whole play');
  t.equal(await reachable(8080), true, 'the source-bound zone lets this machine in');
  t.equal(await reachable(8082), true, 'the forwarded port reaches the server');
  t.match(await sh('firewall-cmd --zone=hftest --list-all'), /masquerade: yes/);

  const again = await runTasks(host, play, 'apply');
  t.same(statuses(again), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'], 'second run: 0 changed');
  t.equal(again.hosts[0]?.roundTrips, 2, 'a no-op run of six tasks: facts and one shared probe');
  t.comment(`apply: ${apply.hosts[0]?.roundTrips} round trips, ${apply.durationMs} ms; no-op: ${again.durationMs} ms`);
  t.same(statuses(await runTasks(host, play, 'check')), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'], 'check after: in sync');

  const remove = await runTasks(host, [firewalld.zone({ name: 'hftest', state: 'absent' })], 'apply');
  t.same(statuses(remove), ['changed', 'changed'], errors(remove));
  t.equal(await reachable(8080), false, 'deleting the zone closes the port again');
});

t.test('firewalld: a rich rule written two ways is added once', async (t) => {
  const written = `rule family=ipv4 source address=${controlAddress} port port=8080 protocol=tcp accept`;
  const rewritten = `rule port protocol="tcp" port="8080" accept source address="${controlAddress}" family="ipv4"`;
  const first = await runTasks(host, [firewalld.richRule({ rule: written })], 'apply');
  t.same(statuses(first), ['changed'], errors(first));
  t.equal(await reachable(8080), true);

  t.same(statuses(await runTasks(host, [firewalld.richRule({ rule: rewritten })], 'apply')), ['ok'], 'the other spelling is already there');
  t.same(statuses(await runTasks(host, [firewalld.richRule({ rules: [rewritten, written] })], 'check')), ['ok']);
  t.equal((await sh('firewall-cmd --list-rich-rules')).trim().split('\n').length, 1, 'one rule at runtime');
  t.equal((await sh('firewall-cmd --permanent --list-rich-rules')).trim().split('\n').length, 1, 'one rule in the permanent configuration');

  const remove = await runTasks(host, [firewalld.richRule({ rule: `rule  family="ipv4"  source address=${controlAddress} accept port protocol=tcp port=8080`, state: 'absent' })], 'apply');
  t.same(statuses(remove), ['changed'], errors(remove));
  t.equal(await reachable(8080), false);
});

t.test('firewalld: a new default zone is made in one play and the old one restored', async (t) => {
  const play = [
    firewalld.zone({ name: 'hfdef' }),
    // The default zone holds this host's interface: keep ssh open before switching.
    firewalld.service({ zone: 'hfdef', service: 'ssh' }),
    firewalld.port({ zone: 'hfdef', port: 8080 }),
    firewalld.zone({ name: 'hfdef', default: true }),
  ];
  const apply = await runTasks(host, play, 'apply');
  t.same(statuses(apply).filter((s) => s !== 'changed'), [], errors(apply));
  t.equal((await sh('firewall-cmd --get-default-zone')).trim(), 'hfdef');
  t.match(await sh('grep ^DefaultZone= /etc/firewalld/firewalld.conf'), /=hfdef/);
  t.equal(await reachable(8080), true, 'the interface now falls into hfdef');
  t.same(statuses(await runTasks(host, play, 'apply')), ['ok', 'ok', 'ok', 'ok']);

  const restore = await runTasks(host, [firewalld.zone({ name: 'public', default: true }), firewalld.zone({ name: 'hfdef', state: 'absent' })], 'apply');
  t.same(statuses(restore).filter((s) => s !== 'changed'), [], errors(restore));
  t.equal((await sh('firewall-cmd --get-default-zone')).trim(), 'public');
  t.equal(await reachable(8080), false);
});

t.test("firewalld: the probe's D-Bus reading (busctl) and firewall-cmd's listings see the same zones, both sides, on a varied configuration", async (t) => {
  const z = 'firewall-cmd -q --zone=work';
  await sh(
    [
      `${z} --add-port=8088/tcp --add-port=9000-9010/udp`,
      `${z} --add-forward-port=port=80:proto=tcp:toport=8080`,
      `${z} --add-forward-port=port=81:proto=tcp:toaddr=10.0.0.2`,
      `${z} --add-masquerade`,
      `${z} --add-rich-rule='rule family="ipv4" source address="10.1.0.0/16" service name="ssh" log prefix="ssh " level="info" limit value="3/m" accept'`,
      `${z} --add-source=10.9.0.0/24`,
      `${z} --add-interface=hfdummy7`,
      'firewall-cmd -q --permanent --new-zone=hfbus',
      'firewall-cmd -q --permanent --zone=hfbus --set-target=DROP',
      'firewall-cmd -q --permanent --zone=hfbus --add-service=https',
      'firewall-cmd -q --permanent --zone=hfbus --add-port=5353/udp',
    ].join(' && '),
  );
  t.teardown(() => sh('firewall-cmd -q --permanent --delete-zone=hfbus; firewall-cmd -q --reload'));
  const read = async (script: string) => {
    const r = await h!.exec(script);
    return parseFirewallProbe({ code: r.code ?? 1, stdout: r.stdout, stderr: r.stderr });
  };
  const comparable = (o: Awaited<ReturnType<typeof read>>) =>
    JSON.stringify(o, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries([...v].sort()) : v instanceof Set ? [...v].sort() : Array.isArray(v) ? [...v].sort() : v));
  t.match(firewallProbe().text, /busctl --json=short call/);
  const [bus, listing] = [await read(firewallProbe().text), await read(firewallListingProbe.text)];
  t.equal(bus.mode, 'online');
  t.ok(bus.runtime?.zones.get('work')?.items['rich-rule'].length, 'the runtime change is seen');
  t.equal(bus.permanent.zones.get('hfbus')?.target, 'DROP', 'the permanent-only zone is seen');
  t.notOk(bus.runtime?.zones.has('hfbus'));
  t.equal(comparable(bus), comparable(listing));
  // A task's own probe reads its zone (or the default zone) alone, as the full reading has it, and names the others.
  for (const read1 of [{}, { zone: 'work' }, { zone: 'hfbus' }]) {
    const one = await read(firewallProbe(read1).text);
    const wanted = new Set(['public', ...('zone' in read1 ? [read1.zone] : [])]);
    for (const side of ['permanent', 'runtime'] as const) {
      const full = bus[side]!;
      const mine = one[side]!;
      const expected = [...full.zones.keys()].filter((z) => wanted.has(z)).sort();
      t.same([...mine.zones.keys()].sort(), expected, `${JSON.stringify(read1)}: ${side} zones read`);
      for (const z of expected) t.same(mine.zones.get(z), full.zones.get(z), `${JSON.stringify(read1)}: ${side} zone ${z} as the full reading has it`);
      t.same([...(mine.unread ?? [])].sort(), [...full.zones.keys()].filter((z) => !wanted.has(z)).sort(), `${JSON.stringify(read1)}: ${side}: the other zones by name`);
      t.equal(mine.defaultZone, full.defaultZone);
    }
  }
});

t.test('firewalld: with firewalld stopped, tasks change the permanent configuration through firewall-offline-cmd and say (offline)', async (t) => {
  await sh('systemctl stop firewalld');
  t.teardown(() => sh('systemctl start firewalld'));
  const tasks = [firewalld.port({ port: 8081 }), firewalld.service({ service: 'http' })];
  const apply = await runTasks(host, tasks, 'apply');
  t.same(statuses(apply), ['changed', 'changed'], errors(apply));
  t.same(summaries(apply), ['zone public: add port 8081/tcp (offline)', 'zone public: add service http (offline)']);
  t.match(await sh('firewall-offline-cmd --zone=public --list-ports'), /8081\/tcp/);
  t.same(statuses(await runTasks(host, tasks, 'apply')), ['ok', 'ok'], 'second run offline: 0 changed');

  const before = await sh('firewall-offline-cmd --list-all-zones');
  const check = await runTasks(host, [firewalld.port({ port: 8081, state: 'absent' })], 'check');
  t.same(summaries(check), ['zone public: remove port 8081/tcp (offline)']);
  t.equal(await sh('firewall-offline-cmd --list-all-zones'), before, 'check mode offline changed nothing');

  await sh('systemctl start firewalld');
  t.match(await sh('firewall-cmd --list-ports'), /8081\/tcp/, 'firewalld loads what was set offline');
  t.same(statuses(await runTasks(host, tasks, 'apply')), ['ok', 'ok'], 'online again: in sync on both sides');
  t.same(statuses(await runTasks(host, [firewalld.port({ port: 8081, state: 'absent' }), firewalld.service({ service: 'http', state: 'absent' })], 'apply')), ['changed', 'changed']);
});

/** The default zone's services, runtime then permanent, as firewall-cmd lists them. */
const services = async () => (await sh('firewall-cmd --zone=public --list-services; firewall-cmd --permanent --zone=public --list-services')).trim().split('\n');
const diffs = (report: Awaited<ReturnType<typeof runTasks>>) => tasksOf(report).flatMap((task) => task.changes.map((c) => c.diff));

t.test('firewalld: an exact service list: a service opened by hand is reported by --check as exactly that drift, then removed; a second run changes nothing', async (t) => {
  const [runtime = '', permanent = ''] = await services();
  t.equal(runtime, permanent, 'the test starts with the sides in agreement');
  // Put the zone back as it was, whatever the test left.
  t.teardown(() => runTasks(host, [firewalld.service({ zone: 'public', services: runtime.split(' ').filter(Boolean), exact: true })], 'apply'));
  const tasks = [firewalld.service({ zone: 'public', services: ['ssh'], exact: true })];
  const first = await runTasks(host, tasks, 'apply');
  t.same(statuses(first), ['changed'], errors(first));
  t.same(await services(), ['ssh', 'ssh'], 'exactly the list, on both sides');
  t.same(statuses(await runTasks(host, tasks, 'apply')), ['ok'], 'second run: 0 changed');

  // jenkins is 8080/tcp, where the web server listens.
  await sh('firewall-cmd -q --add-service=jenkins && firewall-cmd -q --permanent --add-service=jenkins');
  t.equal(await reachable(8080), true, 'the service opened by hand lets this machine in');
  const before = await firewallState();
  const check = await runTasks(host, tasks, 'check');
  t.same(statuses(check), ['changed'], errors(check));
  t.same(summaries(check), ['zone public: remove service jenkins'], 'exactly the drift');
  t.same(diffs(check), ['- permanent service jenkins\n- runtime service jenkins']);
  t.equal(await firewallState(), before, 'check mode left runtime and permanent state as they were');
  t.same(await services(), ['jenkins ssh', 'jenkins ssh']);

  const fix = await runTasks(host, tasks, 'apply');
  t.same(statuses(fix), ['changed'], errors(fix));
  t.same(summaries(fix), ['zone public: remove service jenkins']);
  t.same(await services(), ['ssh', 'ssh'], 'removed on both sides');
  t.equal(await reachable(8080), false, 'the port answers no more');
  t.same(statuses(await runTasks(host, tasks, 'apply')), ['ok'], 'and the run after changes nothing');
});

t.test('firewalld: an exact port list closes a port opened by hand at runtime only, and opens the listed one', async (t) => {
  t.equal((await sh('firewall-cmd --zone=public --list-ports; firewall-cmd --permanent --zone=public --list-ports')).trim(), '', 'the test starts with no port open');
  t.teardown(() => runTasks(host, [firewalld.port({ zone: 'public', ports: [], exact: true })], 'apply'));
  await sh('firewall-cmd -q --add-port=8080/tcp');
  t.equal(await reachable(8080), true);
  const tasks = [firewalld.port({ zone: 'public', ports: ['8443/tcp'], exact: true })];
  const check = await runTasks(host, tasks, 'check');
  t.same(summaries(check), ['zone public: add port 8443/tcp', 'zone public: remove port 8080/tcp at runtime (runtime has port 8080/tcp but permanent does not)']);
  t.equal(await reachable(8080), true, 'check mode left the port open');
  const apply = await runTasks(host, tasks, 'apply');
  t.same(statuses(apply), ['changed'], errors(apply));
  t.equal(await reachable(8080), false);
  t.equal((await sh('firewall-cmd --zone=public --list-ports; firewall-cmd --permanent --zone=public --list-ports')).trim(), '8443/tcp\n8443/tcp');
  t.same(statuses(await runTasks(host, tasks, 'apply')), ['ok'], 'second run: 0 changed');
});

t.test('firewalld: invalid parameters fail before any host is touched, naming task, parameter and value', async (t) => {
  const before = await firewallState();
  const cases: [Parameters<typeof runTasks>[1][number], RegExp][] = [
    [firewalld.port({ port: 70000 }), /task 'firewalld\.port 70000\/tcp' \(firewalld\.port\): parameter 'port' = 70000: must be at most 65535/],
    [firewalld.port({ port: 80, protocol: 'tpc' as 'tcp' }), /parameter 'protocol' = "tpc": must be one of "tcp", "udp", "sctp", "dccp" \(did you mean "tcp"\?\)/],
    [firewalld.port({ ports: ['70000/tcp'] as `${number}/tcp`[] }), /parameter 'ports\.0' = "70000\/tcp": ports are 1 to 65535/],
    [firewalld.service({ zone: 'bad zone!', service: 'http' }), /task 'firewalld\.service bad zone! http' \(firewalld\.service\): parameter 'zone' = "bad zone!"/],
    [firewalld.zone({ name: 'a-zone-name-too-long' }), /parameter 'name' = "a-zone-name-too-long"/],
    [firewalld.richRule({ rule: 'rule source address=10.0.0.1 accept' }), /parameter 'rule' = .*needs family=ipv4 or family=ipv6/],
    [firewalld.service({ services: ['ssh'], exact: true, state: 'absent' }), /task 'firewalld\.service exactly ssh \(absent\)' \(firewalld\.service\): parameter 'exact' = true: goes with state 'present'/],
    [firewalld.port({ ports: [] }), /task 'firewalld\.port none' \(firewalld\.port\): parameter 'ports' = \[\]: names no port/],
  ];
  for (const [task, message] of cases) {
    const run = runTasks(host, [task], 'apply');
    await t.rejects(run, UsageError, String(message));
    await run.catch((error: Error) => t.match(error.message, message));
  }
  t.equal(await firewallState(), before, 'nothing changed on the host');
});
