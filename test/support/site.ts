import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { quote } from '../../lib/index.ts';
import type { TestHost } from '../hosts/index.ts';

/** Running playbooks/site.ts on test hosts as a user would, and looking at the result from another host. */

const repo = new URL('../..', import.meta.url).pathname;

/** The user and password Traefik's basic auth lets in: the dashboard, Prometheus and Alertmanager. */
export const ADMIN_LOGIN = 'admin:dashboard-pw';

export const SITE_SECRETS = {
  RESTIC_PASSWORD: 'restic-test-password',
  GRAFANA_ADMIN_PASSWORD: 'grafana-test-password',
  SMTP_PASSWORD: 'smtp-test-password',
  PLEX_CLAIM: 'claim-test-token',
  // ADMIN_LOGIN as `htpasswd -nbB -C 5 admin dashboard-pw` writes it (bcrypt, the README's advice; cost 5 to stay quick).
  TRAEFIK_DASHBOARD_USERS: 'admin:$2y$05$bion2C8uqLuliBG0tMNN8eqPkGBFAAtCdsmmSyBqAjgUVyAHpTex6',
};

export interface JsonReport {
  exitCode: number;
  hosts: { name: string; status: string; roundTrips?: number; tasks: { name: string; status: string; changes?: { summary: string }[]; error?: { message: string } }[] }[];
}

/** `play` as a user runs it: bin/play.js in a child process, with the secrets in its environment. */
function play(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repo, 'bin/play.js'), ...args], { cwd: repo, env: { ...process.env, ...SITE_SECRETS }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
  });
}

/** playbooks/site.ts with --json, applied or checked. */
export async function runSite(inventory: string, mode: 'apply' | 'check'): Promise<{ report: JsonReport; seconds: number; stderr: string }> {
  const r = await play(['playbooks/site.ts', '-i', inventory, '--json', ...(mode === 'check' ? ['--check'] : [])]);
  try {
    return { report: JSON.parse(r.stdout) as JsonReport, seconds: r.seconds, stderr: r.stderr };
  } catch {
    throw new Error(`play printed no JSON report (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

export const tasksOf = (report: JsonReport) => report.hosts.flatMap((h) => h.tasks);
export const named = (report: JsonReport, status: string) => tasksOf(report).filter((task) => task.status === status).map((task) => task.name);
export const failures = (report: JsonReport) => tasksOf(report).filter((task) => task.status === 'failed').map((task) => `${task.name}: ${task.error?.message}`);

/**
 * The test inventory: the site's settings for a container test host. Beside the example inventory's, it
 * leaves out what such a host cannot do: dnf packages, chrony and dnf-automatic (a Debian userland whose
 * rpm database knows only test packages), kernel.* sysctls (the kernel is the machine's), NFS media.
 */
export async function writeSiteInventory(file: string, host: TestHost, extra: Record<string, unknown> = {}): Promise<void> {
  const key = (await readFile(`${host.identityFile}.pub`, 'utf8')).trim();
  const site = {
    hostname: 'miraclemax.home.test',
    domain: 'home.test',
    timezone: 'Europe/Berlin',
    lan: '10.213.0.0/16',
    // Debian's sudo group: the test host has no wheel.
    admin: { name: 'admin', keys: [key], groups: ['sudo'] },
    smtp: { to: 'admin@home.test', from: 'alerts@home.test', smarthost: 'smtp.home.test:587', username: 'alerts' },
    apps: [
      {
        name: 'finance-api', image: 'ghcr.io/miraclemax/finance-api:1.4.0', port: 8000, hostPort: 3001, host: 'finance', dataDir: '/srv/finance-api',
        healthCmd: `python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"`,
      },
    ],
    plex: { media: [] },
    backup: { paths: ['/etc/containers', '/etc/traefik', '/etc/monitoring', '/srv/homeassistant', '/srv/finance-api'] },
    scrapeInterval: '5s',
    podman: { install: false },
    base: {
      packages: [], epel: false, chrony: false, automaticUpdates: false,
      sysctl: { 'net.ipv4.conf.all.accept_redirects': 0, 'net.ipv4.conf.default.accept_redirects': 0, 'net.ipv4.conf.all.send_redirects': 0, 'net.ipv4.tcp_syncookies': 1 },
    },
    ...extra,
  };
  await writeFile(file, stringify({ hosts: { miraclemax: { ...host.inventoryEntry(), user: 'admin', vars: { site } } }, groups: { homeserver: { hosts: ['miraclemax'] } } }));
}

/** A command on the site host as root: root's SSH login is off once the site runs, so through the admin's sudo. */
export async function asRoot(host: TestHost, cmd: string, timeoutMs = 120_000): Promise<string> {
  const r = await host.exec(`sudo -n sh -c ${quote(cmd)}`, { user: 'admin', timeoutMs });
  if (r.code !== 0) throw new Error(`${cmd}\nexit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** curl on `from`, retried while a service starts (up to `tries` seconds). */
export async function curlFrom(from: TestHost, args: string, tries = 60): Promise<string> {
  const r = await from.exec(`for i in $(seq ${tries}); do out=$(curl -sS --max-time 3 ${args} 2>&1) && { printf '%s' "$out"; exit 0; }; sleep 1; done; echo "$out" >&2; exit 1`, { timeoutMs: (tries + 10) * 4000 });
  if (r.code !== 0) throw new Error(`curl ${args}: ${r.stderr}`);
  return r.stdout;
}

/** curl arguments for https://NAME.home.test/PATH on the site host, as a browser on the LAN sends it. */
export const httpsTo = (site: TestHost, name: string, path: string, extra = '') => `-fk ${extra} --resolve ${name}.home.test:443:${site.address} ${quote(`https://${name}.home.test${path}`)}`;
