import { flushHandlers, role, type Step } from '../lib/playbook.ts';
import { firewalld } from '../modules/firewalld/index.ts';
import { selinux } from '../modules/selinux/index.ts';
import { sshd } from '../modules/sshd/index.ts';
import type { SshdOptions } from '../modules/sshd/options.ts';

export interface SshHardeningOptions {
  /** sshd settings; the port is set through `port` so the firewall and SELinux follow it. */
  readonly options?: Omit<SshdOptions, 'Port'>;
  /** The port sshd listens on; left out, the drop-in sets none and sshd keeps what the rest of its configuration says. */
  readonly port?: number;
  /** The port sshd listened on until now, when `port` moves it. Default 22. */
  readonly previousPort?: number;
  /**
   * Keep sshd listening on the previous port too, for a run or two while
   * inventories and clients move to the new one.
   */
  readonly keepPreviousPort?: boolean;
  /**
   * Close the previous port in firewalld, once sshd listens on the new one.
   * Default false. Run it over the new port (inventory `port`): sshd.config
   * refuses a configuration that drops the port hostform is connected on.
   */
  readonly closePreviousPort?: boolean;
  /** firewalld zone for the ports; the default zone when left out. */
  readonly zone?: string;
  /** Drop-in file name and order, see sshd.config. */
  readonly dropIn?: { readonly name?: string; readonly order?: number };
}

/**
 * SSH hardening that keeps the host reachable when the port moves:
 * SELinux labels the new port ssh_port_t (or sshd could not bind it) →
 * firewalld opens it → the sshd drop-in is validated, installed and sshd
 * reloaded → only then, and only when asked, the old port closes.
 *
 *   sshHardening({ options: { PermitRootLogin: 'no', PasswordAuthentication: false } })
 *   sshHardening({ port: 2222, keepPreviousPort: true })          // run 1: listen on both
 *   sshHardening({ port: 2222, closePreviousPort: true })         // run 2, once the inventory and clients use 2222
 *
 * The reload runs at the flush point before the old port closes, so handlers
 * notified by earlier tasks of the play run there too.
 */
export const sshHardening = role('ssh-hardening', (o: SshHardeningOptions): readonly Step[] => {
  const zone = o.zone !== undefined ? { zone: o.zone } : {};
  // Port lines add up across sshd's files rather than the first one winning: the drop-in only writes one when asked.
  if (o.port === undefined) return [sshd.config({ ...o.dropIn, options: { ...o.options } })];
  const port = o.port;
  const previous = o.previousPort ?? 22;
  const moving = port !== previous;
  const listen = moving && o.keepPreviousPort ? [previous, port] : [port];
  const config = sshd.config({ ...o.dropIn, options: { ...o.options, Port: listen } });
  if (!moving) return [config];
  return [...openPort(port, zone), config, ...(o.closePreviousPort && !o.keepPreviousPort ? closePort(previous, zone) : [])];
});

/** 22 is ssh_port_t in the policy and open through firewalld's ssh service; any other port needs both. */
function openPort(port: number, zone: { zone?: string }): Step[] {
  if (port === 22) return [firewalld.service({ ...zone, service: 'ssh' })];
  return [selinux.port({ port, protocol: 'tcp', type: 'ssh_port_t' }), firewalld.port({ ...zone, port, protocol: 'tcp' })];
}

/** The flush runs the deferred sshd reload first: the old port closes only once sshd listens on the new one. */
function closePort(port: number, zone: { zone?: string }): Step[] {
  if (port === 22) return [flushHandlers(), firewalld.service({ ...zone, service: 'ssh', state: 'absent' })];
  return [
    flushHandlers(),
    firewalld.port({ ...zone, port, protocol: 'tcp', state: 'absent' }),
    selinux.port({ port, protocol: 'tcp', type: 'ssh_port_t', state: 'absent' }),
  ];
}
