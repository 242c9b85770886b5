/** The one dashboard the site provisions: the host at a glance, from node_exporter. */
const panel = (id: number, title: string, expr: string, unit: string, x: number, y: number) => ({
  id,
  type: 'timeseries',
  title,
  datasource: { type: 'prometheus', uid: 'prometheus' },
  gridPos: { h: 8, w: 12, x, y },
  fieldConfig: { defaults: { unit }, overrides: [] },
  targets: [{ refId: 'A', expr, datasource: { type: 'prometheus', uid: 'prometheus' } }],
});

export const NODE_DASHBOARD = {
  uid: 'site-node',
  title: 'Home server',
  tags: ['hostform'],
  timezone: 'browser',
  schemaVersion: 39,
  refresh: '1m',
  time: { from: 'now-24h', to: 'now' },
  panels: [
    panel(1, 'CPU use', '100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100', 'percent', 0, 0),
    panel(2, 'Memory use', '(1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) * 100', 'percent', 12, 0),
    panel(3, 'Disk use', '(1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay"}) * 100', 'percent', 0, 8),
    panel(4, 'Last backup age', 'time() - hostform_backup_last_snapshot_timestamp_seconds', 's', 12, 8),
  ],
};
