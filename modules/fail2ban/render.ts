import type { ActionDefinition, BantimeIncrement, FilterDefinition, JailSettings } from './params.ts';

/** First line of every file hostform writes; it also tells our own `filter.d/<name>.conf` from a stock one. */
export const MARKER = '# Managed by hostform';

type Value = string | number | boolean | readonly (string | number)[] | undefined;
type Entry = readonly [key: string, value: Value];

export interface Section {
  readonly name: string;
  readonly entries: readonly Entry[];
}

/**
 * INI text as fail2ban reads it. Keys come in the order given (callers fix
 * it), so the same parameters always render the same bytes and a second run
 * compares equal. A list or a multi-line value continues on indented lines.
 */
export function renderIni(what: string, sections: readonly Section[]): string {
  const out = [`${MARKER} (${what}): edits here are replaced on the next run.`];
  for (const section of sections) {
    const entries = section.entries.filter((e): e is readonly [string, Exclude<Value, undefined>] => e[1] !== undefined);
    if (entries.length === 0) continue;
    out.push('', `[${section.name}]`);
    for (const [key, value] of entries) {
      const [first = '', ...rest] = Array.isArray(value) ? value.map(String) : String(value).split('\n');
      const indent = ' '.repeat(key.length + 3);
      out.push(`${key} = ${first}`.trimEnd(), ...rest.map((line) => (line === '' ? '' : indent + line)));
    }
  }
  return `${out.join('\n')}\n`;
}

export function renderJail(name: string, j: JailSettings): string {
  const increment = typeof j.bantimeIncrement === 'object' ? j.bantimeIncrement : undefined;
  const entries: Entry[] = [
    ['enabled', j.enabled ?? true],
    ['port', j.port === undefined ? undefined : list(j.port).join(',')],
    ['protocol', j.protocol],
    ['filter', j.filter],
    ['backend', j.backend],
    ['journalmatch', j.journalmatch],
    ['logpath', j.logpath === undefined ? undefined : list(j.logpath)],
    ['maxretry', j.maxretry],
    ['findtime', j.findtime],
    ['bantime', j.bantime],
    ['bantime.increment', j.bantimeIncrement === undefined ? undefined : j.bantimeIncrement !== false],
    ...incrementEntries(increment),
    ['ignoreip', j.ignoreip?.join(' ')],
    ['banaction', j.banaction],
    ['action', j.action === undefined ? undefined : list(j.action)],
    ...sorted(j.options),
  ];
  return renderIni(`fail2ban.jail ${name}`, [{ name, entries }]);
}

export function renderFilter(name: string, f: FilterDefinition): string {
  return renderIni(`fail2ban.filter ${name}`, [
    { name: 'INCLUDES', entries: [['before', f.before === undefined ? undefined : list(f.before)]] },
    {
      name: 'Definition',
      entries: [
        ['prefregex', f.prefregex],
        ['failregex', f.failregex === undefined ? undefined : list(f.failregex)],
        ['ignoreregex', f.ignoreregex === undefined ? undefined : list(f.ignoreregex)],
        ['datepattern', f.datepattern],
        ['journalmatch', f.journalmatch],
        ...sorted(f.definition),
      ],
    },
    { name: 'Init', entries: sorted(f.init) },
  ]);
}

export function renderAction(name: string, a: ActionDefinition): string {
  return renderIni(`fail2ban.action ${name}`, [
    { name: 'INCLUDES', entries: [['before', a.before === undefined ? undefined : list(a.before)]] },
    {
      name: 'Definition',
      entries: [
        ['actionstart', a.actionstart],
        ['actionstop', a.actionstop],
        ['actioncheck', a.actioncheck],
        ['actionban', a.actionban],
        ['actionunban', a.actionunban],
        ['actionflush', a.actionflush],
        ...sorted(a.definition),
      ],
    },
    { name: 'Init', entries: sorted(a.init) },
  ]);
}

function incrementEntries(increment: BantimeIncrement | undefined): Entry[] {
  return [
    ['bantime.factor', increment?.factor],
    ['bantime.maxtime', increment?.maxtime],
    ['bantime.overalljails', increment?.overalljails],
  ];
}

function list<T>(value: T | readonly T[]): readonly T[] {
  return Array.isArray(value) ? value : [value as T];
}

/** Free-form keys after the typed ones, sorted so their order in the task does not matter. */
function sorted(record: Readonly<Record<string, Value>> | undefined): Entry[] {
  return Object.keys(record ?? {})
    .sort()
    .map((key) => [key, record?.[key]] as const);
}
