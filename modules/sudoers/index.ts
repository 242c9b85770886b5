import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Probes } from '../../lib/module/types.ts';
import { parsePathProbe, pathProbe } from '../file/observe.ts';
import { applySudoers, previewSudoers } from './apply.ts';
import { nixosSudoers } from './nixos.ts';
import { parseSetup, setupProbe, type ObservedSudoers } from './observe.ts';
import { resolveSudoers, sudoersSchema, SUDOERS_DIR, type SudoersParams, type WantedSudoers } from './params.ts';
import { planSudoers, sudoersEffects, type SudoersAction } from './plan.ts';

export type { SudoCommand, SudoersParams, SudoRule, SudoTag } from './params.ts';

const backend: Backend<WantedSudoers, ObservedSudoers, SudoersAction, Probes<'file' | 'setup'>> = {
  probes: (w) => ({ file: { script: pathProbe(w.path) }, setup: { script: setupProbe } }),
  parse: (w, outputs) => ({ file: parsePathProbe(w.path, outputs.file), setup: parseSetup(outputs.setup) }),
  plan: planSudoers,
  apply: applySudoers,
  preview: (w, _observed, changes, context) => previewSudoers(w, changes, context),
  effects: sudoersEffects,
};

/**
 * sudo rules in a file of /etc/sudoers.d (0440, root), checked with
 * `visudo -cf` on a copy before it is installed, so a rule sudo would
 * refuse never reaches the host.
 *
 *   sudoers({ name: 'deploy', rules: [{ users: ['deploy'], commands: [{ command: '/usr/bin/systemctl restart app', options: ['NOPASSWD'] }] }] })
 *   sudoers({ name: 'ops', rules: [{ groups: ['ops'], runAs: 'ALL:ALL', commands: ['ALL'] }] })
 */
export const sudoers = defineModule<SudoersParams, WantedSudoers>({
  name: 'sudoers',
  schema: sudoersSchema,
  capabilities: { checkMode: true, diff: true, notes: 'visudo -cf vets the new file before it is installed; check mode reports its verdict' },
  describe: (p) => `sudoers ${SUDOERS_DIR}/${p.name}${p.state === 'absent' ? ' (absent)' : ''}`,
  resolve: resolveSudoers,
  backends: { el9: backend, linux: backend, nixos: nixosSudoers },
});
