import { role, type Secret, type Step } from '../../lib/index.ts';
import { file, quadlet, type PullPolicy } from '../../modules/index.ts';
import type { ScrapeJob } from '../monitoring/index.ts';
import { network } from '../podman/index.ts';
import { traefikRoutes } from '../traefik/index.ts';

export interface AppOptions {
  /** The container's and unit's name; also its name on the traefik network. */
  readonly name: string;
  /** Pinned by tag: `ghcr.io/me/finance-api:1.4.0`. */
  readonly image: string;
  readonly pull?: PullPolicy;
  /** The port the application listens on inside the container. */
  readonly port: number;
  /** The host name Traefik routes to it; left out, no route. */
  readonly host?: string;
  /** Published on the host's loopback as `hostPort` → `port` too (for local tools); never on the LAN. */
  readonly hostPort?: number;
  /** The traefik role uses ACME. */
  readonly acme?: boolean;
  readonly middlewares?: readonly string[];
  /** A command run inside the container that exits 0 when the application is healthy (podman's health check, every 30 s). */
  readonly healthCmd?: string;
  readonly environment?: Readonly<Record<string, string>>;
  /** Secrets as environment variables: `{ DATABASE_PASSWORD: secret.pass('finance/db') }`, each a Podman secret. */
  readonly secrets?: Readonly<Record<string, Secret>>;
  /** Host directories, `/srv/finance:/data`; the role makes `dataDir` 0750 and mounts it at `/data` when given. */
  readonly dataDir?: string;
  readonly volumes?: readonly string[];
  /** Prometheus metrics path, when the application has one: appScrape() makes its job. */
  readonly metricsPath?: string;
}

/** The job for an application with metrics, on the monitoring network (the app joins it when metricsPath is set). */
export const appScrape = (o: Pick<AppOptions, 'name' | 'port' | 'metricsPath'>): ScrapeJob[] =>
  o.metricsPath ? [{ job: o.name, targets: [`${o.name}:${o.port}`], metricsPath: o.metricsPath }] : [];

/**
 * A container behind Traefik: on the traefik network, routed by host name, with a health check,
 * secrets as Podman secrets, and data in a host directory the backup role can cover.
 *
 *   app({ name: 'finance-api', image: 'ghcr.io/miraclemax/finance-api:1.4.0', port: 8000, hostPort: 3001,
 *         host: 'finance.home.example.org', healthCmd: 'python3 -c "import urllib.request as u; u.urlopen(\'http://127.0.0.1:8000/health\')"' })
 */
export const app = role('app', (o: AppOptions): readonly Step[] => {
  const secrets = Object.entries(o.secrets ?? {}).map(([variable, value]) => ({ name: `${o.name}-${variable.toLowerCase().replace(/_/g, '-')}`, variable, value }));
  return [
    ...(o.dataDir ? [file({ path: o.dataDir, state: 'directory', mode: '0750' })] : []),
    ...secrets.map((s) => quadlet.secret({ name: s.name, value: s.value })),
    quadlet.container({
      name: o.name, containerName: o.name, image: o.image,
      ...(o.pull !== undefined ? { pull: o.pull } : {}),
      network: [network('traefik'), ...(o.metricsPath ? [network('monitoring')] : [])],
      ...(o.hostPort !== undefined ? { publishPort: [`127.0.0.1:${o.hostPort}:${o.port}`] } : {}),
      volume: [...(o.dataDir ? [`${o.dataDir}:/data:Z`] : []), ...(o.volumes ?? [])],
      ...(o.environment ? { environment: o.environment } : {}),
      ...(secrets.length > 0 ? { secret: secrets.map((s) => `${s.name},type=env,target=${s.variable}`) } : {}),
      ...(o.healthCmd ? { healthCmd: o.healthCmd, healthInterval: '30s', healthRetries: 3, healthStartPeriod: '20s' } : {}),
      restart: 'always',
      autoUpdate: 'registry',
    }),
    ...(o.host ? [traefikRoutes(o.name, [{ name: o.name, host: o.host, service: o.name, port: o.port, ...(o.middlewares ? { middlewares: o.middlewares } : {}) }], { acme: o.acme ?? false })] : []),
  ];
});
