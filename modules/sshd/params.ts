import { asList } from '../shared/list.ts';
import { effectiveValue, OPTIONS, optionLines, optionsSchema, WORDS, type OptionName, type SshdOptions } from './options.ts';

export const DROP_IN_DIR = '/etc/ssh/sshd_config.d';

export interface SshdConfigParams {
  /** Drop-in file name: `<order>-<name>.conf`. Default 'hostform'. */
  readonly name?: string;
  /**
   * Two-digit prefix of the file name, default 0 ('00-'). sshd keeps the
   * first value it reads for most keywords and reads the drop-ins in name
   * order, so the lowest prefix wins.
   */
  readonly order?: number;
  /** 'present' (default) writes the drop-in; 'absent' removes it, and then options and extra may not be given. */
  readonly state?: 'present' | 'absent';
  /**
   * sshd_config keywords hostform types, by sshd's own names: booleans for
   * yes/no, enums where sshd has a fixed set, lists as arrays. Give options,
   * extra or both.
   */
  readonly options?: SshdOptions;
  /**
   * Keywords hostform does not type, written as is after the typed ones:
   * `{ Subsystem: 'sftp internal-sftp' }`. A value is sshd arguments separated
   * by single spaces; sshd's quote, escape and comment characters and control
   * characters are refused (see WORD in options.ts). sshd -t still checks them.
   * Give options, extra or both.
   */
  readonly extra?: Readonly<Record<string, string | number>>;
}

export const sshdConfigSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 100, 'x-expected': 'a file name of letters, digits, _, . and -, starting with a letter or digit', description: "Drop-in file name: `<order>-<name>.conf`. Default 'hostform'." },
    order: {
      type: 'integer',
      minimum: 0,
      maximum: 99,
      description:
        "Two-digit prefix of the file name, default 0 ('00-'). sshd keeps the first value it reads for most keywords and reads the drop-ins in name order, so the lowest prefix wins.",
    },
    state: { enum: ['present', 'absent'], description: "'present' (default) writes the drop-in; 'absent' removes it, and then options and extra may not be given." },
    options: {
      ...optionsSchema,
      description: "sshd_config keywords hostform types, by sshd's own names: booleans for yes/no, enums where sshd has a fixed set, lists as arrays. Give options, extra or both.",
    },
    extra: {
      type: 'object',
      // Match blocks would swallow every line after them: they are not supported here.
      propertyNames: { pattern: '^(?![Mm][Aa][Tt][Cc][Hh]$)[A-Za-z][A-Za-z0-9]*$', 'x-expected': 'an sshd keyword such as "Subsystem" (Match is not supported)' },
      additionalProperties: { type: ['string', 'number'], pattern: WORDS, 'x-expected': 'sshd arguments separated by single spaces, without quotes, backslashes, # or control characters' },
      description:
        "Keywords hostform does not type, written as is after the typed ones: `{ Subsystem: 'sftp internal-sftp' }`. A value is sshd arguments separated by single spaces; sshd's quote, escape and comment characters and control characters are refused (see WORD in options.ts). sshd -t still checks them. Give options, extra or both.",
    },
  },
  additionalProperties: false,
  allOf: [
    {
      if: { properties: { state: { const: 'absent' } }, required: ['state'] },
      then: { not: { anyOf: [{ required: ['options'] }, { required: ['extra'] }] } },
      else: { anyOf: [{ required: ['options'] }, { required: ['extra'] }] },
    },
  ],
} as const;

/** An option whose value hostform can read back from `sshd -T` to prove it is the one in effect. */
export interface Expectation {
  readonly option: OptionName;
  /** Lower-case keyword as `sshd -T` prints it. */
  readonly keyword: string;
  readonly value: string;
}

export interface WantedDropIn {
  readonly path: string;
  readonly present: boolean;
  readonly content: string;
  readonly expectations: readonly Expectation[];
  /** The task's parameters, for the NixOS renderer's structured options. */
  readonly spec?: SshdConfigParams;
}

export function dropInPath(p: SshdConfigParams): string {
  return `${DROP_IN_DIR}/${String(p.order ?? 0).padStart(2, '0')}-${p.name ?? 'hostform'}.conf`;
}

export function resolveDropIn(p: SshdConfigParams): WantedDropIn {
  const path = dropInPath(p);
  if (p.state === 'absent') return { path, present: false, content: '', expectations: [], spec: p };
  const options = p.options ?? {};
  refuseImpossible(options);
  const typed = (Object.keys(OPTIONS) as OptionName[]).filter((name) => options[name] !== undefined);
  const extra = Object.keys(p.extra ?? {}).sort();
  const lines = [
    '# Managed by hostform (sshd.config): edits here are replaced on the next run.',
    '# sshd keeps the first value it reads, and reads this file before the others of sshd_config.d.',
    ...typed.flatMap((name) => optionLines(name, options[name])),
    ...extra.map((key) => `${key} ${p.extra?.[key]}`),
  ];
  const expectations = typed.flatMap((option): Expectation[] => {
    const value = effectiveValue(option, options[option]);
    return value === undefined ? [] : [{ option, keyword: option.toLowerCase(), value }];
  });
  return { path, present: true, content: `${lines.join('\n')}\n`, expectations, spec: p };
}

/**
 * Values sshd accepts but that cannot be what the user meant. `ListenAddress *`
 * passes sshd -t, yet sshd then listens on the loopback addresses only, and
 * every new connection from outside is refused.
 */
function refuseImpossible(options: SshdOptions): void {
  for (const address of asList(options.ListenAddress)) {
    if (/[*?]/.test(address)) {
      throw new Error(
        `parameter 'options.ListenAddress' = ${JSON.stringify(address)}: sshd has no wildcard addresses (with '*' it listens on 127.0.0.1 and ::1 only, and the host can no longer be reached); ` +
          "leave ListenAddress out to listen on every address, or write '0.0.0.0' and '::'",
      );
    }
  }
}
