import { role, type Step } from '../lib/playbook.ts';
import { file } from '../modules/file/index.ts';
import { firewalld } from '../modules/firewalld/index.ts';
import { quadlet, type PullPolicy } from '../modules/quadlet/index.ts';
import { selinux } from '../modules/selinux/index.ts';

export interface HomeAssistantOptions {
  readonly image?: string;
  readonly pull?: PullPolicy;
  /** Home Assistant's /config. Default '/srv/home-assistant'. */
  readonly configDir?: string;
  /** Default 'UTC'. */
  readonly timezone?: string;
  /** Radio sticks passed into the container: '/dev/serial/by-id/usb-…'. */
  readonly devices?: readonly string[];
  /** Open 8123 in firewalld; leave false when Traefik is the way in. Default false. */
  readonly openPort?: boolean;
}

/**
 * Home Assistant on the host's network (device discovery needs multicast).
 * A Zigbee or Z-Wave stick needs the container_use_devices SELinux boolean;
 * SELinux has no meaning on NixOS, so the role branches on the platform
 * rather than leaving a task that would be skipped there anyway.
 */
export const homeAssistant = role('home-assistant', (o: HomeAssistantOptions = {}, host): readonly Step[] => {
  const dir = o.configDir ?? '/srv/home-assistant';
  const devices = o.devices ?? [];
  return [
    file({ path: dir, state: 'directory', mode: '0750' }),
    ...(devices.length > 0 && host.facts.platform !== 'nixos' ? [selinux.boolean({ values: { container_use_devices: true } })] : []),
    quadlet.container({
      name: 'home-assistant', containerName: 'home-assistant', image: o.image ?? 'ghcr.io/home-assistant/home-assistant:stable',
      ...(o.pull !== undefined ? { pull: o.pull } : {}),
      network: 'host', volume: [`${dir}:/config:Z`], environment: { TZ: o.timezone ?? 'UTC' },
      podmanArgs: devices.map((d) => `--device=${d}`), restart: 'always',
    }),
    ...(o.openPort ? [firewalld.port({ port: 8123, protocol: 'tcp' })] : []),
  ];
});
