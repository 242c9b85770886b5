import { role, type Secret, type Step, type Task } from '../../lib/index.ts';
import { command, fail2ban, file, firewalld, quadlet, service, type PullPolicy } from '../../modules/index.ts';
import { stringify } from 'yaml';
import { banSettings, type BanOptions } from '../hardening/index.ts';
import { network } from '../podman/index.ts';

/**
 * A host name routed to a service: a container on the traefik network (`service` + `port`), or any URL
 * Traefik can reach (`url`). `middlewares` are names from a dynamic file (`name@file`).
 */
export type Route = {
  /** The router's and service's name. Default: the first label of `host`. */
  readonly name?: string;
  readonly host: string;
  readonly middlewares?: readonly string[];
} & ({ readonly service: string; readonly port: number; readonly url?: never } | { readonly url: string; readonly service?: never; readonly port?: never });

export type AcmeOptions = {
  /** The Let's Encrypt account's address. */
  readonly email: string;
  /** Let's Encrypt's staging CA, for trying things out without its rate limits. Default false. */
  readonly staging?: boolean;
} & (
  | { readonly challenge?: 'http'; readonly dns?: never }
  | {
      readonly challenge: 'dns';
      /** A lego provider (`cloudflare`), its token's variable (`CF_DNS_API_TOKEN`) and the token, a Secret. */
      readonly dns: { readonly provider: string; readonly tokenVariable: string; readonly token: Secret };
    }
);

export interface TraefikOptions {
  /** Default TRAEFIK_IMAGE. */
  readonly image?: string;
  readonly pull?: PullPolicy;
  /** Certificates from Let's Encrypt; left out, Traefik serves its own self-signed one. */
  readonly acme?: AcmeOptions;
  /** Routes besides the ones other roles write (each role its own file in the dynamic directory). */
  readonly routes?: readonly Route[];
  /**
   * The dashboard at this host name, behind basic auth: `users` is htpasswd lines (`htpasswd -nB admin`),
   * a Secret, written 0600. Left out, the dashboard is off.
   */
  readonly dashboard?: { readonly host: string; readonly users: Secret };
  /**
   * A basic-auth middleware, ADMIN_AUTH ('admin-auth@file'), for other roles' routes to services that
   * have no login of their own (the monitoring role's Prometheus and Alertmanager): `users` is htpasswd
   * lines (`htpasswd -nB admin`: bcrypt), a Secret, written 0600. Left out, no such middleware.
   */
  readonly adminAuth?: { readonly users: Secret };
  /**
   * The fail2ban jail `traefik-login` on the access log: a client answered 401 or 403 `maxretry` times
   * within `findtime` is banned from 80 and 443. Default maxretry 10, findtime 10m, bantime 1h doubling
   * up to a week; `ignoreip` should hold your LAN. false: no jail.
   */
  readonly fail2ban?: false | BanOptions;
  /** Networks Traefik joins. Default ['traefik', 'monitoring'] (monitoring: Prometheus scrapes its metrics). */
  readonly networks?: readonly string[];
  /** The port of the metrics entry point, on the container's networks only. Default 8082. */
  readonly metricsPort?: number;
}

export const TRAEFIK_IMAGE = 'docker.io/library/traefik:v3.4.1';
export const TRAEFIK_DIR = '/etc/traefik';
export const DYNAMIC_DIR = `${TRAEFIK_DIR}/dynamic`;
export const ACCESS_LOG_DIR = '/var/log/traefik';
/** The access log on the host, where Traefik writes it (the directory is mounted at the same path) and fail2ban reads it. */
export const ACCESS_LOG = `${ACCESS_LOG_DIR}/access.log`;
const ADMIN_AUTH_NAME = 'admin-auth';
/** The middleware of `adminAuth`, as a route in another role's file names it. */
export const ADMIN_AUTH = `${ADMIN_AUTH_NAME}@file`;
/** The fail2ban jail and filter on the access log. */
export const LOGIN_JAIL = 'traefik-login';
const RESOLVER = 'letsencrypt';
const STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';

const managed = (what: string) => `# Managed by hostform (roles/traefik): ${what}\n`;

/** traefik.yml: entry points web (redirected to websecure), websecure and metrics; the file provider; ACME; access log. */
export function traefikStatic(o: Pick<TraefikOptions, 'acme' | 'dashboard' | 'metricsPort'> = {}): string {
  const acme = o.acme;
  const config = {
    entryPoints: {
      web: { address: ':80', http: { redirections: { entryPoint: { to: 'websecure', scheme: 'https' } } } },
      websecure: { address: ':443', ...(acme ? { http: { tls: { certResolver: RESOLVER } } } : {}) },
      metrics: { address: `:${o.metricsPort ?? 8082}` },
    },
    providers: { file: { directory: '/etc/traefik/dynamic', watch: true } },
    ...(acme
      ? {
          certificatesResolvers: {
            [RESOLVER]: {
              acme: {
                email: acme.email,
                storage: '/etc/traefik/acme/acme.json',
                ...(acme.staging ? { caServer: STAGING } : {}),
                ...(acme.challenge === 'dns' ? { dnsChallenge: { provider: acme.dns.provider } } : { httpChallenge: { entryPoint: 'web' } }),
              },
            },
          },
        }
      : {}),
    api: { dashboard: o.dashboard !== undefined },
    ping: { entryPoint: 'metrics' },
    metrics: { prometheus: { entryPoint: 'metrics' } },
    // The common log format, which LOGIN_FAILREGEX reads. addInternals: the dashboard's router serves
    // api@internal, unlogged without it, and guessing its login must reach fail2ban too. The user name
    // is dropped: it is whatever the client sent as basic auth, unchecked, and a name with a line break
    // in it would write a line of its own, naming any address, for fail2ban to ban.
    accessLog: { filePath: ACCESS_LOG, format: 'common', addInternals: true, fields: { names: { ClientUsername: 'drop' } } },
    log: { level: 'INFO' },
  };
  return managed('static configuration') + stringify(config);
}

const routeName = (r: Route) => r.name ?? r.host.split('.')[0]!;

/** One dynamic file: a router and a service per route, on websecure, with the certificate resolver when there is one. */
export function traefikDynamic(routes: readonly Route[], o: { readonly acme?: boolean; readonly dashboardHost?: string; readonly adminAuth?: boolean } = {}): string {
  const tls = o.acme ? { certResolver: RESOLVER } : {};
  const routers: Record<string, object> = {};
  const services: Record<string, object> = {};
  for (const r of routes) {
    const name = routeName(r);
    routers[name] = { rule: `Host(\`${r.host}\`)`, entryPoints: ['websecure'], service: name, tls, ...(r.middlewares?.length ? { middlewares: [...r.middlewares] } : {}) };
    services[name] = { loadBalancer: { servers: [{ url: r.url ?? `http://${r.service}:${r.port}` }] } };
  }
  const middlewares: Record<string, object> = {};
  if (o.dashboardHost !== undefined) {
    routers['dashboard'] = { rule: `Host(\`${o.dashboardHost}\`)`, entryPoints: ['websecure'], service: 'api@internal', tls, middlewares: ['dashboard-auth'] };
    middlewares['dashboard-auth'] = { basicAuth: { usersFile: '/etc/traefik/dashboard-users' } };
  }
  if (o.adminAuth) middlewares[ADMIN_AUTH_NAME] = { basicAuth: { usersFile: '/etc/traefik/admin-users' } };
  const http = { routers, ...(Object.keys(middlewares).length ? { middlewares } : {}), ...(Object.keys(services).length ? { services } : {}) };
  return managed('routes') + stringify({ http });
}

/**
 * A role's own routes, in its own file of Traefik's dynamic directory (Traefik watches it: no restart).
 * `acme` must match the traefik role's, so routers ask for the certificate resolver that exists.
 */
export function traefikRoutes(name: string, routes: readonly Route[], o: { readonly acme?: boolean } = {}): Task {
  return file({ path: `${DYNAMIC_DIR}/${name}.yml`, content: traefikDynamic(routes, o), mode: '0644' });
}

/** Prometheus's job for Traefik's metrics entry point, on the monitoring network. */
export const traefikScrape = (o: Pick<TraefikOptions, 'metricsPort'> = {}) => ({ job: 'traefik', targets: [`traefik:${o.metricsPort ?? 8082}`] });

export const traefikHandlers: readonly Task[] = [service({ name: 'traefik', state: 'restarted' }, { name: 'restart traefik' })];

/**
 * A failed login in the access log as traefikStatic() has Traefik write it (the common log format,
 * the user name dropped): `<client> - - [<time>] "<method> <path> <protocol>" <status> <size> ...`,
 * with status 401 or 403. fail2ban cuts the time out before the regex sees the line (hence `[]`). The
 * path can hold `"` and blanks (the query is written as sent): `.*` lets the regex find Traefik's own
 * protocol and status after it, so a crafted path neither hides a failure nor blames another address,
 * which only Traefik writes, first on the line.
 */
export const LOGIN_FAILREGEX = '^<ADDR> - .*\\[\\] "[A-Z]+ .* HTTP/\\d(?:\\.\\d)?" 40[13] \\d+ "';
/** The time is the first bracketed field; anchored, so a date in a path is never taken for it. */
export const LOGIN_DATEPATTERN = '^[^\\[]*\\[(%%d/%%b/%%Y:%%H:%%M:%%S %%z)\\]';

/**
 * The ban, in nftables: Podman's published ports reach the container by DNAT, past the input hook where
 * fail2ban's usual actions (and firewalld) filter, so this one rejects the client's packets to 80 and
 * 443 in prerouting, before DNAT (priority -150; dstnat is -100), in a chain of its own (another jail's
 * nftables action makes an input chain, which a chain of the same name would clash with). Linux has
 * allowed reject in prerouting since before 5.11; RHEL 9 runs 5.14.
 */
export const LOGIN_BAN_ACTION = 'nftables[type=multiport, port="80,443", protocol=tcp, chain=f2b-traefik, chain_hook=prerouting, chain_priority=-150]';

function loginJail(o: BanOptions): readonly Task[] {
  return [
    fail2ban.filter({ name: LOGIN_JAIL, failregex: LOGIN_FAILREGEX, datepattern: LOGIN_DATEPATTERN }),
    fail2ban.jail({
      name: LOGIN_JAIL,
      filter: LOGIN_JAIL,
      logpath: ACCESS_LOG,
      // fail2ban's own default, said here: a distribution's jail.d may make the journal the default backend.
      backend: 'auto',
      port: [80, 443],
      action: LOGIN_BAN_ACTION,
      ...banSettings(o, 10),
    }),
  ];
}

/**
 * Traefik v3 in front of the site on 80/443: the static configuration and the dynamic routes rendered
 * from typed data, certificates from Let's Encrypt (HTTP-01 or DNS-01 with the provider's token from a
 * Podman secret) in acme.json 0600, the dashboard behind basic auth, a metrics entry point for
 * Prometheus, the access log on the host for fail2ban, and http/https open in firewalld.
 */
export const traefik = role(
  'traefik',
  (o: TraefikOptions = {}): readonly Step[] => {
    const acme = o.acme;
    const dns = acme?.challenge === 'dns' ? acme.dns : undefined;
    return [
      file({ path: TRAEFIK_DIR, state: 'directory', mode: '0755' }),
      file({ path: DYNAMIC_DIR, state: 'directory', mode: '0755' }),
      file({ path: `${TRAEFIK_DIR}/acme`, state: 'directory', mode: '0700' }),
      file({ path: ACCESS_LOG_DIR, state: 'directory', mode: '0750' }),
      // Made by the role, not by Traefik: fail2ban needs the file before Traefik first writes it, and a
      // file Traefik made would carry the container's SELinux categories, which fail2ban cannot read.
      command({ argv: ['install', '-m', '0640', '/dev/null', ACCESS_LOG], creates: ACCESS_LOG }, { name: 'access.log' }),
      // Traefik writes acme.json itself and refuses one that others may read: made once, empty and 0600.
      command({ argv: ['install', '-m', '0600', '/dev/null', `${TRAEFIK_DIR}/acme/acme.json`], creates: `${TRAEFIK_DIR}/acme/acme.json` }, { name: 'acme.json 0600' }),
      file({ path: `${TRAEFIK_DIR}/traefik.yml`, content: traefikStatic(o), mode: '0644' }, { notify: 'restart traefik' }),
      ...(o.dashboard ? [file({ path: `${TRAEFIK_DIR}/dashboard-users`, content: o.dashboard.users, mode: '0600', secret: true })] : []),
      ...(o.adminAuth ? [file({ path: `${TRAEFIK_DIR}/admin-users`, content: o.adminAuth.users, mode: '0600', secret: true })] : []),
      file({
        path: `${DYNAMIC_DIR}/traefik.yml`,
        content: traefikDynamic(o.routes ?? [], { acme: acme !== undefined, ...(o.dashboard ? { dashboardHost: o.dashboard.host } : {}), adminAuth: o.adminAuth !== undefined }),
        mode: '0644',
      }),
      ...(dns ? [quadlet.secret({ name: 'traefik-dns-token', value: dns.token })] : []),
      quadlet.container({
        name: 'traefik',
        containerName: 'traefik',
        image: o.image ?? TRAEFIK_IMAGE,
        ...(o.pull !== undefined ? { pull: o.pull } : {}),
        network: (o.networks ?? ['traefik', 'monitoring']).map(network),
        publishPort: ['80:80', '443:443'],
        volume: [
          `${TRAEFIK_DIR}/traefik.yml:/etc/traefik/traefik.yml:ro,z`,
          `${DYNAMIC_DIR}:/etc/traefik/dynamic:ro,z`,
          `${TRAEFIK_DIR}/acme:/etc/traefik/acme:Z`,
          // z, not Z: container_file_t at s0, which fail2ban may read (container-selinux makes it a log
          // type); Z's private categories would shut fail2ban out.
          `${ACCESS_LOG_DIR}:${ACCESS_LOG_DIR}:z`,
          ...(o.dashboard ? [`${TRAEFIK_DIR}/dashboard-users:/etc/traefik/dashboard-users:ro,z`] : []),
          ...(o.adminAuth ? [`${TRAEFIK_DIR}/admin-users:/etc/traefik/admin-users:ro,z`] : []),
        ],
        ...(dns ? { secret: [`traefik-dns-token,type=env,target=${dns.tokenVariable}`] } : {}),
        autoUpdate: 'registry',
        restart: 'always',
      }),
      firewalld.service({ services: ['http', 'https'] }),
      ...(o.fail2ban === false ? [] : loginJail(o.fail2ban ?? {})),
    ];
  },
  { handlers: traefikHandlers },
);
