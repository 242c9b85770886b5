import { normalizeRichRule, RichRuleError } from './rich-rule.ts';

// ── what users write ─────────────────────────────────────────────────────

export type Protocol = 'tcp' | 'udp' | 'sctp' | 'dccp';
/** A port (`80`) or a range (`'8000-8010'`). */
export type PortNumber = number | `${number}-${number}`;
/** `'443/tcp'`, `'8000-8010/udp'`. */
export type PortSpec = `${number}/${Protocol}` | `${number}-${number}/${Protocol}`;
export type ItemState = 'present' | 'absent';

export interface InZone {
  /** The zone to change; the default zone when left out. */
  readonly zone?: string;
  /** 'present' (default): the zone has it; 'absent': the zone does not. */
  readonly state?: ItemState;
}

export type ZoneParams = {
  /** The zone's name: letters, digits, `_` and `-`, at most 17 characters (firewalld's limit). */
  readonly name: string;
  /** 'present' (default) creates the zone or changes it; 'absent' deletes it (a zone shipped with firewalld can be changed, not deleted). */
  readonly state?: ItemState;
  /** What happens to packets no rule matched: default (reject, but ICMP flows), ACCEPT, DROP or REJECT. */
  readonly target?: 'default' | 'ACCEPT' | 'DROP' | 'REJECT';
  /** Exactly these interfaces are bound to the zone; an interface bound to another zone moves here. */
  readonly interfaces?: readonly string[];
  /** Exactly these sources (address, CIDR, MAC or `ipset:NAME`) are bound to the zone. */
  readonly sources?: readonly string[];
  /** Make this the default zone. */
  readonly default?: true;
};

export type ServiceParams = InZone & {
  /**
   * The zone's services become exactly the list, at runtime and in the permanent configuration: any other
   * service is removed, one opened by hand included. Only with state 'present'; an empty list closes every service.
   */
  readonly exact?: boolean;
} & (
    | {
        /** A firewalld service by name (`http`, `ssh`; `firewall-cmd --get-services` lists them). Give service or services, not both. */
        readonly service: string;
        readonly services?: never;
      }
    | {
        /** Several firewalld services by name. Give service or services, not both. */
        readonly services: readonly string[];
        readonly service?: never;
      }
  );

export type PortParams = InZone & {
  /**
   * The zone's ports become exactly the list, at runtime and in the permanent configuration: any other
   * port is removed, one opened by hand included. Only with state 'present'; an empty list closes every port.
   */
  readonly exact?: boolean;
} & (
    | {
        /** A port (`8080`) or range (`'8000-8010'`), with `protocol`. Give port or ports, not both. */
        readonly port: PortNumber;
        /** The protocol of `port`. Default 'tcp'. */
        readonly protocol?: Protocol;
        readonly ports?: never;
      }
    | {
        /** Ports or ranges with their protocol: `['80/tcp', '60000-61000/udp']`. Give port or ports, not both. */
        readonly ports: readonly PortSpec[];
        readonly port?: never;
        readonly protocol?: never;
      }
  );

export type RichRuleParams = InZone &
  (
    | {
        /**
         * A rich rule in firewalld's language: `rule family=ipv4 source address=10.0.0.0/8 service name=ssh accept`.
         * Compared in firewalld's normalized form, so any spelling of a rule already there is left alone. Give rule or rules, not both.
         */
        readonly rule: string;
        readonly rules?: never;
      }
    | {
        /** Several rich rules. Give rule or rules, not both. */
        readonly rules: readonly string[];
        readonly rule?: never;
      }
  );

export type MasqueradeParams = InZone;

export interface ForwardPort {
  /** The port (or range) traffic arrives on. */
  readonly port: PortNumber;
  /** The protocol of `port`. */
  readonly protocol: Protocol;
  /** The port (or range) to forward to; left out, the same port on `toAddr`. Give toPort, toAddr or both. */
  readonly toPort?: PortNumber;
  /** Forward to another host (IPv4 address); needs masquerading in the zone for traffic that leaves. Give toPort, toAddr or both. */
  readonly toAddr?: string;
}

export type ForwardPortParams = InZone &
  (
    | {
        /** A port forward: `{ port: 2222, protocol: 'tcp', toPort: 22 }`. Give forwardPort or forwardPorts, not both. */
        readonly forwardPort: ForwardPort;
        readonly forwardPorts?: never;
      }
    | {
        /** Several port forwards. Give forwardPort or forwardPorts, not both. */
        readonly forwardPorts: readonly ForwardPort[];
        readonly forwardPort?: never;
      }
  );

// ── schemas ──────────────────────────────────────────────────────────────

const PROTOCOLS = ['tcp', 'udp', 'sctp', 'dccp'] as const;
/** firewalld refuses zone names longer than 17 characters. */
export const zoneName = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,17}$', 'x-expected': 'a zone name of at most 17 letters, digits, _ and -' } as const;
const state = { enum: ['present', 'absent'] } as const;
/** A number 1–65535 or a range string; minimum/maximum apply to numbers, the pattern to strings. */
const portNumber = { type: ['integer', 'string'], minimum: 1, maximum: 65535, pattern: '^[0-9]{1,5}-[0-9]{1,5}$', 'x-expected': 'a port from 1 to 65535, or a range such as "8000-8100"' } as const;
const serviceName = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.+-]*$', 'x-expected': 'a firewalld service name such as "https"' } as const;
const interfaceName = { type: 'string', pattern: '^[A-Za-z0-9_.@+-]{1,15}$', 'x-expected': 'a network interface name of at most 15 characters, such as "eth0"' } as const;
const source = { type: 'string', pattern: '^(ipset:[A-Za-z0-9_.:-]+|[0-9A-Fa-f.:]+(/[0-9.]{1,15})?)$', 'x-expected': 'an address or network such as "10.0.0.0/8", or "ipset:NAME"' } as const;
const richRule = { type: 'string', pattern: '^\\s*rule(\\s|$)', 'x-expected': 'a rich rule, starting with "rule"' } as const;
const forwardPort = {
  type: 'object',
  required: ['port', 'protocol'],
  properties: {
    port: { ...portNumber, description: 'The port (or range) traffic arrives on.' },
    protocol: { enum: PROTOCOLS, description: 'The protocol of `port`.' },
    toPort: { ...portNumber, description: 'The port (or range) to forward to; left out, the same port on `toAddr`. Give toPort, toAddr or both.' },
    toAddr: {
      type: 'string',
      pattern: '^[0-9.]+$',
      'x-expected': 'an IPv4 address such as "10.0.0.5"',
      description: 'Forward to another host (IPv4 address); needs masquerading in the zone for traffic that leaves. Give toPort, toAddr or both.',
    },
  },
  anyOf: [{ required: ['toPort'] }, { required: ['toAddr'] }],
  additionalProperties: false,
} as const;

/** The parameters of InZone, which every module but zone takes. */
const inZoneProperties = {
  zone: { ...zoneName, description: 'The zone to change; the default zone when left out.' },
  state: { ...state, description: "'present' (default): the zone has it; 'absent': the zone does not." },
} as const;

/**
 * A module of one or many values: `{ service }` or `{ services: [...] }`, each described. With `exact`, the
 * list may be empty (no value left in the zone); resolve refuses an empty list without it.
 */
function itemSchema(one: string, many: string, value: object, docs: { readonly one: string; readonly many: string; readonly exact?: string }) {
  return {
    type: 'object',
    properties: {
      ...inZoneProperties,
      ...(docs.exact ? { exact: { type: 'boolean', description: docs.exact } } : {}),
      [one]: { ...value, description: docs.one },
      [many]: { type: 'array', items: value, ...(docs.exact ? {} : { minItems: 1 }), description: docs.many },
    },
    oneOf: [{ required: [one] }, { required: [many] }],
    additionalProperties: false,
  };
}

const EXACT = (what: string) =>
  `The zone's ${what}s become exactly the list, at runtime and in the permanent configuration: any other ${what} is removed, one opened by hand included. Only with state 'present'; an empty list closes every ${what}.`;

export const schemas = {
  zone: {
    type: 'object',
    required: ['name'],
    properties: {
      name: { ...zoneName, description: "The zone's name: letters, digits, `_` and `-`, at most 17 characters (firewalld's limit)." },
      state: { ...state, description: "'present' (default) creates the zone or changes it; 'absent' deletes it (a zone shipped with firewalld can be changed, not deleted)." },
      target: {
        enum: ['default', 'ACCEPT', 'DROP', 'REJECT'],
        description: 'What happens to packets no rule matched: default (reject, but ICMP flows), ACCEPT, DROP or REJECT.',
      },
      interfaces: {
        type: 'array',
        items: interfaceName,
        description: 'Exactly these interfaces are bound to the zone; an interface bound to another zone moves here.',
      },
      sources: { type: 'array', items: source, description: 'Exactly these sources (address, CIDR, MAC or `ipset:NAME`) are bound to the zone.' },
      default: { const: true, description: 'Make this the default zone.' },
    },
    additionalProperties: false,
  },
  service: itemSchema('service', 'services', serviceName, {
    one: 'A firewalld service by name (`http`, `ssh`; `firewall-cmd --get-services` lists them). Give service or services, not both.',
    many: 'Several firewalld services by name. Give service or services, not both.',
    exact: EXACT('service'),
  }),
  port: {
    type: 'object',
    properties: {
      ...inZoneProperties,
      exact: { type: 'boolean', description: EXACT('port') },
      port: { ...portNumber, description: "A port (`8080`) or range (`'8000-8010'`), with `protocol`. Give port or ports, not both." },
      protocol: { enum: PROTOCOLS, description: "The protocol of `port`. Default 'tcp'." },
      ports: {
        type: 'array',
        items: { type: 'string', pattern: '^[0-9]{1,5}(-[0-9]{1,5})?/(tcp|udp|sctp|dccp)$', 'x-expected': 'a port or range with its protocol, such as \"443/tcp\" or \"8000-8100/udp\"' },
        description: "Ports or ranges with their protocol: `['80/tcp', '60000-61000/udp']`. Give port or ports, not both.",
      },
    },
    oneOf: [{ required: ['port'] }, { required: ['ports'] }],
    additionalProperties: false,
  },
  richRule: itemSchema('rule', 'rules', richRule, {
    one: "A rich rule in firewalld's language: `rule family=ipv4 source address=10.0.0.0/8 service name=ssh accept`. Compared in firewalld's normalized form, so any spelling of a rule already there is left alone. Give rule or rules, not both.",
    many: 'Several rich rules. Give rule or rules, not both.',
  }),
  masquerade: { type: 'object', properties: inZoneProperties, additionalProperties: false },
  forwardPort: itemSchema('forwardPort', 'forwardPorts', forwardPort, {
    one: "A port forward: `{ port: 2222, protocol: 'tcp', toPort: 22 }`. Give forwardPort or forwardPorts, not both.",
    many: 'Several port forwards. Give forwardPort or forwardPorts, not both.',
  }),
} as const;

// ── what the backend works with ──────────────────────────────────────────

/** The parts of a zone one task can manage; names follow `firewall-cmd --list-all`. */
export type Category = 'service' | 'port' | 'rich-rule' | 'masquerade' | 'forward-port' | 'interface' | 'source';

export function emptyItems(): Record<Category, string[]> {
  return { service: [], port: [], 'rich-rule': [], masquerade: [], 'forward-port': [], interface: [], source: [] };
}

export interface WantedItem {
  readonly category: Category;
  /** As `firewall-cmd --list-all` prints it, so it compares with what is observed. */
  readonly value: string;
  /** As firewall-cmd takes it on the command line. */
  readonly argument: string;
}

export interface Wanted {
  readonly module: string;
  /** Undefined: the default zone. */
  readonly zone?: string;
  readonly present: boolean;
  readonly items: readonly WantedItem[];
  /** Categories whose values in the zone are exactly the task's items: any other value there is removed. */
  readonly exact?: readonly Category[];
  /** The zone task: create or delete the zone, its target, the default zone. */
  readonly zoneTask?: {
    readonly target?: string;
    readonly makeDefault: boolean;
  };
}

/** A parameter value the schema cannot fully check; the message names parameter and value. */
export class ParameterError extends Error {
  constructor(parameter: string, value: unknown, problem: string) {
    super(`parameter '${parameter}' = ${JSON.stringify(value)}: ${problem}`);
  }
}

export function resolveZone(p: ZoneParams): Wanted {
  const present = (p.state ?? 'present') === 'present';
  const items: WantedItem[] = [
    ...(p.interfaces ?? []).map((i) => ({ category: 'interface' as const, value: i, argument: i })),
    ...(p.sources ?? []).map((s) => ({ category: 'source' as const, value: s, argument: s })),
  ];
  if (!present && (items.length > 0 || p.target || p.default)) {
    throw new ParameterError('state', 'absent', 'a zone to delete takes no target, interfaces, sources or default');
  }
  const exact: Category[] = [...(p.interfaces ? ['interface' as const] : []), ...(p.sources ? ['source' as const] : [])];
  return {
    module: 'zone',
    zone: p.name,
    present,
    items,
    ...(exact.length > 0 ? { exact } : {}),
    zoneTask: {
      ...(p.target ? { target: p.target === 'REJECT' ? '%%REJECT%%' : p.target } : {}),
      makeDefault: p.default === true,
    },
  };
}

export function resolveService(p: ServiceParams): Wanted {
  const names = p.services ?? [p.service as string];
  return exactSet('service', p, 'services', inZone('service', p, names.map((n) => ({ category: 'service', value: n, argument: n }))));
}

export function resolvePort(p: PortParams): Wanted {
  const protocol = (p as { protocol?: Protocol }).protocol;
  if (p.ports && protocol) throw new ParameterError('protocol', protocol, "goes with 'port'; in 'ports' write it into each entry, e.g. '53/udp'");
  const specs = p.ports
    ? p.ports.map((s, i) => ({ spec: s, parameter: `ports.${i}`, given: s as unknown }))
    : [{ spec: `${p.port}/${p.protocol ?? 'tcp'}`, parameter: 'port', given: p.port as unknown }];
  const wanted = inZone(
    'port',
    p,
    specs.map(({ spec, parameter, given }) => {
      const [range = '', protocol = ''] = spec.split('/');
      const value = `${checkRange(range, parameter, given)}/${protocol}`;
      return { category: 'port', value, argument: value };
    }),
  );
  return exactSet('port', p, 'ports', wanted);
}

/**
 * `exact: true` makes the list the category's whole set in the zone. Removing "exactly these" has no
 * meaning, and an empty list is only a set (nothing open) with exact.
 */
function exactSet(category: Category, p: InZone & { readonly exact?: boolean }, many: string, wanted: Wanted): Wanted {
  if (p.exact && !wanted.present) {
    throw new ParameterError('exact', true, `goes with state 'present' (the zone then has exactly the listed ${category}s); to close ${category}s, list them with state 'absent' and without exact`);
  }
  if (wanted.items.length === 0 && !p.exact) throw new ParameterError(many, [], `names no ${category}: list at least one, or add exact: true to close every ${category} of the zone`);
  return p.exact ? { ...wanted, exact: [category] } : wanted;
}

export function resolveRichRule(p: RichRuleParams): Wanted {
  const rules = p.rules ? p.rules.map((r, i) => ({ rule: r, parameter: `rules.${i}` })) : [{ rule: p.rule as string, parameter: 'rule' }];
  return inZone(
    'richRule',
    p,
    rules.map(({ rule, parameter }) => {
      try {
        const value = normalizeRichRule(rule);
        return { category: 'rich-rule', value, argument: value };
      } catch (error) {
        if (error instanceof RichRuleError) throw new ParameterError(parameter, rule, `not a valid rich rule: ${error.message}`);
        throw error;
      }
    }),
  );
}

export function resolveMasquerade(p: MasqueradeParams): Wanted {
  return inZone('masquerade', p, [{ category: 'masquerade', value: 'yes', argument: '' }]);
}

export function resolveForwardPort(p: ForwardPortParams): Wanted {
  const list = p.forwardPorts ? p.forwardPorts.map((f, i) => ({ f, parameter: `forwardPorts.${i}` })) : [{ f: p.forwardPort as ForwardPort, parameter: 'forwardPort' }];
  return inZone(
    'forwardPort',
    p,
    list.map(({ f, parameter }) => {
      const port = checkRange(String(f.port), `${parameter}.port`, f.port);
      const toPort = f.toPort === undefined ? '' : checkRange(String(f.toPort), `${parameter}.toPort`, f.toPort);
      const toAddr = f.toAddr ?? '';
      if (toAddr && !/^(\d{1,3})(\.\d{1,3}){3}$/.test(toAddr)) throw new ParameterError(`${parameter}.toAddr`, toAddr, 'not an IPv4 address');
      // firewall-cmd lists every field, empty ones too; it takes only those that are set.
      const value = `port=${port}:proto=${f.protocol}:toport=${toPort}:toaddr=${toAddr}`;
      const argument = [`port=${port}`, `proto=${f.protocol}`, ...(toPort ? [`toport=${toPort}`] : []), ...(toAddr ? [`toaddr=${toAddr}`] : [])].join(':');
      return { category: 'forward-port', value, argument };
    }),
  );
}

function inZone(module: string, p: InZone, items: WantedItem[]): Wanted {
  return { module, ...(p.zone ? { zone: p.zone } : {}), present: (p.state ?? 'present') === 'present', items: dedupe(items) };
}

function dedupe(items: WantedItem[]): WantedItem[] {
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(`${i.category}\0${i.value}`) && seen.add(`${i.category}\0${i.value}`));
}

/** `'8000-8010'` stays, `80` → `'80'`; every port 1–65535 and a range low to high. */
function checkRange(text: string, parameter: string, value: unknown): string {
  const bounds = text.split('-').map(Number);
  if (bounds.some((n) => !Number.isInteger(n) || n < 1 || n > 65535)) throw new ParameterError(parameter, value, 'ports are 1 to 65535');
  if (bounds.length === 2 && (bounds[0] as number) >= (bounds[1] as number)) throw new ParameterError(parameter, value, 'a range goes from a lower to a higher port, e.g. 8000-8010');
  return bounds.join('-');
}
