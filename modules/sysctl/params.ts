export const SYSCTL_DIR = '/etc/sysctl.d';

export interface SysctlParams {
  /**
   * Kernel parameters by their dotted names, with the value each should
   * have now and after every boot: `{ 'net.ipv4.ip_forward': 1,
   * 'net.ipv4.tcp_rmem': '4096 87380 6291456' }`. A value is a whole
   * number or one line of text without a space or tab at either end.
   */
  readonly settings: Readonly<Record<string, string | number>>;
  /**
   * The file in /etc/sysctl.d that holds the settings, ending in .conf
   * (default 90-hostform.conf). At boot the files are read in name order and
   * a later one wins: a setting that a file sorting after this one gives
   * another value is refused, naming that file.
   */
  readonly file?: string;
}

/** A dotted kernel parameter name: net.ipv4.ip_forward. Not the slash form, and no leading - (sysctl.d's "ignore errors"). */
const KEY = '^[A-Za-z0-9_][A-Za-z0-9_-]*(?:\\.[A-Za-z0-9_][A-Za-z0-9_-]*)+$';
/** One line, no space or tab at either end (systemd-sysctl strips them), no control character. */
const VALUE = '^[^\\x00-\\x20\\x7f](?:[^\\x00-\\x08\\x0a-\\x1f\\x7f]*[^\\x00-\\x20\\x7f])?$';

export const sysctlSchema = {
  type: 'object',
  required: ['settings'],
  properties: {
    settings: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: KEY, maxLength: 200, 'x-expected': 'a dotted kernel parameter name such as "net.ipv4.ip_forward"' },
      additionalProperties: {
        anyOf: [{ type: 'integer' }, { type: 'string', pattern: VALUE, maxLength: 4096, 'x-expected': 'one line of text without a space or tab at either end' }],
        'x-expected': 'a whole number, or one line of text without a space or tab at either end',
      },
      description:
        "Kernel parameters by their dotted names, with the value each should have now and after every boot: `{ 'net.ipv4.ip_forward': 1, 'net.ipv4.tcp_rmem': '4096 87380 6291456' }`. A value is a whole number or one line of text without a space or tab at either end.",
    },
    file: {
      type: 'string',
      pattern: '^[A-Za-z0-9_][A-Za-z0-9_.@-]*\\.conf$',
      maxLength: 200,
      'x-expected': 'a file name ending in .conf, such as "90-hostform.conf"',
      description:
        'The file in /etc/sysctl.d that holds the settings, ending in .conf (default 90-hostform.conf). At boot the files are read in name order and a later one wins: a setting that a file sorting after this one gives another value is refused, naming that file.',
    },
  },
  additionalProperties: false,
} as const;

export interface WantedSysctl {
  readonly path: string;
  readonly file: string;
  /** Sorted by name, values as written to the file. */
  readonly settings: readonly (readonly [key: string, value: string])[];
  readonly content: string;
}

export function resolveSysctl(p: SysctlParams): WantedSysctl {
  const file = p.file ?? '90-hostform.conf';
  const settings = Object.entries(p.settings)
    .map(([key, value]) => [key, String(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = ['# Managed by hostform (sysctl): edits here are replaced on the next run.', ...settings.map(([key, value]) => `${key} = ${value}`)];
  return { path: `${SYSCTL_DIR}/${file}`, file, settings, content: `${lines.join('\n')}\n` };
}

/** net.ipv4.ip_forward → /proc/sys/net/ipv4/ip_forward. */
export function procPath(key: string): string {
  return `/proc/sys/${key.replace(/\./g, '/')}`;
}

/** How the kernel prints a value: words separated by tabs or spaces; compared with single spaces. */
export function normalizeValue(value: string): string {
  return value.trim().split(/\s+/).join(' ');
}
