import { textDiff } from '../../lib/diff.ts';
import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Change, PlanContext, ProbeOutputs } from '../../lib/module/types.ts';
import { sh } from '../../lib/shell/quote.ts';
import { unavailable } from './status.ts';

// ── parameters ───────────────────────────────────────────────────────────

export type SelinuxMode = 'enforcing' | 'permissive' | 'disabled';

export interface ModeParams {
  /** The mode now (setenforce) and after every boot (/etc/selinux/config). */
  readonly mode: SelinuxMode;
  /** Fail, instead of skipping, on a host that cannot have SELinux (a container, no tools). */
  readonly required?: boolean;
}

const MODES = ['enforcing', 'permissive', 'disabled'] as const;

const schema = {
  type: 'object',
  required: ['mode'],
  properties: { mode: { enum: MODES }, required: { type: 'boolean' } },
  additionalProperties: false,
} as const;

interface Resolved {
  readonly mode: SelinuxMode;
  readonly required: boolean;
}

export const CONFIG = '/etc/selinux/config';

// ── observe ──────────────────────────────────────────────────────────────

export interface ObservedMode {
  /** A container shares its host's kernel: its SELinux is not its own to change. */
  readonly container: boolean;
  /** undefined when getenforce is not installed. */
  readonly runtime: SelinuxMode | undefined;
  /** The config file's text; undefined when it does not exist. */
  readonly config: string | undefined;
}

export const modeProbe = sh`if command -v systemd-detect-virt >/dev/null 2>&1 && systemd-detect-virt --container --quiet; then echo 'container: yes'; else echo 'container: no'; fi
if command -v getenforce >/dev/null 2>&1; then echo "runtime: $(getenforce)"; else echo 'runtime: missing'; fi
if [ -f ${CONFIG} ]; then echo 'config: present'; cat ${CONFIG}; else echo 'config: absent'; fi`;

export function parseMode(stdout: string): ObservedMode {
  const [container = '', runtime = '', config = '', ...rest] = stdout.split('\n');
  if (!container.startsWith('container: ') || !runtime.startsWith('runtime: ') || !config.startsWith('config: ')) {
    throw new Error(`cannot read the SELinux mode: unexpected output ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  const word = runtime.slice('runtime: '.length).trim().toLowerCase();
  return {
    container: container === 'container: yes',
    runtime: (MODES as readonly string[]).includes(word) ? (word as SelinuxMode) : undefined,
    config: config === 'config: present' ? rest.join('\n') : undefined,
  };
}

function parse(_r: Resolved, outputs: ProbeOutputs): ObservedMode {
  return parseMode(outputs['mode']!.stdout);
}

// ── plan ─────────────────────────────────────────────────────────────────

/** The SELINUX= value of a config file. */
export function configuredMode(config: string): string | undefined {
  return /^[ \t]*SELINUX[ \t]*=[ \t]*["']?([A-Za-z]+)/m.exec(config)?.[1]?.toLowerCase();
}

/** The config with its SELINUX= line set to `mode`, every other line kept as it is. */
export function withMode(config: string, mode: SelinuxMode): string {
  const line = /^[ \t]*SELINUX[ \t]*=.*$/m;
  if (line.test(config)) return config.replace(line, `SELINUX=${mode}`);
  return `${config}${config === '' || config.endsWith('\n') ? '' : '\n'}SELINUX=${mode}\n`;
}

type Action =
  | { readonly do: 'config'; readonly content: string; readonly autorelabel: boolean }
  | { readonly do: 'setenforce'; readonly enforcing: boolean };

const REBOOT = 'reboot needed';

export function planMode(r: Resolved, observed: ObservedMode, _context: PlanContext): Change<Action>[] {
  if (observed.container) unavailable('a container shares its host kernel, whose SELinux it cannot change', r.required);
  const runtime = observed.runtime ?? unavailable('the SELinux tools are not installed (no getenforce)', r.required);
  if (observed.config === undefined) {
    throw new Error(`${CONFIG} does not exist: install the SELinux policy package (selinux-policy-targeted) before setting the mode`);
  }
  const changes: Change<Action>[] = [];
  const configured = configuredMode(observed.config);
  if (configured !== r.mode) {
    // Between disabled and enabled only a boot switches; files written while
    // SELinux was off carry no labels, so the boot must relabel them.
    const crossing = (runtime === 'disabled') !== (r.mode === 'disabled');
    const autorelabel = runtime === 'disabled' && r.mode !== 'disabled';
    changes.push({
      summary: `${CONFIG}: SELINUX=${configured ?? '(unset)'} → ${r.mode}${crossing ? `: ${REBOOT}${autorelabel ? ' (/.autorelabel relabels every file at that boot)' : ''}` : ''}`,
      diff: textDiff(CONFIG, observed.config, withMode(observed.config, r.mode)),
      action: { do: 'config', content: withMode(observed.config, r.mode), autorelabel },
      ...(crossing ? { note: `${REBOOT}: SELinux ${r.mode === 'disabled' ? 'turns off' : 'turns on'} only at the next boot` } : {}),
    });
  }
  // At runtime SELinux moves only between enforcing and permissive; on the way
  // to disabled, permissive is as far as it goes before the reboot.
  const now = runtime === 'disabled' ? undefined : r.mode === 'disabled' ? 'permissive' : r.mode;
  if (now !== undefined && runtime !== now) {
    changes.push({
      summary: `runtime: ${runtime} → ${now} (setenforce ${now === 'enforcing' ? 1 : 0})`,
      diff: `- runtime ${runtime}\n+ runtime ${now}`,
      action: { do: 'setenforce', enforcing: now === 'enforcing' },
    });
  }
  return changes;
}

// ── apply ────────────────────────────────────────────────────────────────

const el9: Backend<Resolved, ObservedMode, Action> = {
  probes: () => ({ mode: { script: modeProbe } }),
  parse,
  plan: planMode,
  async apply(_r, changes, context) {
    for (const { action } of changes) {
      if (action.do === 'setenforce') {
        await context.run(sh`setenforce ${action.enforcing ? 1 : 0}`);
        continue;
      }
      await context.writeFile(CONFIG, action.content, { mode: 0o644 });
      // The new file must carry the config's label, or an enforcing boot cannot read it.
      await context.run(sh`if selinuxenabled; then restorecon ${CONFIG}; fi${action.autorelabel ? sh` && touch /.autorelabel` : sh``}`);
    }
  },
};

/**
 * The SELinux mode, now and after reboots.
 *
 *   selinux.mode({ mode: 'enforcing' })
 *
 * Between enforcing and permissive it switches at once (setenforce). To or
 * from disabled it edits /etc/selinux/config and reports "reboot needed".
 * Skipped in containers and where the SELinux tools are missing, unless `required: true`.
 */
export const mode = defineModule<ModeParams, Resolved>({
  name: 'selinux.mode',
  schema,
  capabilities: { checkMode: true, diff: true, notes: 'to or from disabled, only the config changes: the task notes "reboot needed"' },
  describe: (p) => `selinux mode ${p.mode}`,
  resolve: (p) => ({ mode: p.mode, required: p.required ?? false }),
  backends: { el9, linux: el9 },
});
