import t from 'tap';
import { UsageError } from '../../lib/errors.ts';
import { PlannedState } from '../../lib/module/resources.ts';
import type { HostView, PlanContext, ProbeOutputs, Task } from '../../lib/module/types.ts';
import { assertTasksValid } from '../../lib/module/validate.ts';
import { generatorProblems } from '../../modules/quadlet/apply.ts';
import { quadlet } from '../../modules/quadlet/index.ts';
import { parseQuadlet, type QuadletProbes } from '../../modules/quadlet/observe.ts';
import type { ResolvedQuadlet } from '../../modules/quadlet/params.ts';
import { planQuadlet } from '../../modules/quadlet/plan.ts';
import { renderQuadlet, serviceName, systemdWord } from '../../modules/quadlet/render.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: {} } as unknown as HostView;
const context = (checkMode = false): PlanContext => ({ host, checkMode, planned: new PlannedState() });
const resolve = <I>(task: Task<I>) => task.module.resolve(task.params, host) as ResolvedQuadlet;
const plan = (task: Task<any>, outputs: ProbeOutputs<QuadletProbes>, checkMode = false) => {
  const r = resolve(task);
  return planQuadlet(r, parseQuadlet(r, outputs), context(checkMode));
};
const summaries = (changes: readonly { summary: string }[]) => changes.map((c) => c.summary);

/** Probe output captured on a test host (hf el9-like image, podman 5.4, systemd 257). */
const captured: Record<string, ProbeOutputs<QuadletProbes>> = {
  rootfulRunning: {
    file: { code: 0, stdout: "parent\nfile\n644 root root 317\n\nIyBNYW5hZ2VkIGJ5IGhvc3Rmb3JtOiBjaGFuZ2VzIG1hZGUgaGVyZSBhcmUgb3ZlcndyaXR0ZW4gb24gdGhlIG5leHQgcnVuLgpbQ29udGFpbmVyXQpJbWFnZT1sb2NhbGhvc3QvYnVzeWJveDpsYXRlc3QKRXhlYz1odHRwZCAtZiAtcCA4MDgwIC1oIC9kYXRhCk5ldHdvcms9d2ViLm5ldHdvcmsKUHVibGlzaFBvcnQ9ODA4MTo4MDgwClZvbHVtZT1kYXRhLnZvbHVtZTovZGF0YQpFbnZpcm9ubWVudD0iR1JFRVRJTkc9aGVsbG8gd29ybGQiCkxhYmVsPWFwcD13ZWIKCltJbnN0YWxsXQpXYW50ZWRCeT1tdWx0aS11c2VyLnRhcmdldCBkZWZhdWx0LnRhcmdldAo=\n", stderr: '' },
    unit: { code: 0, stdout: "LoadState=loaded\nActiveState=active\nSubState=running\nFragmentPath=/run/systemd/generator/web.service\nUnitFileState=generated\nNeedDaemonReload=yes\n", stderr: '' },
    image: { code: 0, stdout: "ad4da3b2c018e67041ef70f7b9ad54bc03ae515ad25bc74f28014d1e06175150\n", stderr: '' },
  },
  rootfulAbsent: {
    file: { code: 0, stdout: "parent\nabsent\n", stderr: '' },
    unit: { code: 0, stdout: "LoadState=not-found\nActiveState=inactive\nSubState=dead\nFragmentPath=\nUnitFileState=\nNeedDaemonReload=no\n", stderr: '' },
    image: { code: 0, stdout: "absent\n", stderr: '' },
  },
  rootless: {
    file: { code: 0, stdout: "parent\nfile\n644 qtest qtest 187\n\nIyBNYW5hZ2VkIGJ5IGhvc3Rmb3JtOiBjaGFuZ2VzIG1hZGUgaGVyZSBhcmUgb3ZlcndyaXR0ZW4gb24gdGhlIG5leHQgcnVuLgpbQ29udGFpbmVyXQpJbWFnZT1sb2NhbGhvc3QvYnVzeWJveDpsYXRlc3QKRXhlYz1odHRwZCAtZiAtcCA4MDgyCk5ldHdvcms9aG9zdAoKW0luc3RhbGxdCldhbnRlZEJ5PWRlZmF1bHQudGFyZ2V0Cg==\n", stderr: '' },
    unit: { code: 0, stdout: "LoadState=loaded\nActiveState=active\nSubState=running\nFragmentPath=/run/user/1002/systemd/generator/rl.service\nUnitFileState=generated\nNeedDaemonReload=no\n", stderr: '' },
    account: { code: 0, stdout: "account=1002:/home/qtest\ngroup=qtest\nlinger=yes\n", stderr: '' },
    image: { code: 0, stdout: "7cccc5aaa87d1f15c425b114620c0e28394d29ffffaa1069de489a1bdd2f1f85\n", stderr: '' },
  },
  rootlessNoManager: {
    file: { code: 0, stdout: "noparent\nabsent\n", stderr: '' },
    unit: { code: 0, stdout: "NoManager\n", stderr: '' },
    account: { code: 0, stdout: "account=1000:/home/admin\ngroup=admin\nlinger=no\n", stderr: '' },
    image: { code: 0, stdout: "absent\n", stderr: '' },
  },
  rootlessNoUser: {
    file: { code: 0, stdout: "", stderr: '' },
    unit: { code: 0, stdout: "NoManager\n", stderr: '' },
    account: { code: 0, stdout: "account=\ngroup=\nlinger=no\n", stderr: '' },
    image: { code: 0, stdout: "absent\n", stderr: '' },
  },
};

/** The container whose file is in `captured.rootfulRunning`, except that the host's copy was edited to publish 8081. */
const web = (publish: string) =>
  quadlet.container({
    name: 'web',
    image: 'localhost/busybox:latest',
    pull: 'never',
    exec: ['httpd', '-f', '-p', '8080', '-h', '/data'],
    publishPort: [publish],
    network: 'web.network',
    volume: ['data.volume:/data'],
    environment: { GREETING: 'hello world' },
    label: { app: 'web' },
  });

t.test('quadlet: a container renders sections and keys in a fixed order, quoting words with spaces', async (t) => {
  const text = resolve(web('8080:8080')).content.toString();
  t.equal(
    text,
    [
      '# Managed by hostform: changes made here are overwritten on the next run.',
      '[Container]',
      'Image=localhost/busybox:latest',
      'Exec=httpd -f -p 8080 -h /data',
      'Network=web.network',
      'PublishPort=8080:8080',
      'Volume=data.volume:/data',
      'Environment="GREETING=hello world"',
      'Label=app=web',
      '',
      '[Install]',
      'WantedBy=multi-user.target default.target',
      '',
    ].join('\n'),
  );
});

t.test('quadlet: the order of parameters and extra keys does not change the file', async (t) => {
  const a = renderQuadlet(
    { kind: 'container', params: { name: 'x', image: 'i', restart: 'always', extra: { Container: { B: '2', A: ['1', 'one'] }, Unit: { After: 'y' } }, description: 'X' } },
    { kind: 'system' },
  );
  const b = renderQuadlet(
    { kind: 'container', params: { description: 'X', extra: { Unit: { After: 'y' }, Container: { A: ['1', 'one'], B: '2' } }, restart: 'always', image: 'i', name: 'x' } },
    { kind: 'system' },
  );
  t.equal(a, b);
  t.match(a, /\[Unit\]\nDescription=X\nAfter=y\n\n\[Container\]\nImage=i\nA=1\nA=one\nB=2\n\n\[Service\]\nRestart=always\n/);
});

t.test('quadlet: networks and volumes are not wanted by a target unless asked; rootless containers are wanted by default.target', async (t) => {
  t.notMatch(renderQuadlet({ kind: 'network', params: { name: 'n', subnet: '10.89.7.0/24', internal: true } }, { kind: 'system' }), /Install/);
  t.match(renderQuadlet({ kind: 'volume', params: { name: 'v', wantedBy: ['multi-user.target'] } }, { kind: 'system' }), /\[Install\]\nWantedBy=multi-user.target\n$/);
  t.match(renderQuadlet({ kind: 'container', params: { name: 'c', image: 'i' } }, { kind: 'user', user: 'alice' }), /WantedBy=default.target\n$/);
  t.notMatch(renderQuadlet({ kind: 'pod', params: { name: 'p', wantedBy: [] } }, { kind: 'system' }), /Install/);
});

t.test('quadlet: words are quoted the way systemd splits them', async (t) => {
  t.equal(systemdWord('plain'), 'plain');
  t.equal(systemdWord('two words'), '"two words"');
  t.equal(systemdWord('say "hi"\\'), '"say \\"hi\\"\\\\"');
  t.equal(systemdWord(''), '""');
  t.match(renderQuadlet({ kind: 'container', params: { name: 'c', image: 'i', podmanArgs: ['--log-opt', 'tag=a b'] } }, { kind: 'system' }), /PodmanArgs=--log-opt "tag=a b"\n/);
});

t.test('quadlet: each kind names the service quadlet generates for it', async (t) => {
  t.same(
    (['container', 'network', 'volume', 'pod'] as const).map((k) => serviceName(k, 'app')),
    ['app.service', 'app-network.service', 'app-volume.service', 'app-pod.service'],
  );
});

t.test('quadlet: a running container whose file matches plans nothing', async (t) => {
  t.same(plan(web('8081:8080'), captured['rootfulRunning']!), []);
});

t.test('quadlet: a running container started before its (matching) file changed plans a restart, after the daemon-reload the manager needs', async (t) => {
  const running = captured['rootfulRunning']!;
  const times = (mtime: string) => ({ ...running, unit: { ...running.unit, stdout: `${running.unit.stdout}Since=1796081354.928668000\nMtime=${mtime}\n` } });
  const [restart, ...rest] = plan(web('8081:8080'), times('1796081400.000000000'));
  t.same(rest, []);
  t.equal(restart?.summary, 'restart web.service: it runs since before its quadlet changed (a run cut off before the restart, or an edit by hand)');
  t.same(restart?.action, { do: 'restart', reload: true }, 'NeedDaemonReload=yes: the manager reloads first');
  t.same(plan(web('8081:8080'), times('1796081300.000000000')), [], 'started after the file changed: nothing');
});

t.test('quadlet: a hand-edited file plans a rewrite with the line that differs, then a restart', async (t) => {
  const changes = plan(web('8080:8080'), captured['rootfulRunning']!, true);
  t.same(summaries(changes), ['update /etc/containers/systemd/web.container (317 → 317 bytes)', 'restart web.service (its quadlet changed)']);
  t.match(changes[0]?.diff, /-PublishPort=8081:8080\n\+PublishPort=8080:8080/);
});

t.test('quadlet: a new container with a missing image plans pull, file and start', async (t) => {
  const task = quadlet.container({ name: 'nope', image: 'localhost/missing:1' });
  const changes = plan(task, captured['rootfulAbsent']!);
  t.same(summaries(changes), [
    'pull localhost/missing:1',
    'create /etc/containers/systemd/nope.container (165 bytes), mode 0644, owner root, group root',
    'start nope.service',
  ]);
  t.match(changes[2]?.diff, /- nope.service inactive\n\+ nope.service active/);
});

t.test("quadlet: pull 'never' with the image missing fails in a real run and is only noted in check mode", async (t) => {
  const task = quadlet.container({ name: 'nope', image: 'localhost/missing:1', pull: 'never' });
  t.throws(() => plan(task, captured['rootfulAbsent']!), /image localhost\/missing:1 is not on the host and pull is 'never'/);
  const [first] = plan(task, captured['rootfulAbsent']!, true);
  t.match(first?.uncertain, /pull is 'never'/);
});

t.test("quadlet: pull 'always' is a change on every run, left to the real run", async (t) => {
  const task = quadlet.container({ name: 'web', image: 'localhost/busybox:latest', pull: 'always' });
  const [first] = plan(task, captured['rootfulRunning']!);
  t.equal(first?.action.do, 'pull');
  t.ok(first?.uncertain);
});

t.test('quadlet: a rootless container in sync plans nothing', async (t) => {
  const task = quadlet.container({ name: 'rl', scope: { user: 'qtest' }, image: 'localhost/busybox:latest', exec: ['httpd', '-f', '-p', '8082'], network: 'host' });
  t.same(plan(task, captured['rootless']!), []);
});

t.test('quadlet: a rootless container for a user without lingering plans linger, the file in their home (theirs), and a start', async (t) => {
  const task = quadlet.container({ name: 'rl', scope: { user: 'admin' }, image: 'localhost/busybox:latest', pull: 'never' });
  const changes = plan(task, captured['rootlessNoManager']!, true);
  t.same(summaries(changes).map((s) => s.replace(/\(\d+ bytes\)/, '(N bytes)')), [
    'enable lingering for admin (its services run without a login and start at boot)',
    "image localhost/busybox:latest is not on the host and pull is 'never': load it first (podman load / podman import as admin) or set pull: 'missing'",
    'create /home/admin/.config/containers/systemd/rl.container (N bytes), mode 0644, owner admin, group admin',
    'start rl.service',
  ]);
  t.match(changes[3]?.diff, /- rl.service not running \(no user manager\)/);
});

t.test('quadlet: a rootless quadlet for a user that does not exist says to create the user', async (t) => {
  const task = quadlet.container({ name: 'rl', scope: { user: 'ghost' }, image: 'localhost/busybox:latest' });
  t.throws(() => plan(task, captured['rootlessNoUser']!), /user ghost does not exist on the host/);
});

t.test("quadlet: the generator's complaints about our files are kept, complaints about other files are not ours", async (t) => {
  // Captured from `podman-system-generator --dryrun` (podman 5.4).
  const stderr = [
    'quadlet-generator[346]: Loading source unit file /etc/containers/systemd/bad.container',
    'quadlet-generator[346]: Loading source unit file /etc/containers/systemd/web.container',
    'quadlet-generator[346]: converting "bad.container": no Image or Rootfs key specified',
  ].join('\n');
  t.equal(generatorProblems(stderr, ['bad.container']), 'converting "bad.container": no Image or Rootfs key specified');
  t.equal(generatorProblems(stderr, ['web.container']), undefined);
  t.equal(generatorProblems('Error: something broke\n', ['web.container']), 'Error: something broke');
});

t.test('quadlet: bad parameters name the task, the parameter and the value', async (t) => {
  const check = (task: Task<any>) => () => assertTasksValid([{ task, where: '' }]);
  t.throws(check(quadlet.container({ name: 'web', ...({} as { image: string }) })), /task 'quadlet web.container' \(quadlet.container\): parameter 'image' is required/);
  t.throws(check(quadlet.container({ name: 'web', image: 'i', publishPort: ['80\nExecStartPre=/bin/evil'] })), /parameter 'publishPort.0' = "80\\nExecStartPre=\/bin\/evil": must be a port such as 8080, or a publish rule such as "127\.0\.0\.1:8080:80\/tcp" \(one line\)/);
  t.throws(check(quadlet.network({ name: '../etc', subnet: '10.0.0.0/8' })), /quadlet.network\): parameter 'name' = "..\/etc": must be a name of letters, digits, _, \. and -, starting with a letter or digit/);
  t.throws(check(quadlet.container({ name: 'w', image: 'i', pull: 'sometimes' as 'never' })), /parameter 'pull' = "sometimes": must be one of "missing", "always", "never"/);
  t.throws(check(quadlet.volume({ name: 'v', extra: { Container: { A: 'b' } } as object })), /parameter 'extra.Container' is not known to quadlet.volume \(known: 'Unit', 'Service', 'Install', 'Volume'\)/);
  t.throws(check(quadlet.pod({ name: 'p', scope: { user: 'Robert; rm -rf /' } })), UsageError);
  t.doesNotThrow(check(quadlet.container({ name: 'w', image: 'i', exec: 'sleep 1', scope: { user: 'alice' }, extra: { Service: { Restart: 'always' } } })));
});
