import { role, type Step, type Task } from '../../lib/index.ts';
import { file, firewalld, quadlet, selinux, service, type PullPolicy } from '../../modules/index.ts';
import { stringify } from 'yaml';
import { network, SITE_NETWORKS } from '../podman/index.ts';
import { traefikRoutes } from '../traefik/index.ts';

export interface HomeAssistantOptions {
  /** Default HOMEASSISTANT_IMAGE. */
  readonly image?: string;
  readonly pull?: PullPolicy;
  /** Home Assistant's /config. Default '/srv/homeassistant'. */
  readonly configDir?: string;
  /** Default 'UTC'. */
  readonly timezone?: string;
  /** Radio sticks passed into the container: '/dev/serial/by-id/usb-…'. */
  readonly devices?: readonly string[];
  /** The host name Traefik routes to Home Assistant; left out, no route. */
  readonly host?: string;
  /** The traefik role uses ACME. */
  readonly acme?: boolean;
  /**
   * Run on the host's network, for device discovery by multicast (and Traefik reaches it through
   * podman's host alias). Default false: on the traefik network.
   */
  readonly hostNetwork?: boolean;
  /** Where Traefik's requests come from, trusted for X-Forwarded-For. Default: the traefik network's subnet. */
  readonly trustedProxies?: readonly string[];
  /** More of configuration.yaml, merged over the role's (`{ homeassistant: { name: 'Home' } }`). */
  readonly configuration?: Readonly<Record<string, unknown>>;
  /** Open 8123 in firewalld; leave false when Traefik is the way in. Default false. */
  readonly openPort?: boolean;
}

export const HOMEASSISTANT_IMAGE = 'ghcr.io/home-assistant/home-assistant:2025.6.1';
export const HOMEASSISTANT_DIR = '/srv/homeassistant';

const traefikSubnet = SITE_NETWORKS.find((n) => n.name === 'traefik')!.subnet;

/** configuration.yaml: Home Assistant's defaults and the proxy settings it needs behind Traefik. */
export function homeAssistantConfiguration(o: Pick<HomeAssistantOptions, 'trustedProxies' | 'configuration'> = {}): string {
  const config = {
    default_config: null,
    http: { use_x_forwarded_for: true, trusted_proxies: [...(o.trustedProxies ?? [traefikSubnet])] },
    ...o.configuration,
  };
  return `# Managed by hostform (roles/homeassistant)\n${stringify(config, { nullStr: '' })}`;
}

export const homeassistantHandlers: readonly Task[] = [service({ name: 'homeassistant', state: 'restarted' }, { name: 'restart homeassistant' })];

/**
 * Home Assistant with its configuration in a host directory (which the backup role covers), behind
 * Traefik with X-Forwarded-For trusted from Traefik's network only. A Zigbee or Z-Wave stick needs
 * the container_use_devices SELinux boolean, set here when `devices` are given.
 */
export const homeassistant = role('homeassistant', (o: HomeAssistantOptions = {}, host): readonly Step[] => {
  const dir = o.configDir ?? HOMEASSISTANT_DIR;
  const devices = o.devices ?? [];
  return [
    file({ path: dir, state: 'directory', mode: '0750' }),
    file({ path: `${dir}/configuration.yaml`, content: homeAssistantConfiguration(o), mode: '0644' }, { notify: 'restart homeassistant' }),
    ...(devices.length > 0 && host.facts.platform !== 'nixos' ? [selinux.boolean({ values: { container_use_devices: true } })] : []),
    quadlet.container({
      name: 'homeassistant', containerName: 'homeassistant', image: o.image ?? HOMEASSISTANT_IMAGE,
      ...(o.pull !== undefined ? { pull: o.pull } : {}),
      network: o.hostNetwork ? 'host' : network('traefik'),
      volume: [`${dir}:/config:Z`], environment: { TZ: o.timezone ?? 'UTC' },
      podmanArgs: devices.map((d) => `--device=${d}`), restart: 'always', autoUpdate: 'registry',
    }),
    ...(o.host ? [traefikRoutes('homeassistant', [{ name: 'homeassistant', host: o.host, ...(o.hostNetwork ? { url: 'http://host.containers.internal:8123' } : { service: 'homeassistant', port: 8123 }) }], { acme: o.acme ?? false })] : []),
    ...(o.openPort ? [firewalld.port({ port: 8123, protocol: 'tcp' })] : []),
  ];
}, { handlers: homeassistantHandlers });
