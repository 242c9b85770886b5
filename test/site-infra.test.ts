import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type tap from 'tap';
import { HARNESS_DIR } from './hosts/config.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { SELF_USER, hostDir } from './hosts/registry.ts';
import { REGISTRY_NAME } from './hosts/site-registry.ts';
import { SITE_IMAGES, SITE_IMAGE_IDS, imageRef } from './hosts/site-images/images.ts';
import {
  checkAlertmanagerConfig,
  checkPrometheusConfig,
  checkPrometheusRules,
  validateTraefikConfig,
} from './hosts/site-validators.ts';

/**
 * The test infrastructure of the home-server site (issue 13): the validators the site's tests use, and
 * the site images served by the local registry on the bridge, pulled by their real names on a test host
 * through its registries.conf mirror, each run and answering on its port.
 */

t.teardown(() => hosts.down());

// ------------------------------------------------------------------ validators (no test host)

const goodRules = `groups:
  - name: host
    rules:
      - alert: HostHighCpu
        expr: 100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100 > 85
        for: 10m
        labels: { severity: critical }
        annotations: { summary: "CPU above 85 % on {{ $labels.instance }}" }
`;
const goodPrometheus = `global:
  scrape_interval: 30s
rule_files: [rules/host.yml]
alerting:
  alertmanagers:
    - static_configs: [{ targets: ['alertmanager:9093'] }]
scrape_configs:
  - job_name: node
    static_configs: [{ targets: ['node-exporter:9100'] }]
`;
const goodAlertmanager = `route:
  receiver: mail
  group_by: [alertname]
  routes:
    - matchers: ['severity="critical"']
      receiver: mail
      repeat_interval: 30m
receivers:
  - name: mail
    email_configs:
      - to: admin@example.test
        from: alerts@example.test
        smarthost: smtp.example.test:587
        auth_username: alerts
        auth_password_file: smtp_password
`;

t.test('promtool accepts a good prometheus.yml with its rule file, and names the problem in a bad one', async (t) => {
  const good = await checkPrometheusConfig({ 'prometheus.yml': goodPrometheus, 'rules/host.yml': goodRules });
  t.ok(good.ok, `good config: ${good.output}`);
  t.match(good.output, /SUCCESS: 1 rules found/, 'promtool followed the rule file');
  const bad = await checkPrometheusConfig({ 'prometheus.yml': goodPrometheus.replace('scrape_interval: 30s', 'scrape_interval: thirty seconds'), 'rules/host.yml': goodRules });
  t.notOk(bad.ok, 'a bad scrape_interval is refused');
  t.match(bad.output, /thirty seconds/, 'the message names the bad value');
  const missingRules = await checkPrometheusConfig({ 'prometheus.yml': goodPrometheus });
  t.notOk(missingRules.ok, 'a rule file that is not there is refused');
});

t.test('promtool checks rule files alone: a bad PromQL expression is refused', async (t) => {
  t.ok((await checkPrometheusRules({ 'host.yml': goodRules })).ok, 'good rules pass');
  const bad = await checkPrometheusRules({ 'host.yml': goodRules.replace('[5m]))', '[5m]') });
  t.notOk(bad.ok, 'unbalanced parentheses are refused');
  t.match(bad.output, /parse error|unclosed|unexpected/i, `promtool says why: ${bad.output}`);
});

t.test('amtool accepts a good alertmanager.yml and refuses a route to a receiver that does not exist', async (t) => {
  const good = await checkAlertmanagerConfig({ 'alertmanager.yml': goodAlertmanager, smtp_password: 'secret\n' });
  t.ok(good.ok, `good config: ${good.output}`);
  const bad = await checkAlertmanagerConfig({ 'alertmanager.yml': goodAlertmanager.replace('      receiver: mail\n      repeat', '      receiver: pager\n      repeat') });
  t.notOk(bad.ok, 'an unknown receiver is refused');
  t.match(bad.output, /undefined receiver "pager"/, 'amtool names the receiver');
});

const traefikStatic = `entryPoints:
  web:
    address: ":80"
  websecure:
    address: ":443"
  metrics:
    address: ":8082"
providers:
  file:
    directory: /etc/traefik/dynamic
    watch: true
certificatesResolvers:
  letsencrypt:
    acme:
      email: admin@example.test
      storage: /etc/traefik/acme.json
      httpChallenge:
        entryPoint: web
metrics:
  prometheus:
    entryPoint: metrics
accessLog:
  filePath: /var/log/traefik/access.log
ping: {}
api:
  dashboard: true
`;
const traefikDynamic = `http:
  routers:
    finance:
      rule: "Host(\`finance.home.test\`)"
      entryPoints: [web]
      service: finance
    finance-tls:
      rule: "Host(\`finance.home.test\`)"
      entryPoints: [websecure]
      service: finance
      tls:
        certResolver: letsencrypt
  services:
    finance:
      loadBalancer:
        servers:
          - url: "http://finance-api:8000"
`;

t.test("Traefik's published v3 schemas accept a good static and dynamic configuration and point at a bad key", async (t) => {
  t.same(validateTraefikConfig('static', traefikStatic), { ok: true, errors: [] }, 'static configuration');
  t.same(validateTraefikConfig('dynamic', traefikDynamic), { ok: true, errors: [] }, 'dynamic configuration');
  // The published static schema leaves the top level open; below it, unknown keys are refused.
  const badStatic = validateTraefikConfig('static', traefikStatic.replace('address: ":443"', 'adress: ":443"'));
  t.notOk(badStatic.ok, 'a misspelt entry point key is refused');
  t.ok(badStatic.errors.includes('/entryPoints/websecure: must NOT have additional properties (adress)'), `the error names it: ${badStatic.errors.join('; ')}`);
  const badDynamic = validateTraefikConfig('dynamic', traefikDynamic.replace('url: "http://finance-api:8000"', 'address: "http://finance-api:8000"'));
  t.notOk(badDynamic.ok, 'a server without url is refused');
  t.ok(badDynamic.errors.some((e) => e.startsWith('/http/services/finance/loadBalancer/servers/0')), `the error points at the server: ${badDynamic.errors.join('; ')}`);
  t.notOk(validateTraefikConfig('dynamic', 'http: [unclosed').ok, 'YAML that does not parse is refused');
});

// ------------------------------------------------------------------ images on a test host

let h: TestHost;

async function sh(cmd: string, timeoutMs = 120_000): Promise<string> {
  const r = await h.exec(cmd, { timeoutMs });
  if (r.code !== 0) throw new Error(`${cmd}\nexit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** curl on the host, retried while the service starts (up to ~20 s); prints the body. */
const curl = (args: string) => sh(`for i in $(seq 100); do out=$(curl -sS --max-time 2 ${args} 2>&1) && { printf '%s' "$out"; exit 0; }; sleep 0.2; done; echo "$out" >&2; exit 1`);

t.test('site images on a test host', async (t) => {
  const booted = Date.now();
  [h] = (await hosts.up(1, 'el9', { registry: true })) as [TestHost];
  const registry = await hosts.registry();
  t.comment(`host and registry up in ${((Date.now() - booted) / 1000).toFixed(1)} s (registry start ${registry.startMs} ms)`);

  await t.test('the registry serves every image under its real name and tag, all on one shared Debian base layer', async (t) => {
    const firstLayers = new Set<string>();
    for (const id of SITE_IMAGE_IDS) {
      const { name, tag } = SITE_IMAGES[id];
      const res = await fetch(`http://${registry.address}/v2/${name}/manifests/${tag}`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      t.equal(res.status, 200, `${name}:${tag} is served`);
      t.equal(res.headers.get('docker-content-digest'), registry.build.images[id].digest, `${id}: the digest the build recorded`);
      const manifest = (await res.json()) as { layers: { digest: string }[] };
      firstLayers.add(manifest.layers[0]!.digest);
    }
    t.equal(firstLayers.size, 1, 'every image starts with the same base layer, stored once');
  });

  await t.test('podman on the host pulls each image by its real name through the registries.conf mirror', async (t) => {
    t.match(await sh('cat /etc/containers/registries.conf.d/50-hostform-test-mirror.conf'), `location = "${registry.address}/docker.io"`, 'the drop-in points at the bridge');
    const started = Date.now();
    for (const id of SITE_IMAGE_IDS) {
      await sh(`podman pull -q ${imageRef(id)} >/dev/null`);
      const digest = (await sh(`podman image inspect --format '{{.Digest}}' ${imageRef(id)}`)).trim();
      t.equal(digest, registry.build.images[id].digest, `${imageRef(id)} pulled, digest as pushed`);
    }
    t.comment(`${SITE_IMAGE_IDS.length} images pulled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const standin = (await sh(`podman image inspect --format '{{index .Labels "hostform-standin"}}' ${imageRef('traefik')}`)).trim();
    t.equal(standin, 'traefik', 'a stand-in says what it stands in for in its label');
    const debian = (await sh(`podman image inspect --format '{{index .Labels "hostform-debian-package"}}' ${imageRef('prometheus')}`)).trim();
    t.match(debian, /^prometheus=2\.53\.3\+/, "Prometheus's image says which Debian package it carries");
    const refused = await h.exec('podman pull -q docker.io/library/not-in-the-mirror:1');
    t.not(refused.code, 0, 'an image the mirror lacks is not pulled from anywhere else');
  });

  await t.test('Prometheus runs as nobody with upstream default arguments and reports ready', async (t) => {
    await sh(`podman run -d --name prometheus -p 9090:9090 ${imageRef('prometheus')}`);
    t.match(await curl('-f http://127.0.0.1:9090/-/ready'), /Prometheus Server is Ready/);
    const flags = JSON.parse(await curl('-f http://127.0.0.1:9090/api/v1/status/flags')) as { data: Record<string, string> };
    t.equal(flags.data['config.file'], '/etc/prometheus/prometheus.yml');
    t.equal(flags.data['storage.tsdb.path'], '/prometheus');
    t.equal((await sh('podman exec prometheus id -un')).trim(), 'nobody');
    t.equal((await sh('podman exec prometheus sh -c "test -d /usr/share/prometheus/consoles && test -d /usr/share/prometheus/console_libraries && echo dirs"')).trim(), 'dirs', 'the console folders are where the default arguments say');
    t.match(await sh('podman exec prometheus promtool --version'), /promtool, version 2\.53\.3/, 'promtool is in the image as upstream');
  });

  await t.test('Alertmanager reports ready and its amtool accepts the default configuration', async (t) => {
    await sh(`podman run -d --name alertmanager -p 9093:9093 ${imageRef('alertmanager')}`);
    t.match(await curl('-f http://127.0.0.1:9093/-/ready'), /OK/);
    t.match(await sh('podman exec alertmanager amtool check-config /etc/alertmanager/alertmanager.yml'), /SUCCESS/);
  });

  await t.test('node_exporter serves its metrics on 9100', async (t) => {
    await sh(`podman run -d --name node-exporter -p 9100:9100 ${imageRef('node-exporter')}`);
    t.match(await curl('-f http://127.0.0.1:9100/metrics'), /node_exporter_build_info\{.*version="1\.9\.0".*\} 1/);
  });

  await t.test('restic initialises a repository, backs up and lists the snapshot', async (t) => {
    t.match(await sh(`podman run --rm ${imageRef('restic')} version`), /^restic 0\.18\.0 /);
    const restic = `podman run --rm -e RESTIC_PASSWORD=test -v /srv/restic:/repo -v /etc/hostname:/data/hostname:ro ${imageRef('restic')} -r /repo`;
    await sh(`mkdir -p /srv/restic && ${restic} init -q && ${restic} backup -q /data`);
    const snapshots = JSON.parse(await sh(`${restic} snapshots --json`)) as { paths: string[] }[];
    t.same(snapshots.map((s) => s.paths), [['/data']], 'one snapshot of /data');
  });

  await t.test('the Traefik stand-in routes by Host header to a backend container, counts it in its metrics and logs it', async (t) => {
    t.ok(validateTraefikConfig('static', traefikStatic).ok && validateTraefikConfig('dynamic', traefikDynamic).ok, 'the configuration below is valid for real Traefik v3');
    await sh(`podman network create site >/dev/null && mkdir -p /srv/traefik/dynamic /srv/traefik/log &&
cat >/srv/traefik/traefik.yml <<'EOF'
${traefikStatic}EOF
cat >/srv/traefik/dynamic/routes.yml <<'EOF'
${traefikDynamic}EOF
podman run -d --name finance-api --network site ${imageRef('finance-api')} >/dev/null &&
podman run -d --name traefik --network site -p 8081:80 -p 8443:443 -p 8082:8082 \
  -v /srv/traefik/traefik.yml:/etc/traefik/traefik.yml:ro -v /srv/traefik/dynamic:/etc/traefik/dynamic:ro \
  -v /srv/traefik/log:/var/log/traefik ${imageRef('traefik')} >/dev/null`);
    t.match(await curl('-f -H "Host: finance.home.test" http://127.0.0.1:8081/health'), /"status": "ok"/, 'the Host rule routes to the finance API');
    t.equal(await curl('-H "Host: other.home.test" http://127.0.0.1:8081/health'), '404 page not found', 'another host is not routed');
    t.match(await curl('-fk --resolve finance.home.test:8443:127.0.0.1 https://finance.home.test:8443/health'), /"status": "ok"/, 'the TLS router answers with the default certificate');
    const metrics = await curl('-f http://127.0.0.1:8082/metrics');
    t.match(metrics, 'traefik_service_requests_total{code="200",method="GET",protocol="http",service="finance@file"} 2', 'requests per service, with code');
    t.match(metrics, 'traefik_entrypoint_requests_total{code="404",entrypoint="web",method="GET",protocol="http"} 1', 'the 404 per entry point');
    t.match(metrics, /traefik_tls_certs_not_after\{cn="TRAEFIK DEFAULT CERT"/, 'certificate expiry, for the alert');
    const log = await sh('cat /srv/traefik/log/access.log');
    // Referer and User-Agent are headers, which Traefik v3 drops from the access log unless accessLog.fields keeps them: "-".
    t.match(log, /"GET \/health HTTP\/1\.1" 200 \d+ "-" "-" \d+ "finance@file" "http:\/\/finance-api:8000" \d+ms/, 'the access log is in Traefik\'s common format');
    await sh(`sed -i 's/finance.home.test/money.home.test/' /srv/traefik/dynamic/routes.yml`);
    t.match(await curl('-f -H "Host: money.home.test" http://127.0.0.1:8081/health'), /"status": "ok"/, 'a changed dynamic file is picked up without a restart');
  });

  await t.test('the Grafana stand-in answers /api/health, logs the admin in with the secret file and reports what it provisioned', async (t) => {
    await sh(`mkdir -p /srv/grafana/provisioning/datasources /srv/grafana/provisioning/dashboards /srv/grafana/dashboards &&
printf 's3cret\\n' >/srv/grafana/admin_password && chmod 644 /srv/grafana/admin_password &&
printf 'apiVersion: 1\\ndatasources:\\n  - name: Prometheus\\n    type: prometheus\\n    url: http://prometheus:9090\\n    isDefault: true\\n' >/srv/grafana/provisioning/datasources/prometheus.yaml &&
printf 'apiVersion: 1\\nproviders:\\n  - name: site\\n    folder: Site\\n    options:\\n      path: /var/lib/grafana/dashboards\\n' >/srv/grafana/provisioning/dashboards/site.yaml &&
printf '{"uid": "node", "title": "Node"}' >/srv/grafana/dashboards/node.json &&
podman run -d --name grafana -p 3000:3000 -e GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/admin_password \
  -v /srv/grafana/admin_password:/run/secrets/admin_password:ro -v /srv/grafana/provisioning:/etc/grafana/provisioning:ro \
  -v /srv/grafana/dashboards:/var/lib/grafana/dashboards:ro ${imageRef('grafana')} >/dev/null`);
    t.match(await curl('-f http://127.0.0.1:3000/api/health'), /"database": "ok"/);
    const datasources = JSON.parse(await curl('-f -u admin:s3cret http://127.0.0.1:3000/api/datasources')) as { name: string; url: string; isDefault: boolean }[];
    t.match(datasources, [{ name: 'Prometheus', url: 'http://prometheus:9090', isDefault: true }], 'the provisioned datasource');
    t.match(JSON.parse(await curl('-f -u admin:s3cret http://127.0.0.1:3000/api/search')), [{ uid: 'node', title: 'Node', folderTitle: 'Site' }], 'the provisioned dashboard');
    t.match(await curl('-o /dev/null -w "%{http_code}" -u admin:admin http://127.0.0.1:3000/api/datasources'), '401', 'the default password is refused');
  });

  await t.test('the Home Assistant stand-in serves 8123, keeps its configuration in /config, and refuses an unconfigured proxy', async (t) => {
    await sh(`mkdir -p /srv/homeassistant && podman run -d --name homeassistant -p 8123:8123 -v /srv/homeassistant:/config ${imageRef('homeassistant')} >/dev/null`);
    t.match(await curl('-f http://127.0.0.1:8123/manifest.json'), /"name": "Home Assistant"/);
    const files = (JSON.parse(await curl('-f http://127.0.0.1:8123/api/hostform-standin/config')) as { files: Record<string, string> }).files;
    const onHost = (await sh('sha256sum /srv/homeassistant/configuration.yaml')).split(' ')[0];
    t.equal(files['configuration.yaml'], onHost, 'configuration.yaml is on the host volume and reported with its hash');
    t.ok(files['.storage/core.uuid'], 'the installation id is kept under .storage');
    t.ok((await sh('test -s /srv/homeassistant/home-assistant_v2.db && echo yes')).includes('yes'), 'the recorder database exists');
    t.equal(await curl('-o /dev/null -w "%{http_code}" -H "X-Forwarded-For: 10.0.0.1" http://127.0.0.1:8123/'), '400', 'X-Forwarded-For without trusted_proxies is refused, as Home Assistant does');
  });

  await t.test("the cAdvisor stand-in serves container_* metrics naming the host's containers", async (t) => {
    // Upstream's documented mounts: the host's root (its cgroup tree is under /rootfs/sys/fs/cgroup; podman
    // puts the container's own over /sys/fs/cgroup) and Podman's storage, for the containers' names.
    await sh(`podman run -d --name cadvisor -p 8080:8080 -v /:/rootfs:ro -v /sys:/sys:ro -v /var/lib/containers:/var/lib/containers:ro ${imageRef('cadvisor')} >/dev/null`);
    const metrics = await curl('-f http://127.0.0.1:8080/metrics');
    t.match(metrics, new RegExp(`container_cpu_usage_seconds_total\\{cpu="total",id="/machine\\.slice/libpod-[0-9a-f]{64}\\.scope",image="${imageRef('prometheus').replace(/[.]/g, '\\.')}",name="prometheus"\\} [0-9.]+`), 'CPU of the prometheus container, by name and image');
    // Memory figures exist only where the kernel gives the memory controller, as with cAdvisor.
    const memory = (await sh('cat /sys/fs/cgroup/machine.slice/cgroup.controllers')).split(' ').map((c) => c.trim()).includes('memory');
    t.equal(/container_memory_working_set_bytes\{[^}]*name="grafana"\} \d+/.test(metrics), memory, `memory of the grafana container ${memory ? 'reported' : 'absent: no memory controller on this host'}`);
    t.match(metrics, /container_start_time_seconds\{[^}]*name="traefik"\} [0-9.]+/, 'start time, for the restart alert');
    t.match(await curl('-f http://127.0.0.1:8080/healthz'), 'ok');
  });

  await t.test('the Plex stand-in answers /identity on 32400', async (t) => {
    await sh(`podman run -d --name plex -p 32400:32400 -e PLEX_CLAIM=claim-test ${imageRef('plex')} >/dev/null`);
    t.match(await curl('-f http://127.0.0.1:32400/identity'), /<MediaContainer size="0" claimed="1" machineIdentifier="[0-9a-f]+" version="1\.41\.5\.9522-a96edc606">/);
  });

  // Checked on the machine, not over the network: once the bridge is gone, 10.213.0.1 is no address of ours.
  await t.test('down() releases the registry: it stops when no other test process uses it', async (t) => {
    await hosts.down();
    checkRegistryReleased(t, SELF_USER, 'this process');
  });

  await t.test('a test process killed with SIGKILL leaves the registry to the next sweep', async (t) => {
    const user = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(HARNESS_DIR, 'fixtures', 'registry-and-kill.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.once('error', reject);
      child.once('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve(out.trim()) : reject(new Error(`the fixture ended with ${signal ?? _code}: ${out}`))));
    });
    t.match(user, /^\d+-\d+$/, 'the fixture joined the registry before it was killed');
    await hosts.sweep();
    checkRegistryReleased(t, user, 'the killed process');
  });
});

/** Gone with its last user; when another test process still uses it, at least `user` no longer does. */
function checkRegistryReleased(t: Pick<typeof tap, 'ok' | 'notOk'>, user: string, who: string): void {
  const users = path.join(hostDir(REGISTRY_NAME), 'users');
  if (fs.existsSync(users)) {
    t.notOk(fs.existsSync(path.join(users, user)), `still up for another test process, but no longer used by ${who}`);
    return;
  }
  const cgroup2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified';
  t.notOk(fs.existsSync(`${cgroup2}/hostform-test-${REGISTRY_NAME}`), 'its cgroup, and every process in it, is gone');
  t.notOk(fs.existsSync(hostDir(REGISTRY_NAME)), 'its directory (overlay upper layer, config, log) is gone');
}
