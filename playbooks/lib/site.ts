// The home server's settings, read from the inventory's `site` var (inventory/miraclemax.yml), and the
// secrets, read from the environment when a run needs them (docs/secrets.md has the other sources).
// Every playbook of the site (site.ts, security.ts, containers.ts, monitoring.ts, backup.ts) builds its
// roles from here, so the monitoring play scrapes exactly what the containers play runs.
import { role, secret, type HostView, type Step } from 'hostform';
import {
  ADMIN_AUTH,
  app,
  appScrape,
  backup,
  base,
  hardening,
  homeassistant,
  monitoring,
  plex,
  podman,
  restore,
  traefik,
  traefikScrape,
  type AppOptions,
  type BackupOptions,
  type BaseOptions,
  type MediaLibrary,
  type PodmanOptions,
  type ScrapeJob,
} from 'hostform/roles';
import type { PullPolicy } from 'hostform/modules';

export interface SiteVars {
  /** Sub-domains of it name the services: grafana.<domain>, ha.<domain>, ... */
  readonly domain: string;
  readonly admin: { readonly name: string; readonly keys: readonly string[]; readonly groups?: readonly string[] };
  readonly hostname?: string;
  readonly timezone?: string;
  /** Your LAN, never banned by fail2ban (the sshd jail and Traefik's login jail). */
  readonly lan?: string;
  /** Let's Encrypt; left out, Traefik's self-signed certificate. `dnsProvider` + `dnsTokenVariable` for DNS-01 (token from DNS_API_TOKEN). */
  readonly acme?: { readonly email: string; readonly staging?: boolean; readonly dnsProvider?: string; readonly dnsTokenVariable?: string };
  /** Alert mail (password from SMTP_PASSWORD). */
  readonly smtp?: { readonly to: string; readonly from: string; readonly smarthost: string; readonly username: string };
  /** The applications behind Traefik, by name; `host` is a sub-domain. */
  readonly apps?: readonly (Omit<AppOptions, 'host' | 'secrets' | 'acme'> & { readonly host?: string })[];
  /** Plex, with media libraries on NFS; left out, no Plex. */
  readonly plex?: { readonly media?: readonly MediaLibrary[] };
  readonly backup?: Pick<BackupOptions, 'repository' | 'nfs' | 'paths' | 'host' | 'onCalendar' | 'keep'>;
  /** Run the restore role: on a freshly built host, bring the data of the latest snapshot back before the services start. */
  readonly restore?: boolean;
  /** Options of the base role beyond the above (packages, epel, chrony, automaticUpdates, journald, sysctl). */
  readonly base?: Omit<BaseOptions, 'admin' | 'hostname' | 'timezone'>;
  /** Options of the podman role (dockerSocket, install). */
  readonly podman?: PodmanOptions;
  /** How often Prometheus scrapes. Default '30s'. */
  readonly scrapeInterval?: string;
  /** Image pull policy for every container ('missing' by default: tags are pinned). */
  readonly pull?: PullPolicy;
}

/** The host's `site` var, checked for the few things every play needs. */
export function siteVars(host: HostView): SiteVars {
  const site = host.vars['site'] as SiteVars | undefined;
  if (site === undefined || typeof site !== 'object') throw new Error(`host ${host.name} has no 'site' var: see inventory/miraclemax.yml`);
  if (typeof site.domain !== 'string' || site.domain === '') throw new Error(`host ${host.name}: site.domain must be a domain name (home.example.org)`);
  if (!site.admin || typeof site.admin.name !== 'string' || !Array.isArray(site.admin.keys) || site.admin.keys.length === 0) {
    throw new Error(`host ${host.name}: site.admin needs a name and at least one SSH key (keys)`);
  }
  return site;
}

/** The secrets of the site, from environment variables of the `play` process. */
export const SECRETS = {
  restic: secret.env('RESTIC_PASSWORD'),
  grafanaAdmin: secret.env('GRAFANA_ADMIN_PASSWORD'),
  smtp: secret.env('SMTP_PASSWORD'),
  plexClaim: secret.env('PLEX_CLAIM'),
  /** htpasswd lines (`htpasswd -nB admin`): the Traefik dashboard's users, and Prometheus's and Alertmanager's. */
  dashboardUsers: secret.env('TRAEFIK_DASHBOARD_USERS'),
  dnsToken: secret.env('DNS_API_TOKEN'),
};

const pullOf = (s: SiteVars) => (s.pull ? { pull: s.pull } : {});
const subdomain = (s: SiteVars, name: string) => `${name}.${s.domain}`;

export function backupOptions(s: SiteVars): BackupOptions {
  return { password: SECRETS.restic, ...s.backup };
}

/** base and hardening: the host itself. */
export const securityRoles = role('site-security', (_: void, host): readonly Step[] => {
  const s = siteVars(host);
  return [
    base({
      ...s.base,
      admin: { name: s.admin.name, authorizedKeys: s.admin.keys, ...(s.admin.groups ? { groups: s.admin.groups } : {}) },
      ...(s.hostname ? { hostname: s.hostname } : {}),
      ...(s.timezone ? { timezone: s.timezone } : {}),
    }),
    // Exactly these services are open: the list names the traefik role's http and https too, or each run would close and reopen them.
    hardening({ services: ['ssh', 'http', 'https'], nfs: (s.plex?.media?.length ?? 0) > 0, ...(s.lan ? { fail2ban: { ignoreip: [s.lan] } } : {}) }),
  ];
});

/** podman, the restore when asked, Traefik and the applications. */
export const containerRoles = role('site-containers', (_: void, host): readonly Step[] => {
  const s = siteVars(host);
  const acme = s.acme !== undefined;
  const dns = s.acme?.dnsProvider && s.acme.dnsTokenVariable ? { provider: s.acme.dnsProvider, tokenVariable: s.acme.dnsTokenVariable, token: SECRETS.dnsToken } : undefined;
  return [
    podman(s.podman ?? {}),
    ...(s.restore ? [restore(backupOptions(s))] : []),
    traefik({
      ...pullOf(s),
      ...(s.acme ? { acme: dns ? { email: s.acme.email, staging: s.acme.staging ?? false, challenge: 'dns' as const, dns } : { email: s.acme.email, staging: s.acme.staging ?? false } } : {}),
      dashboard: { host: subdomain(s, 'traefik'), users: SECRETS.dashboardUsers },
      // The same users guard Prometheus and Alertmanager (the monitoring play's routes name ADMIN_AUTH).
      adminAuth: { users: SECRETS.dashboardUsers },
      fail2ban: s.lan ? { ignoreip: [s.lan] } : {},
    }),
    homeassistant({ ...pullOf(s), host: subdomain(s, 'ha'), acme, ...(s.timezone ? { timezone: s.timezone } : {}) }),
    ...(s.apps ?? []).map((a) => app({ ...pullOf(s), ...a, ...(a.host ? { host: subdomain(s, a.host) } : {}), acme })),
    ...(s.plex ? [plex({ ...pullOf(s), media: s.plex.media ?? [], claimToken: SECRETS.plexClaim, ...(s.timezone ? { timezone: s.timezone } : {}) })] : []),
  ];
});

/** What Prometheus scrapes besides the monitoring containers: the roles the containers play runs. */
export function siteScrapeJobs(s: SiteVars): ScrapeJob[] {
  return [traefikScrape(), ...(s.apps ?? []).flatMap((a) => appScrape(a))];
}

export const monitoringRoles = role('site-monitoring', (_: void, host): readonly Step[] => {
  const s = siteVars(host);
  return [
    monitoring({
      ...pullOf(s),
      grafanaAdminPassword: SECRETS.grafanaAdmin,
      scrape: siteScrapeJobs(s),
      ...(s.scrapeInterval ? { scrapeInterval: s.scrapeInterval } : {}),
      hosts: { grafana: subdomain(s, 'grafana'), prometheus: subdomain(s, 'prometheus'), alertmanager: subdomain(s, 'alertmanager') },
      middlewares: [ADMIN_AUTH],
      acme: s.acme !== undefined,
      ...(s.smtp ? { smtp: { ...s.smtp, password: SECRETS.smtp } } : {}),
    }),
  ];
});

export const backupRoles = role('site-backup', (_: void, host): readonly Step[] => [backup(backupOptions(siteVars(host)))]);
