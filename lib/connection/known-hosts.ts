/**
 * known_hosts parsing and matching, as OpenSSH does it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT").
 * Pure: no file access, so every rule is unit-tested on text.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface KnownHostsEntry {
  /** 1-based line number in the file, for messages. */
  readonly line: number;
  readonly marker?: 'cert-authority' | 'revoked';
  /** The host field as written: a comma list of patterns, or one `|1|salt|hash`. */
  readonly hosts: string;
  readonly keyType: string;
  /** The public key blob (SSH wire format), as the server presents it. */
  readonly key: Buffer;
}

export type HostKeyVerdict =
  | { readonly kind: 'known'; readonly entry: KnownHostsEntry }
  | { readonly kind: 'unknown' }
  /** The host is in known_hosts, but with other keys: possible man-in-the-middle or a reinstalled host. */
  | { readonly kind: 'changed'; readonly expected: readonly KnownHostsEntry[] }
  | { readonly kind: 'revoked'; readonly entry: KnownHostsEntry };

/** Lines that are not valid entries are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostsEntry['marker'];
    if (fields[0].startsWith('@')) {
      const name = fields.shift();
      if (name === '@cert-authority') marker = 'cert-authority';
      else if (name === '@revoked') marker = 'revoked';
      else return;
    }
    const [hosts, keyType, base64] = fields;
    if (hosts === undefined || keyType === undefined || base64 === undefined) return;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return;
    const key = Buffer.from(base64, 'base64');
    if (keyTypeOf(key) !== keyType) return;
    entries.push({ line: index + 1, ...(marker ? { marker } : {}), hosts, keyType, key });
  });
  return entries;
}

/** The name OpenSSH looks up and records: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return port === 22 ? lower : `[${lower}]:${port}`;
}

/** Does this entry's host field match the host? Hashed entries, comma lists, `*`/`?` wildcards and `!negation`. */
export function entryMatchesHost(entry: KnownHostsEntry, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if (entry.hosts.startsWith('|1|')) return hashedMatches(entry.hosts, name);
  let matched = false;
  for (const pattern of entry.hosts.toLowerCase().split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (globMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

export function checkHostKey(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyVerdict {
  const forHost = entries.filter((e) => entryMatchesHost(e, host, port));
  const revoked = forHost.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { kind: 'revoked', entry: revoked };
  // Host certificates are not supported, so @cert-authority lines neither accept nor reject a key.
  const plain = forHost.filter((e) => e.marker === undefined);
  const same = plain.find((e) => e.key.equals(key));
  if (same) return { kind: 'known', entry: same };
  return plain.length > 0 ? { kind: 'changed', expected: plain } : { kind: 'unknown' };
}

/**
 * Host key algorithms to offer, known types first, so a host recorded with
 * one key type is asked for that type (as OpenSSH does) instead of
 * presenting another type that would look like a changed key.
 */
export function preferredHostKeyAlgorithms(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  defaults: readonly string[],
): string[] {
  const known = new Set(
    entries
      .filter((e) => e.marker === undefined && entryMatchesHost(e, host, port))
      .flatMap((e) => (e.keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [e.keyType])),
  );
  return [...defaults.filter((a) => known.has(a)), ...defaults.filter((a) => !known.has(a))];
}

/** The key type named inside a public key blob (its first SSH string). */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || 4 + length > blob.length) return undefined;
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** `SHA256:...` as `ssh-keygen -l` and OpenSSH's prompts print it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** A line to append to known_hosts for this host and key. */
export function knownHostsLine(host: string, port: number, blob: Buffer): string {
  return `${knownHostsName(host, port)} ${keyTypeOf(blob) ?? 'unknown'} ${blob.toString('base64')}`;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, the format of `HashKnownHosts yes`. */
export function hashedHostField(name: string, salt: Buffer): string {
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

function hashedMatches(field: string, name: string): boolean {
  const [, , salt64, hash64] = field.split('|');
  if (salt64 === undefined || hash64 === undefined) return false;
  const expected = Buffer.from(hash64, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt64, 'base64')).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function globMatches(pattern: string, name: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name);
}
