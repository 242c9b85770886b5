import t from 'tap';
import { hosts } from './hosts/index.ts';
import { runSmokeCheck, smokeChecks } from './hosts/smoke-checks.ts';

t.teardown(() => hosts.down());

t.test('el9 test host: every tool the modules rely on works', async (t) => {
  const [h] = await hosts.up(1, 'el9');
  t.ok(h, 'one host is up');
  t.same(h!.inventoryEntry(), {
    address: h!.address,
    port: 22,
    user: 'root',
    identityFile: h!.identityFile,
    knownHostsFile: h!.knownHostsFile,
    connection: 'ssh',
    platform: 'el9',
  });
  for (const check of smokeChecks('el9')) {
    const r = await runSmokeCheck(h!, check);
    t.ok(r.ok, `${check.name} (${r.ms} ms)${r.detail ? `: ${r.detail}` : ''}`);
  }
  await hosts.down();
});

t.test('el9 test hosts: several boot at once, each with its own name, address and host key, and see each other', async (t) => {
  const hs = await hosts.up(3, 'el9');
  t.equal(new Set(hs.map((h) => h.name)).size, 3, 'distinct names');
  t.equal(new Set(hs.map((h) => h.address)).size, 3, 'distinct addresses');
  t.equal(new Set(hs.map((h) => h.knownHostsLine.split(' ')[2])).size, 3, 'distinct host keys');
  const [a, b] = hs as [(typeof hs)[0], (typeof hs)[0]];
  const hostname = await b.exec('hostname');
  t.equal(hostname.stdout.trim(), b.name, 'the hostname is the host name');
  const reach = await a.exec(`ping -c 1 -W 2 ${b.address}`);
  t.equal(reach.code, 0, `${a.name} reaches ${b.name} over the bridge`);
  const out = await a.exec('ip route');
  t.notMatch(out.stdout, /default/, 'a host has no default route: traffic never leaves the machine');
  await hosts.down();
  t.same(hosts.list(), [], 'down() forgets every host');
});
