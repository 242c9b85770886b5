/**
 * Rich rules in firewalld's normalized form. firewalld parses a rule into its
 * parts and prints them in a fixed order with quoted values
 * (firewall/core/rich.py), so `rule family=ipv4 service name=ssh accept` is
 * listed as `rule family="ipv4" service name="ssh" accept`. We do the same in
 * TypeScript so a rule written differently but meaning the same compares
 * equal to what `firewall-cmd --list-rich-rules` prints, and a malformed rule
 * is refused before any host is touched.
 */

export class RichRuleError extends Error {
  override readonly name = 'RichRuleError';
}

interface Limit {
  readonly value: string;
  readonly burst?: number;
}

interface RichRule {
  priority: number;
  family?: 'ipv4' | 'ipv6';
  source?: { invert: boolean; addr?: string; mac?: string; ipset?: string };
  destination?: { invert: boolean; addr?: string; ipset?: string };
  element?: string;
  elementKind?: string;
  log?: string;
  audit?: string;
  action?: string;
}

const ELEMENTS = ['service', 'port', 'protocol', 'icmp-block', 'icmp-type', 'masquerade', 'forward-port', 'source-port', 'tcp-mss-clamp'];
const ACTIONS = ['accept', 'reject', 'drop', 'mark'];
const ATTRIBUTES = ['priority', 'family', 'address', 'mac', 'ipset', 'invert', 'value', 'port', 'protocol', 'to-port', 'to-addr', 'name', 'group', 'prefix', 'level', 'queue-size', 'type', 'set', 'burst'];
/** The attributes each element takes. */
const TAKES: Readonly<Record<string, readonly string[]>> = {
  source: ['address', 'mac', 'ipset', 'invert'],
  destination: ['address', 'ipset', 'invert'],
  service: ['name'],
  port: ['port', 'protocol'],
  'source-port': ['port', 'protocol'],
  protocol: ['value'],
  'icmp-block': ['name'],
  'icmp-type': ['name'],
  'forward-port': ['port', 'protocol', 'to-port', 'to-addr'],
  'tcp-mss-clamp': ['value'],
  log: ['prefix', 'level'],
  nflog: ['group', 'prefix', 'queue-size'],
  reject: ['type'],
  mark: ['set'],
  limit: ['value', 'burst'],
};
const KNOWN = ['rule', 'source', 'destination', ...ELEMENTS, 'log', 'nflog', 'audit', ...ACTIONS, 'limit', 'not', 'NOT'];
const LOG_LEVELS = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'];
const PROTOCOLS = ['tcp', 'udp', 'sctp', 'dccp'];
/** Elements that do something on their own; every other rule needs an action, log or audit. */
const SELF_ACTING = ['icmp-block', 'forward-port', 'masquerade', 'tcp-mss-clamp'];

type Token = { readonly element: string } | { readonly name: string; readonly value: string };

/** The rule as firewalld lists it; throws RichRuleError saying what is wrong. */
export function normalizeRichRule(text: string): string {
  return print(parse(tokenize(text)));
}

/** Split like Python's shlex.split (POSIX mode), which firewalld uses. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  /** A word has begun: `''` is an empty word, not nothing. */
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i];
      else word += c;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      inWord = true;
      if (c === '"' || c === "'") quote = c;
      else if (c === '\\' && i + 1 < text.length) word += text[++i];
      else word += c;
    }
  }
  if (quote) throw new RichRuleError(`unclosed ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}

function tokenize(text: string): Token[] {
  // firewalld drops non-printable characters before parsing.
  const printable = text.replace(/[\x00-\x1f\x7f]/g, (c) => (/\s/.test(c) ? ' ' : ''));
  return shellWords(printable).map((word) => {
    if (!word.includes('=')) return { element: word };
    const parts = word.split('=');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new RichRuleError(`'${word}' is not name=value`);
    return { name: parts[0], value: parts[1] };
  });
}

/** Reads elements with their attributes in any order, as firewalld's parser does. */
function parse(tokens: Token[]): RichRule {
  if (tokens.length === 0) throw new RichRuleError('empty rule');
  const first = tokens[0];
  if (!first || !('element' in first) || first.element !== 'rule') throw new RichRuleError("a rich rule starts with 'rule'");
  const rule: RichRule = { priority: 0 };
  let i = 1;
  /**
   * The attributes that follow, as long as the element takes them; the first
   * one it does not take goes back to the rule (`accept family=ipv4` sets the
   * rule's family), as in firewalld's parser.
   */
  const attributes = (element: string, into = new Map<string, string>()): Map<string, string> => {
    while (i < tokens.length) {
      const t = tokens[i] as Token;
      if ('element' in t || !(TAKES[element] ?? []).includes(t.name)) break;
      into.set(t.name, t.value);
      i++;
    }
    return into;
  };
  /** An element's attributes and its optional `limit`, in any order. */
  const withOptionalLimit = (element: string): [Map<string, string>, Limit | undefined] => {
    const own = attributes(element);
    const t = tokens[i];
    if (!t || !('element' in t) || t.element !== 'limit') return [own, undefined];
    i++;
    const a = attributes('limit');
    attributes(element, own);
    const value = a.get('value');
    if (value === undefined) throw new RichRuleError("'limit' needs value=RATE/DURATION, e.g. limit value=3/m");
    return [own, { value: normalizeLimit(value), ...(a.has('burst') ? { burst: burst(a.get('burst') as string) } : {}) }];
  };

  while (i < tokens.length) {
    const token = tokens[i] as Token;
    if (!('element' in token)) {
      if (token.name === 'family') {
        if (token.value !== 'ipv4' && token.value !== 'ipv6') throw new RichRuleError(`family '${token.value}': use ipv4 or ipv6`);
        rule.family = token.value;
      } else if (token.name === 'priority') {
        if (!/^[+-]?\d+$/.test(token.value)) throw new RichRuleError(`priority '${token.value}' is not a number`);
        rule.priority = Number(token.value);
      } else if (!ATTRIBUTES.includes(token.name)) {
        throw new RichRuleError(`bad attribute '${token.name}'`);
      } else {
        throw new RichRuleError(`attribute '${token.name}' is not one its element takes, or stands outside of any element; write it right after the element it belongs to`);
      }
      i++;
      continue;
    }
    const name = token.element;
    if (!KNOWN.includes(name)) throw new RichRuleError(`unknown element '${name}'`);
    i++;
    if (name === 'source' || name === 'destination') {
      if (rule[name]) throw new RichRuleError(`more than one '${name}' element`);
      let invert = false;
      const a = new Map<string, string>();
      for (;;) {
        attributes(name, a);
        const next = tokens[i];
        if (next && 'element' in next && (next.element === 'not' || next.element === 'NOT')) {
          invert = true;
          i++;
        } else break;
      }
      // Like firewalld, any invert=... value inverts.
      if (a.has('invert')) invert = true;
      const addr = a.get('address');
      const ipset = a.get('ipset');
      const mac = name === 'source' ? a.get('mac') : undefined;
      const given = [addr, mac, ipset].filter((v) => v !== undefined).length;
      if (given !== 1) throw new RichRuleError(`'${name}' needs exactly one of address=${name === 'source' ? ', mac=' : ''} or ipset=`);
      rule[name] = { invert, ...(addr !== undefined ? { addr } : {}), ...(mac !== undefined ? { mac } : {}), ...(ipset !== undefined ? { ipset } : {}) };
    } else if (ELEMENTS.includes(name)) {
      if (rule.element) throw new RichRuleError(`more than one element: there cannot be both '${rule.elementKind}' and '${name}' in one rule`);
      rule.elementKind = name;
      rule.element = element(name, attributes(name));
    } else if (name === 'log' || name === 'nflog') {
      if (rule.log) throw new RichRuleError('more than one logging element');
      rule.log = logging(name, ...withOptionalLimit(name));
    } else if (name === 'audit') {
      if (rule.audit) throw new RichRuleError("more than one 'audit' element");
      rule.audit = withLimit('audit', withOptionalLimit(name)[1]);
    } else if (ACTIONS.includes(name)) {
      if (rule.action) throw new RichRuleError(`more than one action: there cannot be both '${rule.action.split(' ')[0]}' and '${name}' in one rule`);
      rule.action = action(name, ...withOptionalLimit(name));
    } else {
      throw new RichRuleError(`'${name}' is not allowed here`);
    }
  }
  check(rule);
  return rule;
}

function element(name: string, a: Map<string, string>): string {
  const need = (key: string): string => {
    const value = a.get(key);
    if (value === undefined) throw new RichRuleError(`'${name}' needs ${key}=`);
    return value;
  };
  const port = (key: string): string => {
    const value = need(key);
    if (!/^[A-Za-z0-9_.]+(-[A-Za-z0-9_.]+)?$/.test(value)) throw new RichRuleError(`'${value}' is not a port or port range`);
    return value;
  };
  const protocol = (): string => {
    const value = need('protocol');
    if (!PROTOCOLS.includes(value)) throw new RichRuleError(`protocol '${value}': use one of ${PROTOCOLS.join(', ')}`);
    return value;
  };
  switch (name) {
    case 'service':
      return `service name="${need('name')}"`;
    case 'port':
    case 'source-port':
      return `${name} port="${port('port')}" protocol="${protocol()}"`;
    case 'protocol':
      return `protocol value="${need('value')}"`;
    case 'icmp-block':
    case 'icmp-type':
      return `${name} name="${need('name')}"`;
    case 'masquerade':
      return 'masquerade';
    case 'tcp-mss-clamp':
      return a.has('value') ? `tcp-mss-clamp value="${a.get('value')}"` : 'tcp-mss-clamp';
    default: {
      const toPort = a.get('to-port');
      const toAddr = a.get('to-addr');
      if (toPort === undefined && toAddr === undefined) throw new RichRuleError("'forward-port' needs to-port= or to-addr=");
      return `forward-port port="${port('port')}" protocol="${protocol()}"${toPort !== undefined ? ` to-port="${toPort}"` : ''}${toAddr !== undefined ? ` to-addr="${toAddr}"` : ''}`;
    }
  }
}

function logging(name: string, a: Map<string, string>, limit: Limit | undefined): string {
  const prefix = a.get('prefix');
  if (prefix !== undefined && prefix.length > 127) throw new RichRuleError('a log prefix has at most 127 characters');
  if (name === 'log') {
    const level = a.get('level');
    if (level !== undefined && !LOG_LEVELS.includes(level)) throw new RichRuleError(`log level '${level}': use one of ${LOG_LEVELS.join(', ')}`);
    return withLimit(`log${prefix ? ` prefix="${prefix}"` : ''}${level ? ` level="${level}"` : ''}`, limit);
  }
  const group = integer(a.get('group') ?? '0', 'nflog group');
  const size = integer(a.get('queue-size') ?? '0', 'nflog queue-size');
  return withLimit(`nflog${group ? ` group="${group}"` : ''}${prefix ? ` prefix="${prefix}"` : ''}${size ? ` queue-size="${size}"` : ''}`, limit);
}

function action(name: string, a: Map<string, string>, limit: Limit | undefined): string {
  if (name === 'reject') {
    const type = a.get('type');
    return withLimit(`reject${type ? ` type="${type}"` : ''}`, limit);
  }
  if (name === 'mark') {
    const set = a.get('set');
    const uint = '(0x[0-9a-fA-F]+|\\d+)';
    if (set === undefined || !new RegExp(`^${uint}(/${uint})?$`).test(set)) throw new RichRuleError("'mark' needs set=VALUE or set=VALUE/MASK");
    return withLimit(`mark set=${set}`, limit);
  }
  return withLimit(name, limit);
}

function withLimit(text: string, limit: Limit | undefined): string {
  if (!limit) return text;
  return `${text} limit value="${limit.value}"${limit.burst ? ` burst=${limit.burst}` : ''}`;
}

const SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** `3/minute` → `3/m`, checked the way firewalld checks it. */
function normalizeLimit(value: string): string {
  const [rateText, unitText, ...rest] = value.split('/');
  if (rest.length > 0 || rateText === undefined || unitText === undefined || !/^[+-]?\d+$/.test(rateText.trim())) {
    throw new RichRuleError(`limit '${value}' is not RATE/DURATION, e.g. 3/m`);
  }
  const rate = Number(rateText.trim());
  const word = unitText.trim();
  const unit = (['second', 'minute', 'hour', 'day'].includes(word) ? word[0] : word) as keyof typeof SECONDS;
  if (rate < 1 || !(unit in SECONDS)) throw new RichRuleError(`limit '${value}': the rate must be at least 1 and the duration s, m, h or d`);
  if (Math.floor((10000 * SECONDS[unit]) / rate) === 0) throw new RichRuleError(`limit '${value}' is too fast`);
  if (rate === 1 && unit === 'd') throw new RichRuleError(`limit '${value}' is too slow`);
  return `${rate}/${unit}`;
}

function burst(text: string): number {
  const value = integer(text, 'limit burst');
  if (value > 10_000_000) throw new RichRuleError(`limit burst ${value} is above 10000000`);
  return value;
}

/** Decimal or 0x hexadecimal, as Python's int(text, 0) reads it. */
function integer(text: string, what: string): number {
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(text)) throw new RichRuleError(`${what} '${text}' is not a whole number`);
  return Number(text);
}

/** The consistency checks firewalld applies, so a rule it would refuse fails before any host is touched. */
function check(rule: RichRule): void {
  const kind = rule.elementKind;
  if (!rule.family && ((rule.source && rule.source.addr !== undefined) || rule.destination || kind === 'forward-port')) {
    throw new RichRuleError('a rule with an address or a forward-port needs family=ipv4 or family=ipv6');
  }
  if (rule.priority < -32768 || rule.priority > 32767) throw new RichRuleError(`priority ${rule.priority} is outside -32768..32767`);
  if (!kind && (!rule.log || rule.priority === 0)) {
    if (!rule.action) throw new RichRuleError('no element and no action: add e.g. service name=ssh, or accept/reject/drop');
    if (!rule.source && !rule.destination && rule.priority === 0) throw new RichRuleError('no element, no source and no destination: the rule would match everything');
  }
  if (!SELF_ACTING.includes(kind ?? '') && !rule.log && !rule.audit && !rule.action) {
    throw new RichRuleError('no action, log or audit: add accept, reject, drop or mark');
  }
  if (rule.action && (kind === 'masquerade' || kind === 'icmp-block' || kind === 'forward-port' || kind === 'tcp-mss-clamp')) {
    throw new RichRuleError(`'${kind}' takes no action (${rule.action.split(' ')[0]})`);
  }
  if (rule.audit && rule.action?.startsWith('mark')) throw new RichRuleError("'audit' needs accept, reject or drop, not mark");
  if (rule.action?.startsWith('reject type=') && !rule.family) throw new RichRuleError('reject with a type needs family=ipv4 or family=ipv6');
}

function print(rule: RichRule): string {
  const parts = ['rule'];
  if (rule.priority) parts.push(`priority="${rule.priority}"`);
  if (rule.family) parts.push(`family="${rule.family}"`);
  for (const side of ['source', 'destination'] as const) {
    const s = rule[side];
    if (!s) continue;
    const value = s.addr !== undefined ? `address="${s.addr}"` : 'mac' in s && s.mac !== undefined ? `mac="${s.mac}"` : `ipset="${s.ipset}"`;
    parts.push(`${side}${s.invert ? ' NOT' : ''} ${value}`);
  }
  for (const part of [rule.element, rule.log, rule.audit, rule.action]) if (part) parts.push(part);
  return parts.join(' ');
}
