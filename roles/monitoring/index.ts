import { DEFAULT_TEXTFILE_DIR, HOSTFORM_ALERT_RULES, role, UsageError, type Secret, type Step, type Task } from '../../lib/index.ts';
import { file, quadlet, service, type PullPolicy } from '../../modules/index.ts';
import { stringify } from 'yaml';
import { network } from '../podman/index.ts';
import { traefikRoutes } from '../traefik/index.ts';
import { ruleFile, siteRules, THRESHOLDS, type AlertRule, type Thresholds } from './rules.ts';
import { NODE_DASHBOARD } from './dashboard.ts';

export { BACKUP_METRICS, siteRules, ruleFile, THRESHOLDS, type AlertRule, type Levels, type Severity, type Thresholds } from './rules.ts';

/** One Prometheus scrape job. Targets are `host:port`; container names resolve on the monitoring network. */
export interface ScrapeJob {
  readonly job: string;
  readonly targets: readonly string[];
  readonly metricsPath?: string;
}

export type Component = 'prometheus' | 'alertmanager' | 'nodeExporter' | 'cadvisor' | 'grafana';

export interface SmtpOptions {
  readonly to: string;
  readonly from: string;
  /** `host:port`, e.g. 'smtp.example.org:587'. */
  readonly smarthost: string;
  readonly username: string;
  /** A Secret: it reaches Alertmanager as a Podman secret file, never in alertmanager.yml. */
  readonly password: Secret;
}

export interface MonitoringOptions {
  /** Default MONITORING_IMAGES. */
  readonly images?: Partial<Record<Component, string>>;
  readonly pull?: PullPolicy;
  /** Scrape jobs besides the monitoring containers' own: the other roles' (traefikScrape(), ...) and static targets. */
  readonly scrape?: readonly ScrapeJob[];
  /** Default '30s'. */
  readonly scrapeInterval?: string;
  /** How long and how much Prometheus keeps. Default { time: '30d', size: '20GB' }. */
  readonly retention?: { readonly time?: string; readonly size?: string };
  /** The URL Prometheus is reached at (links in alerts). Default: its route, else http://localhost:9090. */
  readonly externalUrl?: string;
  /** Thresholds of the default alert rules. */
  readonly thresholds?: Partial<Thresholds>;
  /** Rules instead of siteRules(thresholds). */
  readonly rules?: readonly AlertRule[];
  /** Alert mail; left out, alerts stay in Alertmanager's UI. */
  readonly smtp?: SmtpOptions;
  /** Grafana's admin password, a Secret (read by Grafana at its first start; later changes are Grafana's own: `grafana cli admin reset-admin-password`). */
  readonly grafanaAdminPassword: Secret;
  /** Host names Traefik routes to Grafana, Prometheus and Alertmanager (certificates by ACME when `acme`). */
  readonly hosts?: { readonly grafana?: string; readonly prometheus?: string; readonly alertmanager?: string };
  /**
   * Traefik middlewares for the Prometheus and Alertmanager routes, which have no login of their own
   * (Prometheus's admin API, Alertmanager's silences): ADMIN_AUTH, with the traefik role's `adminAuth`.
   * Routing either without one is refused unless `public` is true.
   */
  readonly middlewares?: readonly string[];
  /** Route Prometheus and Alertmanager with no middleware: only when something else guards them. Default false. */
  readonly public?: boolean;
  /** The traefik role uses ACME: the routes ask for its certificate resolver. */
  readonly acme?: boolean;
  /** Default '/etc/monitoring'. */
  readonly configDir?: string;
}

export const MONITORING_IMAGES: Readonly<Record<Component, string>> = {
  prometheus: 'docker.io/prom/prometheus:v2.53.3',
  alertmanager: 'docker.io/prom/alertmanager:v0.28.1',
  nodeExporter: 'docker.io/prom/node-exporter:v1.9.0',
  cadvisor: 'gcr.io/cadvisor/cadvisor:v0.49.1',
  grafana: 'docker.io/grafana/grafana:12.0.2',
};

/** Where node_exporter reads *.prom files: the backup role writes its metrics there, and hostform's pull and push runs theirs (docs/fleet.md). */
export const TEXTFILE_DIR = DEFAULT_TEXTFILE_DIR;

/** The monitoring containers' own jobs. node_exporter shares the host's network: Prometheus reaches it through podman's host alias. */
export const OWN_JOBS: readonly ScrapeJob[] = [
  { job: 'prometheus', targets: ['localhost:9090'] },
  { job: 'alertmanager', targets: ['alertmanager:9093'] },
  { job: 'node', targets: ['host.containers.internal:9100'] },
  { job: 'cadvisor', targets: ['cadvisor:8080'] },
  { job: 'grafana', targets: ['grafana:3000'] },
];

/** prometheus.yml: the jobs, the rule files beside it, Alertmanager on the monitoring network. */
export function prometheusConfig(interval: string, jobs: readonly ScrapeJob[]): string {
  return `# Managed by hostform (roles/monitoring)\n${stringify({
    global: { scrape_interval: interval, evaluation_interval: interval },
    rule_files: ['rules/*.yml'],
    alerting: { alertmanagers: [{ static_configs: [{ targets: ['alertmanager:9093'] }] }] },
    scrape_configs: jobs.map((j) => ({ job_name: j.job, ...(j.metricsPath ? { metrics_path: j.metricsPath } : {}), static_configs: [{ targets: [...j.targets] }] })),
  })}`;
}

/** Where the SMTP password is inside the Alertmanager container (a Podman secret). */
export const SMTP_PASSWORD_FILE = '/run/secrets/smtp-password';

/** Severity routes: critical repeats every 30 min, warning is grouped every 2 h, info once a day. */
export function alertmanagerConfig(smtp: Omit<SmtpOptions, 'password'> | undefined): string {
  const route = (severity: string, timing: Record<string, string>) => ({ matchers: [`severity="${severity}"`], receiver: 'mail', ...timing });
  return `# Managed by hostform (roles/monitoring)\n${stringify({
    route: {
      receiver: 'mail',
      group_by: ['alertname', 'instance'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        route('critical', { group_wait: '10s', group_interval: '5m', repeat_interval: '30m' }),
        route('warning', { group_interval: '2h', repeat_interval: '2h' }),
        route('info', { group_interval: '24h', repeat_interval: '24h' }),
      ],
    },
    receivers: [
      smtp === undefined
        ? { name: 'mail' }
        : {
            name: 'mail',
            email_configs: [
              { to: smtp.to, from: smtp.from, smarthost: smtp.smarthost, auth_username: smtp.username, auth_password_file: SMTP_PASSWORD_FILE, require_tls: true, send_resolved: true },
            ],
          },
    ],
  })}`;
}

export function grafanaDatasource(): string {
  return `# Managed by hostform (roles/monitoring)\n${stringify({
    apiVersion: 1,
    datasources: [{ name: 'Prometheus', uid: 'prometheus', type: 'prometheus', access: 'proxy', url: 'http://prometheus:9090', isDefault: true, editable: false }],
  })}`;
}

export function grafanaDashboardProvider(): string {
  return `# Managed by hostform (roles/monitoring)\n${stringify({
    apiVersion: 1,
    providers: [{ name: 'site', folder: 'Site', type: 'file', disableDeletion: true, options: { path: '/var/lib/grafana/dashboards' } }],
  })}`;
}

export const monitoringHandlers: readonly Task[] = [
  service({ name: 'prometheus', state: 'restarted' }, { name: 'restart prometheus' }),
  service({ name: 'alertmanager', state: 'restarted' }, { name: 'restart alertmanager' }),
  service({ name: 'grafana', state: 'restarted' }, { name: 'restart grafana' }),
];

/**
 * Prometheus, Alertmanager, node_exporter, cAdvisor and Grafana as quadlets on the monitoring network.
 * Prometheus and Alertmanager publish on 127.0.0.1 only (podman's published ports pass by firewalld);
 * the way in from the LAN is Traefik, by the host names in `hosts`, Prometheus and Alertmanager behind
 * `middlewares` (a UsageError without, unless `public`). Scrape jobs are the containers' own plus
 * `scrape`, which a site builds from the roles it uses (traefikScrape(), appScrape(), ...).
 */
export const monitoring = role(
  'monitoring',
  (o: MonitoringOptions): readonly Step[] => {
    const image = { ...MONITORING_IMAGES, ...o.images };
    const pull = o.pull !== undefined ? { pull: o.pull } : {};
    const dir = o.configDir ?? '/etc/monitoring';
    const hosts = o.hosts ?? {};
    const externalUrl = o.externalUrl ?? (hosts.prometheus ? `https://${hosts.prometheus}` : 'http://localhost:9090');
    const rules = o.rules ?? siteRules({ ...THRESHOLDS, ...o.thresholds });
    const onNetwork = { network: network('monitoring'), restart: 'always' as const, autoUpdate: 'registry' as const, ...pull };
    const guard = o.middlewares ?? [];
    const open = [
      ...(hosts.prometheus ? [`${hosts.prometheus} (Prometheus)`] : []),
      ...(hosts.alertmanager ? [`${hosts.alertmanager} (Alertmanager)`] : []),
    ];
    if (guard.length === 0 && open.length > 0 && o.public !== true) {
      throw new UsageError(
        `monitoring: option 'middlewares' = ${JSON.stringify(o.middlewares) ?? 'undefined'}: Traefik would route ${open.join(' and ')} with no login in front, and Prometheus and Alertmanager have none of their own; ` +
          `give middlewares: [ADMIN_AUTH] (with the traefik role's adminAuth), or public: true if something else guards them`,
      );
    }
    const middlewares = guard.length > 0 ? { middlewares: guard } : {};
    const routes = [
      ...(hosts.grafana ? [{ name: 'grafana', host: hosts.grafana, service: 'grafana', port: 3000 }] : []),
      ...(hosts.prometheus ? [{ name: 'prometheus', host: hosts.prometheus, service: 'prometheus', port: 9090, ...middlewares }] : []),
      ...(hosts.alertmanager ? [{ name: 'alertmanager', host: hosts.alertmanager, service: 'alertmanager', port: 9093, ...middlewares }] : []),
    ];
    const behindTraefik = routes.length > 0 ? [network('traefik')] : [];
    return [
      file({ path: dir, state: 'directory', mode: '0755' }),
      file({ path: `${dir}/prometheus`, state: 'directory', mode: '0755' }),
      file({ path: `${dir}/prometheus/rules`, state: 'directory', mode: '0755' }),
      file({ path: `${dir}/prometheus/prometheus.yml`, content: prometheusConfig(o.scrapeInterval ?? '30s', [...OWN_JOBS, ...(o.scrape ?? [])]), mode: '0644' }, { notify: 'restart prometheus' }),
      file({ path: `${dir}/prometheus/rules/site.yml`, content: ruleFile('site', rules), mode: '0644' }, { notify: 'restart prometheus' }),
      // hostform's own alerts (drift, stale pulls, failing runs) on the metrics its runs leave in TEXTFILE_DIR.
      file({ path: `${dir}/prometheus/rules/hostform.rules.yml`, content: HOSTFORM_ALERT_RULES, mode: '0644' }, { notify: 'restart prometheus' }),
      file({ path: `${dir}/alertmanager`, state: 'directory', mode: '0755' }),
      file({ path: `${dir}/alertmanager/alertmanager.yml`, content: alertmanagerConfig(o.smtp), mode: '0644' }, { notify: 'restart alertmanager' }),
      file({ path: `${dir}/grafana`, state: 'directory', mode: '0755' }),
      file({ path: `${dir}/grafana/provisioning`, state: 'directory', mode: '0755' }),
      file({ path: `${dir}/grafana/provisioning/datasources`, state: 'directory', mode: '0755' }),
      file({ path: `${dir}/grafana/provisioning/dashboards`, state: 'directory', mode: '0755' }),
      file({ path: `${dir}/grafana/dashboards`, state: 'directory', mode: '0755' }),
      file({ path: `${dir}/grafana/provisioning/datasources/prometheus.yaml`, content: grafanaDatasource(), mode: '0644' }, { notify: 'restart grafana' }),
      file({ path: `${dir}/grafana/provisioning/dashboards/site.yaml`, content: grafanaDashboardProvider(), mode: '0644' }, { notify: 'restart grafana' }),
      file({ path: `${dir}/grafana/dashboards/node.json`, content: `${JSON.stringify(NODE_DASHBOARD, null, 2)}\n`, mode: '0644' }),
      file({ path: '/var/lib/node_exporter', state: 'directory', mode: '0755' }),
      file({ path: TEXTFILE_DIR, state: 'directory', mode: '0755' }),
      quadlet.secret({ name: 'grafana-admin', value: o.grafanaAdminPassword }),
      ...(o.smtp ? [quadlet.secret({ name: 'smtp-password', value: o.smtp.password })] : []),
      quadlet.volume({ name: 'prometheus-data', volumeName: 'prometheus-data' }),
      quadlet.volume({ name: 'alertmanager-data', volumeName: 'alertmanager-data' }),
      quadlet.volume({ name: 'grafana-data', volumeName: 'grafana-data' }),
      quadlet.container({
        name: 'prometheus', containerName: 'prometheus', image: image.prometheus, ...onNetwork,
        network: [network('monitoring'), ...behindTraefik],
        publishPort: ['127.0.0.1:9090:9090'],
        volume: [`${dir}/prometheus:/etc/prometheus:ro,Z`, 'prometheus-data.volume:/prometheus'],
        exec: [
          '--config.file=/etc/prometheus/prometheus.yml',
          '--storage.tsdb.path=/prometheus',
          `--storage.tsdb.retention.time=${o.retention?.time ?? '30d'}`,
          `--storage.tsdb.retention.size=${o.retention?.size ?? '20GB'}`,
          `--web.external-url=${externalUrl}`,
        ],
      }),
      quadlet.container({
        name: 'alertmanager', containerName: 'alertmanager', image: image.alertmanager, ...onNetwork,
        network: [network('monitoring'), ...behindTraefik],
        publishPort: ['127.0.0.1:9093:9093'],
        volume: [`${dir}/alertmanager:/etc/alertmanager:ro,Z`, 'alertmanager-data.volume:/alertmanager'],
        ...(o.smtp ? { secret: ['smtp-password,type=mount,target=smtp-password'] } : {}),
      }),
      quadlet.container({
        name: 'node-exporter', containerName: 'node-exporter', image: image.nodeExporter, restart: 'always', autoUpdate: 'registry', ...pull,
        network: 'host',
        volume: ['/:/host:ro,rslave', `${TEXTFILE_DIR}:/textfile:ro,z`],
        exec: ['--path.rootfs=/host', '--collector.textfile.directory=/textfile'],
        podmanArgs: ['--pid=host'],
      }),
      quadlet.container({
        name: 'cadvisor', containerName: 'cadvisor', image: image.cadvisor, ...onNetwork,
        volume: ['/:/rootfs:ro', '/sys:/sys:ro', '/var/lib/containers:/var/lib/containers:ro'],
        podmanArgs: ['--privileged'],
      }),
      quadlet.container({
        name: 'grafana', containerName: 'grafana', image: image.grafana, ...onNetwork,
        network: [network('monitoring'), ...behindTraefik],
        volume: [
          'grafana-data.volume:/var/lib/grafana',
          `${dir}/grafana/provisioning:/etc/grafana/provisioning:ro,Z`,
          `${dir}/grafana/dashboards:/var/lib/grafana/dashboards:ro,Z`,
        ],
        environment: { GF_SECURITY_ADMIN_PASSWORD__FILE: '/run/secrets/grafana-admin', ...(hosts.grafana ? { GF_SERVER_ROOT_URL: `https://${hosts.grafana}` } : {}) },
        secret: ['grafana-admin,type=mount,target=grafana-admin,uid=472'],
      }),
      ...(routes.length > 0 ? [traefikRoutes('monitoring', routes, { acme: o.acme ?? false })] : []),
    ];
  },
  { handlers: monitoringHandlers },
);
