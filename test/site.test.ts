import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { hosts, type TestHost } from './hosts/index.ts';
import { quote } from '../lib/index.ts';
import { BRIDGE_ADDRESS } from './hosts/config.ts';
import { ADMIN_LOGIN, asRoot, curlFrom, failures, httpsTo, named, runSite, SITE_SECRETS, writeSiteInventory } from './support/site.ts';

/**
 * The home server (playbooks/site.ts, every role) on a fresh el9-like test host whose image pulls go to
 * the local registry on the bridge: the real Prometheus, Alertmanager, node_exporter and restic from
 * Debian, stand-ins (named so) for Traefik, Grafana, Home Assistant, cAdvisor, the finance API and Plex.
 * The play runs as a user runs it: `play` from bin/, as the admin user with become. A second test host
 * plays the LAN: it checks what answers from outside.
 *
 * What the container host cannot do, and so is not run here: SELinux (the selinux tasks are skipped as
 * not applicable; the hardening role's booleans are for the el9-selinux VM), kernel.* sysctls (the
 * container shares the machine's kernel: the base role gets net.* settings only), dnf packages, chrony
 * and dnf-automatic (the host's userland is Debian's and its rpm database knows only test packages),
 * NFS mounts for Plex (tested by mount-nfs-vm.test.ts on the VM).
 *
 * The inventory's `lan` (never banned by fail2ban) is the controller's address alone, so that the LAN
 * host can be banned by Traefik's login jail; the last test lifts that ban.
 */

let site: TestHost;
let lan: TestHost;
let inventory: string;
let scratch: string;

const SECRETS = SITE_SECRETS;
const site_ = (mode: 'apply' | 'check') => runSite(inventory, mode);
const root = (cmd: string, timeoutMs?: number) => asRoot(site, cmd, timeoutMs);
const fromLan = (args: string, tries?: number) => curlFrom(lan, args, tries);
const https = (name: string, path: string, extra = '') => httpsTo(site, name, path, extra);
const admin = `-u ${ADMIN_LOGIN}`;
/** The HTTP status of one request from the LAN host, through Traefik, without retries. */
const statusFromLan = async (name: string, path: string, extra = '') =>
  (await lan.exec(`curl -sk -o /dev/null -w '%{http_code}' --max-time 5 ${extra} --resolve ${name}.home.test:443:${site.address} ${quote(`https://${name}.home.test${path}`)}`)).stdout;

t.teardown(async () => {
  await hosts.down();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

t.test('the home server, converged from git on a fresh host', async (t) => {
  const booted = Date.now();
  [site, lan] = (await hosts.up(2, 'el9', { registry: true })) as [TestHost, TestHost];
  t.comment(`two hosts and the registry up in ${((Date.now() - booted) / 1000).toFixed(1)} s`);
  scratch = await mkdtemp(join(tmpdir(), 'hostform-site-'));
  inventory = join(scratch, 'inventory.yml');
  await writeSiteInventory(inventory, site, { lan: `${BRIDGE_ADDRESS}/32` });

  await t.test('before the first run, a service opened by hand answers from the LAN', async (t) => {
    // jenkins is 8080/tcp; a web server listens there, so the LAN check after the runs shows the firewall closed it.
    await root(`mkdir -p /srv/hand && echo opened-by-hand >/srv/hand/index.html && systemd-run -q --unit=hf-hand busybox httpd -f -p 8080 -h /srv/hand &&
firewall-cmd -q --add-service=jenkins && firewall-cmd -q --permanent --add-service=jenkins`);
    t.match(await fromLan(`http://${site.address}:8080/`, 10), /opened-by-hand/);
  });

  await t.test('the first run converges the whole site', async (t) => {
    const { report, seconds, stderr } = await site_('apply');
    t.comment(`first run: ${seconds.toFixed(1)} s, ${named(report, 'changed').length} changed`);
    t.same(failures(report), [], stderr.slice(-3000));
    t.equal(report.exitCode, 0);
  });
  if (t.passing() === false) return;

  await t.test('a second run changes nothing, and --check then reports nothing and exits 0', async (t) => {
    const again = await site_('apply');
    t.comment(`no-op run: ${again.seconds.toFixed(1)} s`);
    t.same(named(again.report, 'changed'), [], 'no task changed');
    t.same(failures(again.report), []);
    const check = await site_('check');
    t.comment(`check: ${check.seconds.toFixed(1)} s`);
    t.equal(check.report.exitCode, 0);
    t.same(named(check.report, 'changed'), []);
    t.not((await site.exec('true', { user: 'root' })).code, 0, "root's SSH login is refused now");
    t.equal((await site.exec('sudo -n true', { user: 'admin' })).code, 0, 'the admin logs in by key and has sudo');
  });

  if (t.passing() === false) return;

  await t.test('from the LAN: Traefik routes by host name to each backend, and only over HTTPS', async (t) => {
    t.match(await fromLan(https('finance', '/health')), /"status": "ok"/, 'finance.home.test reaches the finance API container');
    const redirect = await fromLan(`-s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: finance.home.test' http://${site.address}/health`);
    t.match(redirect, /^30[178] https:\/\/finance\.home\.test\/health$/, 'plain HTTP is redirected to HTTPS');
    t.equal(await fromLan(`-sk -o /dev/null -w '%{http_code}' --resolve other.home.test:443:${site.address} https://other.home.test/`), '404', 'a host name without a route is not routed');
    t.match(await fromLan(https('ha', '/manifest.json')), /"name": "Home Assistant"/, 'Home Assistant answers through the proxy (X-Forwarded-For trusted from Traefik)');
    t.match(await fromLan(https('grafana', '/api/health')), /"database": "ok"/, 'Grafana');
    t.equal(await fromLan(`-sk -o /dev/null -w '%{http_code}' --resolve traefik.home.test:443:${site.address} https://traefik.home.test/api/rawdata`), '401', 'the dashboard asks for a login');
    t.match(await fromLan(https('traefik', '/api/rawdata', admin)), /"routers"/, 'and opens with it');
  });

  await t.test('from the LAN: Prometheus and Alertmanager answer only with the admin login; Grafana, which has its own, needs none from Traefik', async (t) => {
    await fromLan(https('prometheus', '/-/ready', admin));
    t.equal(await statusFromLan('prometheus', '/api/v1/status/config'), '401', 'Prometheus without a login');
    t.equal(await statusFromLan('prometheus', '/api/v1/status/config', `-u admin:wrong`), '401', 'Prometheus with a wrong password');
    t.equal(await statusFromLan('prometheus', '/api/v1/status/config', admin), '200', 'Prometheus with the login');
    t.equal(await statusFromLan('alertmanager', '/api/v2/status'), '401', 'Alertmanager without a login');
    t.equal(await statusFromLan('alertmanager', '/api/v2/status', admin), '200', 'Alertmanager with the login');
    t.equal(await statusFromLan('grafana', '/api/health'), '200', 'Grafana answers without a Traefik login');
    t.equal(await statusFromLan('grafana', '/api/datasources'), '401', 'and asks for its own where it should');
  });

  await t.test('Grafana has its admin password from the secret, the Prometheus datasource and the dashboard', async (t) => {
    const auth = `-u admin:${SECRETS.GRAFANA_ADMIN_PASSWORD}`;
    t.match(JSON.parse(await fromLan(https('grafana', '/api/datasources', auth))), [{ name: 'Prometheus', url: 'http://prometheus:9090', isDefault: true }]);
    t.match(JSON.parse(await fromLan(https('grafana', '/api/search', auth))), [{ uid: 'site-node', title: 'Home server', folderTitle: 'Site' }]);
  });

  await t.test('Prometheus reports every scrape target up and the rule group loaded; Alertmanager accepts its configuration', async (t) => {
    const wanted = ['alertmanager', 'cadvisor', 'grafana', 'node', 'prometheus', 'traefik'];
    let targets: { labels: { job: string }; health: string; lastError: string }[] = [];
    for (let i = 0; i < 30; i++) {
      targets = (JSON.parse(await fromLan(https('prometheus', '/api/v1/targets', admin))) as { data: { activeTargets: typeof targets } }).data.activeTargets;
      if (targets.length === wanted.length && targets.every((x) => x.health === 'up')) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    t.same(targets.map((x) => x.labels.job).sort(), wanted, 'a job per container the site runs, and Traefik');
    t.same(targets.filter((x) => x.health !== 'up').map((x) => `${x.labels.job}: ${x.health} ${x.lastError}`), [], 'every target up');
    const groups = (JSON.parse(await fromLan(https('prometheus', '/api/v1/rules', admin))) as { data: { groups: { name: string; rules: { name: string; health: string }[] }[] } }).data.groups;
    t.same(groups.map((g) => g.name).sort(), ['hostform', 'site'], "the site's rules and hostform's own (drift, stale pulls, failing runs)");
    t.equal(groups.find((g) => g.name === 'site')?.rules.length, 14, 'every site rule loaded');
    t.equal(groups.find((g) => g.name === 'hostform')?.rules.length, 3, "every hostform rule loaded");
    t.same(groups.flatMap((g) => g.rules).filter((r) => r.health === 'err').map((r) => r.name), [], 'no rule fails to evaluate');
    const status = JSON.parse(await fromLan(https('alertmanager', '/api/v2/status', admin))) as { config: { original: string } };
    t.match(status.config.original, /repeat_interval: 30m/, 'Alertmanager runs the rendered configuration');
    t.match(await root('podman exec alertmanager amtool check-config /etc/alertmanager/alertmanager.yml'), /SUCCESS/, 'amtool accepts it, password file included');
  });

  await t.test('a backup makes a snapshot, the restore test passes, and Prometheus scrapes both results', async (t) => {
    const started = Date.now();
    await root('systemctl start site-backup.service', 300_000);
    t.comment(`backup: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await root('systemctl start site-restore-test.service', 300_000);
    const snapshots = JSON.parse(
      await root('podman run --rm -v /srv/backup/restic:/srv/backup/restic -v /etc/restic/password:/p:ro -e RESTIC_PASSWORD_FILE=/p docker.io/restic/restic:0.18.0 -r /srv/backup/restic snapshots --json'),
    ) as { hostname: string; paths: string[] }[];
    t.equal(snapshots.length, 1, 'one snapshot');
    t.same(snapshots[0]?.paths.sort(), ['/etc/containers', '/etc/monitoring', '/etc/traefik', '/srv/finance-api', '/srv/homeassistant', '/var/lib/hostform-backup/volumes'], 'the paths and the volume exports');
    t.equal(await root('systemctl is-active prometheus grafana'), 'active\nactive\n', 'the services stopped for the export run again');
    const query = async (metric: string) => {
      for (let i = 0; i < 30; i++) {
        const result = (JSON.parse(await fromLan(https('prometheus', `/api/v1/query?query=${metric}`, admin))) as { data: { result: { value: [number, string] }[] } }).data.result;
        if (result.length > 0) return result[0]!.value[1];
        await new Promise((r) => setTimeout(r, 2000));
      }
      return 'absent';
    };
    t.equal(await query('hostform_backup_success'), '1', 'backup success, scraped');
    t.equal(await query('hostform_restore_test_success'), '1', 'restore test passed, scraped');
  });

  await t.test('from the LAN only the listed ports answer; the service opened by hand before the run is closed', async (t) => {
    const probe = async (port: number) => (await lan.exec(`timeout 3 bash -c '</dev/tcp/${site.address}/${port}'`)).code === 0;
    for (const port of [22, 80, 443, 32400]) t.ok(await probe(port), `${port} answers`);
    for (const port of [3000, 3001, 8000, 8080, 8082, 8123, 9090, 9093, 9100]) t.notOk(await probe(port), `${port} does not`);
    t.equal(await root('systemctl is-active hf-hand'), 'active\n', 'the server of the hand-opened service still listens on 8080: the firewall is what stops it');
    t.equal(await root('firewall-cmd --list-services; firewall-cmd --permanent --list-services'), 'http https ssh\nhttp https ssh\n', 'exactly the listed services, at runtime and permanently');
  });

  await t.test('drift: a closed port, an edited quadlet, a flipped kernel switch and a stopped service are reported exactly, left alone by --check, and repaired', async (t) => {
    // SELinux booleans are skipped on the container host (no SELinux): the kernel switch a hand can flip here is a sysctl.
    const state = () =>
      root(`firewall-cmd --list-services; firewall-cmd --permanent --list-services; sha256sum /etc/containers/systemd/finance-api.container;
sysctl -n net.ipv4.conf.all.accept_redirects; systemctl is-active homeassistant || true`);
    await root(`firewall-cmd -q --remove-service=https && firewall-cmd -q --permanent --remove-service=https &&
echo '# edited by hand' >>/etc/containers/systemd/finance-api.container &&
sysctl -qw net.ipv4.conf.all.accept_redirects=1 && systemctl stop homeassistant`);
    const before = await state();
    const check = await site_('check');
    t.equal(check.report.exitCode, 2, 'drift: exit 2');
    const changed = named(check.report, 'changed');
    t.comment(changed.join('\n'));
    t.equal(changed.length, 4, 'four tasks, one per change');
    t.ok(changed.some((n) => /hardening : firewalld\.service public exactly ssh, http, https/.test(n)), "the closed https service, by the hardening role's exact list");
    t.ok(changed.some((n) => /app : quadlet finance-api\.container/.test(n)), 'the edited quadlet');
    t.ok(changed.some((n) => /base : sysctl/.test(n)), 'the flipped kernel setting');
    t.ok(changed.some((n) => /homeassistant : quadlet homeassistant\.container/.test(n)), 'the stopped service');
    t.equal(await state(), before, '--check left the host as it was');
    const repair = await site_('apply');
    t.same(failures(repair.report), []);
    t.same(named(repair.report, 'changed').sort(), [...changed].sort(), 'the run repairs exactly those');
    t.equal((await site_('check')).report.exitCode, 0, 'and then the site is in sync');
    t.match(await fromLan(https('ha', '/manifest.json')), /Home Assistant/, 'Home Assistant answers again');
  });

  await t.test("fail2ban: Traefik's login jail bans a LAN client that keeps guessing, from 80 and 443, judging it by lines only Traefik wrote", async (t) => {
    const jail = () => root('fail2ban-client status traefik-login');
    t.match(await jail(), /File list:\s+\/var\/log\/traefik\/access\.log/, 'the jail watches the access log');
    // A user name with a line break, logged as given, would be a line of its own blaming another address.
    const forged = Buffer.from('x\n192.0.2.7 - -:wrong').toString('base64');
    t.equal(await statusFromLan('prometheus', '/', `-H 'Authorization: Basic ${forged}'`), '401');
    const log = await root('cat /var/log/traefik/access.log');
    t.notMatch(log, /^192\.0\.2\.7 /m, 'no line starts with an address the client wrote');
    const lines = log.trim().split('\n');
    const failed = lines.filter((l) => l.startsWith(`${lan.address} - - [`) && l.includes('" 401 ')).at(-1) ?? 'none';
    const passed = lines.filter((l) => l.includes('" 200 ')).at(-1) ?? 'none';
    t.ok(lines.some((l) => l.startsWith(`${lan.address} `) && l.includes('" 401 ') && l.includes('"dashboard@file"')), "the dashboard's 401 is logged too (api@internal, logged by addInternals)");
    const regex = (line: string) => root(`fail2ban-regex ${quote(line)} /etc/fail2ban/filter.d/traefik-login.conf`);
    t.match(await regex(failed), /Lines: 1 lines, 0 ignored, 1 matched, 0 missed/, `fail2ban-regex: a 401 Traefik wrote matches: ${failed}`);
    t.match(await regex(passed), /Lines: 1 lines, 0 ignored, 0 matched, 1 missed/, `and a 200 does not: ${passed}`);

    const banned = new RegExp(`Banned IP list:.*\\b${lan.address.replace(/\./g, '\\.')}\\b`);
    let status = await jail();
    for (let i = 0; i < 30 && !banned.test(status); i++) {
      await statusFromLan('prometheus', '/api/v1/status/config', `-u admin:guess${i}`);
      status = await jail();
    }
    t.match(status, banned, `the LAN host is banned: ${status}`);
    const refused = await lan.exec(`curl -sk -o /dev/null --max-time 5 -u ${ADMIN_LOGIN} --resolve prometheus.home.test:443:${site.address} https://prometheus.home.test/-/ready`);
    t.equal(refused.code, 7, `even with the right login it cannot connect any more (curl: couldn't connect): ${refused.stderr}`);
    t.equal((await lan.exec(`timeout 3 bash -c '</dev/tcp/${site.address}/22'`)).code, 0, 'sshd still answers it: the ban covers 80 and 443');
    await root(`fail2ban-client set traefik-login unbanip ${lan.address}`);
    t.equal(await statusFromLan('prometheus', '/-/ready', admin), '200', 'unbanned, it is answered again');
  });
});
