import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { hosts, type TestHost } from './hosts/index.ts';
import { exec, git, packHostform, siteLock, startGitDaemon, startNpmMirror, writeFiles, type GitDaemon, type NpmMirror } from './support/fleet.ts';

// Pull mode on el9-like test hosts (issue 16). The control machine serves a site repository over
// git:// and an npm registry mirror on the test bridge (test/support/fleet.ts says why a mirror);
// hostform is the package `npm pack` makes of this checkout. The hosts are set up by a push of the
// site's own playbook, which applies roles/pull to them; from then on they converge by themselves,
// on a timer shortened to one minute (5 s random delay).

const INTERVAL_S = 60;
const DELAY_S = 5;
/** The longest a pushed commit may take to be applied: one interval, its random delay, and time for the pull itself. */
const WITHIN_MS = (INTERVAL_S + DELAY_S + 40) * 1000;
const TEXTFILE = '/var/lib/node_exporter/textfile_collector/hostform_pull.prom';

const dir = mkdtempSync(join(tmpdir(), 'hostform-fleet-pull-'));
const site = join(dir, 'site');
const served = join(dir, 'served');
let fleet: TestHost[];
let daemon: GitDaemon;
let mirror: NpmMirror;
let signer: string;
let stranger: string;

t.teardown(async () => {
  await mirror?.close();
  await daemon?.close();
  await hosts.down();
  rmSync(dir, { recursive: true, force: true });
});

/** The site's playbook: the pull role for every host (only signed commits; check only on hosts with checkOnly), a motd from the repository, a slow task on hosts with slow. */
const PLAYBOOK = (repo: string, signers: string) => `import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { playbook, role } from 'hostform';
import { command, file } from 'hostform/modules';
import { pull } from 'hostform/roles';

const project = fileURLToPath(new URL('..', import.meta.url));
const sitePull = role('site-pull', (_: void, host) => [
  pull({
    repo: ${JSON.stringify(repo)},
    playbook: 'playbooks/site.ts',
    intervalMinutes: ${INTERVAL_S / 60},
    randomizedDelaySeconds: ${DELAY_S},
    installTools: false,
    allowedSigners: ${JSON.stringify(signers)},
    checkOnlyIfUnchanged: host.vars['checkOnly'] === true,
    project,
  }),
]);

export default playbook({
  name: 'site',
  hosts: 'all',
  roles: [sitePull()],
  tasks: [
    file({ path: '/etc/motd', content: readFileSync(new URL('../motd.txt', import.meta.url), 'utf8') }),
    command({ shell: 'echo "start $PPID" >>/root/runs; sleep 5; echo "end $PPID" >>/root/runs' }, { name: 'slow', when: (host) => host.vars['slow'] === true }),
  ],
});
`;

/** Commit everything in the site (signed with `key`, or unsigned) and push it to the served repository; the new commit. */
function publish(message: string, key: string | undefined): string {
  git(site, ['add', '-A']);
  git(site, ['-c', 'user.name=Site Admin', '-c', 'user.email=admin@example.org', ...(key ? ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key}`, 'commit', '-S'] : ['commit']), '-q', '-m', message]);
  git(site, ['push', '-q', join(served, 'site.git'), 'main']);
  return git(site, ['rev-parse', 'HEAD']);
}

/** The metrics of a host's last pull: `name{labels}` → value. */
async function metricsOf(h: TestHost): Promise<Map<string, number>> {
  const text = (await h.exec(`cat ${TEXTFILE} 2>/dev/null`)).stdout;
  return new Map(text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));
}

async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`waited ${ms / 1000} s for ${what}`);
    await sleep(2000);
  }
}

const motdOf = async (h: TestHost) => (await h.exec('cat /etc/motd')).stdout;
/** A pull now, as the timer would start it: `systemctl start` of the oneshot service returns when it has run. */
const pullNow = async (h: TestHost) => void (await h.exec('systemctl start hostform-pull.service'));
const journal = async (h: TestHost) => (await h.exec('journalctl -t hostform-pull --no-pager -o cat')).stdout;

t.before(async () => {
  fleet = await hosts.up(3, 'el9');
  const packed = packHostform(dir);
  const lock = siteLock(packed);
  mirror = await startNpmMirror(packed, lock);
  mkdirSync(served);
  daemon = await startGitDaemon(served);
  for (const name of ['signer', 'stranger']) {
    const made = await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
    if (made.code !== 0) throw new Error(made.stderr);
  }
  signer = join(dir, 'signer');
  stranger = join(dir, 'stranger');
  const signers = `admin@example.org namespaces="git" ${readFileSync(`${signer}.pub`, 'utf8').trim()}\n`;
  const [plain, checkOnly, slow] = fleet as [TestHost, TestHost, TestHost];
  const entry = (h: TestHost, vars: object) => ({ ...h.inventoryEntry(), vars });
  await writeFiles(site, {
    'package.json': `${JSON.stringify({ name: 'site', private: true, type: 'module', dependencies: { hostform: packed.version } }, null, 2)}\n`,
    'package-lock.json': `${JSON.stringify({ name: 'site', lockfileVersion: 3, requires: true, packages: lock.packages }, null, 2)}\n`,
    '.npmrc': `registry=${mirror.url}\n`,
    '.gitignore': 'node_modules\n',
    'inventory/hosts.yml': `${JSON.stringify({ hosts: { [plain.name]: entry(plain, {}), [checkOnly.name]: entry(checkOnly, { checkOnly: true }), [slow.name]: entry(slow, { slow: true }) } }, null, 2)}\n`,
    'playbooks/site.ts': PLAYBOOK(daemon.url('site.git'), signers),
    'motd.txt': 'version 1\n',
  });
  git(site, ['init', '-q', '-b', 'main']);
  git(dir, ['init', '-q', '--bare', join(served, 'site.git')]);
  publish('version 1', signer);
  // The site on the control machine: its own install of hostform, from the mirror, as on a laptop.
  const installed = await exec('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: site });
  if (installed.code !== 0) throw new Error(`npm ci of the site failed: ${installed.stderr}`);
  // node_exporter's textfile directory, as its package makes it.
  for (const h of fleet) await h.exec('mkdir -p /var/lib/node_exporter/textfile_collector');
  const pushed = await exec(process.execPath, ['node_modules/hostform/bin/play.js', 'playbooks/site.ts', '-i', 'inventory'], { cwd: site });
  if (pushed.code !== 0) throw new Error(`the push that sets up pull mode failed:\n${pushed.stderr}`);
});

t.test('a push of the site sets every host up for pull mode: a calendar timer with a random delay that persists, a service, the launcher', async (t) => {
  for (const h of fleet) {
    t.equal((await h.exec('systemctl is-enabled hostform-pull.timer')).stdout.trim(), 'enabled', `${h.name}: timer enabled`);
    t.equal((await h.exec('systemctl is-active hostform-pull.timer')).stdout.trim(), 'active', `${h.name}: timer active`);
    const timer = (await h.exec('systemctl show hostform-pull.timer -p TimersCalendar -p Persistent -p RandomizedDelayUSec')).stdout;
    t.match(timer, /Persistent=yes/);
    t.match(timer, /RandomizedDelayUSec=5s/);
    t.match(timer, /OnCalendar=\*-\*-\* \*:00\/1:00/, 'every minute, on the minute');
    t.equal((await h.exec('test -x /var/lib/hostform/pull/launcher/node_modules/hostform/bin/play.js && stat -c %a /var/lib/hostform/pull')).stdout.trim(), '700', 'the launcher is installed in a private state directory');
  }
});

t.test('every host pulls by itself: the first pull applies the commit the push applied, logs in the journal and writes its metrics', async (t) => {
  const head = git(site, ['rev-parse', 'HEAD']);
  for (const h of fleet) {
    const metrics = await waitFor(`${h.name}'s first pull`, WITHIN_MS, async () => {
      const m = await metricsOf(h);
      return m.has(`hostform_commit_info{mode="pull",commit="${head}"}`) ? m : undefined;
    });
    t.equal(metrics.get('hostform_last_run_success{mode="pull"}'), 1, `${h.name}: success`);
    t.equal(metrics.get('hostform_pull_interval_seconds{mode="pull"}'), INTERVAL_S + DELAY_S, `${h.name}: the interval the alert compares with`);
    t.ok((metrics.get('hostform_last_success_timestamp_seconds{mode="pull"}') ?? 0) > Date.now() / 1000 - 600, `${h.name}: a recent success`);
    const log = await journal(h);
    t.match(log, new RegExp(`pull: git://\\S+ main is at ${head}`), `${h.name}: the journal says what was fetched`);
    t.match(log, /Good "git" signature for admin@example\.org/, `${h.name}: and that its signature was checked`);
  }
});

t.test('a pushed commit is applied by every host within one timer interval', async (t) => {
  writeFileSync(join(site, 'motd.txt'), 'version 2\n');
  const pushedAt = Date.now();
  const commit = publish('version 2', signer);
  const took = await Promise.all(
    fleet.map((h) =>
      waitFor(`${h.name} to apply version 2`, WITHIN_MS, async () => ((await motdOf(h)) === 'version 2\n' ? (Date.now() - pushedAt) / 1000 : undefined)),
    ),
  );
  t.comment(`applied after ${took.map((s) => `${s.toFixed(0)} s`).join(', ')} (interval ${INTERVAL_S} s + up to ${DELAY_S} s delay)`);
  for (const h of fleet) {
    const metrics = await waitFor(`${h.name}'s metrics of version 2`, 30_000, async () => {
      const m = await metricsOf(h);
      return m.has(`hostform_commit_info{mode="pull",commit="${commit}"}`) ? m : undefined;
    });
    t.ok((metrics.get('hostform_changed_tasks{mode="pull"}') ?? 0) >= 1, `${h.name}: the apply changed the motd`);
    t.equal(metrics.get('hostform_drift_tasks{mode="pull"}'), 0, `${h.name}: a new commit's changes are not drift`);
  }
});

t.test('a manual change shows as drift in the metric within one interval and is repaired by the next apply', async (t) => {
  const [plain, checkOnly] = fleet as [TestHost, TestHost];
  for (const h of [plain, checkOnly]) await h.exec('echo "hand edit" >/etc/motd');
  // The default: the pull that finds the drift reports it, and repairs it.
  const repaired = await waitFor(`${plain.name} to find and repair the drift`, WITHIN_MS, async () => {
    const m = await metricsOf(plain);
    return m.get('hostform_drift_tasks{mode="pull"}') === 1 ? m : undefined;
  });
  t.equal(repaired.get('hostform_changed_tasks{mode="pull"}'), 1, `${plain.name}: the same pull changed the one drifted task back`);
  t.equal(await motdOf(plain), 'version 2\n', `${plain.name}: repaired`);
  t.match(await journal(plain), /drift found: applying/);
  // --check-only-if-unchanged: the drift is reported and left, run after run, until the next apply.
  await waitFor(`${checkOnly.name} to report the drift`, WITHIN_MS, async () => ((await metricsOf(checkOnly)).get('hostform_drift_tasks{mode="pull"}') === 1 ? true : undefined));
  t.equal(await motdOf(checkOnly), 'hand edit\n', `${checkOnly.name}: left as it is`);
  t.equal((await metricsOf(checkOnly)).get('hostform_last_run_success{mode="pull"}'), 1, 'finding drift is not a failed run');
  writeFileSync(join(site, 'motd.txt'), 'version 3\n');
  publish('version 3', signer);
  await waitFor(`${checkOnly.name} to apply version 3`, WITHIN_MS, async () => {
    await pullNow(checkOnly);
    return (await motdOf(checkOnly)) === 'version 3\n' ? true : undefined;
  });
  const after = await waitFor(`${checkOnly.name}'s drift to clear`, 30_000, async () => {
    const m = await metricsOf(checkOnly);
    return m.get('hostform_drift_tasks{mode="pull"}') === 0 ? m : undefined;
  });
  t.equal(after.get('hostform_last_run_success{mode="pull"}'), 1);
});

t.test('an unsigned commit, or one signed by a key not allowed, is refused when signatures are required', async (t) => {
  const [plain] = fleet as [TestHost];
  await waitFor(`${plain.name} at version 3`, WITHIN_MS, async () => {
    await pullNow(plain);
    return (await motdOf(plain)) === 'version 3\n' ? true : undefined;
  });
  for (const [label, key] of [['unsigned', undefined], ['signed by a stranger', stranger]] as const) {
    writeFileSync(join(site, 'motd.txt'), `${label}\n`);
    const commit = publish(label, key);
    const metrics = await waitFor(`${plain.name} to refuse the ${label} commit`, WITHIN_MS, async () => {
      await pullNow(plain);
      const m = await metricsOf(plain);
      return m.has(`hostform_commit_info{mode="pull",commit="${commit}"}`) ? m : undefined;
    });
    t.equal(metrics.get('hostform_last_run_success{mode="pull"}'), 0, `${label}: the pull failed`);
    t.equal(await motdOf(plain), 'version 3\n', `${label}: nothing of it was applied`);
    t.match(await journal(plain), label === 'unsigned' ? /commit \w+ is not signed, and --verify-signatures requires a signature/ : /commit \w+ has no good signature by a key in \/var\/lib\/hostform\/pull\/allowed_signers/);
  }
  // The file decides what root runs: one that others may write is refused, whatever it says.
  await plain.exec('chmod 0666 /var/lib/hostform/pull/allowed_signers');
  await pullNow(plain);
  t.match(await journal(plain), /the allowed signers file \S+ must belong to root and be writable by no one else \(owner uid 0, mode 666\)/);
  await plain.exec('chmod 0644 /var/lib/hostform/pull/allowed_signers');
  writeFileSync(join(site, 'motd.txt'), 'version 4\n');
  publish('version 4', signer);
  await waitFor(`${plain.name} to apply the signed version 4`, WITHIN_MS, async () => {
    await pullNow(plain);
    return (await motdOf(plain)) === 'version 4\n' ? true : undefined;
  });
  t.pass('a signed commit on top is applied again');
});

t.test('two overlapping runs on a host never interleave: a second pull or a push waits for the lock, or gives up naming the run that holds it', async (t) => {
  const [, , slow] = fleet as [TestHost, TestHost, TestHost];
  // A oneshot service is "activating" while its pull runs: wait for that one to end.
  await slow.exec('systemctl stop hostform-pull.timer; while [ "$(systemctl show -p ActiveState --value hostform-pull.service)" = activating ]; do sleep 1; done; rm -f /root/runs');
  const launcher = 'node /var/lib/hostform/pull/launcher/node_modules/hostform/bin/play.js';
  // Each pull has a state directory of its own, so each applies (a first commit) and runs the slow task.
  const pullCommand = (state: string, wait: number) =>
    `${launcher} pull --repo ${daemon.url('site.git')} --host ${slow.name} --state-dir /var/lib/hostform/${state} --textfile-dir /nonexistent --verify-signatures --allowed-signers /var/lib/hostform/pull/allowed_signers --lock-timeout ${wait} playbooks/site.ts`;
  const first = slow.exec(`${pullCommand('overlap-a', 10)} 2>&1`);
  await waitFor('the first pull to hold the lock', 60_000, async () => ((await slow.exec('flock -n /run/hostform/run.lock true')).code !== 0 ? true : undefined));
  const refused = await slow.exec(`${pullCommand('overlap-b', 0)} 2>&1`);
  t.equal(refused.code, 75, 'a second pull that does not wait exits 75: nothing done');
  t.match(refused.stdout, /is locked by another hostform run \(\/run\/hostform\/run\.lock\): playbook pull playbooks\/site\.ts from git:\/\/\S+, started .*this pull does nothing/);
  const entry = slow.inventoryEntry();
  writeFileSync(join(dir, 'push-inventory.yml'), JSON.stringify({ hosts: { [slow.name]: entry } }));
  const push = await exec(process.execPath, ['node_modules/hostform/bin/play.js', 'playbooks/site.ts', '-i', join(dir, 'push-inventory.yml'), '--lock-timeout', '0'], { cwd: site });
  t.equal(push.code, 1, 'a push that does not wait fails on that host');
  t.match(push.stderr, /is locked by another hostform run \(\/run\/hostform\/run\.lock\): playbook pull playbooks\/site\.ts/);
  const waiting = await slow.exec(`${pullCommand('overlap-c', 120)} 2>&1`);
  t.equal(waiting.code, 0, `a second pull that waits runs when the first has ended: ${waiting.stdout.slice(-400)}`);
  t.equal((await first).code, 0, 'the first pull ended well');
  const runs = (await slow.exec('cat /root/runs')).stdout.trim().split('\n').map((l) => l.split(' ')[0]);
  t.same(runs, ['start', 'end', 'start', 'end'], 'the slow task of one run ended before the other began');
  await slow.exec('rm -rf /var/lib/hostform/overlap-a /var/lib/hostform/overlap-b /var/lib/hostform/overlap-c; systemctl start hostform-pull.timer');
});

t.test('a pull refuses to keep its state where a user other than root could redirect it', async (t) => {
  const [, , slow] = fleet as [TestHost, TestHost, TestHost];
  const refused = await slow.exec(`node /var/lib/hostform/pull/launcher/node_modules/hostform/bin/play.js pull --repo ${daemon.url('site.git')} --state-dir /home/admin/pull --textfile-dir /nonexistent playbooks/site.ts 2>&1`);
  t.equal(refused.code, 1);
  t.match(refused.stdout, /could not prepare the state directory \/home\/admin\/pull .*\n.*refusing to keep the pull's state in \/home\/admin\/pull: admin controls \/home\/admin/);
  t.equal((await slow.exec('ls /home/admin')).stdout, '', 'nothing was made there');
});

t.test('roles/pull with state absent removes the timer, the service, the state directory and the metrics', async (t) => {
  const [, , slow] = fleet as [TestHost, TestHost, TestHost];
  writeFileSync(
    join(site, 'playbooks', 'remove.ts'),
    `import { playbook } from 'hostform';\nimport { pull } from 'hostform/roles';\nexport default playbook({ name: 'remove pull', hosts: 'all', roles: [pull({ repo: 'unused', playbook: 'unused', state: 'absent' })] });\n`,
  );
  const removed = await exec(process.execPath, ['node_modules/hostform/bin/play.js', 'playbooks/remove.ts', '-i', join(dir, 'push-inventory.yml')], { cwd: site });
  t.equal(removed.code, 0, removed.stderr);
  t.equal((await slow.exec('systemctl list-unit-files "hostform-pull*" --no-legend | wc -l')).stdout.trim(), '0', 'no unit left');
  t.equal((await slow.exec(`ls -d /var/lib/hostform/pull ${TEXTFILE} 2>/dev/null | wc -l`)).stdout.trim(), '0', 'no state directory, no metrics file');
  const again = await exec(process.execPath, ['node_modules/hostform/bin/play.js', 'playbooks/remove.ts', '-i', join(dir, 'push-inventory.yml')], { cwd: site });
  t.match(again.stderr, /changed=0\s+failed=0/, 'removing it again changes nothing');
});

t.test('the mirror and the git server saw only what a pull needs: tarballs of the lockfile, and one fetch per pull', async (t) => {
  t.same(mirror.requests.filter((r) => !/^GET \S+\.tgz 200$/.test(r)), [], 'npm asked the mirror for locked tarballs only, and got each');
  const [plain, checkOnly] = fleet as [TestHost, TestHost];
  for (const h of [plain, checkOnly]) await h.exec('systemctl stop hostform-pull.timer; while [ "$(systemctl show -p ActiveState --value hostform-pull.service)" = activating ]; do sleep 1; done');
  // Every pull logs the commit it fetched; the two pulls started by hand in the overlap test logged to their own output.
  let pulls = 2;
  for (const h of fleet) pulls += ((await journal(h)).match(/^pull: git:\/\/\S+ main is at /gm) ?? []).length;
  t.equal(daemon.fetches(), pulls, `${pulls} pulls, each one fetch`);
});
