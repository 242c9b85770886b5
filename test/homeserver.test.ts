import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { loadInventory } from '../lib/inventory/load.ts';
import { playbook } from '../lib/playbook.ts';
import { runPlaybooks } from '../lib/run/run.ts';
import { backup, base, homeAssistant, monitoring, reverseProxy } from '../roles/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';

/**
 * The home-server example (playbooks/homeserver.ts's roles) in check mode on
 * one fresh test host: every role plans, nothing fails, and nothing changes.
 * Images point at the test hosts' local busybox with pull 'never', since the
 * test hosts reach no registry. The test hosts' userland is Debian's: the
 * admin joins `sudo` (there is no `wheel`), and the default packages, absent
 * from the hosts' rpm repository, are planned as coming from the EPEL repo
 * file the base role adds first.
 */
const IMAGE = 'localhost/busybox:latest';

const book = playbook({
  name: 'homeserver',
  hosts: 'homeserver',
  become: true,
  roles: [
    base({ admin: { name: 'homeadmin', groups: ['sudo'], authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFm3S4l2i5oP6w1YVxJ1yJ6tq2eM9o0kzq2f0rYQh3kE admin@laptop'] }, timezone: 'Europe/Berlin' }),
    monitoring({
      pull: 'never',
      images: { prometheus: IMAGE, nodeExporter: IMAGE, cadvisor: IMAGE, grafana: IMAGE, alertmanager: IMAGE },
      scrape: [{ job: 'extra', targets: ['10.0.0.5:9100'] }],
    }),
    reverseProxy({ image: IMAGE, pull: 'never', networks: ['monitoring.network'], routes: [{ name: 'grafana', host: 'grafana.test', url: 'http://grafana:3000' }] }),
    homeAssistant({ image: IMAGE, pull: 'never', devices: ['/dev/ttyUSB0'] }),
    backup({ password: 'test-password' }),
  ],
});

/** What check mode must leave as it was: accounts, and every file and directory the roles would write. */
const SNAPSHOT = `sha256sum /etc/passwd /etc/group /etc/shadow; readlink /etc/localtime;
ls -la /etc/containers/systemd /etc/ssh/sshd_config.d /etc/fail2ban/jail.d /etc/yum.repos.d /etc/systemd/system /srv 2>&1;
ls -d /etc/monitoring /etc/traefik /etc/restic /srv/backup /srv/home-assistant 2>&1;
systemctl is-active firewalld fail2ban 2>&1; firewall-cmd --list-ports --list-services 2>&1;
podman network ls -q; podman volume ls -q; true`;

const GENERATOR = '/usr/lib/systemd/system-generators/podman-system-generator';

/** The new file a creation diff shows: its `+` lines. */
const wanted = (diff: string) =>
  diff
    .split('\n')
    .filter((l) => l.startsWith('+') && !l.startsWith('+++'))
    .map((l) => `${l.slice(1)}\n`)
    .join('');

let h: TestHost;

t.before(async () => {
  [h] = (await hosts.up(1, 'el9')) as [TestHost];
});
t.teardown(() => hosts.down());

t.test('homeserver: check mode on a fresh host plans every role, fails nothing and changes nothing', async (t) => {
  const snapshot = async () => (await h.exec(SNAPSHOT)).stdout;
  const before = await snapshot();
  const dir = await mkdtemp(join(tmpdir(), 'hostform-homeserver-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'inventory.yml');
  await writeFile(file, stringify({ hosts: { home: h.inventoryEntry() }, groups: { homeserver: { hosts: ['home'] } } }));
  const report = await runPlaybooks([book], await loadInventory([file]), { mode: 'check', forks: 1 });
  const tasks = report.hosts[0]?.tasks ?? [];
  t.equal(report.exitCode, 2, 'drift found');
  t.same(tasks.filter((task) => task.status === 'failed').map((task) => `${task.name}: ${task.error?.message}`), [], report.hosts[0]?.error?.message ?? 'no host error');
  t.equal(await snapshot(), before, 'the host is untouched');

  const names = tasks.map((task) => task.name);
  for (const role of ['base', 'monitoring', 'reverse-proxy', 'home-assistant', 'backup']) {
    t.ok(names.some((name) => name.startsWith(`${role} : `)), `role ${role} planned its tasks`);
  }
  const status = (name: string) => tasks.find((task) => task.name === name)?.status;
  for (const quadlet of ['monitoring.network', 'prometheus.container', 'node-exporter.container', 'cadvisor.container', 'grafana.container', 'alertmanager.container']) {
    t.equal(status(`monitoring : quadlet ${quadlet}`), 'changed', quadlet);
  }
  t.equal(status('reverse-proxy : quadlet traefik.container'), 'changed', 'traefik joins a network an earlier task would create');
  t.equal(status('home-assistant : quadlet home-assistant.container'), 'changed', 'home-assistant.container');
  t.equal(status('backup : restic init'), 'changed', 'the guarded init would run: no repository yet');
  t.equal(status('backup : timer restic-backup'), 'changed', 'restic-backup timer');
  t.equal(status('backup : timer restic-check'), 'changed', 'restic-check timer');
  t.match(status('home-assistant : selinux boolean container_use_devices=on'), /^(skipped|changed)$/, 'skipped where SELinux is disabled');
  t.same(tasks.filter((task) => task.handler).map((task) => task.name), ['restart prometheus', 'restart alertmanager', 'restart traefik'], 'config files notify their handlers');

  const prometheus = tasks.find((task) => task.name === 'monitoring : file /etc/monitoring/prometheus/prometheus.yml');
  t.match(prometheus?.changes[0]?.diff, /job_name: "extra"\n\+    static_configs:\n\+      - targets: \["10\.0\.0\.5:9100"\]/, 'scrape targets from typed options');
  t.notMatch(JSON.stringify(report), /test-password/, 'the restic password appears in no report');

  // Check mode does not run the generator; run it here on the planned files, in a scratch directory.
  const quadlets = tasks.filter((task) => / : quadlet /.test(task.name)).map((task) => ({ name: task.name.split(' quadlet ')[1] ?? '', text: wanted(task.changes[0]?.diff ?? '') }));
  t.equal(quadlets.length, 11, 'eleven quadlet files planned: 7 containers, 3 volumes, 1 network');
  const scratch = (await h.exec('mktemp -d')).stdout.trim();
  for (const q of quadlets) await h.exec(`cat > ${scratch}/${q.name}`, { input: q.text });
  const generated = await h.exec(`QUADLET_UNIT_DIRS=${scratch} ${GENERATOR} --dryrun 2>&1; echo "exit $?"; rm -rf ${scratch}`);
  t.match(generated.stdout, /exit 0\n$/, 'podman\'s quadlet generator accepts every planned file');
  for (const unit of ['prometheus', 'node-exporter', 'cadvisor', 'grafana', 'alertmanager', 'traefik', 'home-assistant', 'monitoring-network', 'prometheus-data-volume', 'grafana-data-volume', 'traefik-acme-volume']) {
    t.match(generated.stdout, `---${unit}.service---`, `${unit}.service generated`);
  }
  t.comment(`check run: ${report.durationMs} ms, ${report.hosts[0]?.roundTrips} round trips, ${tasks.length} tasks`);
});
