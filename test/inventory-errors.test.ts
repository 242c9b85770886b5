import { join, relative, resolve } from 'node:path';
import t from 'tap';
import { UsageError } from '../lib/errors.ts';
import { loadInventory } from '../lib/inventory/load.ts';
import { InventoryError } from '../lib/inventory/problems.ts';

const fixtures = resolve(import.meta.dirname, 'fixtures/inventory');
/** The file name as messages show it: relative to the working directory. */
const shown = (path: string) => relative(process.cwd(), path);

/** Load and return the error message; fails the test when loading succeeds. */
async function failure(paths: string[]): Promise<string> {
  try {
    await loadInventory(paths);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return error.message;
  }
  throw new Error(`expected ${paths.join(', ')} to be rejected`);
}

t.test('inventory: an out-of-range port names file, line, path, value and limit', async (t) => {
  const dir = t.testdir({ 'home.yml': 'hosts:\n  nas:\n    address: nas.lan\n    port: 70000\n' });
  const file = join(dir, 'home.yml');
  t.equal(await failure([file]), `${shown(file)}:4: hosts.nas.port: 70000 is not valid: must be <= 65535`);
});

t.test('inventory: every schema problem in a file is reported, in line order', async (t) => {
  const file = join(fixtures, 'bad.yml');
  const f = shown(file);
  t.equal(
    await failure([file]),
    [
      'the inventory has 7 problems:',
      `  ${f}:4: hosts.nas.port: 70000 is not valid: must be <= 65535`,
      `  ${f}:5: hosts.nas: unknown key 'prot' (did you mean 'port'?); expected one of: address, port, user, identityFile, knownHostsFile, connection, platform, nixos, vars`,
      `  ${f}:6: hosts.nas.connection: "sh" is not valid: must be one of: ssh, local`,
      `  ${f}:7: hosts: "b d" is not a valid name: must be a name of letters, digits, '.', '_' and '-' that does not start with '.' or '-' and is not only digits`,
      `  ${f}:9: hosts.web1.address: "not an address" is not valid: must be a hostname or an IP address`,
      `  ${f}:12: groups.web.hosts[1]: 4 is not valid: must be a string`,
      `  ${f}:13: unknown key 'foo'; expected one of: hosts, groups, vars`,
    ].join('\n'),
  );
});

t.test('inventory: the error is a UsageError that carries each problem', async (t) => {
  const file = join(fixtures, 'bad.yml');
  const error = await loadInventory([file]).catch((e: unknown) => e);
  t.type(error, InventoryError);
  t.type(error, UsageError);
  t.same((error as InventoryError).problems[0], {
    file: shown(file),
    line: 4,
    path: ['hosts', 'nas', 'port'],
    message: '70000 is not valid: must be <= 65535',
  });
});

t.test('inventory: wrong types are explained in YAML words', async (t) => {
  const dir = t.testdir({
    'a.yml': 'hosts:\n  web1: 3\n  web2: { port: "22", vars: [] }\ngroups: []\n',
  });
  const f = shown(join(dir, 'a.yml'));
  t.equal(
    await failure([join(dir, 'a.yml')]),
    [
      'the inventory has 4 problems:',
      `  ${f}:2: hosts.web1: 3 is not valid: must be a map or empty`,
      `  ${f}:3: hosts.web2.port: "22" is not valid: must be an integer`,
      `  ${f}:3: hosts.web2.vars: [] is not valid: must be a map`,
      `  ${f}:4: groups: [] is not valid: must be a map`,
    ].join('\n'),
  );
});

t.test('inventory: host names with dots are quoted in paths', async (t) => {
  const dir = t.testdir({ 'a.yml': 'hosts:\n  nas.home.lan:\n    platform: debian\n' });
  const f = shown(join(dir, 'a.yml'));
  t.equal(
    await failure([join(dir, 'a.yml')]),
    `${f}:3: hosts["nas.home.lan"].platform: "debian" is not valid: must be one of: el9, nixos, linux`,
  );
});

t.test('inventory: a YAML syntax error names the file and line', async (t) => {
  const dir = t.testdir({
    'broken.yml': 'hosts:\n  nas:\n    port: 22\n   user: admin\n',
    'dup.yml': 'hosts:\n  nas:\n  web:\n\n  # again\n  nas:\n',
  });
  const broken = await failure([join(dir, 'broken.yml')]);
  t.match(broken, new RegExp(`^${shown(join(dir, 'broken.yml'))}:4: YAML syntax error: `));
  t.equal(
    await failure([join(dir, 'dup.yml')]),
    `${shown(join(dir, 'dup.yml'))}:6: YAML syntax error: Map keys must be unique (nas appears twice)`,
  );
});

t.test('inventory: problems in several files are reported together', async (t) => {
  const dir = t.testdir({ 'a.yml': 'hosts: { a: { port: 0 } }\n', 'b.yml': 'hosts: { b: { user: "" } }\n' });
  const message = await failure([dir]);
  t.match(message, /^the inventory has 2 problems:\n/);
  t.match(message, `a.yml:1: hosts.a.port: 0 is not valid: must be >= 1`);
  t.match(message, `b.yml:1: hosts.b.user: "" is not valid: must not be empty`);
});

t.test('inventory: a group naming an unknown host or group points at the entry', async (t) => {
  const dir = t.testdir({
    'a.yml': `hosts:
  nas:
  web1:
groups:
  web:
    hosts: [web1, nsa, db]
  db:
    children: [nas, dbs]
`,
  });
  const f = shown(join(dir, 'a.yml'));
  t.equal(
    await failure([join(dir, 'a.yml')]),
    [
      'the inventory has 4 problems:',
      `  ${f}:6: groups.web.hosts[1]: unknown host 'nsa' (did you mean 'nas'?); hosts are defined under the top-level 'hosts'`,
      `  ${f}:6: groups.web.hosts[2]: 'db' is a group, not a host; list it under 'children'`,
      `  ${f}:8: groups.db.children[0]: 'nas' is a host, not a group; list it under 'hosts'`,
      `  ${f}:8: groups.db.children[1]: unknown group 'dbs' (did you mean 'db'?)`,
    ].join('\n'),
  );
});

t.test('inventory: a cycle in children is reported once, with its path', async (t) => {
  const dir = t.testdir({
    'a.yml': `hosts: { h: }
groups:
  a: { children: [b] }
  b: { children: [c] }
  c: { children: [a], hosts: [h] }
  self: { children: [self] }
`,
  });
  const f = shown(join(dir, 'a.yml'));
  t.equal(
    await failure([join(dir, 'a.yml')]),
    [
      'the inventory has 2 problems:',
      `  ${f}:5: groups.c.children[0]: groups form a cycle through 'children': a → b → c → a`,
      `  ${f}:6: groups.self.children[0]: groups form a cycle through 'children': self → self`,
    ].join('\n'),
  );
});

t.test('inventory: the same host with different settings in two files is a conflict', async (t) => {
  const dir = t.testdir({
    'a.yml': 'hosts:\n  nas:\n    port: 22\n    vars: { disks: [sda] }\n',
    'b.yml': 'hosts:\n  nas:\n    port: 2222\n    vars: { disks: [sdb] }\n',
  });
  const a = shown(join(dir, 'a.yml'));
  const b = shown(join(dir, 'b.yml'));
  t.equal(
    await failure([dir]),
    [
      'the inventory has 2 problems:',
      `  ${b}:3: hosts.nas.port: 2222 conflicts with 22 in ${a}:3`,
      `  ${b}:4: hosts.nas.vars.disks: ["sdb"] conflicts with ["sda"] in ${a}:4`,
    ].join('\n'),
  );
});

t.test('inventory: top-level and group vars conflict across files too', async (t) => {
  const dir = t.testdir({
    'a.yml': 'vars: { tz: UTC }\nhosts: { h: }\ngroups: { g: { hosts: [h], vars: { x: 1 } } }\n',
    'b.yml': 'vars: { tz: CET }\ngroups: { g: { vars: { x: 2 } } }\n',
  });
  const message = await failure([dir]);
  t.match(message, `b.yml:1: vars.tz: "CET" conflicts with "UTC" in ${shown(join(dir, 'a.yml'))}:1`);
  t.match(message, `b.yml:2: groups.g.vars.x: 2 conflicts with 1 in ${shown(join(dir, 'a.yml'))}:3`);
});

t.test('inventory: group names may not be host names, and all is reserved', async (t) => {
  const dir = t.testdir({
    'a.yml': 'hosts:\n  nas:\n  all:\ngroups:\n  nas: { hosts: [nas] }\n  all: { vars: { x: 1 } }\n',
  });
  const f = shown(join(dir, 'a.yml'));
  t.equal(
    await failure([join(dir, 'a.yml')]),
    [
      'the inventory has 4 problems:',
      `  ${f}:3: hosts.all: 'all' is reserved for the group of every host; rename this host`,
      `  ${f}:5: groups.nas: group 'nas' has the same name as a host (${f}:2); rename one so host patterns are unambiguous`,
      `  ${f}:6: groups.all: 'all' is the implicit group of every host and cannot be defined; put its vars under the top-level 'vars'`,
      `  ${f}:6: groups.all: group 'all' has the same name as a host (${f}:3); rename one so host patterns are unambiguous`,
    ].join('\n'),
  );
});

t.test('inventory: a TypeScript inventory is validated too, without line numbers', async (t) => {
  const file = join(fixtures, 'typo.ts');
  t.equal(
    await failure([file]),
    `${shown(file)}: hosts.web1: unknown key 'adress' (did you mean 'address'?); expected one of: address, port, user, identityFile, knownHostsFile, connection, platform, nixos, vars`,
  );
  const noDefault = join(fixtures, 'no-default.ts');
  t.equal(
    await failure([noDefault]),
    `${shown(noDefault)}: has no default export: write \`export default inventory({ hosts: { ... } })\``,
  );
});

t.test('inventory: paths that are not inventories are usage errors', async (t) => {
  const dir = t.testdir({ empty: {}, 'hosts.ini': '[web]\n' });
  t.equal(await failure([join(dir, 'missing.yml')]), `${join(dir, 'missing.yml')}: no such file or directory`);
  t.equal(await failure([join(dir, 'empty')]), `${join(dir, 'empty')}: directory has no .yml or .yaml files`);
  t.match(await failure([join(dir, 'hosts.ini')]), /hosts\.ini: is not an inventory: expected a \.yml or \.yaml file/);
  t.equal(await failure([]), 'no inventory given: pass -i with a file or directory');
});

t.test('inventory: a file that is not a map says so', async (t) => {
  const dir = t.testdir({ 'a.yml': '- web1\n- web2\n' });
  t.equal(await failure([join(dir, 'a.yml')]), `${shown(join(dir, 'a.yml'))}:1: ["web1","web2"] is not valid: must be a map`);
});
