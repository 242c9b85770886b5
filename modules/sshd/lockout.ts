/**
 * Would sshd, configured as `sshd -T -C <hostform's login>` prints it, turn
 * hostform's own next login away? Pure, and conservative the safe way: a
 * reason is given only when the configuration provably excludes the login.
 * What cannot be proved here (a key type, a file's permissions, DNS names)
 * is left to the new login hostform makes after the reload.
 *
 * hostform logs in with a key only, never a password.
 */
import type { LoginView } from './login.ts';

type Effective = ReadonlyMap<string, readonly string[]>;

export function lockoutReasons(effective: Effective, login: LoginView): string[] {
  const one = (keyword: string) => effective.get(keyword)?.[0];
  const list = (keyword: string) => effective.get(keyword) ?? [];
  const reasons: string[] = [];
  const at = `${login.serverAddress} port ${login.serverPort}`;

  const listening = listenAddresses(effective);
  if (!listening.some((l) => l.port === login.serverPort && (l.address === login.serverAddress || isWildcardFor(l.address, login.serverAddress)))) {
    reasons.push(`sshd would listen on ${listening.map((l) => `${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}`).join(', ') || 'nothing'}, and hostform's connection arrives at ${at} (Port, ListenAddress)`);
  }
  if (one('pubkeyauthentication') === 'no') reasons.push('PubkeyAuthentication no: hostform logs in with a key');
  const methods = one('authenticationmethods');
  if (methods !== undefined && methods !== 'any' && !methods.split(' ').some((m) => m.split(',').every((step) => step === 'publickey'))) {
    reasons.push(`AuthenticationMethods ${methods}: no list of them is satisfied by a key alone, and hostform has nothing else`);
  }
  const rootLogin = one('permitrootlogin');
  if (login.uid === 0 && (rootLogin === 'no' || rootLogin === 'forced-commands-only')) {
    reasons.push(`PermitRootLogin ${rootLogin}: hostform logs in as ${login.user}${rootLogin === 'no' ? '' : ' and runs its own commands'}`);
  }
  if (one('maxsessions') === '0') reasons.push('MaxSessions 0: hostform runs every command in a session');
  const forced = one('forcecommand');
  if (forced !== undefined && forced !== 'none') reasons.push(`ForceCommand ${forced}: sshd would run it instead of hostform's commands`);

  const client = { address: login.clientAddress, dnsNames: one('usedns') === 'yes' };
  const denied = list('denyusers').find((p) => matchUser(login.user, client, p) === true);
  if (denied !== undefined) reasons.push(`DenyUsers ${denied} matches ${login.user} from ${login.clientAddress}`);
  const allowed = list('allowusers');
  if (allowed.length > 0 && allowed.every((p) => matchUser(login.user, client, p) === false)) {
    reasons.push(`AllowUsers ${allowed.join(' ')} does not include ${login.user} from ${login.clientAddress}`);
  }
  const deniedGroup = list('denygroups').find((p) => login.groups.some((g) => matchPattern(g, p)));
  if (deniedGroup !== undefined) reasons.push(`DenyGroups ${deniedGroup} matches a group of ${login.user} (${login.groups.join(' ')})`);
  const allowedGroups = list('allowgroups');
  if (allowedGroups.length > 0 && !allowedGroups.some((p) => login.groups.some((g) => matchPattern(g, p)))) {
    reasons.push(`AllowGroups ${allowedGroups.join(' ')} includes no group of ${login.user} (${login.groups.join(' ') || 'none'})`);
  }
  return reasons;
}

/**
 * The files sshd would read the login's keys from, expanded as sshd does
 * (%h, %u, %U, %%; relative to the home directory); undefined when an
 * AuthorizedKeysCommand may supply keys instead.
 */
export function authorizedKeysFiles(effective: Effective, login: LoginView): readonly string[] | undefined {
  const command = effective.get('authorizedkeyscommand')?.[0];
  if (command !== undefined && command !== 'none') return undefined;
  const words = (effective.get('authorizedkeysfile')?.[0] ?? '').split(' ').filter(Boolean);
  if (words.length === 1 && words[0] === 'none') return [];
  return words.map((word) => {
    const path = word.replace(/%([%hUu])/g, (_, token: string) => ({ '%': '%', h: login.home, u: login.user, U: String(login.uid) })[token] ?? '');
    return path.startsWith('/') ? path : `${login.home}/${path}`;
  });
}

/** `listenaddress 0.0.0.0:22`, `listenaddress [::]:22 rdomain x` lines of sshd -T. */
export function listenAddresses(effective: Effective): { address: string; port: number }[] {
  return (effective.get('listenaddress') ?? []).flatMap((line) => {
    const match = /^(?:\[([^\]]+)\]|([^\s:]+)):(\d+)/.exec(line);
    return match ? [{ address: match[1] ?? match[2] ?? '', port: Number(match[3]) }] : [];
  });
}

function isWildcardFor(listen: string, address: string): boolean {
  // sshd sets IPV6_V6ONLY: [::] takes IPv6 connections only, 0.0.0.0 the IPv4 ones.
  return address.includes(':') ? listen === '::' : listen === '0.0.0.0';
}

/** sshd's match_pattern: the whole string, `*` any run of characters, `?` one character, case-sensitive. */
export function matchPattern(value: string, pattern: string): boolean {
  const source = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 's').test(value);
}

/**
 * sshd's match_user for AllowUsers/DenyUsers: `user` or `user@hosts`, the
 * host part a comma list of address patterns, CIDR networks and (with
 * UseDNS yes) host name patterns, `!` negating. Undefined when only the
 * client's DNS name could decide.
 */
export function matchUser(user: string, client: { readonly address: string; readonly dnsNames: boolean }, pattern: string): boolean | undefined {
  const at = pattern.lastIndexOf('@');
  if (at < 0) return matchPattern(user, pattern);
  if (!matchPattern(user, pattern.slice(0, at))) return false;
  const hosts = pattern.slice(at + 1).split(',');
  const byAddress = matchAddressList(client.address, hosts);
  if (byAddress === -1) return false;
  // Without UseDNS sshd's "host name" is the address itself, so the address decides.
  if (!client.dnsNames) {
    const byName = matchHostList(client.address.toLowerCase(), hosts);
    return byName !== -1 && (byAddress === 1 || byName === 1);
  }
  return byAddress === 1 && !hosts.some((h) => h.startsWith('!')) ? true : undefined;
}

/** match_pattern_list: -1 when a negated entry matches, 1 when a positive one does, else 0. */
function matchHostList(host: string, entries: readonly string[]): -1 | 0 | 1 {
  let result: 0 | 1 = 0;
  for (const entry of entries) {
    const negated = entry.startsWith('!');
    if (matchPattern(host, (negated ? entry.slice(1) : entry).toLowerCase())) {
      if (negated) return -1;
      result = 1;
    }
  }
  return result;
}

/** addr_match_list: CIDR entries by network, other entries as patterns on the address text. */
function matchAddressList(address: string, entries: readonly string[]): -1 | 0 | 1 {
  let result: 0 | 1 = 0;
  for (const entry of entries) {
    const negated = entry.startsWith('!');
    const body = negated ? entry.slice(1) : entry;
    const network = parseCidr(body);
    const hit = network ? inNetwork(address, network) : matchPattern(address, body);
    if (hit) {
      if (negated) return -1;
      result = 1;
    }
  }
  return result;
}

interface Network {
  readonly bytes: readonly number[];
  readonly bits: number;
}

function parseCidr(text: string): Network | undefined {
  const [address = '', bits, ...rest] = text.split('/');
  if (rest.length > 0) return undefined;
  const bytes = addressBytes(address);
  if (!bytes) return undefined;
  const length = bits === undefined ? bytes.length * 8 : /^\d+$/.test(bits) ? Number(bits) : NaN;
  return Number.isInteger(length) && length <= bytes.length * 8 ? { bytes, bits: length } : undefined;
}

function inNetwork(address: string, network: Network): boolean {
  const bytes = addressBytes(address);
  if (!bytes || bytes.length !== network.bytes.length) return false;
  for (let bit = 0; bit < network.bits; bit++) {
    const mask = 0x80 >> bit % 8;
    if (((bytes[bit >> 3] ?? 0) & mask) !== ((network.bytes[bit >> 3] ?? 0) & mask)) return false;
  }
  return true;
}

/** IPv4 → 4 bytes, IPv6 → 16 bytes, anything else undefined. */
export function addressBytes(text: string): number[] | undefined {
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split('.').map(Number);
    return parts.every((n) => n <= 255) ? parts : undefined;
  }
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(':')) return undefined;
  const [head = '', tail, ...more] = text.split('::');
  if (more.length > 0) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (group.includes('.')) {
        const v4 = addressBytes(group);
        if (!v4) return undefined;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(group)) out.push(parseInt(group, 16));
      else return undefined;
    }
    return out;
  };
  const first = groups(head);
  const last = tail === undefined ? [] : groups(tail);
  if (!first || !last) return undefined;
  const missing = 8 - first.length - last.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  return [...first, ...Array<number>(tail === undefined ? 0 : missing).fill(0), ...last].flatMap((g) => [g >> 8, g & 0xff]);
}
