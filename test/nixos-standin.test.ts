import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { HostEntry } from '../lib/inventory/types.ts';
import { quote } from '../lib/shell/quote.ts';
import { file } from '../modules/index.ts';
import { hosts } from './hosts/index.ts';
import { runPlay } from './support/play.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// The NixOS apply path on an el9-like test host that pretends to be NixOS.
// No real NixOS host runs here: `nixos-rebuild`, `nix-env` and each system's
// `bin/switch-to-configuration` are stand-in scripts. They keep a system
// profile with numbered generations under /nix/var/nix/profiles, "build" a
// system under /nix/store from the configuration they are pointed at, and
// "activate" one by pointing /run/current-system at it. A system built from
// a configuration holding `hostform-test-lockout` turns the run's login user
// away when activated (DenyUsers in sshd, as a bad sshd or firewall setting
// would); `hostform-test-cut` also kills that user's sessions, the run's own
// connection included; `hostform-test-activation-fails` fails to activate.
// Activating any other system takes such settings away again. This proves
// the engine's order and the host-side return (build, arm, activate, confirm
// by a new login, or return alone), with real systemd timers and real sshd,
// not that NixOS accepts the module: test/nixos-eval.test.ts does that.

const [h] = await hosts.up(1, 'el9');
t.teardown(() => hosts.down());
if (!h) throw new Error('no test host');
/** The run logs in as admin (sudo), so a lockout of admin leaves the harness's root login working. */
const entry = (nixos: HostEntry['nixos'] = {}): HostEntry => ({ ...h.inventoryEntry(), user: 'admin', platform: 'nixos', nixos: { confirmSeconds: 15, ...nixos } });

const SWITCH_TO_CONFIGURATION = `#!/bin/sh
self=$(dirname "$(dirname "$(readlink -f "$0")")")
echo "switch-to-configuration $self $*" >> /var/log/nixos-standin.calls
[ "$1" = switch ] || exit 0
if grep -q hostform-test-activation-fails "$self/configuration"; then echo 'warning: the following units failed: app.service' >&2; exit 4; fi
ln -sfn "$self" /run/current-system
if grep -q 'hostform-test-\\(lockout\\|cut\\)' "$self/configuration"; then
  echo 'DenyUsers admin' > /etc/ssh/sshd_config.d/00-standin-lockout.conf
else
  rm -f /etc/ssh/sshd_config.d/00-standin-lockout.conf
fi
systemctl reload ssh
if grep -q hostform-test-cut "$self/configuration"; then pkill -KILL -u admin; fi
exit 0
`;

const NIXOS_REBUILD = `#!/bin/sh
echo "$*" >> /var/log/nixos-rebuild.calls
case "$1" in
  dry-activate) echo "would restart the following units: sshd.service"; exit 0 ;;
  build) ;;
  *) exit 0 ;;
esac
if [ -e /etc/nixos/fail ]; then echo "error: attribute 'nope' missing" >&2; exit 1; fi
config=/etc/nixos/configuration.nix
for arg in "$@"; do case "$arg" in nixos-config=*) config=\${arg#nixos-config=} ;; esac; done
n=$(($(cat /nix/var/standin-builds) + 1)); echo $n > /nix/var/standin-builds
out=/nix/store/standin-$n-system
mkdir -p $out/bin && cp /usr/local/lib/standin/switch-to-configuration $out/bin/
# The "system" holds what it was built from: the configuration and every module beside it.
cat "$config" $(dirname "$config")/hostform/*.nix > $out/configuration 2>/dev/null
echo "$config" > $out/built-from
ln -sfn $out result
`;

const NIX_ENV = `#!/bin/sh
echo "nix-env $*" >> /var/log/nixos-standin.calls
profile=/nix/var/nix/profiles/system op=
while [ $# -gt 0 ]; do
  case "$1" in
    -p) profile=$2; shift 2 ;;
    --set) op=set target=$2; shift 2 ;;
    --switch-generation) op=switch gen=$2; shift 2 ;;
    --list-generations) op=list; shift ;;
    *) shift ;;
  esac
done
dir=$(dirname $profile) name=$(basename $profile)
numbers() { ls $dir | sed -n "s/^$name-\\([0-9]*\\)-link$/\\1/p" | sort -n; }
current=$(readlink $profile | sed "s/^$name-\\([0-9]*\\)-link$/\\1/")
case $op in
  list) for n in $(numbers); do if [ $n = "$current" ]; then echo "  $n   2026-11-20 10:00:01   (current)"; else echo "  $n   2026-11-20 10:00:01"; fi; done ;;
  set) n=$(($(numbers | tail -1) + 1)); ln -sfn $target $dir/$name-$n-link && ln -sfn $name-$n-link $profile ;;
  switch) [ -e $dir/$name-$gen-link ] || { echo "error: generation $gen does not exist" >&2; exit 1; }; ln -sfn $name-$gen-link $profile ;;
esac
`;

const CONFIGURATION = '{ config, pkgs, ... }:\n\n{\n  imports =\n    [ ./hardware-configuration.nix\n    ];\n  networking.hostName = "standin";\n}\n';

const root = async (script: string) => {
  const r = await h.exec(script, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${script}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
};

await root(
  [
    'mkdir -p /etc/nixos /usr/local/lib/standin /nix/var/nix/profiles',
    `printf '%s' ${quote(CONFIGURATION)} > /etc/nixos/configuration.nix`,
    `printf '%s' ${quote(SWITCH_TO_CONFIGURATION)} > /usr/local/lib/standin/switch-to-configuration`,
    `printf '%s' ${quote(NIXOS_REBUILD)} > /usr/local/bin/nixos-rebuild`,
    `printf '%s' ${quote(NIX_ENV)} > /usr/local/bin/nix-env`,
    'chmod +x /usr/local/lib/standin/switch-to-configuration /usr/local/bin/nixos-rebuild /usr/local/bin/nix-env',
    // Two generations to start with, the later one running.
    'for n in 41 42; do mkdir -p /nix/store/standin-$n-system/bin && cp /usr/local/lib/standin/switch-to-configuration /nix/store/standin-$n-system/bin/ && echo "generation $n" > /nix/store/standin-$n-system/configuration && ln -sfn /nix/store/standin-$n-system /nix/var/nix/profiles/system-$n-link; done',
    'ln -sfn system-42-link /nix/var/nix/profiles/system && ln -sfn /nix/store/standin-42-system /run/current-system && echo 42 > /nix/var/standin-builds',
  ].join(' && '),
);

const rebuildCalls = async () => (await h.exec('cat /var/log/nixos-rebuild.calls 2>/dev/null; rm -f /var/log/nixos-rebuild.calls')).stdout;
const standinCalls = async () => (await h.exec('cat /var/log/nixos-standin.calls 2>/dev/null; rm -f /var/log/nixos-standin.calls')).stdout;
const tree = async () => (await h.exec('cd /etc/nixos && find . -type f | sort | xargs sha256sum')).stdout;
const running = async () => (await root('readlink /run/current-system')).trim();
const profile = async () => (await root('readlink /nix/var/nix/profiles/system')).trim();
const revertTimer = async () => (await root('systemctl is-active hostform-revert-nixos-switch.timer || true')).trim();
/** A brand-new login as the run's user, as the next run would make. */
const adminGetsIn = async () => (await h.exec('echo in', { user: 'admin', timeoutMs: 30_000 })).stdout === 'in\n';

/** Waits (at most `seconds`) until the host runs `system` and has no armed return, as it must after returning by itself. */
async function waitForReturn(system: string, seconds: number): Promise<void> {
  for (let waited = 0; waited < seconds; waited += 1) {
    if ((await running()) === system && (await revertTimer()) !== 'active' && (await root('systemctl is-active hostform-revert-nixos-switch.service || true')).trim() !== 'active') return;
    await sleep(1000);
  }
}

const tasks = [file({ path: '/etc/motd', content: 'managed by hostform\n' }, { name: 'motd' }), file({ path: '/srv/data', state: 'directory', mode: '0750' }, { name: 'data dir' })];

t.test('nixos stand-in: check mode previews with dry-activate on a private copy and leaves /etc/nixos alone', async (t) => {
  const before = await tree();
  const report = await runTasks(entry(), tasks, 'check');
  t.equal(report.exitCode, 2, errors(report));
  t.same(statuses(report), ['changed', 'changed', 'changed']);
  const closing = tasksOf(report)[2];
  t.match(closing?.name, /^nixos-rebuild switch \(\/etc\/nixos\/hostform\/test\.nix\)$/);
  t.match(JSON.stringify(closing?.changes), /would restart the following units: sshd\.service/);
  t.match(JSON.stringify(closing?.changes), /unless hostform logs in anew and confirms within 15 s, the host switches back to generation 42 by itself/);
  t.match(JSON.stringify(tasksOf(report)[0]?.changes), /managed by hostform/, 'each task shows its own block');
  t.equal(await tree(), before, 'no byte under /etc/nixos changed');
  t.match(await rebuildCalls(), /^dry-activate -I nixos-config=\/run\/hostform\/hostform\.\w{8}\/configuration\.nix\n$/);
  t.equal(await root('ls -d /run/hostform/hostform.* 2>/dev/null || true'), '', 'the private copy was removed');
});

t.test('nixos stand-in: apply builds the configuration check mode checked, activates it, confirms with a new login and keeps it', async (t) => {
  const report = await runTasks(entry(), tasks, 'apply');
  t.equal(report.exitCode, 0, errors(report));
  t.equal(await rebuildCalls(), 'build -I nixos-config=/etc/nixos/configuration.nix\n');
  t.equal(await standinCalls(), 'nix-env -p /nix/var/nix/profiles/system --set /nix/store/standin-43-system\nswitch-to-configuration /nix/store/standin-43-system switch\n');
  t.equal(await running(), '/nix/store/standin-43-system');
  t.equal(await profile(), 'system-43-link');
  t.not(await revertTimer(), 'active', 'the return was disarmed');
  t.equal((await root('ls -A /var/lib/hostform/revert')).trim(), '', 'and its script and file copies are gone');
  t.match(await root('cat /etc/nixos/hostform/test.nix'), /# hostform task: motd\n[\s\S]*motd = \{\n\s+text = "managed by hostform\\n";/);
  t.match(await root('cat /etc/nixos/hostform/default.nix'), /\.\/test\.nix/);
  t.match(await root('cat /etc/nixos/configuration.nix'), /\[\n    \.\/hostform \.\/hardware-configuration\.nix/);
  t.match(await root('cat /nix/store/standin-43-system/configuration'), /managed by hostform/, 'the system was built from the module hostform wrote');

  const again = await runTasks(entry(), tasks, 'apply');
  t.same(statuses(again), ['ok', 'ok', 'ok'], 'a second run changes nothing');
  t.equal(await rebuildCalls(), '', 'and does not rebuild');
});

t.test('nixos stand-in: apply builds the configuration the inventory names, not the host default', async (t) => {
  await root(`mkdir -p /etc/nixos/hosts && printf '%s' ${quote(CONFIGURATION.replace('./hardware-configuration.nix', '../hardware-configuration.nix'))} > /etc/nixos/hosts/standin.nix`);
  const custom = entry({ configuration: '/etc/nixos/hosts/standin.nix' });
  const report = await runTasks(custom, [file({ path: '/etc/issue', content: 'from hosts/standin.nix\n' }, { name: 'issue' })], 'apply', { name: 'custom' });
  t.equal(report.exitCode, 0, errors(report));
  t.equal(await rebuildCalls(), 'build -I nixos-config=/etc/nixos/hosts/standin.nix\n');
  t.equal(await root(`cat ${await running()}/built-from`), '/etc/nixos/hosts/standin.nix\n', 'the running system was built from it');
  t.match(await root(`cat ${await running()}/configuration`), /from hosts\/standin\.nix/);
  await standinCalls();
});

t.test('nixos stand-in: a failed build changes nothing: the files are restored and nothing is activated', async (t) => {
  const before = await tree();
  const system = await running();
  await root('touch /etc/nixos/fail');
  const report = await runTasks(entry(), [file({ path: '/etc/motd', content: 'changed\n' }, { name: 'motd' }), tasks[1]!], 'apply');
  await root('rm -f /etc/nixos/fail');
  t.equal(report.exitCode, 1);
  t.match(errors(report), /attribute 'nope' missing[\s\S]*nothing was activated: the previous generation is still active and hostform restored the files/);
  t.equal(await tree(), before);
  t.equal(await running(), system);
  t.equal(await standinCalls(), '', 'no profile change, no activation');
  t.not(await revertTimer(), 'active');
  await rebuildCalls();
});

t.test('nixos stand-in: an activation that fails is switched back at once, files included', async (t) => {
  const before = await tree();
  const [system, generation] = [await running(), await profile()];
  const report = await runTasks(entry(), [file({ path: '/etc/motd', content: 'hostform-test-activation-fails\n' }, { name: 'motd' }), tasks[1]!], 'apply');
  t.equal(report.exitCode, 1);
  t.match(errors(report), new RegExp(`units failed: app\\.service[\\s\\S]*activating /nix/store/standin-\\d+-system failed: hostform switched back to generation ${generation.match(/\d+/)?.[0]} and restored the files`));
  t.equal(await running(), system, 'the previous system runs');
  t.equal(await profile(), generation, 'and is the current generation');
  t.equal(await tree(), before, 'the files describe it');
  t.not(await revertTimer(), 'active', 'nothing is left armed');
  await Promise.all([rebuildCalls(), standinCalls()]);
});

t.test('nixos stand-in: a switch that locks the run out is not confirmed, and the host switches back by itself', async (t) => {
  const before = await tree();
  const [system, generation] = [await running(), await profile()];
  const started = Date.now();
  const lockout = [file({ path: '/etc/motd', content: 'hostform-test-lockout\n' }, { name: 'motd' }), tasks[1]!];
  const report = await runTasks(entry(), lockout, 'apply');
  t.equal(report.exitCode, 1);
  t.match(errors(report), /after activating \/nix\/store\/standin-\d+-system, a new login to the host failed[\s\S]*hostform does not confirm it, so the host switches back to generation \d+, and the files as they were, by itself 15 s after/);
  t.not(await running(), system, 'the new system was activated');
  t.notOk(await adminGetsIn(), 'and it turns the run user away');
  t.equal(await revertTimer(), 'active', 'the return is armed');

  await waitForReturn(system, 40);
  t.ok(Date.now() - started >= 15_000, 'not before the deadline');
  t.equal(await running(), system, 'the host runs the previous system again');
  t.equal(await profile(), generation, 'which is the current generation again');
  t.equal(await tree(), before, 'the files describe it');
  t.ok(await adminGetsIn(), 'the run user gets in again');
  t.equal((await root('ls -A /var/lib/hostform/revert')).trim(), '', 'nothing is left of the return');
  await Promise.all([rebuildCalls(), standinCalls()]);

  const next = await runTasks(entry(), lockout, 'check');
  t.equal(next.exitCode, 2, `the next run sees the change still to make: ${errors(next)}`);
  await rebuildCalls();
});

t.test('nixos stand-in: a switch that cuts the run off while activating is returned from by the host alone', async (t) => {
  const before = await tree();
  const [system, generation] = [await running(), await profile()];
  const report = await runTasks(entry(), [file({ path: '/etc/motd', content: 'hostform-test-cut\n' }, { name: 'motd' }), tasks[1]!], 'apply');
  t.equal(report.exitCode, 1);
  t.match(errors(report), /lost the connection[\s\S]*the connection broke while activating \/nix\/store\/standin-\d+-system: unless hostform confirms, the host switches back to generation \d+, and the files as they were, by itself 600 s after/);
  t.equal(await revertTimer(), 'active', 'the return is armed for the activation deadline');
  t.notOk(await adminGetsIn(), 'the run user is locked out');
  // The activation deadline is ten minutes: start the armed return now, as its timer would then.
  await root('systemctl start hostform-revert-nixos-switch.service');
  await waitForReturn(system, 30);
  t.equal(await running(), system, 'the host runs the previous system again');
  t.equal(await profile(), generation);
  t.equal(await tree(), before, 'the files describe it');
  t.ok(await adminGetsIn(), 'the run user gets in again');
  await root('systemctl stop hostform-revert-nixos-switch.timer || true');
  await Promise.all([rebuildCalls(), standinCalls()]);
});

t.test('nixos stand-in: a run while a return is still armed changes nothing and says why', async (t) => {
  await root("systemd-run --quiet --unit=hostform-revert-nixos-switch --on-active=300s /bin/true");
  t.teardown(() => root('systemctl stop hostform-revert-nixos-switch.timer; systemctl reset-failed hostform-revert-nixos-switch.timer hostform-revert-nixos-switch.service 2>/dev/null; true'));
  const report = await runTasks(entry(), [file({ path: '/etc/motd', content: 'anything\n' }, { name: 'motd' })], 'apply');
  t.equal(report.exitCode, 1);
  t.match(errors(report), /an earlier switch on this host is still waiting to be confirmed, or to be switched back by the host/);
  t.equal(await rebuildCalls(), '');
});

t.test('nixos stand-in: play rollback switches a nixos host back to its previous generation', async (t) => {
  const inventory = join(t.testdirName, 'inventory.yml');
  await mkdir(t.testdirName, { recursive: true });
  const host = { ...h.inventoryEntry(), platform: 'nixos' };
  await writeFile(inventory, `hosts:\n  standin:\n${Object.entries(host).map(([k, v]) => `    ${k}: ${v}\n`).join('')}`);
  const current = Number((await profile()).match(/\d+/)?.[0]);
  const check = await runPlay(['rollback', '-i', inventory, '--check']);
  t.equal(check.code, 2);
  t.match(check.stderr, `switch from generation ${current} to ${current - 1}`);
  t.equal(await rebuildCalls(), '', 'check mode did not roll back');
  const result = await runPlay(['rollback', '-i', inventory]);
  t.equal(result.code, 0, result.stderr);
  t.equal(await rebuildCalls(), 'switch --rollback\n');
});
