import { readFileSync } from 'node:fs';
import type { ExecResult } from '../../lib/connection/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { probeFailure } from '../shared/become.ts';
import { MODES, type SelinuxMode } from './params.ts';
import { fcontextKey } from './resources.ts';

// ── whether SELinux runs ─────────────────────────────────────────────────

/**
 * Whether SELinux runs on the host, as the first line of every probe says it.
 * The check lives inside each probe script (probes run together and cannot
 * depend on one another), so a disabled host never runs semanage at all.
 */
export type SelinuxStatus =
  | { readonly state: 'enabled' }
  | { readonly state: 'disabled'; readonly reason: string };

const MARK = 'selinux:';

/**
 * A probe that prints the status line, then, only when SELinux is enabled and
 * semanage is installed, runs `body`.
 */
export function guardedProbe(body: ShellScript): ShellScript {
  return sh`if ! command -v selinuxenabled >/dev/null 2>&1; then echo 'selinux: no-tools'
elif ! selinuxenabled; then echo 'selinux: disabled'
elif ! command -v semanage >/dev/null 2>&1; then echo 'selinux: no-semanage'
else echo 'selinux: enabled'
${body}
fi`;
}

/** Split a guarded probe's output into the status and what the body printed. */
export function parseGuarded(result: ExecResult, what: string): { status: SelinuxStatus; body: string } {
  const newline = result.stdout.indexOf('\n');
  const first = (newline < 0 ? result.stdout : result.stdout.slice(0, newline)).trim();
  const body = newline < 0 ? '' : result.stdout.slice(newline + 1);
  if (!first.startsWith(MARK)) {
    throw new Error(`cannot read ${what}: ${result.stderr.trim() || `unexpected output ${JSON.stringify(result.stdout.slice(0, 120))}`}`);
  }
  const word = first.slice(MARK.length).trim();
  switch (word) {
    case 'enabled':
      if (result.code !== 0) {
        throw probeFailure(`cannot read ${what}`, result.stderr.trim() || `exit code ${result.code}`);
      }
      return { status: { state: 'enabled' }, body };
    case 'disabled':
      return { status: { state: 'disabled', reason: 'selinuxenabled says it is off (getenforce: Disabled)' }, body: '' };
    case 'no-tools':
      return { status: { state: 'disabled', reason: 'the SELinux tools are not installed (no selinuxenabled)' }, body: '' };
    case 'no-semanage':
      return { status: { state: 'disabled', reason: 'semanage is not installed (package policycoreutils-python-utils)' }, body: '' };
    default:
      throw new Error(`cannot read ${what}: unexpected status ${JSON.stringify(word)}`);
  }
}

// ── the policy store: booleans, file contexts, ports ───────────────────

/** A boolean as it is now and as it will be after a reboot (the local customization, else the policy default). */
export interface BooleanState {
  readonly runtime: boolean;
  readonly persistent: boolean;
}

/** The SELinux policy store as the boolean, fileContext and port modules compare against it. */
export interface SelinuxStore {
  readonly booleans: ReadonlyMap<string, BooleanState>;
  /** Local file-context mappings: fcontextKey(target, listed file type) → type. */
  readonly fcontexts: ReadonlyMap<string, string>;
  /** Local port mappings: portKey → type. */
  readonly localPorts: ReadonlyMap<string, string>;
  /** Every port mapping, policy and local: portKey → types (a range may carry a policy type and a local one). */
  readonly ports: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface ObservedStore {
  readonly status: SelinuxStatus;
  readonly store: SelinuxStore;
}

const READ_STORE = readFileSync(new URL('./read-store.py', import.meta.url), 'utf8');

/**
 * One probe for every boolean, fileContext and port task: the same script
 * text, so the engine runs it once per batch, one process reading the store
 * once (instead of `semanage boolean -l`, `fcontext -l -C`, `port -l -C` and `port -l`).
 */
export const storeProbe = guardedProbe(sh`python3 -c ${READ_STORE}`);

type StoreJson = {
  booleans: Record<string, [number, number]>;
  fcontexts: [string, string, string][];
  localPorts: [string, number, number, string][];
  ports: [string, number, number, string][];
};

/** `tcp/9000-9010` or `tcp/8443`: a port range as semanage names it. */
export function portKey(range: { readonly protocol: string; readonly low: number; readonly high: number }): string {
  return `${range.protocol}/${range.low === range.high ? range.low : `${range.low}-${range.high}`}`;
}

export function parseStoreJson(text: string): SelinuxStore {
  const json = JSON.parse(text) as StoreJson;
  const ports = new Map<string, Set<string>>();
  for (const [protocol, low, high, type] of json.ports) {
    const key = portKey({ protocol, low, high });
    ports.set(key, (ports.get(key) ?? new Set()).add(type));
  }
  return {
    booleans: new Map(Object.entries(json.booleans).map(([name, [runtime, persistent]]) => [name, { runtime: runtime === 1, persistent: persistent === 1 }])),
    fcontexts: new Map(json.fcontexts.map(([target, listed, type]) => [fcontextKey(target, listed), type])),
    localPorts: new Map(json.localPorts.map(([protocol, low, high, type]) => [portKey({ protocol, low, high }), type])),
    ports,
  };
}

const EMPTY: SelinuxStore = { booleans: new Map(), fcontexts: new Map(), localPorts: new Map(), ports: new Map() };

export function parseStore(result: ExecResult): ObservedStore {
  const { status, body } = parseGuarded(result, 'the SELinux policy store');
  if (status.state !== 'enabled') return { status, store: EMPTY };
  try {
    return { status, store: parseStoreJson(body) };
  } catch {
    throw new Error(`cannot read the SELinux policy store: unexpected output ${JSON.stringify(body.slice(0, 200))}`);
  }
}

// ── mode ─────────────────────────────────────────────────────────────────

export const CONFIG = '/etc/selinux/config';

// ── observe ──────────────────────────────────────────────────────────────

export interface ObservedMode {
  /** A container shares its host's kernel: its SELinux is not its own to change. */
  readonly container: boolean;
  /** undefined when getenforce is not installed. */
  readonly runtime: SelinuxMode | undefined;
  /** The config file's text; undefined when it does not exist. */
  readonly config: string | undefined;
}

export const modeProbe = sh`if command -v systemd-detect-virt >/dev/null 2>&1 && systemd-detect-virt --container --quiet; then echo 'container: yes'; else echo 'container: no'; fi
if command -v getenforce >/dev/null 2>&1; then echo "runtime: $(getenforce)"; else echo 'runtime: missing'; fi
if [ -f ${CONFIG} ]; then echo 'config: present'; cat ${CONFIG}; else echo 'config: absent'; fi`;

export function parseMode(stdout: string): ObservedMode {
  const [container = '', runtime = '', config = '', ...rest] = stdout.split('\n');
  if (!container.startsWith('container: ') || !runtime.startsWith('runtime: ') || !config.startsWith('config: ')) {
    throw new Error(`cannot read the SELinux mode: unexpected output ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  const word = runtime.slice('runtime: '.length).trim().toLowerCase();
  return {
    container: container === 'container: yes',
    runtime: (MODES as readonly string[]).includes(word) ? (word as SelinuxMode) : undefined,
    config: config === 'config: present' ? rest.join('\n') : undefined,
  };
}
