import { role, type Step } from '../../lib/index.ts';
import { file, packages, repo, service, sudoers, sysctl, systemdConfig, timezone, hostname, user } from '../../modules/index.ts';

export interface AdminUser {
  readonly name: string;
  /** The exact lines of ~/.ssh/authorized_keys: the key you run hostform with must be among them. */
  readonly authorizedKeys: readonly string[];
  /** Default ['wheel']. */
  readonly groups?: readonly string[];
  readonly shell?: string;
  /**
   * sudo for the admin in /etc/sudoers.d/hostform-admin. Default 'nopasswd': the account logs in by key
   * only and has no password to type. 'password' asks for it (give the user one yourself); false writes no rule.
   */
  readonly sudo?: 'nopasswd' | 'password' | false;
}

export interface BaseOptions {
  readonly admin: AdminUser;
  /** The static host name (`miraclemax.home.arpa`); left out, the host keeps its own. */
  readonly hostname?: string;
  /** A zone under /usr/share/zoneinfo. Default 'UTC'. */
  readonly timezone?: string;
  /** Installed from the distribution and EPEL. Default BASE_PACKAGES. */
  readonly packages?: readonly string[];
  /** Add the EPEL repository (fail2ban lives there on RHEL 9). Default true. */
  readonly epel?: boolean;
  /** chronyd keeps the clock (installed by default on RHEL). Default true. */
  readonly chrony?: boolean;
  /** dnf-automatic applies security updates on its timer. Default { upgradeType: 'security', reboot: 'never' }; false leaves it off. */
  readonly automaticUpdates?: false | { readonly upgradeType?: 'security' | 'default'; readonly reboot?: 'never' | 'when-needed' };
  /** journald settings (systemd's journald.conf keys). Default JOURNALD. */
  readonly journald?: Readonly<Record<string, string | number | boolean>>;
  /** Kernel parameters in /etc/sysctl.d/60-hostform-hardening.conf. Default HARDENING_SYSCTL. */
  readonly sysctl?: Readonly<Record<string, string | number>>;
}

/** What the site needs from the distribution (fail2ban from EPEL). */
export const BASE_PACKAGES = ['podman', 'firewalld', 'fail2ban', 'chrony', 'dnf-automatic', 'policycoreutils-python-utils'] as const;

/**
 * journald keeps one retention for every priority: the roadmap's "7 days of debug, 90 days of errors"
 * becomes 90 days of everything from info up, with debug not stored at all, and a size cap so the
 * journal never fills /var.
 */
export const JOURNALD: Readonly<Record<string, string | number | boolean>> = {
  Storage: 'persistent',
  MaxRetentionSec: '90day',
  MaxLevelStore: 'info',
  SystemMaxUse: '2G',
  Compress: true,
};

/** The usual hardening a homelab server can take without breaking containers (ip_forward stays podman's). */
export const HARDENING_SYSCTL: Readonly<Record<string, number>> = {
  'kernel.kptr_restrict': 2,
  'kernel.dmesg_restrict': 1,
  'kernel.yama.ptrace_scope': 1,
  'fs.protected_hardlinks': 1,
  'fs.protected_symlinks': 1,
  'net.ipv4.conf.all.accept_redirects': 0,
  'net.ipv4.conf.default.accept_redirects': 0,
  'net.ipv4.conf.all.send_redirects': 0,
  'net.ipv4.conf.all.log_martians': 1,
  'net.ipv4.conf.all.rp_filter': 1,
  'net.ipv4.tcp_syncookies': 1,
  'net.ipv6.conf.all.accept_redirects': 0,
};

const EPEL = {
  name: 'epel',
  description: 'Extra Packages for Enterprise Linux 9',
  metalink: 'https://mirrors.fedoraproject.org/metalink?repo=epel-9&arch=$basearch',
  gpgkey: 'https://dl.fedoraproject.org/pub/epel/RPM-GPG-KEY-EPEL-9',
} as const;

/** dnf-automatic's whole configuration: only what differs from its defaults matters, the rest is dnf's. */
export function automaticConf(upgradeType: 'security' | 'default', reboot: 'never' | 'when-needed'): string {
  return `# Managed by hostform (roles/base)
[commands]
upgrade_type = ${upgradeType}
download_updates = yes
apply_updates = yes
reboot = ${reboot}

[emitters]
emit_via = stdio

[base]
debuglevel = 1
`;
}

/**
 * What every home server gets first: packages, the host name and time zone, chronyd, an admin account
 * reached by SSH key with sudo, security updates by dnf-automatic, journald's retention and kernel
 * hardening. SSH, firewall, SELinux and fail2ban are the `hardening` role's. On NixOS the dnf and
 * chrony tasks are left out (the NixOS configuration has its own updates and timesyncd).
 */
export const base = role('base', (o: BaseOptions, host): readonly Step[] => {
  const el9 = host.facts.platform !== 'nixos';
  const updates = o.automaticUpdates === false ? undefined : { upgradeType: 'security' as const, reboot: 'never' as const, ...o.automaticUpdates };
  const sudo = o.admin.sudo ?? 'nopasswd';
  return [
    ...(el9 && o.epel !== false ? [repo(EPEL)] : []),
    ...(el9 && (o.packages ?? BASE_PACKAGES).length > 0 ? [packages({ present: o.packages ?? BASE_PACKAGES })] : []),
    ...(o.hostname !== undefined ? [hostname({ name: o.hostname })] : []),
    timezone({ zone: o.timezone ?? 'UTC' }),
    ...(el9 && o.chrony !== false ? [service({ name: 'chronyd', enabled: true, state: 'started' })] : []),
    user({
      name: o.admin.name,
      groups: o.admin.groups ?? ['wheel'],
      shell: o.admin.shell ?? '/bin/bash',
      authorizedKeys: o.admin.authorizedKeys,
    }),
    ...(sudo === false
      ? []
      : [sudoers({ name: 'hostform-admin', rules: [{ users: [o.admin.name], runAs: 'ALL', commands: [sudo === 'nopasswd' ? { command: 'ALL', options: ['NOPASSWD'] } : 'ALL'] }] })]),
    ...(el9 && updates !== undefined
      ? [
          file({ path: '/etc/dnf/automatic.conf', content: automaticConf(updates.upgradeType, updates.reboot), mode: '0644' }),
          service({ name: 'dnf-automatic.timer', enabled: true, state: 'started' }),
        ]
      : []),
    systemdConfig({ component: 'journald', name: 'hostform-retention', settings: o.journald ?? JOURNALD }),
    sysctl({ file: '60-hostform-hardening.conf', settings: o.sysctl ?? HARDENING_SYSCTL }),
  ];
});
