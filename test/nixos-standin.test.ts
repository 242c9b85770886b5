import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { quote } from '../lib/shell/quote.ts';
import { file } from '../modules/index.ts';
import { hosts } from './hosts/index.ts';
import { runPlay } from './support/play.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// The NixOS apply path's CONTROL FLOW only, on an el9-like test host that
// pretends to be NixOS: `nixos-rebuild` and `nix-env` are stand-in scripts
// that log how they were called. This proves the engine's order (upload,
// import line, one switch, restore on failure, rollback), not that NixOS
// accepts the module — the Nix tests in test/unit and test/nixos-eval do that.

const [h] = await hosts.up(1, 'el9');
t.teardown(() => hosts.down());
if (!h) throw new Error('no test host');
const entry = { ...h.inventoryEntry(), platform: 'nixos' as const };

const STANDIN = `#!/bin/sh
echo "$*" >> /var/log/nixos-rebuild.calls
case "$1" in
  dry-activate) echo "would restart the following units: sshd.service"; exit 0 ;;
  switch|boot) if [ -e /etc/nixos/fail ]; then echo "error: attribute 'nope' missing" >&2; exit 1; fi ;;
esac
`;
const NIX_ENV = `#!/bin/sh
printf '  41   2026-11-20 10:00:01   \\n  42   2026-11-21 10:00:01   (current)\\n'
`;
const CONFIGURATION = '{ config, pkgs, ... }:\n\n{\n  imports =\n    [ ./hardware-configuration.nix\n    ];\n  networking.hostName = "standin";\n}\n';

await h.exec(
  [
    'mkdir -p /etc/nixos',
    `printf '%s' ${quote(CONFIGURATION)} > /etc/nixos/configuration.nix`,
    `printf '%s' ${quote(STANDIN)} > /usr/local/bin/nixos-rebuild`,
    `printf '%s' ${quote(NIX_ENV)} > /usr/local/bin/nix-env`,
    'chmod +x /usr/local/bin/nixos-rebuild /usr/local/bin/nix-env',
  ].join(' && '),
);
const calls = async () => (await h.exec('cat /var/log/nixos-rebuild.calls 2>/dev/null')).stdout;
const tree = async () => (await h.exec('cd /etc/nixos && find . -type f | sort | xargs sha256sum')).stdout;

const tasks = [
  file({ path: '/etc/motd', content: 'managed by hostform\n' }, { name: 'motd' }),
  file({ path: '/srv/data', state: 'directory', mode: '0750' }, { name: 'data dir' }),
];

t.test('check mode previews with dry-activate on a copy and leaves /etc/nixos alone', async (t) => {
  const before = await tree();
  const report = await runTasks(entry, tasks, 'check');
  t.equal(report.exitCode, 2, errors(report));
  t.same(statuses(report), ['changed', 'changed', 'changed']);
  const closing = tasksOf(report)[2];
  t.match(closing?.name, /^nixos-rebuild switch \(\/etc\/nixos\/hostform\/test\.nix\)$/);
  t.match(JSON.stringify(closing?.changes), /would restart the following units: sshd\.service/);
  t.match(JSON.stringify(tasksOf(report)[0]?.changes), /managed by hostform/, 'each task shows its own block');
  t.equal(await tree(), before, 'no byte under /etc/nixos changed');
  t.match(await calls(), /^dry-activate -I nixos-config=\/tmp\/hostform-nixos\.\w+\/configuration\.nix\n$/);
  t.equal((await h.exec('ls -d /tmp/hostform-nixos.* 2>/dev/null | wc -l')).stdout.trim(), '0', 'the copy was removed');
});

t.test('apply writes the module, default.nix and the import line, then switches once', async (t) => {
  await h.exec('rm -f /var/log/nixos-rebuild.calls');
  const report = await runTasks(entry, tasks, 'apply');
  t.equal(report.exitCode, 0, errors(report));
  t.equal(await calls(), 'switch\n');
  t.match((await h.exec('cat /etc/nixos/hostform/test.nix')).stdout, /# hostform task: motd\n[\s\S]*motd = \{\n\s+text = "managed by hostform\\n";/);
  t.match((await h.exec('cat /etc/nixos/hostform/default.nix')).stdout, /\.\/test\.nix/);
  t.match((await h.exec('cat /etc/nixos/configuration.nix')).stdout, /\[\n    \.\/hostform \.\/hardware-configuration\.nix/);

  await h.exec('rm -f /var/log/nixos-rebuild.calls');
  const again = await runTasks(entry, tasks, 'apply');
  t.same(statuses(again), ['ok', 'ok', 'ok'], 'a second run changes nothing');
  t.equal(await calls(), '', 'and does not rebuild');
});

t.test('a failed rebuild restores the files, so they describe the generation still running', async (t) => {
  const before = await tree();
  await h.exec('touch /etc/nixos/fail');
  const report = await runTasks(entry, [file({ path: '/etc/motd', content: 'changed\n' }, { name: 'motd' }), tasks[1]!], 'apply');
  t.equal(report.exitCode, 1);
  t.match(errors(report), /attribute 'nope' missing[\s\S]*previous generation is still active/);
  await h.exec('rm -f /etc/nixos/fail');
  t.equal(await tree(), before);
});

t.test('play rollback switches a nixos host back to its previous generation', async (t) => {
  await h.exec('rm -f /var/log/nixos-rebuild.calls');
  const inventory = join(t.testdirName, 'inventory.yml');
  await mkdir(t.testdirName, { recursive: true });
  await writeFile(inventory, `hosts:\n  standin:\n${Object.entries(entry).map(([k, v]) => `    ${k}: ${v}\n`).join('')}`);
  const check = await runPlay(['rollback', '-i', inventory, '--check']);
  t.equal(check.code, 2);
  t.match(check.stderr, /switch from generation 42 to 41/);
  t.equal(await calls(), '', 'check mode did not roll back');
  const result = await runPlay(['rollback', '-i', inventory]);
  t.equal(result.code, 0, result.stderr);
  t.equal(await calls(), 'switch --rollback\n');
});
