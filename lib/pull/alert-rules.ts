/**
 * Prometheus alert rules for the metrics of metrics.ts, as a rule file a
 * Prometheus loads with `rule_files:` (the monitoring role, or your own).
 * docs/fleet.md shows this text; test/unit/fleet-alerts.test.ts checks it
 * with `promtool check rules` and proves each alert fires, and stays quiet,
 * with `promtool test rules`.
 *
 * - HostformDrift: a host has had tasks out of their wanted state for over
 *   an hour (a pull that only checks, or something on the host that keeps
 *   undoing what hostform applies).
 * - HostformPullStale: a host's last successful pull is older than two of
 *   its intervals (the timer stopped, the lock is held by a stuck run, the
 *   host cannot fetch; a pull that never succeeded counts as long ago).
 * - HostformRunFailing: the last run on a host failed, pull or push.
 */
export const HOSTFORM_ALERT_RULES = `groups:
  - name: hostform
    rules:
      - alert: HostformDrift
        expr: hostform_drift_tasks > 0
        for: 1h
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.instance }}: {{ $value }} hostform tasks drifted from the repository for over an hour ({{ $labels.mode }})"
      - alert: HostformPullStale
        expr: time() - hostform_last_success_timestamp_seconds{mode="pull"} > 2 * hostform_pull_interval_seconds{mode="pull"}
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.instance }}: no successful hostform pull for over two intervals"
      - alert: HostformRunFailing
        expr: hostform_last_run_success == 0
        for: 5m
        labels:
          severity: critical
        annotations:
          summary: "{{ $labels.instance }}: the last hostform {{ $labels.mode }} run failed"
`;
