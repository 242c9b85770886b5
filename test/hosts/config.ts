import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the harness's scripts live (this folder). */
export const HARNESS_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Images and the state of running hosts live outside the repository. */
export function cacheDir(): string {
  return process.env.HOSTFORM_TEST_HOSTS_CACHE ?? '/var/cache/hostform-test-hosts';
}
export const imagesDir = (): string => path.join(cacheDir(), 'images');
export const runDir = (): string => path.join(cacheDir(), 'run');
export const hostsDir = (): string => path.join(runDir(), 'hosts');
/** Guards the host registry, address allocation and the bridge across processes. */
export const runLockFile = (): string => path.join(runDir(), 'lock');
/** Held by the one test process using the shared SELinux VM, from up() to down(). */
export const vmUseLockFile = (): string => path.join(runDir(), 'vm-use.lock');

/** The host-local bridge: a private /16 with no NAT, no default route and ip_forward left off. */
export const BRIDGE = 'hfbr0';
export const NET_PREFIX = '10.213';
export const BRIDGE_ADDRESS = `${NET_PREFIX}.0.1`;

/** Every cgroup the harness creates starts with this, so a sweep can find them all. */
export const CGROUP_PREFIX = 'hostform-test-';

export type Profile = 'el9' | 'el9-selinux';
export const PROFILES: readonly Profile[] = ['el9', 'el9-selinux'];
