import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasNix } from '../support/nix.ts';
import t, { type Test } from 'tap';
import type { HostView } from '../../lib/module/types.ts';
import { moduleBlocks, moduleFileName, parseModuleBlocks, renderDefaultNix, renderModule, withImport } from '../../lib/nixos/module-file.ts';
import { NixExpr } from '../../lib/nixos/value.ts';
import { file } from '../../modules/index.ts';
import type { WantedPath } from '../../modules/file/params.ts';
import { nixosFile } from '../../modules/file/nixos.ts';

const dir = mkdtempSync(join(tmpdir(), 'hostform-nix-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Every module rendered in these tests must parse as Nix (CI installs nix-bin for this). */
function assertParses(t: Test, text: string, name: string): void {
  if (!hasNix) return;
  const path = join(dir, `${name}.nix`);
  writeFileSync(path, text);
  t.doesNotThrow(() => execFileSync('nix-instantiate', ['--parse', path], { stdio: 'pipe' }), `${name} parses with nix-instantiate --parse`);
}

const host = { name: 'nix1', groups: ['all'], vars: {}, facts: { platform: 'nixos' } } as unknown as HostView;
const render = (params: Parameters<typeof file>[0]) => {
  const task = file(params);
  return nixosFile.render(task.module.resolve(task.params, host) as WantedPath, host);
};

t.test('nixos: a play module holds one marked block per task, and reading it back finds each block', async (t) => {
  const blocks = moduleBlocks([
    { name: 'packages', fragment: { environment: { systemPackages: [NixExpr.pkgs('htop'), NixExpr.pkgs('python3Packages.requests')] } } },
    { name: 'motd', fragment: render({ path: '/etc/motd', content: 'Hello ${user} "x"\n', mode: '0644' }) },
    { name: 'motd', fragment: render({ path: '/srv/data', state: 'directory', mode: '0750', owner: 'alice' }) },
  ]);
  t.same(blocks.map((b) => b.key), ['packages', 'motd', 'motd #2'], 'repeated names get a number');
  const text = renderModule('Home server', blocks);
  assertParses(t, text, 'module');
  const parsed = parseModuleBlocks(text);
  t.same([...parsed.keys()], ['packages', 'motd', 'motd #2']);
  for (const b of blocks) t.equal(parsed.get(b.key), b.text, `block ${b.key} reads back byte for byte`);
  t.equal(renderModule('Home server', blocks), text, 'rendering twice gives the same bytes');
  t.equal(moduleFileName('Home server'), 'home-server.nix');
});

t.test('nixos: files under /etc become environment.etc, others tmpfiles rules', async (t) => {
  t.same(render({ path: '/etc/ssh/banner', content: 'hi\n', mode: '0644', owner: 'root' }), {
    environment: { etc: { 'ssh/banner': { text: 'hi\n', mode: '0644', user: 'root' } } },
  });
  t.same(render({ path: '/srv/app/config', content: 'a=1\n50%\n' }), { systemd: { tmpfiles: { rules: ['f+ /srv/app/config - - - - a=1\\n50%%\\n'] } } });
  t.same(render({ path: '/srv/my dir', state: 'directory', mode: '0750' }), { systemd: { tmpfiles: { rules: ['d /srv/my\\x20dir 0750 - - -'] } } });
  t.same(render({ path: '/usr/local/bin/app', state: 'link', target: '/opt/app' }), { systemd: { tmpfiles: { rules: ['L+ /usr/local/bin/app - - - - /opt/app'] } } });
  t.same(render({ path: '/var/old', state: 'absent' }), { systemd: { tmpfiles: { rules: ['R /var/old'] } } });
  t.same(render({ path: '/etc/owned.conf', content: 'x\n', owner: 'nobody' }), { environment: { etc: { 'owned.conf': { text: 'x\n', mode: '0644', user: 'nobody' } } } }, 'an owner alone makes a copy (NixOS ignores the owner of a store link)');
  t.same(render({ path: '/srv/pad', content: '  two leading, one trailing \n ' }), { systemd: { tmpfiles: { rules: ['f+ /srv/pad - - - - \\x20\\x20two leading, one trailing \\n\\x20'] } } }, 'spaces at either end survive tmpfiles stripping its fields');
  t.throws(() => render({ path: '/etc/blob', content: Buffer.from([0, 255]) }), /binary content/);
  // The whole of a secret file's rendering is in test/unit/nixos-secrets.test.ts.
  t.notMatch(JSON.stringify(render({ path: '/etc/token', content: 'hunter2', secret: true })), /hunter2/, 'a secret file renders a link to its copy outside the store, never its content');
});

t.test('nixos: default.nix imports every play module, sorted, never itself', async (t) => {
  const text = renderDefaultNix(['web.nix', 'default.nix', 'base.nix', 'web.nix', 'notes.txt']);
  t.match(text, /imports = \[\n    \.\/base\.nix\n    \.\/web\.nix\n  \];/);
  assertParses(t, text, 'default');
});

t.test('nixos: the import line is added once, into the shape configuration.nix has', async (t) => {
  const stock = '# Edit this configuration file\n{ config, pkgs, ... }:\n\n{\n  imports =\n    [ # Include the results of the hardware scan.\n      ./hardware-configuration.nix\n    ];\n\n  boot.loader.grub.enable = true;\n}\n';
  const patched = withImport(stock, './hostform');
  t.match(patched, /imports =\n    \[\n    \.\/hostform # Include/);
  t.equal(withImport(patched!, './hostform'), patched, 'a second run adds nothing');
  assertParses(t, patched!, 'stock');

  const bare = '{ config, pkgs, ... }:\n{\n  networking.hostName = "a";\n}\n';
  const bareFixed = withImport(bare, './hostform');
  t.match(bareFixed, /^\{ config, pkgs, \.\.\. \}:\n\{\n  imports = \[ \.\/hostform \];\n/);
  assertParses(t, bareFixed!, 'bare');

  t.equal(withImport('{ imports = [ ./hostform/ ]; }', './hostform'), '{ imports = [ ./hostform/ ]; }', 'a trailing slash counts');
  t.equal(withImport('let x = 1; in x', './hostform'), undefined, 'an unknown shape is left to the user');
});
