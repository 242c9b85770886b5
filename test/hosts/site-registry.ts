import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { BRIDGE_ADDRESS, HARNESS_DIR, runLockFile } from './config.ts';
import { prepareMachine } from './container.ts';
import { withLock } from './lock.ts';
import { addUser, hostDir, readRecords, registerHost, sweepLocked } from './registry.ts';
import type { HostRecord } from './registry.ts';
import { ensureSiteImages } from './site-images/build.ts';
import type { SiteImagesBuild } from './site-images/build.ts';
import { MIRRORED_REGISTRIES } from './site-images/images.ts';

/**
 * The site images' registry: Debian's docker-registry (the distribution registry) on the control machine,
 * bound to the bridge address only, serving the cached build of the site images (site-images/). One for
 * the whole machine, shared by every test process that asks for it: it is recorded in the host registry
 * under the name hf-registry with one user file per process, like a host, so the same teardown.sh stops it
 * (through its cgroup) when its last user releases it or dies, and the bridge stays while it runs.
 */
export const REGISTRY_NAME = 'hf-registry';
export const REGISTRY_PORT = 5000;
const READY_TIMEOUT_MS = 30_000;

export interface SiteRegistry {
  /** host:port as the test hosts reach it, 10.213.0.1:5000. */
  readonly address: string;
  /** The images it serves, with their digests. */
  readonly build: SiteImagesBuild;
  /** Milliseconds from the start of this call until the registry answered (0 when it was already up). */
  readonly startMs: number;
  /** Whether this call started it (false: it was running for another test process). */
  readonly started: boolean;
}

/**
 * The drop-in the test hosts get under /etc/containers/registries.conf.d/: every mirrored registry is
 * served by the local one, under a namespace named for it (docker.io/prom/prometheus is
 * 10.213.0.1:5000/docker.io/prom/prometheus). Plain HTTP on the private bridge, hence insecure.
 */
export function mirrorsConf(address: string): string {
  const header =
    '# Written by the hostform test harness (test/hosts/site-registry.ts). Test hosts have no internet:\n' +
    '# pulls from these registries are served by the local registry on the test bridge.\n';
  return header + MIRRORED_REGISTRIES.map((r) => `\n[[registry]]\nprefix = "${r}"\nlocation = "${r}"\n\n[[registry.mirror]]\nlocation = "${address}/${r}"\ninsecure = true\n`).join('');
}

export const MIRRORS_DROP_IN = 'etc/containers/registries.conf.d/50-hostform-test-mirror.conf';

/** Starts the registry, or joins the running one, as a user of this process; onRegistered names it for release. */
export async function startSiteRegistry(onRegistered: (name: string) => void, log: (line: string) => void = () => {}): Promise<SiteRegistry> {
  const { build } = await ensureSiteImages(log);
  const started = Date.now();
  const address = `${BRIDGE_ADDRESS}:${REGISTRY_PORT}`;
  const fresh = await withLock(runLockFile(), async () => {
    await sweepLocked();
    await prepareMachine();
    const running = readRecords().find((r) => r.kind === 'registry');
    if (running) {
      if (running.imageKey !== build.key) {
        throw new Error(
          `the site registry serves the site images ${running.imageKey}, this test wants ${build.key} ` +
            '(test/hosts/site-images changed while another test process uses the registry); run again when it is done',
        );
      }
      addUser(running.name);
      onRegistered(running.name);
      return false;
    }
    const record: HostRecord = { name: REGISTRY_NAME, profile: 'el9', kind: 'registry', address: BRIDGE_ADDRESS, port: REGISTRY_PORT, imageKey: build.key };
    registerHost(record);
    onRegistered(record.name);
    launch(build);
    return true;
  });
  await waitUntilServing(address, fresh ? path.join(hostDir(REGISTRY_NAME), 'registry.log') : undefined);
  return { address, build, startMs: fresh ? Date.now() - started : 0, started: fresh };
}

function launch(build: SiteImagesBuild): void {
  const dir = hostDir(REGISTRY_NAME);
  for (const sub of ['upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'config.yml'),
    `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${path.join(dir, 'merged')}
  delete:
    enabled: true
http:
  addr: ${BRIDGE_ADDRESS}:${REGISTRY_PORT}
`,
  );
  const log = fs.openSync(path.join(dir, 'registry.log'), 'w');
  const child = spawn(
    path.join(HARNESS_DIR, 'launch.sh'),
    ['hostform-test-' + REGISTRY_NAME, '--', 'unshare', '--mount', '--propagation', 'private',
      'bash', path.join(HARNESS_DIR, 'site-images', 'registry-run.sh'), dir, build.storage],
    { detached: true, stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  // Stopped through its cgroup by teardown.sh, not through this handle; it outlives this process when shared.
  child.unref();
}

/** Whether a distribution registry answers at url (its API version header, not just any HTTP server). */
function isRegistry(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 && res.headers['docker-distribution-api-version'] === 'registry/2.0');
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

async function waitUntilServing(address: string, logFile: string | undefined): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < READY_TIMEOUT_MS) {
    if (await isRegistry(`http://${address}/v2/`)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  const tail = logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n') : '';
  throw new Error(`the site registry did not answer on http://${address}/v2/ within ${READY_TIMEOUT_MS / 1000} s${tail ? `:\n${tail}` : ''}`);
}
