import t from 'tap';
import type { TaskOptions } from '../lib/module/types.ts';
import { packages, repo, type PackagesParams, type RepoParams } from '../modules/packages/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// The packages module and the repo helper on a real el9-like test host: dnf 4
// and rpm against the host's local file:// repository (hostform-test-a 1.0,
// hostform-test-b 1.0 and 2.0, hostform-test-tool 1.0 with /usr/bin/hostform-test-tool).

const [h] = (await hosts.up(1, 'el9')) as [TestHost];
t.teardown(() => hosts.down());
const host = h.inventoryEntry();

const sh = (cmd: string) => h.sh(cmd);

/** Everything a packages task could touch: the rpm database and the transaction history. */
const state = () => sh('rpm -qa | sort; dnf history list | grep -cE "^ +[0-9]+ \\|" || true');
const transactions = async () => Number((await sh('dnf history list | grep -cE "^ +[0-9]+ \\|" || true')).trim());
const installed = async (name: string) => (await h.exec(`rpm -q --qf '%{VERSION}-%{RELEASE}' ${name}`)).stdout;
const diffs = (report: Awaited<ReturnType<typeof runTasks>>) => tasksOf(report).map((task) => task.changes.map((c) => c.diff));

// hostform-test-tool needs /bin/sh, which on RHEL bash provides. This userland is Debian's, so no rpm
// provides it: give the host a stand-in package, built there, as the harness's repository does not.
await sh(`rpm -q --whatprovides /bin/sh >/dev/null 2>&1 || {
  d=$(mktemp -d) && mkdir -p "$d/SPECS" && printf '%s\\n' 'Name: hostform-test-binsh' 'Version: 1' 'Release: 1' 'Summary: /bin/sh for rpm' \
    'License: MIT' 'BuildArch: noarch' 'Provides: /bin/sh' '%description' 'x' '%files' >"$d/SPECS/binsh.spec" &&
  rpmbuild -bb --quiet --define "_topdir $d" "$d/SPECS/binsh.spec" >/dev/null 2>&1 && rpm -i "$d"/RPMS/noarch/*.rpm && rm -rf "$d"; }`);

const BASE: PackagesParams = { present: ['hostform-test-a', 'hostform-test-b-1.0', '/usr/bin/hostform-test-tool'] };

t.test('packages: the first run installs in one transaction, the second changes nothing', async (t) => {
  const before = await transactions();
  const first = await runTasks(host, [packages(BASE)], 'apply');
  t.same(statuses(first), ['changed'], errors(first));
  t.same(diffs(first), [['+ hostform-test-a 1.0-1', '+ hostform-test-b 1.0-1', '+ hostform-test-tool 1.0-1 (for /usr/bin/hostform-test-tool)']]);
  t.equal(await installed('hostform-test-a'), '1.0-1');
  t.equal(await installed('hostform-test-b'), '1.0-1', 'the pin, not the newest version');
  t.equal(await installed('hostform-test-tool'), '1.0-1', 'the package providing the file');
  t.equal(await transactions(), before + 1, 'one dnf transaction');

  const second = await runTasks(host, [packages(BASE)], 'apply');
  t.same(statuses(second), ['ok'], errors(second));
});

t.test('packages: check after a package was removed by hand reports exactly it and changes nothing', async (t) => {
  await sh('rpm -e hostform-test-a');
  const before = await state();
  const report = await runTasks(host, [packages(BASE)], 'check');
  t.equal(report.exitCode, 2);
  t.same(statuses(report), ['changed'], errors(report));
  t.same(diffs(report), [['+ hostform-test-a 1.0-1']]);
  t.equal(await state(), before, 'rpm database and dnf history untouched');
  t.same(statuses(await runTasks(host, [packages(BASE)], 'apply')), ['changed']);
});

t.test('packages: latest upgrades, a pin downgrades back, each once', async (t) => {
  const latest = packages({ latest: ['hostform-test-b'] });
  const check = await runTasks(host, [latest], 'check');
  t.same(diffs(check), [['~ hostform-test-b 1.0-1 → 2.0-1']], errors(check));
  t.same(statuses(await runTasks(host, [latest], 'apply')), ['changed']);
  t.equal(await installed('hostform-test-b'), '2.0-1');
  t.same(statuses(await runTasks(host, [latest], 'apply')), ['ok'], 'already the newest');

  const pinned = await runTasks(host, [packages(BASE)], 'apply');
  t.same(diffs(pinned), [['~ hostform-test-b 2.0-1 → 1.0-1']], errors(pinned));
  t.equal(await installed('hostform-test-b'), '1.0-1');
  t.same(statuses(await runTasks(host, [packages(BASE)], 'apply')), ['ok']);
});

t.test('packages: absent by file path removes the package that owns it, once', async (t) => {
  const task = packages({ absent: ['/usr/bin/hostform-test-tool'] });
  const report = await runTasks(host, [task], 'apply');
  t.same(diffs(report), [['- hostform-test-tool 1.0-1']], errors(report));
  t.not((await h.exec('rpm -q hostform-test-tool')).code, 0);
  t.same(statuses(await runTasks(host, [task], 'apply')), ['ok']);
});

t.test('packages: two consecutive packages tasks make one dnf transaction', async (t) => {
  const before = await transactions();
  const report = await runTasks(host, [packages({ present: ['hostform-test-tool'] }), packages({ absent: ['hostform-test-a'] })], 'apply');
  t.same(statuses(report), ['changed', 'changed'], errors(report));
  t.equal(await transactions(), before + 1);
  t.equal(await installed('hostform-test-tool'), '1.0-1');
  t.not((await h.exec('rpm -q hostform-test-a')).code, 0);
});

t.test('packages: a no-op run of a 5-package task', async (t) => {
  const task = packages({ present: ['hostform-test-b', 'hostform-test-tool', '/usr/bin/hostform-test-tool', 'hostform-test-b.noarch', '/bin/sh'] });
  t.same(statuses(await runTasks(host, [task], 'apply')), ['ok']);
  const started = Date.now();
  const report = await runTasks(host, [task], 'apply');
  const total = Date.now() - started;
  t.same(statuses(report), ['ok']);
  t.comment(`no-op 5-package run: ${total} ms in all (connect, facts, one probe), task ${tasksOf(report)[0]?.durationMs} ms, ${report.hosts[0]?.roundTrips} round trips`);
  t.ok(total < 5000, `a no-op run takes ${total} ms`);
});

const COPY: RepoParams = { name: 'hostform-copy', description: 'a copy of the test repository', baseurl: 'file:///srv/hostform-test-repo', gpgcheck: false, metadataExpire: 'never' };
const FROM_COPY: PackagesParams & TaskOptions = { present: ['hostform-test-a'], disableRepos: ['*'], enableRepos: ['hostform-copy'] };

t.test('repo: check mode plans a package from a repository an earlier task adds; apply installs it from there', async (t) => {
  const tasks = [repo(COPY), packages(FROM_COPY)];
  const before = await state();
  const check = await runTasks(host, tasks, 'check');
  t.same(statuses(check), ['changed', 'changed'], errors(check));
  t.match(diffs(check)[0]?.[0], /\+\[hostform-copy\]\n\+name=a copy of the test repository\n\+baseurl=file:\/\/\/srv\/hostform-test-repo\n\+enabled=1\n\+gpgcheck=0\n\+metadata_expire=never/);
  t.same(diffs(check)[1], ['+ hostform-test-a']);
  t.equal((await h.exec('test -e /etc/yum.repos.d/hostform-copy.repo')).code, 1, 'no repo file written in check mode');
  t.equal(await state(), before);

  const apply = await runTasks(host, tasks, 'apply');
  t.same(statuses(apply), ['changed', 'changed'], errors(apply));
  t.equal(await sh("dnf history info last | sed -n 's/^Command Line *: //p'"), '-y --disablerepo=* --enablerepo=hostform-copy shell\n');
  t.match(await sh('rpm -q --qf "%{NAME}" hostform-test-a'), 'hostform-test-a');
  t.same(statuses(await runTasks(host, tasks, 'apply')), ['ok', 'ok']);
});

t.test('repo: check after a hand edit of the repo file shows the edit and leaves the file as it is', async (t) => {
  await sh("sed -i 's/^gpgcheck=0$/gpgcheck=1/' /etc/yum.repos.d/hostform-copy.repo");
  const before = await sh('sha256sum /etc/yum.repos.d/hostform-copy.repo; stat -c %a%U%G%Y /etc/yum.repos.d/hostform-copy.repo');
  const report = await runTasks(host, [repo(COPY), packages(FROM_COPY)], 'check');
  t.same(statuses(report), ['changed', 'ok'], errors(report));
  t.match(diffs(report)[0]?.[0], /-gpgcheck=1\n\+gpgcheck=0/);
  t.equal(await sh('sha256sum /etc/yum.repos.d/hostform-copy.repo; stat -c %a%U%G%Y /etc/yum.repos.d/hostform-copy.repo'), before);

  const removed = await runTasks(host, [repo({ name: 'hostform-copy', state: 'absent' })], 'apply');
  t.same(statuses(removed), ['changed'], errors(removed));
  t.equal((await h.exec('test -e /etc/yum.repos.d/hostform-copy.repo')).code, 1);
});

t.test('packages: a package no repository offers fails at planning, naming it, before dnf changes anything', async (t) => {
  const before = await state();
  const report = await runTasks(host, [packages({ present: ['hostform-test-nonexistent'] })], 'apply');
  t.same(statuses(report), ['failed']);
  t.match(errors(report), /no package matches "hostform-test-nonexistent" in the enabled repositories/);
  t.equal(await state(), before);
});

t.test('packages and repo: invalid parameters fail before any host is touched, naming task, parameter and value', async (t) => {
  const before = await state();
  const bad = (params: unknown) => packages(params as PackagesParams);
  await t.rejects(runTasks(host, [bad({ present: 'hostform-test-a' })], 'apply'), {
    name: 'UsageError',
    message: /task 'packages' \(packages\): parameter 'present' = "hostform-test-a": must be a list/,
  });
  await t.rejects(runTasks(host, [bad({ present: ['hostform test a'] })], 'apply'), {
    name: 'UsageError',
    message: /task 'packages hostform test a' \(packages\): parameter 'present\.0' = "hostform test a": must be a package name, capability or file/,
  });
  await t.rejects(runTasks(host, [bad({ present: ['x'], absent: ['x'] })], 'apply'), {
    name: 'UsageError',
    message: /task 'packages x -x' \(packages\): parameter 'absent' and parameter 'present' both name "x"/,
  });
  await t.rejects(runTasks(host, [repo({ name: 'nourl' } as RepoParams)], 'apply'), {
    name: 'UsageError',
    message: /task 'repo nourl' \(repo\): needs exactly one of 'baseurl', 'metalink', 'mirrorlist'/,
  });
  t.equal(await state(), before);
});
