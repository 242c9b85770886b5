import { forced, NixExpr, type NixAttrs, type NixValue } from '../../lib/nixos/value.ts';

// ── what users write ─────────────────────────────────────────────────────

/**
 * A value of a NixOS option, as JSON holds it (whole numbers only: Nix
 * floats are not written), plus a package and a forced value.
 */
export type NixOptionValue = string | number | boolean | null | readonly NixOptionValue[] | NixPackage | NixForced | NixOptionSet;

/** Attribute names to values: an option set (`services.prometheus`) or an attribute-set value (`settings`). Names are taken as written, quoted as Nix needs. */
export interface NixOptionSet {
  readonly [name: string]: NixOptionValue;
}

/** `pkgs.<attribute path>`: `{ $pkgs: 'prometheus-node-exporter' }`, `{ $pkgs: 'python3Packages.requests' }`. */
export interface NixPackage {
  /** A nixpkgs attribute path, its names separated by dots. */
  readonly $pkgs: string;
}

/** `lib.mkForce value`: this definition wins over the other modules' (a task's, NixOS' own defaults). */
export interface NixForced {
  /** The value that wins. */
  readonly $force: NixOptionValue;
}

/**
 * NixOS options by their path, nested as in a NixOS module:
 * `{ services: { prometheus: { enable: true, port: 9090 } } }`.
 */
export type NixosOptionsParams = NixOptionSet;

// ── schema ───────────────────────────────────────────────────────────────

/** Top-level names the module system reads as a module's structure, not as options (and _module, its internals). */
const NOT_OPTIONS = ['imports', 'options', 'config', 'disabledModules', 'require', 'freeformType', 'key', '_file', '_class', '_module', '_type'];

const VALUE = '#/$defs/value';

const valueSchema = {
  description:
    'A NixOS option value: a string, a whole number, true/false, null, a list, an attribute set, { $pkgs: "attr.path" } for a package, or { $force: value } for lib.mkForce.',
  'x-expected': 'a string, a whole number, true/false, null, a list, an attribute set, { $pkgs: "attr.path" } or { $force: value }',
  anyOf: [
    { type: ['string', 'integer', 'boolean', 'null'] },
    { type: 'array', items: { $ref: VALUE } },
    {
      type: 'object',
      required: ['$pkgs'],
      additionalProperties: false,
      properties: {
        $pkgs: { type: 'string', pattern: '^[^.]+(\\.[^.]+)*$', 'x-expected': 'a nixpkgs attribute path such as "htop" or "python3Packages.requests"', description: 'A nixpkgs attribute path, its names separated by dots.' },
      },
    },
    { type: 'object', required: ['$force'], additionalProperties: false, properties: { $force: { $ref: VALUE, description: 'The value that wins.' } } },
    {
      type: 'object',
      // `_type` would make the set a lib.mkOverride or mkIf; `$` names are hostform's own ($pkgs, $force).
      propertyNames: { pattern: '^(?!_type$)[^$]', 'x-expected': 'an attribute name not starting with $ and other than _type' },
      additionalProperties: { $ref: VALUE },
    },
  ],
} as const;

export const nixosOptionsSchema = {
  description:
    'NixOS options, nested as in a NixOS module, merged into the play\'s NixOS module: for services hostform has no module for. Checked against the other tasks at plan time: an option another task sets to another value stops the run, naming both tasks.',
  type: 'object',
  minProperties: 1,
  propertyNames: { not: { enum: NOT_OPTIONS }, pattern: '^[^$]', 'x-expected': `an option name (not ${NOT_OPTIONS.join(', ')}, and not starting with $)` },
  additionalProperties: { $ref: VALUE },
  // Written into the module file on the host as data, never into a script.
  payload: true,
  $defs: { value: valueSchema },
} as const;

// ── resolved ─────────────────────────────────────────────────────────────

/** The options as the value renderer takes them: packages as `pkgs.…`, forced values as lib.mkForce's data. */
export function resolveOptions(options: NixosOptionsParams): NixAttrs {
  return toNix(options, []) as NixAttrs;
}

function toNix(value: NixOptionValue, at: readonly string[]): NixValue {
  if (typeof value === 'string' && value.includes('\0')) {
    throw new Error(`parameter '${at.join('.')}' holds a NUL byte, which a Nix string cannot hold (Nix would end the string there)`);
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item: NixOptionValue, i) => toNix(item, [...at.slice(0, -1), `${at.at(-1) ?? ''}[${i}]`]));
  if ('$pkgs' in value && typeof value.$pkgs === 'string') return NixExpr.pkgs(value.$pkgs);
  if ('$force' in value) return forced(toNix(value.$force as NixOptionValue, at));
  return Object.fromEntries(
    Object.entries(value as NixOptionSet).map(([name, v]) => {
      if (name.includes('\0')) throw new Error(`parameter '${at.join('.') || '(parameters)'}' has a key holding a NUL byte, which a Nix attribute name cannot hold`);
      return [name, toNix(v, [...at, name])];
    }),
  );
}
