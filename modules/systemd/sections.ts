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
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) lines.push(`${key}=${renderValue(v as string | number | boolean)}`);
    }
    return lines.join('\n');
  });
  return `${blocks.join('\n\n')}\n`;
}

function renderValue(value: string | number | boolean): string {
  return typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value);
}

/**
 * `Environment=` syntax: each assignment double-quoted, with `\` and `"`
 * escaped, so values with spaces survive systemd's word splitting.
 */
export function environmentValue(name: string, value: string): string {
  return `"${`${name}=${value}`.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

// ── schema pieces ────────────────────────────────────────────────────────

/** A value may not hold a newline: it would start a new key (or section) in the file. */
const singleLine = { type: 'string', pattern: '^[^\\n\\r]*$' } as const;

export const sectionsSchema = {
  type: 'object',
  minProperties: 1,
  propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9-]*$' },
  additionalProperties: {
    type: 'object',
    propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9]*$' },
    additionalProperties: { anyOf: [singleLine, { type: 'number' }, { type: 'boolean' }, { type: 'array', items: { anyOf: [singleLine, { type: 'number' }] } }] },
  },
} as const;

export const singleLineSchema = singleLine;

/**
 * What a unit-file task's schema says about the file's body: `sections` or
 * raw `content`, exactly one of them, and neither with `state: 'absent'`.
 */
export const fileBodyProperties = {
  sections: sectionsSchema,
  content: { type: 'string', minLength: 1 },
  state: { enum: ['present', 'absent'] },
} as const;
export const fileBodyRule = {
  if: { properties: { state: { const: 'absent' } }, required: ['state'] },
  then: { not: { anyOf: [{ required: ['sections'] }, { required: ['content'] }] } },
  else: { oneOf: [{ required: ['sections'] }, { required: ['content'] }] },
} as const;

const UNIT_TYPES = 'service|socket|device|mount|automount|swap|target|path|timer|slice|scope';

/** A full unit name, suffix included: `app.service`, `getty@tty1.service`, `backup.timer`. */
export const unitNameSchema = { type: 'string', pattern: `^[A-Za-z0-9:_.\\\\@-]+\\.(${UNIT_TYPES})$`, maxLength: 255 } as const;
/** A unit name where `.service` may be left out: `nginx` means `nginx.service`. */
export const serviceNameSchema = { type: 'string', pattern: `^[A-Za-z0-9:_.\\\\@][A-Za-z0-9:_.\\\\@-]*$`, maxLength: 255 } as const;
/** A drop-in's file name without `.conf`. */
export const dropInNameSchema = { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.@-]*$', maxLength: 200 } as const;
/** A login name for a user scope. */
export const userNameSchema = { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*\\$?$' } as const;

/** `nginx` → `nginx.service`; names with a unit type suffix are kept. */
export function withServiceSuffix(name: string): string {
  return new RegExp(`\\.(${UNIT_TYPES})$`).test(name) ? name : `${name}.service`;
}
