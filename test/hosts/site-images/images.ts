/**
 * The container images of the home-server site (issue 13), as the test registry serves them: the real
 * names and pinned tags the site's roles use, in one place, so that a test can check that the roles'
 * defaults and these agree. See README.md beside this file and docs/test-hosts.md.
 *
 * Two kinds:
 * - 'debian': the real program from Debian trixie's package, laid out like the upstream image (entrypoint,
 *   default arguments, user, ports, volumes). The build fails when Debian's version of the program is not
 *   the tag's, so a tag never lies about what is inside.
 * - 'standin': a small Python program that is NOT the named product. It answers on the product's port with
 *   the parts of its behaviour the site's tests look at, and says so: the label `hostform-standin=<name>`,
 *   the README, and the header of its entry script.
 */

export type SiteImageId =
  | 'prometheus'
  | 'alertmanager'
  | 'node-exporter'
  | 'restic'
  | 'traefik'
  | 'grafana'
  | 'homeassistant'
  | 'cadvisor'
  | 'finance-api'
  | 'plex';

/** A filesystem layer: Debian packages installed over its parent, files copied in, then a setup script. */
export interface LayerSpec {
  /** The layer below; `base` (Debian trixie minbase, shared by every image) has none. */
  readonly parent?: 'base' | 'python';
  readonly packages: readonly string[];
  /** Destination in the image → source file, relative to this folder. Mode 0755 for /usr/local/bin/*, /*.sh and /init, else 0644. */
  readonly files?: Readonly<Record<string, string>>;
  /** Shell run as root in the layer's chroot after the packages and files are in. */
  readonly setup?: string;
}

export interface SiteImage {
  /** Fully qualified repository, as the roles write it (`docker.io/library/…` for Docker Hub's official images). */
  readonly name: string;
  readonly tag: string;
  readonly kind: 'debian' | 'standin';
  /** For 'debian': the package whose upstream version must equal the tag (less a leading v). */
  readonly versionOf?: string;
  /** For 'standin': the product it stands in for (the label `hostform-standin`). */
  readonly standsInFor?: string;
  readonly layer: LayerSpec;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  /** As upstream's image: a user name or uid[:gid]. */
  readonly user: string;
  readonly workdir?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly ports: readonly number[];
  readonly volumes: readonly string[];
  readonly description: string;
}

/** The Python layer every stand-in shares (python3 and python3-yaml from Debian, plus the stand-ins' helper). */
export const PYTHON_LAYER: LayerSpec = {
  parent: 'base',
  packages: ['python3', 'python3-yaml'],
  files: { '/usr/lib/python3/dist-packages/hostform_standin.py': 'standins/hostform_standin.py' },
};

const standinFiles = (program: string, source: string): Record<string, string> => ({ [`/usr/local/bin/${program}`]: `standins/${source}` });

export const SITE_IMAGES: Readonly<Record<SiteImageId, SiteImage>> = {
  prometheus: {
    name: 'docker.io/prom/prometheus',
    tag: 'v2.53.3',
    kind: 'debian',
    versionOf: 'prometheus',
    layer: {
      parent: 'base',
      packages: ['prometheus'],
      files: { '/etc/prometheus/prometheus.yml': 'files/prometheus.yml' },
      // Upstream's layout: consoles under /usr/share/prometheus (Debian keeps them in /etc/prometheus), data in
      // /prometheus, owned by nobody. Debian ships no web UI (its install-ui.sh would fetch one); the API works.
      setup: `ln -s /etc/prometheus/consoles /etc/prometheus/console_libraries /usr/share/prometheus/
install -d -o nobody -g nogroup /prometheus
chown -R nobody:nogroup /etc/prometheus`,
    },
    entrypoint: ['/bin/prometheus'],
    cmd: [
      '--config.file=/etc/prometheus/prometheus.yml',
      '--storage.tsdb.path=/prometheus',
      '--web.console.libraries=/usr/share/prometheus/console_libraries',
      '--web.console.templates=/usr/share/prometheus/consoles',
    ],
    user: 'nobody',
    workdir: '/prometheus',
    ports: [9090],
    volumes: ['/prometheus'],
    description: "Prometheus from Debian trixie's prometheus package, laid out like prom/prometheus",
  },
  alertmanager: {
    name: 'docker.io/prom/alertmanager',
    tag: 'v0.28.1',
    kind: 'debian',
    versionOf: 'prometheus-alertmanager',
    layer: {
      parent: 'base',
      packages: ['prometheus-alertmanager'],
      files: { '/etc/alertmanager/alertmanager.yml': 'files/alertmanager.yml' },
      setup: `ln -s prometheus-alertmanager /usr/bin/alertmanager
install -d -o nobody -g nogroup /alertmanager
chown -R nobody:nogroup /etc/alertmanager`,
    },
    entrypoint: ['/bin/alertmanager'],
    cmd: ['--config.file=/etc/alertmanager/alertmanager.yml', '--storage.path=/alertmanager'],
    user: 'nobody',
    workdir: '/alertmanager',
    ports: [9093],
    volumes: ['/alertmanager'],
    description: "Alertmanager (and amtool) from Debian trixie's prometheus-alertmanager package, laid out like prom/alertmanager",
  },
  'node-exporter': {
    name: 'docker.io/prom/node-exporter',
    tag: 'v1.9.0',
    kind: 'debian',
    versionOf: 'prometheus-node-exporter',
    layer: { parent: 'base', packages: ['prometheus-node-exporter'], setup: 'ln -s prometheus-node-exporter /usr/bin/node_exporter' },
    entrypoint: ['/bin/node_exporter'],
    cmd: [],
    user: 'nobody',
    ports: [9100],
    volumes: [],
    description: "node_exporter from Debian trixie's prometheus-node-exporter package, laid out like prom/node-exporter",
  },
  restic: {
    name: 'docker.io/restic/restic',
    tag: '0.18.0',
    kind: 'debian',
    versionOf: 'restic',
    // Upstream's image carries ssh for sftp repositories too.
    layer: { parent: 'base', packages: ['restic', 'openssh-client'] },
    entrypoint: ['/usr/bin/restic'],
    cmd: [],
    user: 'root',
    ports: [],
    volumes: [],
    description: "restic from Debian trixie's restic package, laid out like restic/restic",
  },
  traefik: {
    name: 'docker.io/library/traefik',
    tag: 'v3.4.1',
    kind: 'standin',
    standsInFor: 'traefik',
    layer: {
      parent: 'python',
      packages: ['python3-bcrypt'],
      files: { ...standinFiles('traefik', 'traefik.py'), '/entrypoint.sh': 'standins/traefik-entrypoint.sh' },
      setup: 'chmod 755 /entrypoint.sh',
    },
    entrypoint: ['/entrypoint.sh'],
    cmd: ['traefik'],
    user: 'root',
    ports: [80],
    volumes: [],
    description: 'hostform stand-in for Traefik v3: NOT Traefik. Routes HTTP by Host() from the static and file-provider config; no ACME',
  },
  grafana: {
    name: 'docker.io/grafana/grafana',
    tag: '12.0.2',
    kind: 'standin',
    standsInFor: 'grafana',
    layer: {
      parent: 'python',
      packages: [],
      files: { ...standinFiles('grafana', 'grafana.py'), '/run.sh': 'standins/grafana-run.sh' },
      // Upstream's user: grafana, uid 472, in group root.
      setup: `useradd --system --uid 472 --gid 0 --home-dir /usr/share/grafana --no-create-home grafana
chmod 755 /run.sh
install -d -o 472 -g 0 /var/lib/grafana /var/log/grafana /usr/share/grafana
install -d /etc/grafana/provisioning/datasources /etc/grafana/provisioning/dashboards /etc/grafana/provisioning/alerting /etc/grafana/provisioning/plugins
touch /etc/grafana/grafana.ini`,
    },
    entrypoint: ['/run.sh'],
    cmd: [],
    user: '472',
    workdir: '/usr/share/grafana',
    env: {
      GF_PATHS_CONFIG: '/etc/grafana/grafana.ini',
      GF_PATHS_DATA: '/var/lib/grafana',
      GF_PATHS_HOME: '/usr/share/grafana',
      GF_PATHS_LOGS: '/var/log/grafana',
      GF_PATHS_PLUGINS: '/var/lib/grafana/plugins',
      GF_PATHS_PROVISIONING: '/etc/grafana/provisioning',
    },
    ports: [3000],
    volumes: ['/var/lib/grafana'],
    description: 'hostform stand-in for Grafana: NOT Grafana. /api/health, admin login, provisioned datasources and dashboards reported over the API',
  },
  homeassistant: {
    name: 'ghcr.io/home-assistant/home-assistant',
    tag: '2025.6.1',
    kind: 'standin',
    standsInFor: 'home-assistant',
    layer: { parent: 'python', packages: [], files: { ...standinFiles('hass', 'homeassistant.py'), '/init': 'standins/homeassistant-init.sh' }, setup: 'chmod 755 /init' },
    entrypoint: ['/init'],
    cmd: [],
    user: 'root',
    workdir: '/config',
    ports: [8123],
    volumes: ['/config'],
    description: 'hostform stand-in for Home Assistant: NOT Home Assistant. Serves 8123 and keeps real data in /config',
  },
  cadvisor: {
    name: 'gcr.io/cadvisor/cadvisor',
    tag: 'v0.49.1',
    kind: 'standin',
    standsInFor: 'cadvisor',
    layer: { parent: 'python', packages: [], files: standinFiles('cadvisor', 'cadvisor.py') },
    entrypoint: ['/usr/local/bin/cadvisor', '-logtostderr'],
    cmd: [],
    user: 'root',
    ports: [8080],
    volumes: [],
    description: "hostform stand-in for cAdvisor: NOT cAdvisor. /metrics with container_* names from the host's cgroup v2 files",
  },
  'finance-api': {
    name: 'ghcr.io/miraclemax/finance-api',
    tag: '1.4.0',
    kind: 'standin',
    standsInFor: 'finance-api',
    layer: {
      parent: 'python',
      packages: [],
      files: standinFiles('finance-api', 'finance_api.py'),
      setup: 'install -d -o nobody -g nogroup /data',
    },
    entrypoint: ['/usr/local/bin/finance-api'],
    cmd: [],
    user: 'nobody',
    workdir: '/data',
    ports: [8000],
    volumes: ['/data'],
    description: "hostform stand-in for the owner's personal finance API: a small HTTP app with /health",
  },
  plex: {
    name: 'docker.io/plexinc/pms-docker',
    tag: '1.41.5.9522-a96edc606',
    kind: 'standin',
    standsInFor: 'plex',
    layer: { parent: 'python', packages: [], files: { ...standinFiles('plex', 'plex.py'), '/init': 'standins/plex-init.sh' }, setup: 'chmod 755 /init' },
    entrypoint: ['/init'],
    cmd: [],
    user: 'root',
    ports: [32400],
    volumes: ['/config', '/transcode'],
    description: 'hostform stand-in for Plex Media Server: NOT Plex. /identity, the claim token and the media folders it sees',
  },
};

export const SITE_IMAGE_IDS = Object.keys(SITE_IMAGES) as SiteImageId[];

/** `name:tag`, the reference a role pins and a host pulls. */
export const imageRef = (id: SiteImageId): string => `${SITE_IMAGES[id].name}:${SITE_IMAGES[id].tag}`;

/**
 * The registries the test hosts' registries.conf sends to the local registry. More than the images above
 * use, so that a role choosing quay.io/prometheus/… or lscr.io/linuxserver/… still pulls from the mirror
 * (and gets "manifest unknown" rather than a network timeout when the image is not there).
 */
export const MIRRORED_REGISTRIES = ['docker.io', 'ghcr.io', 'gcr.io', 'lscr.io', 'quay.io', 'registry.k8s.io'] as const;
