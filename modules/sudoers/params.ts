export const SUDOERS_DIR = '/etc/sudoers.d';

/** sudo's tags, as sudo 1.9.5 (RHEL 9) knows them. */
export type SudoTag = 'NOPASSWD' | 'PASSWD' | 'NOEXEC' | 'EXEC' | 'SETENV' | 'NOSETENV' | 'LOG_INPUT' | 'NOLOG_INPUT' | 'LOG_OUTPUT' | 'NOLOG_OUTPUT' | 'MAIL' | 'NOMAIL' | 'FOLLOW' | 'NOFOLLOW';
export const SUDO_TAGS = ['NOPASSWD', 'PASSWD', 'NOEXEC', 'EXEC', 'SETENV', 'NOSETENV', 'LOG_INPUT', 'NOLOG_INPUT', 'LOG_OUTPUT', 'NOLOG_OUTPUT', 'MAIL', 'NOMAIL', 'FOLLOW', 'NOFOLLOW'] as const;

export interface SudoCommand {
  /** The command, as in a sudoers rule (see `commands`). */
  readonly command: string;
  /** sudo's tags for this command: `['NOPASSWD']`. */
  readonly options?: readonly SudoTag[];
}

export interface SudoRule {
  /** Users the rule is for, by login name. Give users, groups or both. */
  readonly users?: readonly string[];
  /** Groups whose members the rule is for, by name (written %name). Give users, groups or both. */
  readonly groups?: readonly string[];
  /** Whom the commands may run as: 'root' (the default), 'ALL', a user, or user:group ('ALL:ALL', ':wheel'). */
  readonly runAs?: string;
  /**
   * Commands, each an absolute path with optional arguments in sudoers'
   * own syntax (`*` and `?` are wildcards, `""` means no arguments), or
   * ALL, or `sudoedit <path>`; a string, or `{ command, options }` with tags
   * for that command. `,` `:` `=` `#` are escaped for sudoers; a backslash
   * and control characters are refused.
   */
  readonly commands: readonly (string | SudoCommand)[];
}

export interface SudoersParams {
  /** The file's name in /etc/sudoers.d: letters, digits, _ and - (sudo skips names with a dot). */
  readonly name: string;
  /** The rules, in order; each command becomes one line. */
  readonly rules?: readonly SudoRule[];
  /** 'present' (default) writes the file; 'absent' removes it, and then rules may not be given. */
  readonly state?: 'present' | 'absent';
}

const account = '^[a-z_][a-z0-9_.-]*\\$?$';
const accountWords = 'a name of lower-case letters, digits, _, . and - (not starting with a digit, . or -)';
/** An absolute path and arguments, ALL, or sudoedit and a path: no backslash, no control character. */
const COMMAND = '^(?:ALL|sudoedit [^\\x00-\\x1f\\x7f\\\\]+|/[^\\s\\x00-\\x1f\\x7f\\\\]+(?: [^\\x00-\\x1f\\x7f\\\\]*)?)$';
const COMMAND_DOC =
  "Commands, each an absolute path with optional arguments in sudoers' own syntax (`*` and `?` are wildcards, `\"\"` means no arguments), or ALL, or `sudoedit <path>`; a string, or `{ command, options }` with tags for that command. `,` `:` `=` `#` are escaped for sudoers; a backslash and control characters are refused.";
const commandSchema = { type: 'string', pattern: COMMAND, maxLength: 4096, 'x-expected': 'an absolute path with arguments, ALL, or sudoedit and a path, without a backslash or control characters' } as const;

export const sudoersSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: {
      type: 'string',
      pattern: '^[A-Za-z0-9_-]+$',
      maxLength: 100,
      'x-expected': 'a file name of letters, digits, _ and - (sudo skips names with a dot)',
      description: "The file's name in /etc/sudoers.d: letters, digits, _ and - (sudo skips names with a dot).",
    },
    rules: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['commands'],
        properties: {
          users: { type: 'array', minItems: 1, items: { type: 'string', pattern: account, maxLength: 64, 'x-expected': accountWords }, description: 'Users the rule is for, by login name. Give users, groups or both.' },
          groups: { type: 'array', minItems: 1, items: { type: 'string', pattern: account, maxLength: 64, 'x-expected': accountWords }, description: 'Groups whose members the rule is for, by name (written %name). Give users, groups or both.' },
          runAs: {
            type: 'string',
            pattern: '^(?:ALL|[a-z_][a-z0-9_.-]*)?(?::(?:ALL|[a-z_][a-z0-9_.-]*))?$',
            minLength: 1,
            maxLength: 130,
            'x-expected': "'root', 'ALL', a user name, or user:group such as 'ALL:ALL' or ':wheel'",
            description: "Whom the commands may run as: 'root' (the default), 'ALL', a user, or user:group ('ALL:ALL', ':wheel').",
          },
          commands: {
            type: 'array',
            minItems: 1,
            items: {
              anyOf: [
                commandSchema,
                {
                  type: 'object',
                  required: ['command'],
                  properties: {
                    command: { ...commandSchema, description: 'The command, as in a sudoers rule (see `commands`).' },
                    options: { type: 'array', items: { enum: SUDO_TAGS }, uniqueItems: true, description: "sudo's tags for this command: `['NOPASSWD']`." },
                  },
                  additionalProperties: false,
                },
              ],
              'x-expected': 'a command string, or { command, options }',
            },
            description: COMMAND_DOC,
          },
        },
        additionalProperties: false,
        anyOf: [{ required: ['users'] }, { required: ['groups'] }],
        'x-expected': 'a rule with users, groups or both',
      },
      description: 'The rules, in order; each command becomes one line.',
    },
    state: { enum: ['present', 'absent'], description: "'present' (default) writes the file; 'absent' removes it, and then rules may not be given." },
  },
  additionalProperties: false,
  if: { properties: { state: { const: 'absent' } }, required: ['state'] },
  then: { not: { required: ['rules'] } },
  else: { required: ['rules'] },
} as const;

/** One line of the file: who, as whom, with which tags, which command (escaped for sudoers). */
export interface SudoLine {
  readonly users: readonly string[];
  readonly groups: readonly string[];
  readonly runAs: string;
  readonly tags: readonly SudoTag[];
  readonly command: string;
}

export interface WantedSudoers {
  readonly path: string;
  readonly lines: readonly SudoLine[];
  /** null: the file must not exist. */
  readonly content: string | null;
}

/**
 * `,` `:` `=` end a word in sudoers and `#` starts a comment, even inside
 * a command's arguments; a backslash before each makes it literal (read back
 * by sudo itself in test/config-values-basics.test.ts).
 */
export function sudoersCommand(command: string): string {
  return command.replace(/[,:=#]/g, (c) => `\\${c}`);
}

export function renderLine(line: SudoLine): string {
  const who = [...line.users, ...line.groups.map((g) => `%${g}`)].join(',');
  return `${who} ALL=(${line.runAs}) ${line.tags.map((t) => `${t}: `).join('')}${line.command}`;
}

export function resolveSudoers(p: SudoersParams): WantedSudoers {
  const path = `${SUDOERS_DIR}/${p.name}`;
  if (p.state === 'absent') return { path, lines: [], content: null };
  // One line per command, so each keeps its own tags (in a list, sudo carries a tag over to the commands after it).
  const lines = (p.rules ?? []).flatMap((rule) =>
    rule.commands.map((c): SudoLine => {
      const { command, options = [] } = typeof c === 'string' ? { command: c } : c;
      return { users: rule.users ?? [], groups: rule.groups ?? [], runAs: rule.runAs ?? 'root', tags: options, command: sudoersCommand(command) };
    }),
  );
  const content = ['# Managed by hostform (sudoers): edits here are replaced on the next run.', ...lines.map(renderLine)].join('\n');
  return { path, lines, content: `${content}\n` };
}
