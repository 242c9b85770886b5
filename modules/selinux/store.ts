import { readFileSync } from 'node:fs';
import type { ExecResult } from '../../lib/connection/types.ts';
import { sh } from '../../lib/shell/quote.ts';
import { fcontextKey } from './resources.ts';
import { guardedProbe, parseGuarded, type SelinuxStatus } from './status.ts';

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
