import { problemsIn, type ParamProblem } from '../../lib/module/param-problems.ts';
import { asList } from '../shared/list.ts';
import type { ActionDefinition, ActionParams, BantimeIncrement, FilterDefinition, FilterParams, JailParams, JailSettings } from './params.ts';

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
    ['port', j.port === undefined ? undefined : asList(j.port).join(',')],
    ['protocol', j.protocol],
    ['filter', j.filter],
    ['backend', j.backend],
    ['journalmatch', j.journalmatch],
    ['logpath', j.logpath === undefined ? undefined : asList(j.logpath).map(literal)],
    ['maxretry', j.maxretry],
    ['findtime', j.findtime],
    ['bantime', j.bantime],
    ['bantime.increment', j.bantimeIncrement === undefined ? undefined : j.bantimeIncrement !== false],
    ...incrementEntries(increment),
    ['ignoreip', j.ignoreip?.map(literal).join(' ')],
    ['banaction', j.banaction],
    ['action', j.action === undefined ? undefined : asList(j.action)],
    ...sorted(j.options),
  ];
  return renderIni(`fail2ban.jail ${name}`, [{ name, entries }]);
}

export function renderFilter(name: string, f: FilterDefinition): string {
  return renderIni(`fail2ban.filter ${name}`, [
    { name: 'INCLUDES', entries: [['before', f.before === undefined ? undefined : asList(f.before)]] },
    {
      name: 'Definition',
      entries: [
        ['prefregex', f.prefregex],
        ['failregex', f.failregex === undefined ? undefined : asList(f.failregex)],
        ['ignoreregex', f.ignoreregex === undefined ? undefined : asList(f.ignoreregex)],
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
    { name: 'INCLUDES', entries: [['before', a.before === undefined ? undefined : asList(a.before)]] },
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

/** Free-form keys after the typed ones, sorted so their order in the task does not matter. */
function sorted(record: Readonly<Record<string, Value>> | undefined): Entry[] {
  return Object.keys(record ?? {})
    .sort()
    .map((key) => [key, record?.[key]] as const);
}

// ── values fail2ban would not read back as given ─────────────────────────
//
// fail2ban reads its files with Python's configparser: a line ends at LF or
// CR; blanks around each line of a value are stripped; `;` after a blank
// starts a comment, and so does a continuation line starting with `#` or
// `;`; `%%` is one `%` and `%(name)s` the value of another option.

/** Blanks as Python's str.strip() and `\s` know them (JavaScript's `\s` lacks \x1c-\x1f and \x85). */
const BLANK = '[\\s\\x1c-\\x1f\\x85]';
const INLINE_COMMENT = new RegExp(`(?:^|${BLANK});`);
const COMMENT_LINE = new RegExp(`^${BLANK}*[#;]`);
const SURROUNDING_BLANK = new RegExp(`^${BLANK}|${BLANK}$`);

const LINE_BREAK = 'holds a line break (LF, CR or NUL): fail2ban would read the rest as a setting of its own';

/** A literal value (a log path, an address): `%` doubled, so fail2ban's interpolation gives it back as written. */
export function literal(value: string): string {
  return value.replace(/%/g, '%%');
}

function commentProblem(line: string, continuation: boolean): string | undefined {
  if (INLINE_COMMENT.test(line)) return "has ';' after a blank (or first on a line), which fail2ban reads as the start of a comment: the rest of the line would be dropped";
  if (continuation && COMMENT_LINE.test(line)) return "has a line starting with '#' or ';', which fail2ban reads as a comment and drops";
  return undefined;
}

/**
 * Why a value in fail2ban's own syntax (regexes, commands, tags, `%(name)s`)
 * would not be read as written; undefined when it would. `continues`: the
 * value starts on a continuation line (an item of a list after the first).
 */
function syntaxProblem(value: string, continues = false): string | undefined {
  if (/[\r\0]/.test(value)) return LINE_BREAK;
  const lines = value.split('\n');
  for (const [i, line] of lines.entries()) {
    const problem = commentProblem(line, continues || i > 0);
    if (problem) return problem;
  }
  if (value.replace(/%%|%\([^)]*\)s/g, '').includes('%')) {
    return "has a '%' that is neither '%%' nor '%(name)s': fail2ban reads '%' as the start of an interpolation (write '%%' for a percent sign)";
  }
  return undefined;
}

/** Why a literal single-line value (written with `literal`) would not arrive exactly; undefined when it would. */
function literalProblem(value: string): string | undefined {
  if (/[\n\r\0]/.test(value)) return LINE_BREAK;
  if (SURROUNDING_BLANK.test(value)) return 'starts or ends with a blank, which fail2ban strips';
  return commentProblem(value, false);
}

function logpathProblem(value: string): string | undefined {
  return literalProblem(value) ?? (value.includes(' ') ? "has a space: fail2ban splits a log path at its last space and reads the word after it as 'head' or 'tail'" : undefined);
}

/**
 * Parameter values fail2ban would read differently from what the task
 * says. Log paths and addresses are literal (their `%` is escaped); the
 * rest is fail2ban's own syntax, which only has to stay what it is.
 */
export function jailProblems(p: JailParams): ParamProblem[] {
  if (p.state === 'absent') return [];
  return [
    ...problemsIn('logpath', p.logpath, logpathProblem),
    ...problemsIn('ignoreip', p.ignoreip, literalProblem),
    ...(['filter', 'journalmatch', 'banaction', 'action', 'options'] as const).flatMap((k) => syntaxProblems(k, p[k])),
  ];
}

export function definitionProblems(p: FilterParams | ActionParams): ParamProblem[] {
  if (p.state === 'absent') return [];
  return Object.entries(p).flatMap(([k, v]) => (k === 'name' || k === 'state' ? [] : syntaxProblems(k, v)));
}

/** A list is written one item a line: every item after the first is on a continuation line. */
function syntaxProblems(parameter: string, value: unknown): ParamProblem[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => problemsIn(`${parameter}.${i}`, v, (text) => syntaxProblem(text, i > 0)));
  return problemsIn(parameter, value, (text) => syntaxProblem(text));
}
