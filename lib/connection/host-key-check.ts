/**
 * Strict host-key checking for ssh2's `hostVerifier`: the known_hosts file is
 * read once per connection, and a refusal is kept so the connection error can
 * explain it (ssh2 itself only says "Host denied").
 */
import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  checkHostKey,
  fingerprint,
  keyTypeOf,
  knownHostsLine,
  knownHostsName,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
  type KnownHostsEntry,
} from './known-hosts.ts';
import type { ConnectionFailureReason } from './error.ts';
import { quote } from '../shell/quote.ts';

export interface HostKeyPolicy {
  readonly address: string;
  readonly port: number;
  readonly knownHostsFile: string;
  readonly acceptNewHostKeys: boolean;
}

export interface HostKeyRefusal {
  readonly reason: Extract<ConnectionFailureReason, `host-key-${string}`>;
  /** Follows "cannot connect to HOST (USER@ADDRESS:PORT): ". */
  readonly message: string;
}

export interface HostKeyCheck {
  /** Host key algorithms in the order to offer them: the types known for this host first. */
  readonly algorithms: string[];
  /** For ssh2's `hostVerifier`: resolves true when the key may be used. */
  verify(key: Buffer): Promise<boolean>;
  /** Set when verify refused a key. */
  readonly refusal: HostKeyRefusal | undefined;
}

export async function prepareHostKeyCheck(policy: HostKeyPolicy, defaultAlgorithms: readonly string[]): Promise<HostKeyCheck> {
  const entries = parseKnownHosts(await readIfPresent(policy.knownHostsFile));
  let refusal: HostKeyRefusal | undefined;
  return {
    algorithms: preferredHostKeyAlgorithms(entries, policy.address, policy.port, defaultAlgorithms),
    get refusal() {
      return refusal;
    },
    async verify(key) {
      const verdict = checkHostKey(entries, policy.address, policy.port, key);
      switch (verdict.kind) {
        case 'known':
          return true;
        case 'unknown':
          if (policy.acceptNewHostKeys) {
            try {
              await recordHostKey(policy, key);
            } catch (error) {
              const why = error instanceof Error ? error.message : String(error);
              refusal = {
                reason: 'host-key-unknown',
                message: `its host key is new and could not be recorded in ${policy.knownHostsFile} (${why}); fix that file's permissions or pick another with 'knownHostsFile'.`,
              };
              return false;
            }
            return true;
          }
          refusal = { reason: 'host-key-unknown', message: unknownMessage(policy, key) };
          return false;
        case 'changed':
          refusal = { reason: 'host-key-changed', message: changedMessage(policy, key, verdict.expected) };
          return false;
        case 'revoked':
          refusal = { reason: 'host-key-revoked', message: revokedMessage(policy, key, verdict.entry) };
          return false;
      }
    },
  };
}

async function readIfPresent(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

async function recordHostKey(policy: HostKeyPolicy, key: Buffer): Promise<void> {
  await mkdir(dirname(policy.knownHostsFile), { recursive: true, mode: 0o700 });
  const line = knownHostsLine(policy.address, policy.port, key);
  await appendFile(policy.knownHostsFile, `${(await endsWithNewline(policy.knownHostsFile)) ? '' : '\n'}${line}\n`, {
    mode: 0o600,
  });
}

async function endsWithNewline(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return true;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    await handle.close();
  }
}

function describeKey(key: Buffer): string {
  return `${keyTypeOf(key) ?? 'unknown type'} key ${fingerprint(key)}`;
}

function unknownMessage(policy: HostKeyPolicy, key: Buffer): string {
  return [
    `its host key is not in ${policy.knownHostsFile}, and hostform only connects to known hosts.`,
    `  the host presented: ${describeKey(key)}`,
    `  to trust it, first check that fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then either:`,
    `    ssh-keyscan -p ${policy.port} ${quote(policy.address)} >> ${quote(policy.knownHostsFile)}`,
    `  or run again with --accept-new-host-keys to record keys of hosts seen for the first time.`,
  ].join('\n');
}

function changedMessage(policy: HostKeyPolicy, key: Buffer, expected: readonly KnownHostsEntry[]): string {
  const recorded = expected.map((e) => `line ${e.line}: ${describeKey(e.key)}`).join('; ');
  return [
    `WARNING: its host key has CHANGED since it was recorded. Refusing to connect.`,
    `  someone may be intercepting the connection (man-in-the-middle), or the host was reinstalled.`,
    `  the host presented: ${describeKey(key)}`,
    `  ${policy.knownHostsFile} has: ${recorded}`,
    `  if you have verified that the new key is genuine, remove the old entry and connect again:`,
    `    ssh-keygen -R ${quote(knownHostsName(policy.address, policy.port))} -f ${quote(policy.knownHostsFile)}`,
    `  --accept-new-host-keys never replaces a changed key.`,
  ].join('\n');
}

function revokedMessage(policy: HostKeyPolicy, key: Buffer, entry: KnownHostsEntry): string {
  return [
    `its host key is marked @revoked in ${policy.knownHostsFile} (line ${entry.line}). Refusing to connect.`,
    `  the host presented: ${describeKey(key)}`,
  ].join('\n');
}
