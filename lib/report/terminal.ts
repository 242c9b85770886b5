/**
 * Text that reaches a terminal or a log: file content in diffs and stderr in
 * errors come from the hosts, names and messages from playbooks. A control
 * character in them could move the cursor, erase or rewrite lines already
 * printed (a failure overwritten with "converged"), set the window title or
 * reorder what is shown. So every one is shown as an escape instead.
 *
 * Kept: newline and tab. Escaped: the other C0 controls (ESC, CR, BEL,
 * backspace, ...), DEL, the C1 controls (U+0080–U+009F: some terminals read
 * U+009B as ESC [), and the Unicode controls that reorder or break lines
 * (bidirectional overrides and isolates, line and paragraph separators).
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` with each control character written as an escape: `\r`, `\x1b`, `\u202e`. For text shown indented under a heading. */
export function printable(text: string): string {
  return text.replace(CONTROL, escape);
}

/** The same for what must stay on one line (names, summaries, notes): newlines are escaped too, so no line can be forged. */
export function printableLine(text: string): string {
  return printable(text).replace(/\n/g, '\\n');
}

function escape(c: string): string {
  if (c === '\r') return '\\r';
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * JSON for stdout, which may be a terminal. JSON.stringify escapes C0
 * controls already but leaves DEL, C1 and the Unicode line and direction
 * controls raw; they appear only inside strings, where `\uXXXX` is the same
 * value, so a parser reads exactly the same report.
 */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
