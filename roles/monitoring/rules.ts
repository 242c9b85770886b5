import { stringify } from 'yaml';

export type Severity = 'critical' | 'warning' | 'info';

/** One Prometheus alerting rule, as data. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  /** How long the condition holds before the alert fires. Default '5m'. */
  readonly for?: string;
  readonly severity: Severity;
  readonly summary: string;
}

/** A warning and a critical level, in percent. */
export interface Levels {
  readonly warning: number;
  readonly critical: number;
}

/** The roadmap's thresholds; each may be overridden. */
export interface Thresholds {
  readonly cpu: Levels;
  readonly memory: Levels;
  readonly disk: Levels;
  /** Restarts of one container within 15 minutes. */
  readonly containerRestarts: number;
  /** Share of Traefik's answers per service that are 5xx, in percent over 5 minutes. */
  readonly http5xxPercent: number;
  /** Certificate expiry, in days. */
  readonly certificateDays: number;
  /** The last backup snapshot older than this, in hours, is stale. */
  readonly backupMaxAgeHours: number;
}

export const THRESHOLDS: Thresholds = {
  cpu: { warning: 75, critical: 85 },
  memory: { warning: 80, critical: 90 },
  disk: { warning: 85, critical: 90 },
  containerRestarts: 3,
  http5xxPercent: 5,
  certificateDays: 30,
  backupMaxAgeHours: 26,
};

/** The metrics the backup role writes to node_exporter's textfile directory. */
export const BACKUP_METRICS = {
  success: 'hostform_backup_success',
  lastSnapshot: 'hostform_backup_last_snapshot_timestamp_seconds',
  restoreSuccess: 'hostform_restore_test_success',
  restoreTime: 'hostform_restore_test_timestamp_seconds',
} as const;

const both = (name: string, what: string, expr: (level: number) => string, levels: Levels, forTime: string): AlertRule[] => [
  { alert: `${name}Warning`, expr: expr(levels.warning), for: forTime, severity: 'warning', summary: `${what} above ${levels.warning} % on {{ $labels.instance }}` },
  { alert: `${name}Critical`, expr: expr(levels.critical), for: forTime, severity: 'critical', summary: `${what} above ${levels.critical} % on {{ $labels.instance }}` },
];

/** The site's alert rules from thresholds: host, containers, proxy, certificates, targets, backups. */
export function siteRules(t: Thresholds = THRESHOLDS): readonly AlertRule[] {
  return [
    ...both('HostCpu', 'CPU', (l) => `100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100 > ${l}`, t.cpu, '10m'),
    ...both('HostMemory', 'Memory use', (l) => `(1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) * 100 > ${l}`, t.memory, '5m'),
    ...both(
      'HostDisk',
      'Disk use',
      (l) => `(1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs"}) * 100 > ${l}`,
      t.disk,
      '5m',
    ),
    { alert: 'ContainerRestarting', expr: `changes(container_start_time_seconds{name!=""}[15m]) >= ${t.containerRestarts}`, for: '0m', severity: 'warning', summary: 'Container {{ $labels.name }} restarted {{ $value }} times in 15 minutes' },
    {
      alert: 'HttpErrors',
      expr: `sum by (service) (rate(traefik_service_requests_total{code=~"5.."}[5m])) / sum by (service) (rate(traefik_service_requests_total[5m])) * 100 > ${t.http5xxPercent}`,
      for: '5m',
      severity: 'warning',
      summary: 'More than ' + `${t.http5xxPercent} % of answers from {{ $labels.service }} are 5xx`,
    },
    { alert: 'CertificateExpiring', expr: `(traefik_tls_certs_not_after - time()) / 86400 < ${t.certificateDays}`, for: '1h', severity: 'warning', summary: 'Certificate {{ $labels.cn }} expires in less than ' + `${t.certificateDays} days` },
    { alert: 'TargetDown', expr: 'up == 0', for: '5m', severity: 'critical', summary: 'Scrape target {{ $labels.job }} ({{ $labels.instance }}) is down' },
    { alert: 'BackupFailed', expr: `${BACKUP_METRICS.success} == 0`, for: '0m', severity: 'critical', summary: 'The last backup failed' },
    { alert: 'BackupStale', expr: `time() - ${BACKUP_METRICS.lastSnapshot} > ${t.backupMaxAgeHours * 3600}`, for: '0m', severity: 'critical', summary: `No backup snapshot in ${t.backupMaxAgeHours} hours` },
    { alert: 'BackupMetricsMissing', expr: `absent(${BACKUP_METRICS.lastSnapshot})`, for: `${t.backupMaxAgeHours}h`, severity: 'warning', summary: 'No backup has written its metrics' },
    { alert: 'RestoreTestFailed', expr: `${BACKUP_METRICS.restoreSuccess} == 0`, for: '0m', severity: 'critical', summary: 'The restore test of the latest snapshot failed' },
  ];
}

/** A Prometheus rule file with one group. */
export function ruleFile(group: string, rules: readonly AlertRule[]): string {
  return `# Managed by hostform (roles/monitoring)\n${stringify({
    groups: [
      {
        name: group,
        rules: rules.map((r) => ({ alert: r.alert, expr: r.expr, for: r.for ?? '5m', labels: { severity: r.severity }, annotations: { summary: r.summary } })),
      },
    ],
  })}`;
}
