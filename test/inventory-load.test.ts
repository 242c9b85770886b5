import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { loadInventory } from '../lib/inventory/load.ts';

const fixtures = resolve(import.meta.dirname, 'fixtures/inventory');

t.test('inventory: a directory loads every .yml and .yaml file in name order and merges them', async (t) => {
  const inv = await loadInventory([join(fixtures, 'site')]);
  t.same(
    inv.hosts.map((h) => h.name),
    ['nas', 'router', 'web1', 'web2', 'db1'],
    'hosts in order of first definition',
  );
  const nas = inv.select('nas')[0];
  t.equal(nas?.address, '192.168.1.20', 'settings from the first file');
  t.same(nas?.vars['disks'], ['sda', 'sdb'], 'vars from the second file');
  t.equal(nas?.identityFile, join(fixtures, 'site/keys/nas'), 'relative key path resolved against the file');
  t.same(inv.groups['home'], ['nas', 'router'], 'group members listed in two files are joined');
});

t.test('inventory: a host without settings gets the defaults', async (t) => {
  const inv = await loadInventory([join(fixtures, 'site')]);
  t.same(inv.select('web2')[0], {
    name: 'web2',
    address: 'web2',
    port: 22,
    connection: 'ssh',
    groups: ['all', 'prod', 'web'],
    vars: { timezone: 'UTC', http_port: 8080, env: 'prod' },
  });
});

t.test('inventory: vars go top-level < parent group < child group < host', async (t) => {
  const dir = t.testdir({
    'hosts.yml': `
vars: { level: all, a: all }
hosts:
  h1: { vars: { level: host } }
  h2:
groups:
  parent: { children: [child], vars: { level: parent, b: parent } }
  child: { hosts: [h1, h2], vars: { level: child, c: child } }
  also: { hosts: [h2], vars: { level: also } }
`,
  });
  const inv = await loadInventory([dir]);
  t.same(inv.select('h1')[0]?.vars, { level: 'host', a: 'all', b: 'parent', c: 'child' });
  t.same(inv.select('h1')[0]?.groups, ['all', 'parent', 'child']);
  t.equal(inv.select('h2')[0]?.vars['level'], 'child', 'same depth: alphabetical, so child beats also');
  t.same(inv.select('h2')[0]?.groups, ['all', 'also', 'parent', 'child']);
  t.same(inv.groups['parent'], ['h1', 'h2'], 'a group holds the hosts of its children');
});

t.test('inventory: vars merge shallowly: a group map replaces the whole top-level map', async (t) => {
  const dir = t.testdir({
    'a.yml': `
vars: { users: { alice: 1, bob: 2 } }
hosts: { h1: }
groups: { g: { hosts: [h1], vars: { users: { carol: 3 } } } }
`,
  });
  const inv = await loadInventory([join(dir, 'a.yml')]);
  t.same(inv.hosts[0]?.vars['users'], { carol: 3 });
});

t.test('inventory: a TypeScript inventory loads and merges with YAML files', async (t) => {
  const dir = t.testdir({ 'more.yml': 'hosts:\n  nix-web1:\n    user: root\n' });
  const inv = await loadInventory([join(fixtures, 'fleet.ts'), join(dir, 'more.yml')]);
  t.same(
    inv.hosts.map((h) => [h.name, h.address, h.connection]),
    [
      ['nix-web1', '10.0.0.11', 'ssh'],
      ['nix-web2', '10.0.0.12', 'ssh'],
      ['control', 'control', 'local'],
    ],
  );
  const web1 = inv.select('nix-web1')[0];
  t.equal(web1?.user, 'root');
  t.equal(web1?.platform, 'nixos');
  t.equal(web1?.vars['http_port'], 8080, 'host vars beat group vars');
  t.equal(inv.select('nix-web2')[0]?.vars['http_port'], 80);
});

t.test('inventory: the same host in two files with the same settings is not a conflict', async (t) => {
  const dir = t.testdir({
    'a.yml': 'hosts: { nas: { port: 22, vars: { x: [1, 2] } } }\n',
    'b.yml': 'hosts: { nas: { port: 22, vars: { x: [1, 2] } } }\n',
  });
  const inv = await loadInventory([dir]);
  t.same(
    inv.hosts.map((h) => [h.name, h.port, h.vars]),
    [['nas', 22, { x: [1, 2] }]],
  );
});

t.test('inventory: an empty file is an empty inventory', async (t) => {
  const dir = t.testdir({ 'empty.yml': '# nothing yet\n' });
  const inv = await loadInventory([join(dir, 'empty.yml')]);
  t.same(inv.hosts, []);
  t.same(inv.groups, { all: [] });
  t.same(inv.select('all'), []);
});

t.test('inventory: ~/ in a key path is the home directory', async (t) => {
  const dir = t.testdir({ 'a.yml': 'hosts: { h: { identityFile: ~/.ssh/id_ed25519, knownHostsFile: /etc/ssh/kh } }\n' });
  const [host] = (await loadInventory([join(dir, 'a.yml')])).hosts;
  t.equal(host?.identityFile, join(homedir(), '.ssh/id_ed25519'));
  t.equal(host?.knownHostsFile, '/etc/ssh/kh');
});

t.test('inventory: YAML anchors and merge keys work', async (t) => {
  const dir = t.testdir({
    'a.yml': `
hosts:
  web1: &web { port: 2222, user: deploy }
  web2: { <<: *web, address: 10.0.0.2 }
`,
  });
  const inv = await loadInventory([join(dir, 'a.yml')]);
  t.same(
    inv.hosts.map((h) => [h.name, h.address, h.port, h.user]),
    [
      ['web1', 'web1', 2222, 'deploy'],
      ['web2', '10.0.0.2', 2222, 'deploy'],
    ],
  );
});

t.test('inventory: addresses may be hostnames, IPv4 or IPv6', async (t) => {
  const dir = t.testdir({
    'a.yml': `
hosts:
  a: { address: host.example.org }
  b: { address: 10.1.2.3 }
  c: { address: "2001:db8::1" }
  d: { address: "fe80::1%eth0" }
  e: { address: localhost }
`,
  });
  const inv = await loadInventory([join(dir, 'a.yml')]);
  t.same(
    inv.hosts.map((h) => h.address),
    ['host.example.org', '10.1.2.3', '2001:db8::1', 'fe80::1%eth0', 'localhost'],
  );
});

t.test('inventory: the example inventory is valid', async (t) => {
  const inv = await loadInventory([resolve(import.meta.dirname, '../inventory/example.yml')]);
  t.same(
    inv.select('fleet').map((h) => h.name),
    ['nix-build1.example.org', 'nix-web1', 'nix-web2'],
  );
  t.equal(inv.select('control')[0]?.connection, 'local');
});
