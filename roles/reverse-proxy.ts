import { role, type Step } from '../lib/playbook.ts';
import type { Task } from '../lib/module/types.ts';
import { file } from '../modules/file/index.ts';
import { firewalld } from '../modules/firewalld/index.ts';
import { quadlet, type PullPolicy } from '../modules/quadlet/index.ts';
import { service } from '../modules/systemd/index.ts';

/** `grafana.home.example.org` → `http://grafana:3000`: a host name routed to a service Traefik can reach. */
export interface Route {
  readonly name: string;
  readonly host: string;
  readonly url: string;
}

export interface ReverseProxyOptions {
  /** Let's Encrypt account address; without it Traefik serves its own self-signed certificate. */
  readonly acmeEmail?: string;
  readonly routes?: readonly Route[];
  /** Quadlet networks Traefik joins to reach the services it routes to, e.g. 'monitoring.network'. */
  readonly networks?: readonly string[];
  readonly image?: string;
  readonly pull?: PullPolicy;
  /** Default '/etc/traefik'. */
  readonly configDir?: string;
}

export function traefikConfig(acmeEmail: string | undefined): string {
  const acme = acmeEmail === undefined ? '' : `certificatesResolvers:
  letsencrypt:
    acme:
      email: ${JSON.stringify(acmeEmail)}
      storage: /acme/acme.json
      httpChallenge:
        entryPoint: web
`;
  return `# Managed by hostform (roles/reverse-proxy.ts)
entryPoints:
  web:
    address: ":80"
    http:
      redirections:
        entryPoint: { to: websecure, scheme: https }
  websecure:
    address: ":443"
providers:
  file:
    filename: /etc/traefik/routes.yml
${acme}`;
}

/** The routes file is JSON, which is YAML too: no hand-quoting of user-given host names and URLs. */
export function routesConfig(routes: readonly Route[], tls: object): string {
  const routers = Object.fromEntries(routes.map((r) => [r.name, { rule: `Host(\`${r.host}\`)`, service: r.name, entryPoints: ['websecure'], tls }]));
  const services = Object.fromEntries(routes.map((r) => [r.name, { loadBalancer: { servers: [{ url: r.url }] } }]));
  return `${JSON.stringify({ http: { routers, services } }, null, 2)}\n`;
}

/**
 * Traefik in front of everything: HTTP redirects to HTTPS, routes from a
 * typed list, certificates from Let's Encrypt when an address is given.
 * Config changes notify `restart traefik`, a handler the role brings to the play.
 */
export const reverseProxyHandlers: readonly Task[] = [service({ name: 'traefik', state: 'restarted' }, { name: 'restart traefik' })];

export const reverseProxy = role(
  'reverse-proxy',
  (o: ReverseProxyOptions = {}): readonly Step[] => {
    const dir = o.configDir ?? '/etc/traefik';
    const tls = o.acmeEmail === undefined ? {} : { certResolver: 'letsencrypt' };
    return [
      file({ path: dir, state: 'directory', mode: '0755' }),
      file({ path: `${dir}/traefik.yml`, content: traefikConfig(o.acmeEmail), mode: '0644' }, { notify: 'restart traefik' }),
      // Traefik watches the routes file itself: no restart needed when only routes change.
      file({ path: `${dir}/routes.yml`, content: routesConfig(o.routes ?? [], tls), mode: '0644' }),
      quadlet.volume({ name: 'traefik-acme' }),
      quadlet.container({
        name: 'traefik', containerName: 'traefik', image: o.image ?? 'docker.io/library/traefik:v3.1',
        ...(o.pull !== undefined ? { pull: o.pull } : {}),
        ...(o.networks && o.networks.length > 0 ? { network: o.networks } : {}),
        publishPort: ['80:80', '443:443'],
        volume: [`${dir}:/etc/traefik:ro,Z`, 'traefik-acme.volume:/acme'],
        restart: 'always',
      }),
      firewalld.service({ services: ['http', 'https'] }),
    ];
  },
  { handlers: reverseProxyHandlers },
);

