import { role, type Step } from '../lib/playbook.ts';
import { fail2ban } from '../modules/fail2ban/index.ts';
import { file } from '../modules/file/index.ts';
import { firewalld } from '../modules/firewalld/index.ts';
import { packages, repo } from '../modules/packages/index.ts';
import { service } from '../modules/systemd/index.ts';
import { user } from '../modules/users/index.ts';
import { sshHardening, type SshHardeningOptions } from './ssh-hardening.ts';

export interface AdminUser {
  readonly name: string;
  /** The exact lines of ~/.ssh/authorized_keys. */
  readonly authorizedKeys: readonly string[];
  /** Default ['wheel']: sudo on RHEL. */
  readonly groups?: readonly string[];
  readonly shell?: string;
}

export interface BaseOptions {
  readonly admin: AdminUser;
  /** Installed from the distribution and EPEL. Default: what the other home-server roles need. */
  readonly packages?: readonly string[];
  /** Add the EPEL repository (fail2ban and restic live there on RHEL 9). Default true. */
  readonly epel?: boolean;
  /** A zone under /usr/share/zoneinfo. Default 'UTC'. */
  readonly timezone?: string;
  /** Default: no root login, keys only, at most 3 tries. */
  readonly ssh?: SshHardeningOptions;
  /** The sshd jail; `ignoreip` should hold your LAN so a typo at home never locks you out. */
  readonly fail2ban?: { readonly maxretry?: number; readonly bantime?: string; readonly ignoreip?: readonly string[] };
  /** firewalld's default zone, where the other roles open their ports. Default 'public'. */
  readonly zone?: string;
}

export const BASE_PACKAGES = ['podman', 'firewalld', 'fail2ban', 'restic', 'policycoreutils-python-utils'] as const;

const EPEL = {
  name: 'epel',
  description: 'Extra Packages for Enterprise Linux 9',
  metalink: 'https://mirrors.fedoraproject.org/metalink?repo=epel-9&arch=$basearch',
  gpgkey: 'https://dl.fedoraproject.org/pub/epel/RPM-GPG-KEY-EPEL-9',
} as const;

/**
 * What every home server gets first: packages, an admin account reached by
 * SSH key only, the time zone, fail2ban watching sshd, firewalld with its
 * default zone. dnf, repo files and firewalld zones mean nothing on NixOS;
 * those tasks are skipped there as "not applicable", no branching needed.
 */
export const base = role('base', (o: BaseOptions): readonly Step[] => [
  ...(o.epel === false ? [] : [repo(EPEL)]),
  packages({ present: o.packages ?? BASE_PACKAGES }),
  user({
    name: o.admin.name,
    groups: o.admin.groups ?? ['wheel'],
    shell: o.admin.shell ?? '/bin/bash',
    authorizedKeys: o.admin.authorizedKeys,
  }),
  file({ path: '/etc/localtime', state: 'link', target: `/usr/share/zoneinfo/${o.timezone ?? 'UTC'}`, force: true }),
  // The admin user exists before root login and passwords go: the order keeps the host reachable.
  sshHardening(o.ssh ?? { options: { PermitRootLogin: 'no', PasswordAuthentication: false, KbdInteractiveAuthentication: false, MaxAuthTries: 3 } }),
  service({ name: 'firewalld', enabled: true, state: 'started' }),
  firewalld.zone({ name: o.zone ?? 'public', default: true }),
  fail2ban.jail({
    name: 'sshd',
    backend: 'systemd',
    journalmatch: '_SYSTEMD_UNIT=sshd.service',
    maxretry: o.fail2ban?.maxretry ?? 5,
    bantime: o.fail2ban?.bantime ?? '1h',
    bantimeIncrement: { factor: 2, maxtime: '1w' },
    ignoreip: ['127.0.0.1/8', '::1', ...(o.fail2ban?.ignoreip ?? [])],
  }),
  service({ name: 'fail2ban', enabled: true, state: 'started' }),
]);
