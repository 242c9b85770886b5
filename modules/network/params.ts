import { createHash } from 'node:crypto';
import { asList } from '../shared/list.ts';

export const CONNECTIONS_DIR = '/etc/NetworkManager/system-connections';

export type IpMethod = 'auto' | 'manual' | 'disabled';

/** The IPv4 or IPv6 settings of a connection. */
export interface IpSettings {
  /** 'auto' (DHCP, or SLAAC and DHCPv6), 'manual' (the addresses given), or 'disabled'. */
  readonly method: IpMethod;
  /** Address with prefix length, one or a list, the first the primary one: '192.0.2.10/24'. Needed with 'manual'; with 'auto', added to what DHCP gives. */
  readonly address?: string | readonly string[];
  /** The default gateway. */
  readonly gateway?: string;
  /** DNS servers, in order. */
  readonly dns?: readonly string[];
  /** DNS search domains, in order. */
  readonly dnsSearch?: readonly string[];
}

export interface NetworkConnectionParams {
  /** The connection's name (NetworkManager's id) and its keyfile's: /etc/NetworkManager/system-connections/<name>.nmconnection. */
  readonly name: string;
  /** The network interface it is for: 'eth0', 'enp1s0'. */
  readonly interface: string;
  /** IPv4 settings; left out: DHCP. */
  readonly ipv4?: IpSettings;
  /** IPv6 settings; left out: automatic (SLAAC, DHCPv6). */
  readonly ipv6?: IpSettings;
  /** Bring the connection up at boot (default true). */
  readonly autoconnect?: boolean;
  /** The interface's MTU; left out: the device's default. */
  readonly mtu?: number;
  /**
   * Seconds hostform has to confirm, by a new SSH login, that it can still
   * reach the host after the change (default 90). Until then the host keeps
   * a timer that puts the previous configuration back by itself.
   */
  readonly confirmWithin?: number;
  /** 'present' (default): the keyfile written and the connection up; 'absent': the keyfile removed, so NetworkManager takes the connection down. */
  readonly state?: 'present' | 'absent';
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;
const IPV6 = '[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}';
const DOMAIN = '^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?$';

function ipSchema(family: 4 | 6) {
  const ip = family === 4 ? IPV4 : IPV6;
  const address = {
    type: 'string',
    pattern: `^${ip}/(?:${family === 4 ? '3[0-2]|[12]?\\d' : '12[0-8]|1[01]\\d|[1-9]?\\d'})$`,
    'x-expected': family === 4 ? 'an IPv4 address with its prefix length, such as "192.0.2.10/24"' : 'an IPv6 address with its prefix length, such as "2001:db8::10/64"',
  };
  const single = { type: 'string', pattern: `^${ip}$`, 'x-expected': family === 4 ? 'an IPv4 address such as "192.0.2.1"' : 'an IPv6 address such as "2001:db8::1"' };
  return {
    type: 'object',
    required: ['method'],
    properties: {
      method: { enum: ['auto', 'manual', 'disabled'], description: "'auto' (DHCP, or SLAAC and DHCPv6), 'manual' (the addresses given), or 'disabled'." },
      address: {
        ...address,
        type: ['string', 'array'],
        items: address,
        minItems: 1,
        'x-expected': `${address['x-expected']}, or a list of them`,
        description: "Address with prefix length, one or a list, the first the primary one: '192.0.2.10/24'. Needed with 'manual'; with 'auto', added to what DHCP gives.",
      },
      gateway: { ...single, description: 'The default gateway.' },
      dns: { type: 'array', items: single, description: 'DNS servers, in order.' },
      dnsSearch: { type: 'array', items: { type: 'string', pattern: DOMAIN, 'x-expected': 'a domain name such as "example.com"' }, description: 'DNS search domains, in order.' },
    },
    additionalProperties: false,
    allOf: [
      { if: { properties: { method: { const: 'manual' } }, required: ['method'] }, then: { required: ['address'] } },
      { if: { properties: { method: { const: 'disabled' } }, required: ['method'] }, then: { not: { anyOf: [{ required: ['address'] }, { required: ['gateway'] }, { required: ['dns'] }, { required: ['dnsSearch'] }] } } },
    ],
  } as const;
}

export const networkConnectionSchema = {
  type: 'object',
  required: ['name', 'interface'],
  properties: {
    name: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
      maxLength: 100,
      'x-expected': 'a connection name of letters, digits, _, . and -, starting with a letter or digit',
      description: "The connection's name (NetworkManager's id) and its keyfile's: /etc/NetworkManager/system-connections/<name>.nmconnection.",
    },
    interface: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$',
      'x-expected': 'an interface name of at most 15 letters, digits, _, . and -',
      description: "The network interface it is for: 'eth0', 'enp1s0'.",
    },
    ipv4: { ...ipSchema(4), description: 'IPv4 settings; left out: DHCP.' },
    ipv6: { ...ipSchema(6), description: 'IPv6 settings; left out: automatic (SLAAC, DHCPv6).' },
    autoconnect: { type: 'boolean', description: 'Bring the connection up at boot (default true).' },
    mtu: { type: 'integer', minimum: 576, maximum: 65535, description: "The interface's MTU; left out: the device's default." },
    confirmWithin: {
      type: 'integer',
      minimum: 10,
      maximum: 3600,
      description: 'Seconds hostform has to confirm, by a new SSH login, that it can still reach the host after the change (default 90). Until then the host keeps a timer that puts the previous configuration back by itself.',
    },
    state: { enum: ['present', 'absent'], description: "'present' (default): the keyfile written and the connection up; 'absent': the keyfile removed, so NetworkManager takes the connection down." },
  },
  additionalProperties: false,
  if: { properties: { state: { const: 'absent' } }, required: ['state'] },
  then: { not: { anyOf: [{ required: ['ipv4'] }, { required: ['ipv6'] }, { required: ['autoconnect'] }, { required: ['mtu'] }] } },
} as const;

/** One address family as NetworkManager stores it: what `nmcli -t` prints for each field, and the keyfile's lines. */
export interface WantedIp {
  readonly method: IpMethod;
  readonly addresses: readonly string[];
  readonly gateway: string;
  readonly dns: readonly string[];
  readonly dnsSearch: readonly string[];
}

export interface WantedConnection {
  readonly name: string;
  readonly interface: string;
  readonly path: string;
  readonly uuid: string;
  readonly present: boolean;
  readonly autoconnect: boolean;
  readonly mtu?: number;
  readonly ipv4: WantedIp;
  readonly ipv6: WantedIp;
  readonly confirmWithin: number;
  /** The keyfile; '' when absent. */
  readonly content: string;
  /** The host-side revert timer's id. */
  readonly revertId: string;
}

/** A UUID from the name (SHA-1, version 5 layout), so the same task writes the same keyfile on every run and host. */
export function connectionUuid(name: string): string {
  const hex = createHash('sha1').update(`hostform networkConnection ${name}`).digest('hex');
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** An IPv6 address (with or without a prefix) in its one canonical form, as NetworkManager prints it. */
export function canonicalIp(address: string): string {
  const [ip = '', prefix] = address.split('/');
  if (!ip.includes(':')) return address;
  const host = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  return prefix === undefined ? host : `${host}/${prefix}`;
}

function resolveIp(family: 'ipv4' | 'ipv6', settings: IpSettings | undefined): WantedIp {
  // The schema's IPv6 pattern only shapes the text; the URL parser knows the rules (one ::, at most 8 groups).
  const canonical = (parameter: string, value: string) => {
    try {
      return canonicalIp(value);
    } catch {
      throw new Error(`parameter '${family}.${parameter}' = ${JSON.stringify(value)}: not an IPv6 address`);
    }
  };
  return {
    method: settings?.method ?? 'auto',
    addresses: asList(settings?.address).map((a, i) => canonical(Array.isArray(settings?.address) ? `address.${i}` : 'address', a)),
    gateway: settings?.gateway === undefined ? '' : canonical('gateway', settings.gateway),
    dns: (settings?.dns ?? []).map((d, i) => canonical(`dns.${i}`, d)),
    dnsSearch: settings?.dnsSearch ?? [],
  };
}

export function resolveConnection(p: NetworkConnectionParams): WantedConnection {
  const path = `${CONNECTIONS_DIR}/${p.name}.nmconnection`;
  const uuid = connectionUuid(p.name);
  const slug = p.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
  const revertId = `network-${slug || 'c'}-${createHash('sha1').update(p.name).digest('hex').slice(0, 6)}`;
  const ipv4 = resolveIp('ipv4', p.ipv4);
  const ipv6 = resolveIp('ipv6', p.ipv6);
  const base = { name: p.name, interface: p.interface, path, uuid, present: p.state !== 'absent', autoconnect: p.autoconnect ?? true, ipv4, ipv6, confirmWithin: p.confirmWithin ?? 90, revertId };
  if (!base.present) return { ...base, content: '' };
  const section = (name: string, ip: WantedIp) => [
    `[${name}]`,
    `method=${ip.method}`,
    ...ip.addresses.map((a, i) => `address${i + 1}=${a}`),
    ...(ip.gateway ? [`gateway=${ip.gateway}`] : []),
    ...(ip.dns.length > 0 ? [`dns=${ip.dns.join(';')};`] : []),
    ...(ip.dnsSearch.length > 0 ? [`dns-search=${ip.dnsSearch.join(';')};`] : []),
  ];
  const lines = [
    '# Managed by hostform (networkConnection): edits here are replaced on the next run.',
    '[connection]',
    `id=${p.name}`,
    `uuid=${uuid}`,
    'type=ethernet',
    `interface-name=${p.interface}`,
    `autoconnect=${base.autoconnect}`,
    '',
    ...(p.mtu !== undefined ? ['[ethernet]', `mtu=${p.mtu}`, ''] : []),
    ...section('ipv4', ipv4),
    '',
    ...section('ipv6', ipv6),
  ];
  return { ...base, ...(p.mtu !== undefined ? { mtu: p.mtu } : {}), content: `${lines.join('\n')}\n` };
}
