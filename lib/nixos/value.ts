/**
 * Nix values as data, rendered deterministically: attribute names sorted,
 * one layout, every string escaped. Nothing reaches a .nix file except
 * through `renderNix`, the way nothing reaches a shell except through `sh`.
 */
export type NixValue = string | number | boolean | null | NixExpr | readonly NixValue[] | NixAttrs;
export interface NixAttrs {
  readonly [name: string]: NixValue | undefined;
}

/** A Nix expression we wrote ourselves (`pkgs.htop`, `lib.mkForce`): inserted as is. */
export class NixExpr {
  readonly text: string;

  private constructor(text: string) {
    this.text = text;
  }

  /** `pkgs.<path>` from a package attribute path such as `python3Packages.requests`. */
  static pkgs(attrPath: string): NixExpr {
    return new NixExpr(['pkgs', ...attrPath.split('.')].map((s, i) => (i === 0 ? s : attrName(s))).join('.'));
  }

  /** A fixed expression written in hostform's source; never pass user input here. */
  static trusted(text: string): NixExpr {
    return new NixExpr(text);
  }
}

/**
 * A Nix string literal: `"`, `\` and `${` escaped, control characters spelled out.
 * Nix strings cannot hold NUL (the evaluator ends a string there), so one is refused.
 */
export function nixString(text: string): string {
  if (text.includes('\0')) throw new Error(`a string holding a NUL byte cannot be written to Nix: ${JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text)}`);
  const escaped = text.replace(/[\\"\n\r\t]|\$\{/g, (match) => {
    switch (match) {
      case '\\':
        return '\\\\';
      case '"':
        return '\\"';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return '\\${';
    }
  });
  return `"${escaped}"`;
}

/**
 * `lib.mkForce value` as data: the module system reads exactly this shape
 * (it is what lib.mkOverride 50 returns), so a value wins over the
 * definitions NixOS modules make without going through expression text.
 */
export function forced(value: NixValue): NixAttrs {
  return { _type: 'override', priority: FORCE_PRIORITY, content: value };
}

/** lib.mkForce's priority; a plain definition has 100. */
export const FORCE_PRIORITY = 50;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_'-]*$/;
const KEYWORDS = new Set(['assert', 'else', 'if', 'in', 'inherit', 'let', 'or', 'rec', 'then', 'with']);

/** An attribute name, quoted when it is not a plain identifier (`"nginx.conf"`, `"if"`). */
export function attrName(name: string): string {
  return IDENTIFIER.test(name) && !KEYWORDS.has(name) ? name : nixString(name);
}

export function renderNix(value: NixValue, indent = ''): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return nixString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`only whole numbers can be written to Nix, got ${value}`);
    return value < 0 ? `(${value})` : String(value);
  }
  if (value instanceof NixExpr) return value.text;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[ ]';
    return `[\n${value.map((v) => `${inner}${wrapListItem(renderNix(v, inner), v)}\n`).join('')}${indent}]`;
  }
  const entries = Object.entries(value as NixAttrs)
    .filter((e): e is [string, NixValue] => e[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return '{ }';
  return `{\n${entries.map(([k, v]) => `${inner}${attrName(k)} = ${renderNix(v, inner)};\n`).join('')}${indent}}`;
}

/** A function application or negative number inside a list needs parentheses. */
function wrapListItem(text: string, value: NixValue): string {
  return value instanceof NixExpr && /\s/.test(text) ? `(${text})` : text;
}
