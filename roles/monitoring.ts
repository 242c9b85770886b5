import { role, type Step } from '../lib/playbook.ts';
import { HOSTFORM_ALERT_RULES } from '../lib/pull/alert-rules.ts';
import { DEFAULT_TEXTFILE_DIR } from '../lib/pull/metrics.ts';
import type { Task } from '../lib/module/types.ts';
import { file } from '../modules/file/index.ts';
import { firewalld } from '../modules/firewalld/index.ts';
import { quadlet, type PullPolicy } from '../modules/quadlet/index.ts';
import { service } from '../modules/systemd/index.ts';

/** One Prometheus scrape job. Targets are `host:port`; container names resolve on the monitoring network. */
export interface ScrapeJob {
  readonly job: string;
  readonly targets: readonly string[];
  readonly metricsPath?: string;
}

type Component = 'prometheus' | 'nodeExporter' | 'cadvisor' | 'grafana' | 'alertmanager';
type Exposable = 'prometheus' | 'grafana' | 'alertmanager';

export interface MonitoringOptions {
  readonly images?: Partial<Record<Component, string>>;
  /** Passed to every container. Default 'missing'. */
  readonly pull?: PullPolicy;
  /** Scrape jobs besides Prometheus itself, node_exporter and cAdvisor. */
  readonly scrape?: readonly ScrapeJob[];
  /** Default '30s'. */
  readonly scrapeInterval?: string;
  /** How long Prometheus keeps samples. Default '30d'. */
  readonly retention?: string;
  /** Published on every address with a firewalld port; the others on 127.0.0.1 only. Default ['grafana']. */
  readonly expose?: readonly Exposable[];
  /** Configuration files live here, one directory per component. Default '/etc/monitoring'. */
  readonly configDir?: string;
  readonly subnet?: string;
}

export const MONITORING_IMAGES: Readonly<Record<Component, string>> = {
  prometheus: 'quay.io/prometheus/prometheus:v2.53.0',
  nodeExporter: 'quay.io/prometheus/node-exporter:v1.8.1',
  cadvisor: 'gcr.io/cadvisor/cadvisor:v0.49.1',
  grafana: 'docker.io/grafana/grafana-oss:11.1.0',
  alertmanager: 'quay.io/prometheus/alertmanager:v0.27.0',
};

const PORTS: Readonly<Record<Exposable, number>> = { prometheus: 9090, grafana: 3000, alertmanager: 9093 };

/**
 * prometheus.yml from typed jobs: YAML by hand, since every value is a plain word we chose or a typed target.
 * Rule files are every `rules/*.yml` beside it (Prometheus resolves the pattern from the file's own directory).
 */
export function prometheusConfig(interval: string, jobs: readonly ScrapeJob[]): string {
  const job = (j: ScrapeJob) =>
    [`  - job_name: ${JSON.stringify(j.job)}`, ...(j.metricsPath ? [`    metrics_path: ${JSON.stringify(j.metricsPath)}`] : []),
      '    static_configs:', `      - targets: [${j.targets.map((t) => JSON.stringify(t)).join(', ')}]`].join('\n');
  return `# Managed by hostform (roles/monitoring.ts)
global:
  scrape_interval: ${interval}
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["alertmanager:9093"]
rule_files:
  - "rules/*.yml"
scrape_configs:
${jobs.map(job).join('\n')}
`;
}

const ALERTMANAGER_CONFIG = `# Managed by hostform (roles/monitoring.ts)
route:
  receiver: default
receivers:
  - name: default
`;

/**
 * Prometheus, node_exporter, cAdvisor, Grafana and Alertmanager as Podman
 * quadlets on one `monitoring` network, where containers find each other by
 * name. Configuration files notify `restart prometheus` / `restart alertmanager`,
 * handlers the role brings to the play.
 */
export const monitoringHandlers: readonly Task[] = [
  service({ name: 'prometheus', state: 'restarted' }, { name: 'restart prometheus' }),
  service({ name: 'alertmanager', state: 'restarted' }, { name: 'restart alertmanager' }),
];

export const monitoring = role(
  'monitoring',
  (o: MonitoringOptions = {}): readonly Step[] => {
    const image = { ...MONITORING_IMAGES, ...o.images };
    const pull = o.pull !== undefined ? { pull: o.pull } : {};
    const dir = o.configDir ?? '/etc/monitoring';
    const expose = new Set<Exposable>(o.expose ?? ['grafana']);
    const publish = (c: Exposable) => [`${expose.has(c) ? '' : '127.0.0.1:'}${PORTS[c]}:${PORTS[c]}`];
    const jobs: ScrapeJob[] = [
      { job: 'prometheus', targets: ['localhost:9090'] },
      // node_exporter shares the host's network, so it listens on the host: reach it through podman's host alias.
      { job: 'node', targets: ['host.containers.internal:9100'] },
      { job: 'cadvisor', targets: ['cadvisor:8080'] },
      ...(o.scrape ?? []),
    ];
    const onNetwork = { network: 'monitoring.network', restart: 'always' as const, ...pull };
    return [
      file({ path: `${dir}/prometheus`, state: 'directory', mode: '0755' }),
      file({ path: `${dir}/prometheus/prometheus.yml`, content: prometheusConfig(o.scrapeInterval ?? '30s', jobs), mode: '0644' }, { notify: 'restart prometheus' }),
      // hostform's own alerts (drift, stale pulls, failing runs) on the metrics its runs leave for node_exporter.
      file({ path: `${dir}/prometheus/rules`, state: 'directory', mode: '0755' }),
      file({ path: `${dir}/prometheus/rules/hostform.rules.yml`, content: HOSTFORM_ALERT_RULES, mode: '0644' }, { notify: 'restart prometheus' }),
      // Where hostform's pull and push runs leave their metrics by default; node_exporter reads it below.
      file({ path: DEFAULT_TEXTFILE_DIR, state: 'directory', mode: '0755' }),
      file({ path: `${dir}/alertmanager`, state: 'directory', mode: '0755' }),
      file({ path: `${dir}/alertmanager/alertmanager.yml`, content: ALERTMANAGER_CONFIG, mode: '0644' }, { notify: 'restart alertmanager' }),
      quadlet.network({ name: 'monitoring', subnet: o.subnet ?? '10.89.10.0/24' }),
      quadlet.volume({ name: 'prometheus-data' }),
      quadlet.volume({ name: 'grafana-data' }),
      quadlet.container({
        name: 'prometheus', containerName: 'prometheus', image: image.prometheus, ...onNetwork,
        publishPort: publish('prometheus'),
        volume: [`${dir}/prometheus:/etc/prometheus:ro,Z`, 'prometheus-data.volume:/prometheus'],
        exec: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus', `--storage.tsdb.retention.time=${o.retention ?? '30d'}`],
      }),
      quadlet.container({
        name: 'alertmanager', containerName: 'alertmanager', image: image.alertmanager, ...onNetwork,
        publishPort: publish('alertmanager'),
        volume: [`${dir}/alertmanager:/etc/alertmanager:ro,Z`],
      }),
      quadlet.container({
        name: 'node-exporter', containerName: 'node-exporter', image: image.nodeExporter, restart: 'always', ...pull,
        network: 'host', volume: ['/:/host:ro,rslave'], exec: ['--path.rootfs=/host', `--collector.textfile.directory=/host${DEFAULT_TEXTFILE_DIR}`], podmanArgs: ['--pid=host'],
      }),
      quadlet.container({
        name: 'cadvisor', containerName: 'cadvisor', image: image.cadvisor, ...onNetwork,
        volume: ['/:/rootfs:ro', '/sys:/sys:ro', '/dev/disk:/dev/disk:ro', '/var/lib/containers:/var/lib/containers:ro'],
        podmanArgs: ['--privileged'],
      }),
      quadlet.container({
        name: 'grafana', containerName: 'grafana', image: image.grafana, ...onNetwork,
        publishPort: publish('grafana'), volume: ['grafana-data.volume:/var/lib/grafana'],
      }),
      ...[...expose].map((c) => firewalld.port({ port: PORTS[c], protocol: 'tcp' })),
    ];
  },
  { handlers: monitoringHandlers },
);

