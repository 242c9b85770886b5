/**
 * Disposable el9-like test hosts for integration tests: Debian trixie userlands carrying RHEL 9's tool set
 * (not RHEL). See docs/test-hosts.md.
 *
 *   const [h] = await hosts.up(1, 'el9');   // container hosts (systemd-nspawn)
 *   const [vm] = await hosts.up(1, 'el9-selinux');   // the shared SELinux VM (qemu)
 *   const [s] = await hosts.up(1, 'el9', { registry: true });   // pulls of the site images work
 *   await h.exec('systemctl is-active sshd');
 *   await hosts.down();                     // everything this process started
 */
import { PROFILES, vmUseLockFile } from './config.ts';
import type { Profile } from './config.ts';
import { bootContainers } from './container.ts';
import { ensureImage } from './image.ts';
import { holdLock } from './lock.ts';
import { release, releaseSync, sweep } from './registry.ts';
import { MIRRORS_DROP_IN, mirrorsConf, startSiteRegistry } from './site-registry.ts';
import type { SiteRegistry } from './site-registry.ts';
import type { TestHost } from './test-host.ts';
import { bootSelinuxVm } from './vm.ts';

export { TestHost } from './test-host.ts';
export type { TestHostInventoryEntry, BootTimings } from './test-host.ts';
export type { ExecResult } from './ssh.ts';
export type { Profile } from './config.ts';
export type { SiteRegistry } from './site-registry.ts';

export interface UpOptions {
  /**
   * Start (or join) the site images' registry and give the hosts a registries.conf drop-in that sends
   * docker.io, ghcr.io, gcr.io, lscr.io, quay.io and registry.k8s.io to it. 'el9' only: the VM has no
   * route to the bridge.
   */
  readonly registry?: boolean;
}

/** Hosts this process registered (booted or still booting); torn down, or for the shared VM released, by down() or at exit. */
const registered = new Set<string>();
const booted = new Map<string, TestHost>();
/**
 * The SELinux VM is shared, but used by one test process at a time: two test
 * files changing policy at once fight over libsemanage's lock and each other's
 * enforcing mode. Held from up() to down().
 */
let vmUse: { release(): Promise<void> } | undefined;
/** The site registry as this process joined it; released by down() like a host. */
let siteRegistry: Promise<SiteRegistry> | undefined;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let handlersInstalled = false;

function onExit(): void {
  releaseSync([...registered]);
  registered.clear();
  booted.clear();
  siteRegistry = undefined;
}

function onSignal(signal: NodeJS.Signals): void {
  onExit();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  // Die of the same signal, as if no handler had been installed.
  process.kill(process.pid, signal);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', onExit);
  for (const s of SIGNALS) process.on(s, onSignal);
}

export const hosts = {
  /**
   * Boots n hosts of a profile and resolves when each accepts ssh and has finished booting.
   * 'el9': container hosts, n at a time. 'el9-selinux': the one VM of this test run (n must be 1),
   * shared with other test processes; it stays up while any of them uses it.
   */
  async up(n: number, profile: Profile = 'el9', options: UpOptions = {}): Promise<TestHost[]> {
    if (!PROFILES.includes(profile)) throw new Error(`unknown test host profile ${profile}; use one of ${PROFILES.join(', ')}`);
    if (!Number.isInteger(n) || n < 1) throw new Error(`hosts.up: n must be a positive integer, got ${n}`);
    if (profile === 'el9-selinux' && n !== 1) throw new Error('hosts.up: the el9-selinux VM is shared; ask for 1');
    if (profile !== 'el9' && options.registry) throw new Error('hosts.up: the site registry is reachable from el9 container hosts only');
    installHandlers();
    const { image } = await ensureImage((line) => process.stderr.write(`[hosts] ${line}\n`));
    const files = options.registry ? { [MIRRORS_DROP_IN]: mirrorsConf((await hosts.registry()).address) } : {};
    const mine: string[] = [];
    const onRegistered = (name: string): void => {
      registered.add(name);
      mine.push(name);
    };
    try {
      const up = profile === 'el9' ? await bootContainers(n, image, onRegistered, files) : [await bootSelinuxVm(image, onRegistered)];
      // Registered as a user of the VM first, so it stays up while this process waits its turn.
      if (profile === 'el9-selinux' && !vmUse) vmUse = await holdLock(vmUseLockFile());
      for (const h of up) booted.set(h.name, h);
      return up;
    } catch (err) {
      for (const name of mine) registered.delete(name);
      await release(mine);
      throw err;
    }
  },

  /**
   * The site images' registry on the bridge, started or joined by this process (once), with the images it
   * serves. up(n, 'el9', { registry: true }) calls it; a test that only needs the registry may too.
   */
  registry(): Promise<SiteRegistry> {
    installHandlers();
    siteRegistry ??= startSiteRegistry(
      (name) => registered.add(name),
      (line) => process.stderr.write(`[hosts] ${line}\n`),
    ).catch((err: unknown) => {
      siteRegistry = undefined;
      throw err;
    });
    return siteRegistry;
  },

  /** Tears down every host this process started (and releases the shared VM and the site registry). */
  async down(): Promise<void> {
    const names = [...registered];
    registered.clear();
    booted.clear();
    siteRegistry = undefined;
    await vmUse?.release();
    vmUse = undefined;
    await release(names);
  },

  /** The hosts this process has up. */
  list(): TestHost[] {
    return [...booted.values()];
  },

  /** Tears down hosts left behind by processes that died (runs on every up() too). */
  sweep,
};
