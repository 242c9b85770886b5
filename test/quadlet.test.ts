import t from 'tap';
import { UsageError } from '../lib/errors.ts';
import { quadlet } from '../modules/quadlet/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

/**
 * Podman quadlets on one real test host, reused by every subtest (they run
 * in order and build on each other): network + volume + container, drift
 * and check mode, a pod, the generator refusing a bad file, bad parameters,
 * and a rootless container.
 */
const IMAGE = 'localhost/busybox:latest';
let h: TestHost;

const sh = (cmd: string) => h.sh(cmd);

/** A tar of busybox's applets, imported as IMAGE (the test hosts have no registry). */
const importBusybox = (runAs: string) => `bb=$(mktemp -d) && chmod 755 "$bb" && mkdir "$bb/bin" && cp /usr/bin/busybox "$bb/bin/" &&
for a in sh echo cat httpd sleep; do ln -s busybox "$bb/bin/$a"; done &&
tar -C "$bb" -c . | (cd / && ${runAs} podman import --quiet - ${IMAGE}) >/dev/null && rm -rf "$bb"`;

/** What check mode must leave exactly as it was: the quadlet files' bytes and the services' state. */
const snapshot = () =>
  sh(`cd /etc/containers/systemd && sha256sum *.* && stat -c '%n %Y %a %U' *.* &&
systemctl show -p ActiveState,MainPID,NeedDaemonReload web.service web-network.service data-volume.service`);

/** How often the system manager reloaded: the journal says so once per daemon-reload. */
const reloads = async () => Number((await sh(`journalctl --no-pager -o cat _PID=1 | grep -c '^Reloading finished' || true`)).trim());

const web = (publish = '8080:8080') => [
  quadlet.network({ name: 'web', subnet: '10.89.7.0/24', label: { app: 'web' } }),
  quadlet.volume({ name: 'data', label: { app: 'web' } }),
  quadlet.container({
    name: 'web',
    image: IMAGE,
    pull: 'never',
    exec: ['httpd', '-f', '-p', '8080', '-h', '/www'],
    publishPort: [publish],
    network: 'web.network',
    volume: ['data.volume:/www'],
    environment: { GREETING: 'hello world' },
    restart: 'on-failure',
    // httpd as PID 1 ignores SIGTERM; without this every restart waits podman's 10 s for it.
    podmanArgs: ['--stop-timeout', '1'],
  }),
];

t.before(async () => {
  [h] = (await hosts.up(1, 'el9')) as [TestHost];
  // The image is meant to ship it; import it when this host's storage lacks it.
  await sh(`podman image exists ${IMAGE} || { ${importBusybox('')}; }`);
});
t.teardown(() => hosts.down());

t.test('quadlet: a container on its own network and volume starts, answers on its published port, and a second run changes nothing', async (t) => {
  const before = await reloads();
  const first = await runTasks(h.inventoryEntry(), web(), 'apply');
  t.same(statuses(first), ['changed', 'changed', 'changed'], errors(first));
  t.equal(await reloads(), before + 1, 'one daemon-reload for the three quadlets');
  t.equal((await sh('systemctl is-active web.service web-network.service data-volume.service')).trim(), 'active\nactive\nactive');

  await sh(`podman exec systemd-web sh -c 'echo "$GREETING" >/www/index.html'`);
  const page = await fetch(`http://${h.address}:8080/`).then((r) => r.text());
  t.equal(page, 'hello world\n', 'the page is served from the volume, on the published port, to the control machine');

  const second = await runTasks(h.inventoryEntry(), web(), 'apply');
  t.same(statuses(second), ['ok', 'ok', 'ok'], errors(second));
  t.equal(second.hosts[0]?.roundTrips, 2, 'a no-op run: facts and one probe batch');
  t.comment(`first run ${first.durationMs} ms, no-op run ${second.durationMs} ms`);
});

t.test('quadlet: check mode after a hand edit reports that drift only and leaves the host untouched', async (t) => {
  await sh(`sed -i 's/^PublishPort=8080:8080$/PublishPort=9090:8080/' /etc/containers/systemd/web.container`);
  const before = await snapshot();
  const check = await runTasks(h.inventoryEntry(), web(), 'check');
  t.same(statuses(check), ['ok', 'ok', 'changed'], errors(check));
  t.equal(check.exitCode, 2);
  const changes = tasksOf(check)[2]?.changes ?? [];
  t.equal(changes.length, 2);
  t.match(changes[0]?.summary, /^update \/etc\/containers\/systemd\/web.container \((\d+) → \1 bytes\)$/);
  t.equal(changes[1]?.summary, 'restart web.service (its quadlet changed)');
  t.match(changes[0]?.diff, /-PublishPort=9090:8080\n\+PublishPort=8080:8080/);
  t.equal(await snapshot(), before, 'files and services exactly as they were');

  const fix = await runTasks(h.inventoryEntry(), web(), 'apply');
  t.same(statuses(fix), ['ok', 'ok', 'changed'], errors(fix));
  t.equal(await fetch(`http://${h.address}:8080/`).then((r) => r.text()), 'hello world\n', 'restarted with the port back');
});

t.test('quadlet: a pod and a container in it start together and stay put on a second run', async (t) => {
  const tasks = [
    quadlet.pod({ name: 'app', publishPort: ['8090:8090'] }),
    quadlet.container({ name: 'app-web', image: IMAGE, pull: 'never', pod: 'app.pod', exec: 'httpd -f -p 8090 -h /' }),
  ];
  const first = await runTasks(h.inventoryEntry(), tasks, 'apply');
  t.same(statuses(first), ['changed', 'changed'], errors(first));
  t.equal((await sh('systemctl is-active app-pod.service app-web.service')).trim(), 'active\nactive');
  t.match(await sh('podman pod ps --format "{{.Name}} {{.NumberOfContainers}}"'), /systemd-app 2/);
  t.equal((await fetch(`http://${h.address}:8090/`)).status, 404, 'busybox httpd answers through the pod\'s port');
  const second = await runTasks(h.inventoryEntry(), tasks, 'apply');
  t.same(statuses(second), ['ok', 'ok'], errors(second));
});

t.test("quadlet: a quadlet the generator refuses fails with the generator's message and nothing is installed", async (t) => {
  const report = await runTasks(h.inventoryEntry(), [quadlet.container({ name: 'broken', image: IMAGE, pull: 'never', network: 'nowhere.network' })], 'apply');
  t.same(statuses(report), ['failed']);
  t.match(errors(report), /the quadlet generator refused broken.container; nothing was installed:\nconverting "broken.container": requested Quadlet unit nowhere.network was not found/);
  t.equal((await h.exec('test -e /etc/containers/systemd/broken.container')).code, 1);
});

t.test('quadlet: invalid parameters fail before any host is touched, naming task, parameter and value', async (t) => {
  const bad = [
    quadlet.container({ name: 'typo', image: IMAGE, pull: 'sometimes' as 'never' }),
    quadlet.network({ name: 'typo', subnet: '10.0.0.0/24\nExecStartPre=/bin/false' }),
  ];
  await t.rejects(runTasks(h.inventoryEntry(), bad, 'apply'), UsageError);
  const message = await runTasks(h.inventoryEntry(), bad, 'apply').catch((e: Error) => e.message);
  t.match(message, /task 'quadlet typo.container' \(quadlet.container\): parameter 'pull' = "sometimes": must be one of "missing", "always", "never"/);
  t.match(message, /task 'quadlet typo.network' \(quadlet.network\): parameter 'subnet' = "10.0.0.0\/24\\nExecStartPre=\/bin\/false"/);
  t.equal((await h.exec('ls /etc/containers/systemd/typo.*')).code, 2, 'nothing written');
});

t.test('quadlet: a rootless container runs under its user, by its own manager, and a second run changes nothing', async (t) => {
  const user = 'quser';
  await sh(`useradd --create-home ${user}`);
  // Gaps of the test image, not of the module (reported on issue 3): no newuidmap, so podman
  // must map the user's own uid only; a home on overlayfs, which rootless overlay storage refuses;
  // and network-online.target never reached, which rootless quadlets wait for.
  await sh(`command -v newuidmap >/dev/null || sed -i '/^${user}:/d' /etc/subuid /etc/subgid
if [ "$(stat -f -c %T /home/${user})" = overlayfs ]; then
  runuser -u ${user} -- mkdir -p /home/${user}/.config/containers
  printf '[storage]\\ndriver = "vfs"\\n' | runuser -u ${user} -- tee /home/${user}/.config/containers/storage.conf >/dev/null
fi
systemctl start network-online.target`);
  await sh(importBusybox(`runuser -u ${user} -- env -u XDG_RUNTIME_DIR`));

  // Host networking: the image has no pasta for rootless port forwarding.
  const tasks = [quadlet.container({ name: 'rl', scope: { user }, image: IMAGE, pull: 'never', exec: ['httpd', '-f', '-p', '8082', '-h', '/'], network: 'host' })];
  const first = await runTasks(h.inventoryEntry(), tasks, 'apply');
  t.same(statuses(first), ['changed'], errors(first));
  t.same(
    tasksOf(first)[0]?.changes.map((c) => c.summary.replace(/\(\d+ bytes\)/, '(N bytes)')),
    [
      `enable lingering for ${user} (its services run without a login and start at boot)`,
      `create /home/${user}/.config/containers/systemd/rl.container (N bytes), mode 0644, owner ${user}, group ${user}`,
      'start rl.service',
    ],
  );
  t.match(await sh(`stat -c '%U %a' /home/${user}/.config/containers/systemd/rl.container`), `${user} 644`);
  t.match(await sh(`ps -o user= -C httpd`), new RegExp(`^${user}$`, 'm'), 'httpd runs as the user');
  t.equal((await sh(`runuser -u ${user} -- env XDG_RUNTIME_DIR=/run/user/$(id -u ${user}) systemctl --user is-active rl.service`)).trim(), 'active');
  t.match(await sh('curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:8082/'), /^(200|404)$/);

  const second = await runTasks(h.inventoryEntry(), tasks, 'apply');
  t.same(statuses(second), ['ok'], errors(second));

  await sh(`sed -i 's/8082/8083/' /home/${user}/.config/containers/systemd/rl.container`);
  const before = await sh(`sha256sum /home/${user}/.config/containers/systemd/rl.container; pgrep -u ${user} httpd`);
  const check = await runTasks(h.inventoryEntry(), tasks, 'check');
  t.same(statuses(check), ['changed'], errors(check));
  t.match(tasksOf(check)[0]?.changes[0]?.diff, /-Exec=httpd -f -p 8083 -h \/\n\+Exec=httpd -f -p 8082 -h \//);
  t.equal(await sh(`sha256sum /home/${user}/.config/containers/systemd/rl.container; pgrep -u ${user} httpd`), before, 'untouched by check mode');
});
