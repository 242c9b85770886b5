import t from 'tap';
import { alertmanagerConfig, prometheusConfig, siteRules, OWN_JOBS, THRESHOLDS, traefikDynamic, traefikScrape, traefikStatic } from '../roles/index.ts';
import { ruleFile } from '../roles/monitoring/rules.ts';
import { homeAssistantConfiguration } from '../roles/homeassistant/index.ts';
import { SITE_IMAGES, imageRef } from './hosts/site-images/images.ts';
import { MONITORING_IMAGES, TRAEFIK_IMAGE, HOMEASSISTANT_IMAGE, PLEX_IMAGE, RESTIC_IMAGE } from '../roles/index.ts';
import { checkAlertmanagerConfig, checkPrometheusConfig, validateTraefikConfig } from './hosts/site-validators.ts';
import { parse } from 'yaml';
import { secret, type HostView, type Step, type Task } from '../lib/index.ts';
import { ADMIN_AUTH } from '../roles/index.ts';
import { tsImport } from 'tsx/esm/api';

/**
 * The configuration the site's roles render, checked with the real checkers: promtool and amtool (the
 * versions the site images run) and Traefik v3's published JSON schemas. No test host.
 */

const jobs = [...OWN_JOBS, traefikScrape(), { job: 'finance-api', targets: ['finance-api:8000'], metricsPath: '/metrics' }];

t.test('monitoring: promtool accepts the rendered prometheus.yml with the site rule file it names', async (t) => {
  const result = await checkPrometheusConfig({ 'prometheus.yml': prometheusConfig('30s', jobs), 'rules/site.yml': ruleFile('site', siteRules()) });
  t.ok(result.ok, result.output);
  t.match(result.output, new RegExp(`SUCCESS: ${siteRules().length} rules found`), 'promtool read every rule');
});

t.test("monitoring: the default rules carry the roadmap's thresholds, each at its severity", async (t) => {
  const rules = new Map(siteRules().map((r) => [r.alert, r]));
  const exprEnds = (alert: string) => rules.get(alert)?.expr.split(' ').slice(-2).join(' ');
  t.equal(exprEnds('HostCpuWarning'), '> 75');
  t.equal(exprEnds('HostCpuCritical'), '> 85');
  t.equal(exprEnds('HostMemoryWarning'), '> 80');
  t.equal(exprEnds('HostMemoryCritical'), '> 90');
  t.equal(exprEnds('HostDiskWarning'), '> 85');
  t.equal(exprEnds('HostDiskCritical'), '> 90');
  t.equal(exprEnds('CertificateExpiring'), '< 30');
  t.same([...rules.values()].filter((r) => r.alert.endsWith('Critical')).map((r) => r.severity), ['critical', 'critical', 'critical']);
  for (const alert of ['ContainerRestarting', 'HttpErrors', 'TargetDown', 'BackupFailed', 'BackupStale', 'RestoreTestFailed']) t.ok(rules.has(alert), `${alert} is among the rules`);
  const tighter = siteRules({ ...THRESHOLDS, cpu: { warning: 60, critical: 70 } });
  t.match(tighter.find((r) => r.alert === 'HostCpuCritical')?.expr, / > 70$/, 'thresholds are options');
});

t.test('monitoring: amtool accepts the rendered alertmanager.yml, with mail and without', async (t) => {
  const smtp = { to: 'me@example.test', from: 'alerts@example.test', smarthost: 'smtp.example.test:587', username: 'alerts' };
  const withMail = alertmanagerConfig(smtp);
  // amtool reads the password file the configuration names: it sits at the path the container mounts it at.
  const check = await checkAlertmanagerConfig({ 'alertmanager.yml': withMail.replace('/run/secrets/smtp-password', 'smtp-password'), 'smtp-password': 'pw\n' });
  t.ok(check.ok, check.output);
  t.ok((await checkAlertmanagerConfig({ 'alertmanager.yml': alertmanagerConfig(undefined) })).ok, 'a receiver without mail is accepted');
  t.notMatch(withMail, /pw/, 'the password is not in the file');
  const routes = (parse(withMail) as { route: { routes: { matchers: string[]; group_interval?: string; repeat_interval?: string }[] } }).route.routes;
  t.same(
    routes.map((r) => [r.matchers[0], r.group_interval, r.repeat_interval]),
    [
      ['severity="critical"', '5m', '30m'],
      ['severity="warning"', '2h', '2h'],
      ['severity="info"', '24h', '24h'],
    ],
    'critical repeats every 30 min, warning is grouped every 2 h, info daily',
  );
});

t.test("traefik: the rendered static and dynamic configuration pass Traefik v3's published schemas", async (t) => {
  const cases = {
    'no ACME': traefikStatic({}),
    'HTTP-01': traefikStatic({ acme: { email: 'me@example.test' }, dashboard: { host: 'traefik.example.test', users: secret.env('TRAEFIK_DASHBOARD_USERS') } }),
    'DNS-01': traefikStatic({ acme: { email: 'me@example.test', staging: true, challenge: 'dns', dns: { provider: 'cloudflare', tokenVariable: 'CF_DNS_API_TOKEN', token: secret.env('CF_DNS_API_TOKEN') } } }),
  };
  for (const [name, text] of Object.entries(cases)) t.same(validateTraefikConfig('static', text), { ok: true, errors: [] }, `static, ${name}`);
  const dynamic = traefikDynamic(
    [
      { host: 'finance.example.test', service: 'finance-api', port: 8000 },
      { name: 'nas', host: 'nas.example.test', url: 'http://192.168.1.5:5000', middlewares: ['lan-only@file'] },
    ],
    { acme: true, dashboardHost: 'traefik.example.test', adminAuth: true },
  );
  t.same(validateTraefikConfig('dynamic', dynamic), { ok: true, errors: [] }, 'dynamic routes with the dashboard and the admin login');
  const http = (parse(dynamic) as { http: { routers: Record<string, { rule: string; service: string; middlewares?: string[]; tls: object }>; services: Record<string, unknown> } }).http;
  t.same(http.routers['finance'], { rule: 'Host(`finance.example.test`)', entryPoints: ['websecure'], service: 'finance', tls: { certResolver: 'letsencrypt' } });
  t.same(http.services['finance'], { loadBalancer: { servers: [{ url: 'http://finance-api:8000' }] } });
  t.same(http.routers['dashboard']?.middlewares, ['dashboard-auth'], 'the dashboard is behind basic auth');
  t.same(Object.keys((parse(dynamic) as { http: { middlewares: object } }).http.middlewares).sort(), ['admin-auth', 'dashboard-auth']);
  t.equal(http.routers['dashboard']?.service, 'api@internal');
  t.same(validateTraefikConfig('dynamic', traefikDynamic([])), { ok: true, errors: [] }, 'no routes at all');
});

t.test("site: every route file passes Traefik's schema, every middleware a route names is defined, and Prometheus and Alertmanager are behind the admin login", async (t) => {
  const view = {
    name: 'miraclemax',
    groups: ['all', 'homeserver'],
    vars: { site: { domain: 'home.test', admin: { name: 'admin', keys: ['ssh-ed25519 AAAA test'] }, apps: [{ name: 'finance-api', image: 'x:1', port: 8000, host: 'finance' }] } },
    facts: { platform: 'el9' },
  } as unknown as HostView;
  const expand = (steps: readonly Step[]): Task[] => steps.flatMap((s) => (s.kind === 'role' ? expand(s.expand(view)) : s.kind === 'task' ? [s] : []));
  // The site imports 'hostform' by name, which tsconfig's paths map to the sources; tap's loader does not read them, tsx does.
  const site = (await tsImport('../playbooks/lib/site.ts', import.meta.url)) as typeof import('../playbooks/lib/site.ts');
  const tasks = expand([site.containerRoles(), site.monitoringRoles()]);
  const routeFiles = tasks.filter((task) => String((task.params as { path?: string }).path).startsWith('/etc/traefik/dynamic/'));
  t.same(routeFiles.map((task) => (task.params as { path: string }).path).sort(), ['/etc/traefik/dynamic/finance-api.yml', '/etc/traefik/dynamic/homeassistant.yml', '/etc/traefik/dynamic/monitoring.yml', '/etc/traefik/dynamic/traefik.yml']);
  type Http = { http: { routers?: Record<string, { middlewares?: string[] }>; middlewares?: Record<string, unknown> } };
  const docs = new Map(routeFiles.map((task) => [(task.params as { path: string }).path, (task.params as { content: string }).content]));
  for (const [path, text] of docs) t.same(validateTraefikConfig('dynamic', text), { ok: true, errors: [] }, path);
  const parsed = [...docs.values()].map((text) => (parse(text) as Http).http);
  const defined = new Set(parsed.flatMap((h) => Object.keys(h.middlewares ?? {}).map((name) => `${name}@file`)));
  const named = parsed.flatMap((h) => Object.values(h.routers ?? {}).flatMap((r) => r.middlewares ?? []).map((m) => (m.includes('@') ? m : `${m}@file`)));
  t.same(named.filter((m) => !defined.has(m)), [], 'no route names a middleware that no file defines');
  const monitoringRouters = (parse(docs.get('/etc/traefik/dynamic/monitoring.yml')!) as Http).http.routers!;
  t.same(monitoringRouters['prometheus']?.middlewares, [ADMIN_AUTH]);
  t.same(monitoringRouters['alertmanager']?.middlewares, [ADMIN_AUTH]);
});

t.test('homeassistant: configuration.yaml trusts X-Forwarded-For from the traefik network only', async (t) => {
  t.same(parse(homeAssistantConfiguration()), { default_config: null, http: { use_x_forwarded_for: true, trusted_proxies: ['10.89.1.0/24'] } });
});

t.test("the roles' default images are the ones the test registry serves, pinned by tag", async (t) => {
  const defaults = [...Object.values(MONITORING_IMAGES), TRAEFIK_IMAGE, HOMEASSISTANT_IMAGE, PLEX_IMAGE, RESTIC_IMAGE];
  const served = new Set(Object.keys(SITE_IMAGES).map((id) => imageRef(id as keyof typeof SITE_IMAGES)));
  for (const image of defaults) {
    t.ok(served.has(image), `${image} is served`);
    t.notMatch(image, /:(latest|stable)$/, `${image} is pinned`);
  }
});
