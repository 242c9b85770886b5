import { dirname } from 'node:path/posix';
import { sh, type ShellScript } from '../../lib/index.ts';
import { BACKUP_METRICS } from '../monitoring/rules.ts';

/** What the scripts need to know, all resolved by the role. */
export interface BackupPlan {
  /** `--host` of every snapshot: the same on a rebuilt host, so its restore finds them. */
  readonly host: string;
  /** restic's repository as restic reads it; a local path is bind-mounted at the same path. */
  readonly repository: string;
  readonly localRepository: boolean;
  readonly passwordFile: string;
  readonly image: string;
  readonly paths: readonly string[];
  readonly exclude: readonly string[];
  /** Named Podman volumes, each with the services stopped while it is exported. */
  readonly volumes: readonly { readonly name: string; readonly services: readonly string[] }[];
  readonly keep: { readonly daily: number; readonly weekly: number; readonly monthly: number };
  readonly textfileDir: string;
  readonly stagingDir: string;
  readonly scratchDir: string;
}

/** The podman run line of restic: repository, password and cache mounted, plus `mounts`. label=disable: restic reads files of every label. */
function restic(p: BackupPlan, mounts: readonly string[]): ShellScript {
  const volumes = [
    ...(p.localRepository ? [`${p.repository}:${p.repository}`] : []),
    `${p.passwordFile}:/run/restic/password:ro`,
    '/var/cache/restic:/root/.cache/restic',
    ...mounts,
  ].flatMap((v) => ['-v', v]);
  return sh`podman run --rm --security-opt label=disable --network host ${volumes} -e RESTIC_REPOSITORY=${p.repository} -e RESTIC_PASSWORD_FILE=/run/restic/password ${p.image}`;
}

/** The init command's argv, for the role's `command` task. */
export function initArgv(p: BackupPlan): readonly string[] {
  return ['sh', '-c', sh`mkdir -p /var/cache/restic && ${restic(p, [])} init`.text];
}

/** Writes a node_exporter textfile atomically (node_exporter must never read half a file). */
const METRIC_FN = `metrics() {
  file=$1; shift
  printf '%s\\n' "$@" >"$textfile/.$file.$$" && mv -f "$textfile/.$file.$$" "$textfile/$file"
}`;

/**
 * The backup: each named volume exported to a tar file while the services using it are stopped (a
 * consistent copy of Prometheus's TSDB and Grafana's SQLite database; they are down for the seconds
 * the export takes), then one restic snapshot of the paths and the tar files, then forget --prune.
 * Its result goes to node_exporter's textfile directory, failure included.
 */
export function backupScript(p: BackupPlan): string {
  const services = [...new Set(p.volumes.flatMap((v) => v.services))];
  const mounts = [...p.paths.map((path) => `${path}:${path}:ro`), `${p.stagingDir}:${p.stagingDir}:ro`];
  return `#!/bin/sh
# Managed by hostform (roles/backup): restic backup of the site, volumes exported while their services are stopped.
set -u
textfile=${sh`${p.textfileDir}`.text}
${METRIC_FN}
started=$(date +%s)
fail() {
  echo "backup failed: $1" >&2
  metrics backup.prom '# HELP ${BACKUP_METRICS.success} 1 when the last backup run succeeded.' '# TYPE ${BACKUP_METRICS.success} gauge' '${BACKUP_METRICS.success} 0' "${BACKUP_METRICS.lastSnapshot} \${last:-0}"
  exit 1
}
last=$(sed -n 's/^${BACKUP_METRICS.lastSnapshot} //p' "$textfile/backup.prom" 2>/dev/null)
${sh`rm -rf ${p.stagingDir} && mkdir -p -m 0700 ${p.stagingDir} /var/cache/restic`.text} || fail 'staging directory'
${services.length > 0 ? `${sh`systemctl stop ${services}`.text} || fail 'stopping the services of the volumes'` : ''}
exported=0
${p.volumes.map((v) => `${sh`podman volume export ${v.name} -o ${`${p.stagingDir}/${v.name}.tar`}`.text} || exported=1`).join('\n')}
${services.length > 0 ? `${sh`systemctl start ${services}`.text} || fail 'starting the services of the volumes'` : ''}
[ "$exported" = 0 ] || fail 'podman volume export'
${sh`${restic(p, mounts)} backup --host ${p.host} --tag site ${p.exclude.map((e) => `--exclude=${e}`)} ${p.paths} ${p.stagingDir}`.text} || fail 'restic backup'
${sh`${restic(p, [])} forget --prune --host ${p.host} --keep-daily ${p.keep.daily} --keep-weekly ${p.keep.weekly} --keep-monthly ${p.keep.monthly}`.text} || fail 'restic forget'
${sh`rm -rf ${p.stagingDir}`.text}
now=$(date +%s)
metrics backup.prom '# HELP ${BACKUP_METRICS.success} 1 when the last backup run succeeded.' '# TYPE ${BACKUP_METRICS.success} gauge' '${BACKUP_METRICS.success} 1' \\
  '# HELP ${BACKUP_METRICS.lastSnapshot} When the last snapshot was taken.' '# TYPE ${BACKUP_METRICS.lastSnapshot} gauge' "${BACKUP_METRICS.lastSnapshot} $now" \\
  "hostform_backup_duration_seconds $((now - started))"
`;
}

/**
 * The restore test: the latest snapshot restored into a scratch directory with `--verify` (restic reads
 * every restored file back and compares it with the snapshot), every backed-up path present, every
 * volume's tar file readable to its end. Result and the snapshot's time go to node_exporter.
 */
export function restoreTestScript(p: BackupPlan): string {
  const expected = [...p.paths, ...p.volumes.map((v) => `${p.stagingDir}/${v.name}.tar`)];
  return `#!/bin/sh
# Managed by hostform (roles/backup): restore the latest snapshot into a scratch directory and check it.
set -u
textfile=${sh`${p.textfileDir}`.text}
scratch=${sh`${p.scratchDir}`.text}
${METRIC_FN}
result() {
  metrics restore-test.prom '# HELP ${BACKUP_METRICS.restoreSuccess} 1 when the last restore test passed.' '# TYPE ${BACKUP_METRICS.restoreSuccess} gauge' "${BACKUP_METRICS.restoreSuccess} $1" \\
    "${BACKUP_METRICS.restoreTime} $(date +%s)" "hostform_restore_test_snapshot_timestamp_seconds \${snapshot:-0}"
  rm -rf "$scratch"
  [ "$1" = 1 ] || { echo "restore test failed: $2" >&2; exit 1; }
}
rm -rf "$scratch" && mkdir -p -m 0700 "$scratch" /var/cache/restic || result 0 'scratch directory'
time=$(${sh`${restic(p, [])} snapshots latest --host ${p.host} --json`.text} | sed -n 's/.*"time":"\\([^"]*\\)".*/\\1/p' | head -n 1)
[ -n "$time" ] || result 0 'no snapshot'
snapshot=$(date -d "$time" +%s) || result 0 "snapshot time $time"
${sh`${restic(p, [`${p.scratchDir}:/restore`])} restore latest --host ${p.host} --target /restore --verify`.text} || result 0 'restic restore --verify'
for path in ${sh`${expected}`.text}; do
  [ -e "$scratch$path" ] || result 0 "$path is not in the snapshot"
  case $path in *.tar) tar -tf "$scratch$path" >/dev/null || result 0 "$path does not read to its end";; esac
done
result 1
`;
}

/** The restore of a rebuilt host: volumes imported and paths put back before the services start. */
export function restoreScript(p: BackupPlan, marker: string): string {
  return `#!/bin/sh
# Managed by hostform (roles/backup): put the latest snapshot back on a new host, once (the marker file says it was done).
set -eu
scratch=${sh`${p.scratchDir}`.text}
rm -rf "$scratch" && mkdir -p -m 0700 "$scratch" /var/cache/restic
${sh`${restic(p, [`${p.scratchDir}:/restore`])} restore latest --host ${p.host} --target /restore`.text}
${p.paths.map((path) => sh`mkdir -p ${path} && cp -a ${`${p.scratchDir}${path}/.`} ${path}/`.text).join('\n')}
${p.volumes.map((v) => sh`podman volume exists ${v.name} || podman volume create ${v.name} >/dev/null; podman volume import ${v.name} ${`${p.scratchDir}${p.stagingDir}/${v.name}.tar`}`.text).join('\n')}
rm -rf "$scratch"
# The restored quadlet files become services now; the roles that follow start them.
systemctl daemon-reload
${sh`mkdir -p ${dirname(marker)} && date +%s >${marker}`.text}
`;
}

/** restic check, reading back 5 % of the data each time. */
export function checkScript(p: BackupPlan): string {
  return `#!/bin/sh
# Managed by hostform (roles/backup): restic check.
set -eu
mkdir -p /var/cache/restic
exec ${sh`${restic(p, [])} check --read-data-subset=5%`.text}
`;
}
