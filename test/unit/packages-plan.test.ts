import t from 'tap';
import { PlannedState } from '../../lib/module/resources.ts';
import type { Change, HostView, PlanContext } from '../../lib/module/types.ts';
import { assertTasksValid } from '../../lib/module/validate.ts';
import { transactionScript } from '../../modules/packages/apply.ts';
import { parsePackagesProbe } from '../../modules/packages/observe.ts';
import { repo } from '../../modules/packages/index.ts';
import { parseSpec, renderRepo, resolvePackages, type PackagesParams, type RepoParams, type WantedRepo } from '../../modules/packages/params.ts';
import { planPackages } from '../../modules/packages/plan.ts';
import { ANY_REPO, PackageResource, RepoResource } from '../../modules/packages/resources.ts';
import { pathProbeOutput } from '../support/path-probe.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: {} } as unknown as HostView;
const context = (planned = new PlannedState()): PlanContext => ({ host, checkMode: true, planned });

/** Plan a task against probe output captured on a test host (rpm 4.20, dnf 4.23, the local hostform-test repo). */
function plan(params: PackagesParams, stdout: string, planned?: PlannedState) {
  const wanted = resolvePackages(params);
  return planPackages(wanted, parsePackagesProbe(wanted, { code: 0, stdout, stderr: '' }), context(planned));
}

// Host with only hostform-test-b 1.0-1 installed; the task below, so dnf was asked about the repositories.
const FRESH_TASK = { present: ['hostform-test-a', 'hostform-test-b-1.0', '/usr/bin/hostform-test-tool'], latest: ['hostform-test-b'], absent: ['hostform-test-x'] };
const FRESH = `package hostform-test-a is not installed
package @@hostform-end@@ is not installed
+\thostform-test-b\t0\t1.0\t1\tnoarch
package @@hostform-end@@ is not installed
+\thostform-test-b\t0\t1.0\t1\tnoarch
package @@hostform-end@@ is not installed
package hostform-test-x is not installed
package @@hostform-end@@ is not installed
@@provides
no package provides hostform-test-a
no package provides @@hostform-end@@
no package provides hostform-test-b-1.0
no package provides @@hostform-end@@
no package provides @@hostform-end@@
+\thostform-test-b\t0\t1.0\t1\tnoarch
no package provides @@hostform-end@@
no package provides hostform-test-x
no package provides @@hostform-end@@
@@repo
> A0\thostform-test-a\t0\t1.0\t1\tnoarch\thostform-test
> P0\thostform-test-a\t0\t1.0\t1\tnoarch\thostform-test
> A1\thostform-test-b\t0\t1.0\t1\tnoarch\thostform-test
> > A2\thostform-test-tool\t0\t1.0\t1\tnoarch\thostform-test
> P2\thostform-test-tool\t0\t1.0\t1\tnoarch\thostform-test
> A3\thostform-test-b\t0\t2.0\t1\tnoarch\thostform-test
> P3\thostform-test-b\t0\t2.0\t1\tnoarch\thostform-test
> U3\thostform-test-b\t0\t2.0\t1\tnoarch\thostform-test
> 
@@dnf 0
`;

// Host with a 1.0-1, b 2.0-1 and tool 1.0-1 installed; a pin to b 1.0 and a name.arch that rpm -q does not match as written.
const PINNED_TASK = { present: ['hostform-test-a', 'hostform-test-b-1.0', '/usr/bin/hostform-test-tool', 'hostform-test-b.noarch'], absent: ['hostform-test-x'] };
const PINNED = `+\thostform-test-a\t0\t1.0\t1\tnoarch
package @@hostform-end@@ is not installed
package hostform-test-b-1.0 is not installed
package @@hostform-end@@ is not installed
+\thostform-test-b\t0\t2.0\t1\tnoarch
package @@hostform-end@@ is not installed
+\thostform-test-b\t0\t2.0\t1\tnoarch
package @@hostform-end@@ is not installed
package hostform-test-x is not installed
package @@hostform-end@@ is not installed
@@provides
+\thostform-test-a\t0\t1.0\t1\tnoarch
no package provides @@hostform-end@@
no package provides hostform-test-b-1.0
no package provides @@hostform-end@@
+\thostform-test-tool\t0\t1.0\t1\tnoarch
no package provides @@hostform-end@@
no package provides hostform-test-b.noarch
no package provides @@hostform-end@@
no package provides hostform-test-x
no package provides @@hostform-end@@
@@repo
> A0\thostform-test-a\t0\t1.0\t1\tnoarch\thostform-test
> P0\thostform-test-a\t0\t1.0\t1\tnoarch\thostform-test
> A1\thostform-test-b\t0\t1.0\t1\tnoarch\thostform-test
> > A2\thostform-test-tool\t0\t1.0\t1\tnoarch\thostform-test
> P2\thostform-test-tool\t0\t1.0\t1\tnoarch\thostform-test
> A3\thostform-test-b\t0\t2.0\t1\tnoarch\thostform-test
> > 
@@dnf 0
`;

// Same host, everything wanted is installed: rpm answered, dnf was not started.
const IN_SYNC_TASK = { present: ['hostform-test-a', 'hostform-test-b', '/usr/bin/hostform-test-tool'], absent: ['hostform-test-x'] };
const IN_SYNC = `+\thostform-test-a\t0\t1.0\t1\tnoarch
package @@hostform-end@@ is not installed
+\thostform-test-b\t0\t2.0\t1\tnoarch
package @@hostform-end@@ is not installed
package hostform-test-x is not installed
package @@hostform-end@@ is not installed
@@provides
+\thostform-test-a\t0\t1.0\t1\tnoarch
no package provides @@hostform-end@@
+\thostform-test-b\t0\t2.0\t1\tnoarch
no package provides @@hostform-end@@
+\thostform-test-tool\t0\t1.0\t1\tnoarch
no package provides @@hostform-end@@
no package provides hostform-test-x
no package provides @@hostform-end@@
`;

t.test('packages: missing packages plan installs shown with the version the repository offers', async (t) => {
  const changes = plan(FRESH_TASK, FRESH);
  t.same(
    changes.map((c) => c.diff),
    ['+ hostform-test-a 1.0-1', '+ hostform-test-tool 1.0-1 (for /usr/bin/hostform-test-tool)', '~ hostform-test-b 1.0-1 → 2.0-1'],
  );
  t.same(
    changes.map((c) => c.action),
    [
      { do: 'install', spec: 'hostform-test-a' },
      { do: 'install', spec: '/usr/bin/hostform-test-tool' },
      { do: 'upgrade', spec: 'hostform-test-b' },
    ],
  );
  t.equal(changes[0]?.summary, 'install hostform-test-a 1.0-1 from hostform-test');
});

t.test('packages: everything installed plans nothing, without asking the repositories', async (t) => {
  t.same(plan(IN_SYNC_TASK, IN_SYNC), []);
  const wanted = resolvePackages(IN_SYNC_TASK);
  t.equal(parsePackagesProbe(wanted, { code: 0, stdout: IN_SYNC, stderr: '' }).repo, undefined);
});

t.test('packages: a pin to another version than the installed one plans the change to the pinned version', async (t) => {
  const changes = plan(PINNED_TASK, PINNED);
  t.same(changes.map((c) => c.diff), ['~ hostform-test-b 2.0-1 → 1.0-1']);
  t.same(changes[0]?.action, { do: 'install', spec: 'hostform-test-b-1.0' });
  t.match(changes[0]?.summary, /pinned hostform-test-b-1\.0/);
});

t.test('packages: absent removes exactly the installed package, by full name', async (t) => {
  const changes = plan({ absent: ['/usr/bin/hostform-test-tool'] }, '\n@@provides\n+\thostform-test-tool\t0\t1.0\t1\tnoarch\nno package provides @@hostform-end@@\n');
  t.same(changes.map((c) => c.diff), ['- hostform-test-tool 1.0-1']);
  t.same(changes[0]?.action, { do: 'remove', spec: 'hostform-test-tool-1.0-1.noarch' });
});

t.test('packages: an epoch shows in versions and in the name used for removal', async (t) => {
  const stdout = '+\tfoo\t2\t1.0\t3.el9\tx86_64\npackage @@hostform-end@@ is not installed\n@@provides\n+\tfoo\t2\t1.0\t3.el9\tx86_64\nno package provides @@hostform-end@@\n';
  const [change] = plan({ absent: ['foo'] }, stdout);
  t.equal(change?.diff, '- foo 2:1.0-3.el9');
  t.same(change?.action, { do: 'remove', spec: 'foo-2:1.0-3.el9.x86_64' });
});

t.test('packages: a package no repository offers fails at planning with what to do', async (t) => {
  const stdout = 'package nope is not installed\npackage @@hostform-end@@ is not installed\n@@provides\nno package provides nope\nno package provides @@hostform-end@@\n@@repo\n> > \n@@dnf 0\n';
  t.throws(() => plan({ present: ['nope'] }, stdout), /no package matches "nope" in the enabled repositories: check the name .*repo\(\{\.\.\.\}\)/);
});

t.test('packages: in check mode, a package from a repository an earlier task adds is planned, not an error', async (t) => {
  const stdout = 'package nope is not installed\npackage @@hostform-end@@ is not installed\n@@provides\nno package provides nope\nno package provides @@hostform-end@@\n@@repo\n> > \n@@dnf 0\n';
  const planned = new PlannedState();
  planned.record([{ kind: RepoResource, id: ANY_REPO, value: { present: true } }]);
  const [change] = plan({ present: ['nope'] }, stdout, planned);
  t.equal(change?.summary, 'install nope (from a repository an earlier task adds)');
  t.equal(change?.diff, '+ nope');
});

t.test('packages: a package an earlier task installs is ok in check mode; one it removes is planned again', async (t) => {
  const planned = new PlannedState();
  planned.record([
    { kind: PackageResource, id: 'hostform-test-a', value: { present: true } },
    { kind: PackageResource, id: 'hostform-test-b', value: { present: false } },
  ]);
  const bothInstalled = [
    '+\thostform-test-a\t0\t1.0\t1\tnoarch\npackage @@hostform-end@@ is not installed',
    '+\thostform-test-b\t0\t2.0\t1\tnoarch\npackage @@hostform-end@@ is not installed',
    '@@provides',
    '+\thostform-test-a\t0\t1.0\t1\tnoarch\nno package provides @@hostform-end@@',
    '+\thostform-test-b\t0\t2.0\t1\tnoarch\nno package provides @@hostform-end@@\n',
  ].join('\n');
  const changes = plan({ present: ['hostform-test-a', 'hostform-test-b'] }, bothInstalled, planned);
  t.same(changes.map((c) => c.diff), ['+ hostform-test-b']);
});

t.test('packages: a repository that cannot be read fails with the dnf error and what to check', async (t) => {
  const stdout = 'package nope is not installed\npackage @@hostform-end@@ is not installed\n@@provides\nno package provides nope\nno package provides @@hostform-end@@\n@@repo\n\n@@dnf 1\n';
  const stderr = "Error: Failed to download metadata for repo 'x': Cannot download repomd.xml\n";
  const wanted = resolvePackages({ present: ['nope'] });
  const observed = parsePackagesProbe(wanted, { code: 0, stdout, stderr });
  t.throws(() => planPackages(wanted, observed, context()), /cannot read the package repositories .*\n.*Failed to download metadata.*\n.*disableRepos/);
});

t.test('packages: rpm output that does not answer every question is an error, not a guess', async (t) => {
  const wanted = resolvePackages({ present: ['a', 'b'] });
  t.throws(() => parsePackagesProbe(wanted, { code: 0, stdout: '+\ta\t0\t1\t1\tnoarch\n@@provides\n', stderr: '' }), /unexpected rpm output/);
  t.throws(() => parsePackagesProbe(wanted, { code: 3, stdout: '', stderr: 'rpm not found: the packages module needs an rpm-based host' }), /cannot query the rpm database: rpm not found/);
});

t.test('packages: a spec may be a name or a pin; every reading of a dash before a digit is kept', async (t) => {
  t.same(parseSpec('hostform-test-b-1.0-1').pins, [
    { name: 'hostform-test-b', version: '1.0-1' },
    { name: 'hostform-test-b-1.0', version: '1' },
  ]);
  t.same(parseSpec('python3-dnf').pins, []);
  t.same(parseSpec('/usr/bin/x-1').pins, [], 'paths are never pins');
});

t.test('packages: the same spec in two lists is refused before any host is touched', async (t) => {
  t.throws(() => resolvePackages({ present: ['a'], absent: ['a'] }), /parameter 'absent' and parameter 'present' both name "a"/);
});

t.test('packages: one dnf shell transaction, one line per kind, the later of two tasks winning for a spec', async (t) => {
  const script = transactionScript([
    { do: 'install', spec: 'a' },
    { do: 'remove', spec: 'old-1.0-1.noarch' },
    { do: 'upgrade', spec: 'b' },
    { do: 'install', spec: 'c' },
    { do: 'remove', spec: 'c' },
  ]);
  t.equal(script, 'install a\nupgrade b\nremove old-1.0-1.noarch c\nrun\n');
});

t.test('repo: the file is rendered in a fixed order with gpgcheck on unless turned off', async (t) => {
  t.equal(
    renderRepo({ name: 'epel', metalink: 'https://mirrors.example.org/metalink?repo=epel-9&arch=$basearch', gpgkey: 'file:///etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9', options: { zchunk: false, countme: 1 } }),
    '[epel]\nname=epel\nmetalink=https://mirrors.example.org/metalink?repo=epel-9&arch=$basearch\nenabled=1\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9\ncountme=1\nzchunk=0\n',
  );
  t.equal(renderRepo({ name: 'local', baseurl: ['file:///srv/a', 'file:///srv/b'], gpgcheck: false, enabled: false }), '[local]\nname=local\nbaseurl=file:///srv/a file:///srv/b\nenabled=0\ngpgcheck=0\n');
  t.throws(() => renderRepo({ name: 'x', baseurl: 'file:///x', options: { gpgcheck: 0 } }), /parameter 'options.gpgcheck' repeats an option repo\(\) has a parameter for/);
});

const repoBackend = repo.definition.backends.el9!;
const planRepo = (params: RepoParams, fileOnHost: string | undefined) => {
  const resolved = repo.definition.resolve(params, host);
  const stdout = pathProbeOutput(fileOnHost);
  return repoBackend.plan(resolved, repoBackend.parse(resolved, { path: { code: 0, stdout, stderr: '' } }), context()) as Change<unknown>[];
};
const WITH_PASSWORD = '[private]\nname=private\nbaseurl=https://repo.example.org/\nenabled=1\ngpgcheck=1\nusername=me\npassword=CANARY-repo-pw\n';

t.test('repo: removing a repository whose file holds a password does not show the file', async (t) => {
  const changes = planRepo({ name: 'private', state: 'absent' }, WITH_PASSWORD);
  t.same(changes.map((c) => [c.summary, c.diff]), [['remove file /etc/yum.repos.d/private.repo (secret: content not shown)', '- content (secret: not shown)']]);
  t.notMatch(JSON.stringify(changes), 'CANARY');
});

t.test('repo: dropping the password from a repository does not show the old one', async (t) => {
  const changes = planRepo({ name: 'private', baseurl: 'https://repo.example.org/' }, WITH_PASSWORD);
  t.match(changes, [{ action: { do: 'write' }, summary: 'update /etc/yum.repos.d/private.repo (secret)' }]);
  t.notMatch(JSON.stringify(changes), 'CANARY');
});

t.test('repo: a repository with a password, or a proxy password, is a secret file written 0600; one without is 0644 and diffed', async (t) => {
  const file = (params: RepoParams) => (repo.definition.resolve(params, host) as WantedRepo).file;
  t.match(file({ name: 'p', baseurl: 'https://x/', password: 'pw' }), { mode: '0600', secret: true });
  t.match(file({ name: 'p', baseurl: 'https://x/', options: { proxy_password: 'pw' } }), { mode: '0600', secret: true });
  t.match(file({ name: 'p', baseurl: 'https://x/' }), { mode: '0644', secret: false });
  const [create] = planRepo({ name: 'private', baseurl: 'https://repo.example.org/', username: 'me', password: 'CANARY-new-pw' }, undefined);
  t.equal(create?.summary, 'create /etc/yum.repos.d/private.repo (secret), mode 0600, owner root, group root');
  t.notMatch(JSON.stringify(create), 'CANARY');
  t.match(planRepo({ name: 'open', baseurl: 'https://repo.example.org/' }, undefined)[0]?.diff, /\+baseurl=https:\/\/repo\.example\.org\//);
});

t.test('repo: an id starting with a dash is refused (dnf would read it as an option)', async (t) => {
  t.throws(() => assertTasksValid([{ task: repo({ name: '-x', baseurl: 'https://x/' }), where: '' }]), /parameter 'name' = "-x": must be a repository id \(letters, digits, _, \., : and -, not starting with -\)/);
});
