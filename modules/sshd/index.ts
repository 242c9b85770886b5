import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Change, Probes } from '../../lib/module/types.ts';
import { parsePathProbe, pathProbe } from '../file/observe.ts';
import { applyDropIn, previewDropIn } from './apply.ts';
import { nixosSshd } from './nixos.ts';
import { daemonReadProbe, parseDaemonRead } from '../shared/daemon.ts';
import { parseSetup, setupProbe, SSHD_UNITS, type ObservedDropIn } from './observe.ts';
import { dropInPath, resolveDropIn, sshdConfigSchema, type SshdConfigParams, type WantedDropIn } from './params.ts';
import { daemonPath, dropInEffects, planDropIn, type SshdAction } from './plan.ts';

export type { SshdConfigParams } from './params.ts';
export type { SshdDuration, SshdOptions } from './options.ts';

const backend: Backend<WantedDropIn, ObservedDropIn, SshdAction, Probes<'file' | 'setup' | 'daemon'>> = {
  probes: (w) => ({ file: { script: pathProbe(w.path) }, setup: { script: setupProbe }, daemon: { script: daemonReadProbe(SSHD_UNITS, [daemonPath(w)]) } }),
  parse: (w, outputs) => ({ file: parsePathProbe(w.path, outputs.file), setup: parseSetup(outputs.setup), daemon: parseDaemonRead([daemonPath(w)], outputs.daemon) }),
  plan: planDropIn,
  apply: (w, changes, context) => applyDropIn(w, (changes[0] as Change<SshdAction>).action, context),
  preview: (w, observed, _changes, context) => previewDropIn(w, observed.setup, context),
  effects: dropInEffects,
};

/**
 * sshd settings in a drop-in, /etc/ssh/sshd_config.d/00-hostform.conf by
 * default, checked with `sshd -t` (and `sshd -T`, to prove the values are the
 * ones sshd uses and that hostform's own login still gets in) before it is
 * installed; sshd is reloaded once per run, and a new login after the reload
 * must work or the previous drop-ins are put back.
 *
 *   sshd.config({ options: { PermitRootLogin: 'prohibit-password', PasswordAuthentication: false, MaxAuthTries: 3 } })
 *   sshd.config({ name: 'sftp', order: 10, options: { AllowGroups: ['sftp', 'wheel'] } })
 *   sshd.config({ name: 'sftp', order: 10, state: 'absent' })
 */
const config = defineModule<SshdConfigParams, WantedDropIn>({
  name: 'sshd.config',
  schema: sshdConfigSchema,
  capabilities: {
    checkMode: true,
    diff: true,
    changes: ['atomic-file'],
    validates: 'sshd -t and sshd -T on a copy of the whole configuration, and a lock-out check, before the drop-in is installed; a new login after the reload',
    notes: 'sshd -t and a lock-out check vet the new configuration before it is installed (check mode reports their verdict), and a new login confirms it after the reload',
  },
  describe: (p) => `sshd drop-in ${dropInPath(p)}${p.state === 'absent' ? ' (absent)' : ''}`,
  resolve: resolveDropIn,
  backends: { el9: backend, linux: backend, nixos: nixosSshd },
});

export const sshd = { config };
