import { asList } from '../shared/list.ts';

/**
 * Unit files as data: `{ Unit: { Description: 'x', After: ['a', 'b'] }, Service: {...} }`,
 * rendered the same way every run so a file never churns.
 */

/** One value per key; an array repeats the key (`After=a`, `After=b`). `''` in an array resets the list (`ExecStart=`). */
export type UnitValue = string | number | boolean | readonly (string | number)[];
export type UnitSection = Readonly<Record<string, UnitValue>>;
/** Section name → keys. */
export type UnitSections = Readonly<Record<string, UnitSection>>;

/** systemd's order: [Unit] first, [Install] last, the type's own section(s) in between as given. */
export function renderSections(sections: UnitSections): string {
  const names = Object.keys(sections);
  const ordered = [...names.filter((n) => n === 'Unit'), ...names.filter((n) => n !== 'Unit' && n !== 'Install'), ...names.filter((n) => n === 'Install')];
  const blocks = ordered.map((name) => {
    const lines = [`[${name}]`];
    for (const [key, value] of Object.entries(sections[name] ?? {})) {
      for (const v of asList<string | number | boolean>(value)) lines.push(`${key}=${renderValue(v)}`);
    }
    return lines.join('\n');
  });
  return `${blocks.join('\n\n')}\n`;
}

function renderValue(value: string | number | boolean): string {
  return typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value);
}

// ── values: what systemd's reader does to them ─────────────────────────
//
// systemd reads a unit file line by line, and a line ends at LF, CR or NUL;
// a line ending in an unescaped backslash is joined with the next one;
// spaces and tabs around a value are stripped; most settings replace `%x`
// specifiers (`%h` → the home directory) and read `%%` as one `%`.

const LINE_BREAK = 'holds a line break (LF, CR or NUL), which ends the line in a unit file: the rest would be read as a setting of its own';

/**
 * Why a value in systemd's own syntax (`sections`, `options`, `execStart`:
 * specifiers, quoting and escapes are systemd's) would not stay one
 * assignment of its key; undefined when it does.
 */
export function unitSyntaxProblem(value: string): string | undefined {
  if (/[\n\r\0]/.test(value)) return LINE_BREAK;
  // An odd number of backslashes at the end: systemd's reader counts them, so `\\` (an escaped backslash) is fine.
  if (/(?:^|[^\\])(?:\\\\)*\\$/.test(value)) {
    return 'ends in a backslash, which systemd reads as a line continuation: the next line of the file would become part of this value';
  }
  return undefined;
}

/**
 * Why a literal value (one that must arrive exactly as given, written with
 * `literalValue`) cannot be written so; undefined when it can.
 */
export function literalValueProblem(value: string): string | undefined {
  if (/[\n\r\0]/.test(value)) return LINE_BREAK;
  // This setting does not unescape `\\`, so no backslash at the end can be written: it would join the next line.
  if (value.endsWith('\\')) return 'ends in a backslash, which systemd reads as a line continuation: the next line of the file would become part of this value';
  if (/^[ \t]|[ \t]$/.test(value)) return 'starts or ends with a space or tab, which systemd strips from the value';
  return undefined;
}

/** A literal value of a setting that resolves specifiers: `%` doubled, so `50%h` arrives as `50%h`. */
export function literalValue(value: string): string {
  return value.replace(/%/g, '%%');
}

/**
 * `Environment=` syntax: each assignment double-quoted, so values with
 * spaces survive systemd's word splitting; inside, `\` and `"` escaped and
 * control characters spelled `\xNN` (systemd unescapes both), `%` doubled
 * (systemd resolves specifiers here). The value arrives exactly; a NUL,
 * which no environment can hold, is refused by the schema.
 */
export function environmentValue(name: string, value: string): string {
  const escaped = `${name}=${value}`.replace(/[\\"%\x01-\x1f\x7f]/g, (c) =>
    c === '%' ? '%%' : c === '\\' || c === '"' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return `"${escaped}"`;
}

/** The unit types systemd knows, as a regex alternation of their suffixes. */
export const UNIT_TYPES = 'service|socket|device|mount|automount|swap|target|path|timer|slice|scope';

/** `nginx` → `nginx.service`; names with a unit type suffix are kept. */
export function withServiceSuffix(name: string): string {
  return new RegExp(`\\.(${UNIT_TYPES})$`).test(name) ? name : `${name}.service`;
}
