import { assertNoParamProblems, problemsIn } from '../../lib/module/param-problems.ts';
import { unitSyntaxProblem } from '../systemd/sections.ts';

export type SystemdComponent = 'journald' | 'logind' | 'resolved' | 'system' | 'timesyncd';

/** A setting's value: true/false are written yes/no, a list as words separated by spaces. */
export type SystemdConfigValue = string | number | boolean | readonly (string | number)[];

export interface SystemdConfigParams {
  /**
   * Whose configuration: journald (journald.conf, section [Journal]),
   * logind ([Login]), resolved ([Resolve]), timesyncd ([Time]), or system,
   * the service manager itself (system.conf, [Manager]).
   */
  readonly component: SystemdComponent;
  /**
   * Settings of the component's section, by systemd's names:
   * `{ SystemMaxUse: '500M', Compress: true }`. true/false are written
   * yes/no, a list as words separated by spaces. A value is in the setting's
   * own syntax, written as given; it holds no line break and does not end in
   * a backslash (either would make a setting of the rest).
   */
  readonly settings?: Readonly<Record<string, SystemdConfigValue>>;
  /**
   * The drop-in's name without .conf (default 'hostform'):
   * /etc/systemd/<component>.conf.d/<name>.conf. Drop-ins are read in name
   * order and a later one wins, so a setting that a drop-in sorting after
   * this one gives another value is refused, naming it.
   */
  readonly name?: string;
  /** 'present' (default) writes the drop-in; 'absent' removes it, and then settings may not be given. */
  readonly state?: 'present' | 'absent';
}

/** Per component: its section, the unit that reads it, what to do so it reads the drop-in anew. */
export const COMPONENTS: Readonly<Record<SystemdComponent, { readonly section: string; readonly unit?: string }>> = {
  journald: { section: 'Journal', unit: 'systemd-journald.service' },
  logind: { section: 'Login', unit: 'systemd-logind.service' },
  resolved: { section: 'Resolve', unit: 'systemd-resolved.service' },
  timesyncd: { section: 'Time', unit: 'systemd-timesyncd.service' },
  system: { section: 'Manager' },
};

const scalar = [{ type: 'string', maxLength: 4096 }, { type: 'number' }, { type: 'boolean' }] as const;

export const systemdConfigSchema = {
  type: 'object',
  required: ['component'],
  properties: {
    component: {
      enum: ['journald', 'logind', 'resolved', 'system', 'timesyncd'],
      description:
        'Whose configuration: journald (journald.conf, section [Journal]), logind ([Login]), resolved ([Resolve]), timesyncd ([Time]), or system, the service manager itself (system.conf, [Manager]).',
    },
    settings: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[A-Z][A-Za-z0-9]*$', maxLength: 100, 'x-expected': 'a setting name such as "SystemMaxUse"' },
      additionalProperties: {
        anyOf: [...scalar, { type: 'array', items: { anyOf: [{ type: 'string', maxLength: 4096 }, { type: 'number' }] } }],
        'x-expected': 'a string, number, boolean, or a list of strings and numbers',
      },
      description:
        "Settings of the component's section, by systemd's names: `{ SystemMaxUse: '500M', Compress: true }`. true/false are written yes/no, a list as words separated by spaces. A value is in the setting's own syntax, written as given; it holds no line break and does not end in a backslash (either would make a setting of the rest).",
    },
    name: {
      type: 'string',
      pattern: '^[A-Za-z0-9_][A-Za-z0-9_.@-]*$',
      maxLength: 200,
      'x-expected': 'a drop-in name without .conf (letters, digits, _, ., @ and -)',
      description:
        "The drop-in's name without .conf (default 'hostform'): /etc/systemd/<component>.conf.d/<name>.conf. Drop-ins are read in name order and a later one wins, so a setting that a drop-in sorting after this one gives another value is refused, naming it.",
    },
    state: { enum: ['present', 'absent'], description: "'present' (default) writes the drop-in; 'absent' removes it, and then settings may not be given." },
  },
  additionalProperties: false,
  if: { properties: { state: { const: 'absent' } }, required: ['state'] },
  then: { not: { required: ['settings'] } },
  else: { required: ['settings'] },
} as const;

export interface WantedSystemdConfig {
  readonly component: SystemdComponent;
  readonly section: string;
  readonly path: string;
  /** The settings as written, in order; empty when absent. */
  readonly settings: readonly (readonly [key: string, value: string])[];
  /** null: the drop-in must not exist. */
  readonly content: string | null;
}

export function dropInPath(p: Pick<SystemdConfigParams, 'component' | 'name'>): string {
  return `/etc/systemd/${p.component}.conf.d/${p.name ?? 'hostform'}.conf`;
}

export function resolveSystemdConfig(p: SystemdConfigParams): WantedSystemdConfig {
  const { section } = COMPONENTS[p.component];
  const path = dropInPath(p);
  if (p.state === 'absent') return { component: p.component, section, path, settings: [], content: null };
  // A value stays one assignment of its key: no line break, no continuation; spaces at either end would be stripped.
  assertNoParamProblems(problemsIn('settings', p.settings, (value) => unitSyntaxProblem(value) ?? (/^\s|\s$/.test(value) ? 'starts or ends with a space or tab, which systemd strips from the value' : undefined)));
  const settings = Object.entries(p.settings ?? {}).map(([key, value]) => [key, render(value)] as const);
  const lines = [`# Managed by hostform (systemdConfig): edits here are replaced on the next run.`, `[${section}]`, ...settings.map(([key, value]) => `${key}=${value}`)];
  return { component: p.component, section, path, settings, content: `${lines.join('\n')}\n` };
}

function render(value: SystemdConfigValue): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.map(String).join(' ');
  return String(value);
}
