/**
 * The only way a command is built from values. A `ShellScript` can only be
 * made through the helpers below, so a module cannot hand a connection a
 * string glued together from user input: `run()` accepts nothing else.
 */
export class ShellScript {
  /**
   * Use `sh`, `argv` or `trusted` instead; the constructor is for this file.
   * `display` is the script as shown to people in errors and reports: the
   * text, with long fixed preludes (see `named`) shown by their name.
   */
  readonly text: string;
  readonly display: string;

  private constructor(
    text: string,
    display: string = text,
  ) {
    this.text = text;
    this.display = display;
  }

  /** @internal */
  static fromTrustedText(text: string, display?: string): ShellScript {
    return new ShellScript(text, display);
  }

  toString(): string {
    return this.text;
  }
}

/** Quote one argument for a POSIX shell: wrap in single quotes, escape the quotes inside. */
export function quote(arg: string | number): string {
  const text = String(arg);
  if (text !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A command line from an argv: every element quoted. */
export function argv(args: readonly (string | number)[]): ShellScript {
  if (args.length === 0) throw new Error('argv(): a command needs at least a program name');
  return ShellScript.fromTrustedText(args.map(quote).join(' '));
}

export type ShellValue = string | number | ShellScript | readonly (string | number)[];

/**
 * Tagged template: the literal parts are shell written by us, every
 * interpolated value is quoted. Arrays expand to several quoted words;
 * a ShellScript is inserted as is (it was already built safely).
 *
 *   sh`test -e ${path} && stat -c %a ${path}`
 */
export function sh(strings: TemplateStringsArray, ...values: readonly ShellValue[]): ShellScript {
  let out = strings[0] ?? '';
  let shown = out;
  values.forEach((value, i) => {
    const tail = strings[i + 1] ?? '';
    out += render(value) + tail;
    shown += (value instanceof ShellScript ? value.display : render(value)) + tail;
  });
  return ShellScript.fromTrustedText(out, shown);
}

/** A fixed piece of script shown as `# <name>` in errors: shell functions every script repeats, say. */
export function named(name: string, script: ShellScript): ShellScript {
  return ShellScript.fromTrustedText(script.text, `# ${name}`);
}

/** A fixed script written by the engine or a module author; never pass user input here. */
export function trusted(literal: string): ShellScript {
  return ShellScript.fromTrustedText(literal);
}

/** Join scripts with a separator, keeping them ShellScripts. */
export function join(scripts: readonly ShellScript[], separator: '&&' | '||' | ';' | '\n' = '\n'): ShellScript {
  const glue = separator === '\n' ? '\n' : ` ${separator} `;
  return ShellScript.fromTrustedText(scripts.map((s) => s.text).join(glue), scripts.map((s) => s.display).join(glue));
}

/**
 * Scripts one after the other, each in a subshell of its own; the first that
 * fails ends the whole with its exit code. A script is never on the left of
 * `||` or `&&` here, where the shell would ignore a `set -e` inside it.
 */
export function inSequence(scripts: readonly ShellScript[]): ShellScript {
  if (scripts.length === 1) return scripts[0] as ShellScript;
  return join(scripts.map((s) => sh`(\n${s}\n)\nhf_rc=$?; [ "$hf_rc" = 0 ] || exit "$hf_rc"`));
}

function render(value: ShellValue): string {
  if (value instanceof ShellScript) return value.text;
  if (typeof value === 'string' || typeof value === 'number') return quote(value);
  return value.map((v) => quote(v)).join(' ');
}
