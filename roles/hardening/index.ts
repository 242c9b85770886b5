import { role, type Step } from '../../lib/index.ts';
import { fail2ban, firewalld, selinux, service } from '../../modules/index.ts';
import { sshHardening, type SshHardeningOptions } from '../ssh-hardening.ts';

export interface HardeningOptions {
  /**
   * sshd: keys only, no root login, at most 3 tries. Run hostform as the admin user with become
   * (inventory `user: admin`): connected as root, the lock-out protection of sshd.config refuses
   * `PermitRootLogin no`, since it would end the login hostform uses.
   */
  readonly ssh?: SshHardeningOptions;
  /** firewalld's default zone. Default 'public'. */
  readonly zone?: string;
  /**
   * Exactly the firewalld services open in the zone: every other one is closed, the RHEL defaults
   * (cockpit, dhcpv6-client) and any opened by hand alike. Default ['ssh']. List the services other
   * roles of the play open in the default zone too (the traefik role's http and https), or each run
   * would close them and the other role open them again. Ports are not affected (the plex role's 32400).
   */
  readonly services?: readonly string[];
  /**
   * Let `services` lack ssh. Without it such a list is refused: it would close sshd's port, and the
   * next connection (hostform's own included) would be refused. For sshd moved to another port
   * (`ssh.port`, which opens that port) once 22 is closed, or a host reached only from a console.
   */
  readonly withoutSsh?: boolean;
  /** The SELinux mode. Default 'enforcing'; 'permissive' while you find what a container is denied. */
  readonly selinuxMode?: 'enforcing' | 'permissive';
  /** SELinux booleans. Default CONTAINER_BOOLEANS, plus virt_use_nfs when `nfs` is set. */
  readonly booleans?: Readonly<Record<string, boolean>>;
  /** Containers read data from NFS mounts (Plex's media): turns virt_use_nfs on. */
  readonly nfs?: boolean;
  /** The sshd jail (maxretry 5 by default). */
  readonly fail2ban?: BanOptions;
}

/** How a fail2ban jail bans; `ignoreip` should hold your LAN so a typo at home never locks you out. */
export interface BanOptions {
  readonly maxretry?: number;
  readonly bantime?: string;
  readonly findtime?: string;
  readonly ignoreip?: readonly string[];
}

/** A jail's ban settings, for this role's sshd jail and the traefik role's: findtime 10m, bantime 1h doubling up to a week, localhost never banned. */
export function banSettings(o: BanOptions, maxretry: number) {
  return {
    maxretry: o.maxretry ?? maxretry,
    findtime: o.findtime ?? '10m',
    bantime: o.bantime ?? '1h',
    bantimeIncrement: { factor: 2, maxtime: '1w' },
    ignoreip: ['127.0.0.1/8', '::1', ...(o.ignoreip ?? [])],
  };
}

/** Booleans containers on a home server need: cgroup access for systemd-managed containers (`--systemd`, healthchecks). */
export const CONTAINER_BOOLEANS: Readonly<Record<string, boolean>> = { container_manage_cgroup: true };

export const SSH_DEFAULTS: SshHardeningOptions = {
  options: { PermitRootLogin: 'no', PasswordAuthentication: false, KbdInteractiveAuthentication: false, PubkeyAuthentication: true, MaxAuthTries: 3 },
};

/**
 * The host's doors: sshd by key only and never as root, firewalld's default zone with exactly the
 * listed services open, SELinux enforcing with the booleans the site's containers need, and fail2ban
 * watching sshd.
 */
export const hardening = role('hardening', (o: HardeningOptions = {}): readonly Step[] => {
  const zone = o.zone ?? 'public';
  const open = o.services ?? ['ssh'];
  if (!open.includes('ssh') && !o.withoutSsh) {
    throw new Error(
      `hardening: services [${open.join(', ')}] lacks ssh, so zone ${zone} would close sshd's port and the next SSH connection, hostform's own included, would be refused: ` +
        `add 'ssh' to services, or set withoutSsh: true if sshd is reached another way (ssh.port opens its own port)`,
    );
  }
  const ssh = o.ssh ?? SSH_DEFAULTS;
  if (open.includes('ssh') && ssh.closePreviousPort && !ssh.keepPreviousPort && ssh.port !== undefined && ssh.port !== 22 && (ssh.previousPort ?? 22) === 22) {
    throw new Error(`hardening: ssh.closePreviousPort closes the ssh service (port 22), which services keeps open: take 'ssh' off services and set withoutSsh: true`);
  }
  const booleans = { ...CONTAINER_BOOLEANS, ...(o.nfs ? { virt_use_nfs: true } : {}), ...o.booleans };
  return [
    selinux.mode({ mode: o.selinuxMode ?? 'enforcing' }),
    selinux.boolean({ values: booleans }),
    service({ name: 'firewalld', enabled: true, state: 'started' }),
    firewalld.zone({ name: zone, default: true }),
    firewalld.service({ zone, services: open, exact: true }),
    sshHardening(ssh),
    fail2ban.jail({
      name: 'sshd',
      backend: 'systemd',
      journalmatch: '_SYSTEMD_UNIT=sshd.service',
      ...banSettings(o.fail2ban ?? {}, 5),
    }),
    service({ name: 'fail2ban', enabled: true, state: 'started' }),
  ];
});
