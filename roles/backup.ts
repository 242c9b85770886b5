import { dirname } from 'node:path/posix';
import { role, type Step } from '../lib/playbook.ts';
import type { Secret } from '../lib/secret/secret.ts';
import { command } from '../modules/command.ts';
import { file } from '../modules/file/index.ts';
import { systemdWord } from '../modules/quadlet/render.ts';
import { timer } from '../modules/systemd/index.ts';

export interface BackupOptions {
  /**
   * The restic repository's password: a Secret (`secret.pass('homeserver/restic')`),
   * written to `passwordFile` 0600 and never shown; or `secret.onHost(path)`,
   * a file already on the host (agenix, sops-nix), which restic reads as it
   * is. Plain text is written as `text` plus a newline.
   */
  readonly password: Secret | string;
  /** A local path (the init guard looks for its `config` file). Default '/srv/backup/restic'. */
  readonly repository?: string;
  /** Default ['/etc', '/srv', '/home']. */
  readonly paths?: readonly string[];
  readonly exclude?: readonly string[];
  /** When the backup runs (systemd.time). Default 'daily'. */
  readonly onCalendar?: string;
  /** When `restic check` verifies the repository. Default 'weekly'. */
  readonly checkOnCalendar?: string;
  /** Snapshots kept by `restic forget --prune`. Default 7 daily, 4 weekly, 6 monthly. */
  readonly keep?: { readonly daily?: number; readonly weekly?: number; readonly monthly?: number };
  /**
   * Default '/etc/restic/password'. The role makes /etc/restic (0700) when
   * the file is in it; any other directory must exist already, and the role
   * leaves it as it is.
   */
  readonly passwordFile?: string;
}

const RESTIC = '/usr/bin/restic';
/** The role's own directory: it holds only what the role puts there, so the role may make it private. */
const PASSWORD_DIR = '/etc/restic';
const line = (words: readonly string[]) => [RESTIC, ...words].map(systemdWord).join(' ');

/**
 * restic to a local repository: initialised once (guarded by the repository's
 * `config` file, so a second run and check mode skip it), a backup timer that
 * also prunes, and a weekly `restic check` so a broken repository is found
 * before the day it is needed. Failures show in `systemctl --failed`.
 */
export const backup = role('backup', (o: BackupOptions): readonly Step[] => {
  const repository = o.repository ?? '/srv/backup/restic';
  const onHost = typeof o.password === 'string' ? undefined : o.password.hostPath;
  const passwordFile = onHost ?? o.passwordFile ?? `${PASSWORD_DIR}/password`;
  const keep = { daily: 7, weekly: 4, monthly: 6, ...o.keep };
  const environment = { RESTIC_REPOSITORY: repository, RESTIC_PASSWORD_FILE: passwordFile, RESTIC_CACHE_DIR: '/var/cache/restic' };
  return [
    // Only the role's own directory: the parent of a passwordFile given elsewhere
    // (/etc/restic.pw) is shared with everything else there, /etc itself.
    ...(onHost === undefined && dirname(passwordFile) === PASSWORD_DIR ? [file({ path: PASSWORD_DIR, state: 'directory', mode: '0700' })] : []),
    ...(onHost === undefined ? [file({ path: passwordFile, content: typeof o.password === 'string' ? `${o.password}\n` : o.password, mode: '0600', secret: true })] : []),
    file({ path: repository, state: 'directory', mode: '0700' }),
    command({ argv: [RESTIC, 'init'], env: environment, creates: `${repository}/config` }, { name: 'restic init' }),
    timer({
      name: 'restic-backup',
      description: 'restic backup and prune',
      onCalendar: o.onCalendar ?? 'daily',
      persistent: true,
      randomizedDelaySec: '30m',
      service: {
        execStart: [
          line(['backup', '--one-file-system', ...(o.exclude ?? []).map((e) => `--exclude=${e}`), ...(o.paths ?? ['/etc', '/srv', '/home'])]),
          line(['forget', '--prune', `--keep-daily=${keep.daily}`, `--keep-weekly=${keep.weekly}`, `--keep-monthly=${keep.monthly}`]),
        ],
        environment,
        options: { Nice: 10, IOSchedulingClass: 'idle' },
      },
    }),
    timer({
      name: 'restic-check',
      description: 'restic check: read back a sample of the backup data',
      onCalendar: o.checkOnCalendar ?? 'weekly',
      persistent: true,
      // `%%`: systemd reads `%` as the start of a specifier and would refuse the unit.
      service: { execStart: line(['check', '--read-data-subset=5%%']), environment },
    }),
  ];
});
