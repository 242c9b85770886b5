import { role, type Step } from '../../lib/index.ts';
import { packages, quadlet, service } from '../../modules/index.ts';

export interface PodmanNetwork {
  readonly name: string;
  readonly subnet: string;
}

export interface PodmanOptions {
  /** Default SITE_NETWORKS: `traefik` (what Traefik routes to) and `monitoring` (what Prometheus scrapes). */
  readonly networks?: readonly PodmanNetwork[];
  /** The Docker-compatible socket (`podman.socket`, `podman-docker`'s /var/run/docker.sock). Default false. */
  readonly dockerSocket?: boolean;
  /** podman-auto-update.timer pulls newer images of containers labelled for it. Default true. */
  readonly autoUpdate?: boolean;
  /** Install podman (and podman-docker for the socket). Default true; false on a host where they are there already. */
  readonly install?: boolean;
}

export const SITE_NETWORKS: readonly PodmanNetwork[] = [
  { name: 'traefik', subnet: '10.89.1.0/24' },
  { name: 'monitoring', subnet: '10.89.2.0/24' },
];

/** The quadlet unit a container joins a site network by: `traefik` → 'traefik.network'. */
export const network = (name: string): string => `${name}.network`;

/**
 * Podman as the site's container engine: the site's networks as quadlet `.network`s, named as given
 * (not `systemd-traefik`) so containers and `podman network ls` agree; podman-auto-update.timer; and,
 * when asked, the Docker-compatible socket for tools that speak Docker's API.
 */
export const podman = role('podman', (o: PodmanOptions = {}): readonly Step[] => {
  const socket = o.dockerSocket ?? false;
  return [
    ...(o.install === false ? [] : [packages({ present: socket ? ['podman', 'podman-docker'] : ['podman'] })]),
    ...(o.networks ?? SITE_NETWORKS).map((n) => quadlet.network({ name: n.name, networkName: n.name, subnet: n.subnet })),
    ...(socket ? [service({ name: 'podman.socket', enabled: true, state: 'started' })] : []),
    ...(o.autoUpdate === false ? [] : [service({ name: 'podman-auto-update.timer', enabled: true, state: 'started' })]),
  ];
});
