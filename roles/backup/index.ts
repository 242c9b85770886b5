import { dirname } from 'node:path/posix';
import { role, type Secret, type Step } from '../../lib/index.ts';
import { command, file, mount, timer } from '../../modules/index.ts';
import { TEXTFILE_DIR } from '../monitoring/index.ts';
import { backupScript, checkScript, initArgv, restoreScript, restoreTestScript, type BackupPlan } from './scripts.ts';

/** A named Podman volume and the services (systemd units of its containers) stopped while it is exported. */
export interface BackupVolume {
  readonly name: string;
  readonly services: readonly string[];
}

export interface BackupOptions {
  /**
   * The repository's password: a Secret (`secret.pass('homeserver/restic')`), written to `passwordFile`
   * 0600 and never shown; or `secret.onHost(path)`, a file already on the host. Plain text is written as
   * `text` plus a newline.
   */
  readonly password: Secret | string;
  /**
   * Where snapshots go: a local path (default '/srv/backup/restic'; on another disk, or on `nfs`), or a
   * restic URL (`sftp:backup@nas:/restic`, `rest:https://nas:8000/site`).
   */
  readonly repository?: string;
  /** An NFS export mounted at the local repository's parent directory: `nas.home.arpa:/export/backup`. */
  readonly nfs?: string;
  /** Directories saved as they are. Default SITE_PATHS. */
  readonly paths?: readonly string[];
  readonly exclude?: readonly string[];
  /** Named Podman volumes, exported while their services are stopped. Default SITE_VOLUMES. */
  readonly volumes?: readonly BackupVolume[];
  /** The snapshots' host name: keep it when the host is rebuilt. Default: the inventory name. */
  readonly host?: string;
  /** When the backup runs (systemd.time). Default '*-*-* 03:00:00'. */
  readonly onCalendar?: string;
  /** When `restic check` reads back 5 % of the data. Default 'Sun *-*-* 05:00:00'. */
  readonly checkOnCalendar?: string;
  /** When the latest snapshot is restored into a scratch directory and checked. Default '*-*-* 04:30:00'. */
  readonly restoreTestOnCalendar?: string;
  /** Snapshots kept by `restic forget --prune`. Default 7 daily, 4 weekly, 12 monthly. */
  readonly keep?: { readonly daily?: number; readonly weekly?: number; readonly monthly?: number };
  /** Default '/etc/restic/password'; the role makes /etc/restic 0700 when the file is in it. */
  readonly passwordFile?: string;
  /** restic's image, pinned. Default RESTIC_IMAGE. */
  readonly image?: string;
}

export const RESTIC_IMAGE = 'docker.io/restic/restic:0.18.0';

/** The site's configuration and data directories: containers, Traefik (ACME included), monitoring, Home Assistant, apps. */
export const SITE_PATHS = ['/etc/containers', '/etc/traefik', '/etc/monitoring', '/srv/homeassistant'] as const;

/** Prometheus's and Grafana's data, in named volumes. */
export const SITE_VOLUMES: readonly BackupVolume[] = [
  { name: 'prometheus-data', services: ['prometheus'] },
  { name: 'grafana-data', services: ['grafana'] },
];

const PASSWORD_DIR = '/etc/restic';
const SCRIPTS = '/usr/local/libexec/hostform';
/** Marks a host whose data came back from the repository: the restore runs once. */
export const RESTORED_MARKER = '/var/lib/hostform-backup/restored';

function resolve(o: BackupOptions, hostName: string): BackupPlan & { readonly passwordOnHost: boolean } {
  const repository = o.repository ?? '/srv/backup/restic';
  const onHost = typeof o.password === 'string' ? undefined : o.password.hostPath;
  return {
    host: o.host ?? hostName,
    repository,
    localRepository: repository.startsWith('/'),
    passwordFile: onHost ?? o.passwordFile ?? `${PASSWORD_DIR}/password`,
    passwordOnHost: onHost !== undefined,
    image: o.image ?? RESTIC_IMAGE,
    paths: o.paths ?? SITE_PATHS,
    exclude: o.exclude ?? [],
    volumes: o.volumes ?? SITE_VOLUMES,
    keep: { daily: 7, weekly: 4, monthly: 12, ...o.keep },
    textfileDir: TEXTFILE_DIR,
    stagingDir: '/var/lib/hostform-backup/volumes',
    scratchDir: '/var/tmp/hostform-restore',
  };
}

/** The password file and the repository, before anything reads them. */
function repositorySteps(o: BackupOptions, p: ReturnType<typeof resolve>): Step[] {
  return [
    // Only the role's own directory: the parent of a passwordFile given elsewhere is shared with others.
    ...(!p.passwordOnHost && dirname(p.passwordFile) === PASSWORD_DIR ? [file({ path: PASSWORD_DIR, state: 'directory', mode: '0700' })] : []),
    ...(!p.passwordOnHost ? [file({ path: p.passwordFile, content: typeof o.password === 'string' ? `${o.password}\n` : o.password, mode: '0600', secret: true })] : []),
    ...(o.nfs && p.localRepository ? [mount({ where: dirname(p.repository), what: o.nfs, type: 'nfs', options: ['nfsvers=4.2', 'hard'] })] : []),
    ...(p.localRepository ? [file({ path: p.repository, state: 'directory', mode: '0700' })] : []),
    file({ path: '/var/lib/hostform-backup', state: 'directory', mode: '0700' }),
    file({ path: SCRIPTS, state: 'directory', mode: '0755' }),
  ];
}

/**
 * restic with the pinned image, to a local path, an NFS mount or an SFTP/REST repository: a daily
 * backup (named volumes exported while their services are stopped) with 7/4/12 retention, a weekly
 * `restic check`, and a daily restore test into a scratch directory. Backup and restore test write
 * their results to node_exporter's textfile directory, so a failed or stale backup alerts.
 */
export const backup = role('backup', (o: BackupOptions, host): readonly Step[] => {
  const p = resolve(o, host.name);
  const init = initArgv(p);
  return [
    ...repositorySteps(o, p),
    file({ path: TEXTFILE_DIR, state: 'directory', mode: '0755' }),
    command({ argv: init, ...(p.localRepository ? { creates: `${p.repository}/config` } : {}) }, { name: 'restic init' }),
    file({ path: `${SCRIPTS}/site-backup`, content: backupScript(p), mode: '0700' }),
    file({ path: `${SCRIPTS}/site-restore-test`, content: restoreTestScript(p), mode: '0700' }),
    file({ path: `${SCRIPTS}/site-backup-check`, content: checkScript(p), mode: '0700' }),
    timer({
      name: 'site-backup',
      description: 'restic backup of the site, then forget --prune',
      onCalendar: o.onCalendar ?? '*-*-* 03:00:00',
      persistent: true,
      randomizedDelaySec: '15m',
      service: { execStart: `${SCRIPTS}/site-backup`, options: { Nice: 10, IOSchedulingClass: 'idle' } },
    }),
    timer({
      name: 'site-restic-check',
      description: 'restic check: read back 5 % of the backup data',
      onCalendar: o.checkOnCalendar ?? 'Sun *-*-* 05:00:00',
      persistent: true,
      service: { execStart: `${SCRIPTS}/site-backup-check` },
    }),
    timer({
      name: 'site-restore-test',
      description: 'restore the latest snapshot into a scratch directory and check it',
      onCalendar: o.restoreTestOnCalendar ?? '*-*-* 04:30:00',
      persistent: true,
      service: { execStart: `${SCRIPTS}/site-restore-test`, options: { Nice: 10, IOSchedulingClass: 'idle' } },
    }),
  ];
});

/**
 * Disaster recovery, on a freshly built host, before the services start: the latest snapshot's paths
 * copied back and its volume exports imported, once (RESTORED_MARKER). Put it in the play after the
 * podman role and before the roles whose data it brings back, with the backup role's options:
 *
 *   roles: [base(...), hardening(...), podman(), restore(backupOptions), traefik(...), ...]
 */
export const restore = role('restore', (o: BackupOptions, host): readonly Step[] => {
  const p = resolve(o, host.name);
  return [
    ...repositorySteps(o, p),
    file({ path: `${SCRIPTS}/site-restore`, content: restoreScript(p, RESTORED_MARKER), mode: '0700' }),
    command({ argv: [`${SCRIPTS}/site-restore`], creates: RESTORED_MARKER }, { name: 'restore the latest snapshot' }),
  ];
});
