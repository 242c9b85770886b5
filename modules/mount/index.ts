import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Probes } from '../../lib/module/types.ts';
import { parseUnitFiles, parseUnitState, unitFilesProbe, unitStateProbe } from '../systemd/observe.ts';
import { applyMount } from './apply.ts';
import { nixosMount } from './nixos.ts';
import { mountPointProbe, parseMountPoint, type ObservedMount } from './observe.ts';
import { mountSchema, resolveMount, type MountParams, type WantedMount } from './params.ts';
import { mountEffects, planMount, type MountAction } from './plan.ts';

export type { MountParams, MountState } from './params.ts';

const backend: Backend<WantedMount, ObservedMount, MountAction, Probes<'files' | 'mount' | 'automount' | 'point'>> = {
  probes: (w) => ({
    files: { script: unitFilesProbe(w) },
    mount: { script: unitStateProbe(w.scope, w.mountUnit) },
    automount: { script: unitStateProbe(w.scope, w.automountUnit) },
    point: { script: mountPointProbe(w) },
  }),
  parse: (w, outputs) => ({
    files: parseUnitFiles(w, outputs.files),
    mount: parseUnitState(w.scope, w.mountUnit, outputs.mount),
    automount: parseUnitState(w.scope, w.automountUnit, outputs.automount),
    point: parseMountPoint(outputs.point),
  }),
  plan: planMount,
  apply: applyMount,
  effects: mountEffects,
};

/**
 * A file system as a systemd .mount unit (and a .automount unit when asked)
 * in /etc/systemd/system, named after the path; observed with findmnt and
 * the units' state. NFS, bind mounts, tmpfs and any other type mount(8) knows.
 *
 *   mount({ where: '/srv/media', what: 'nas.lan:/export/media', type: 'nfs4', options: ['ro', 'soft'], automount: true })
 *   mount({ where: '/var/cache/build', what: 'tmpfs', type: 'tmpfs', options: ['size=2G', 'mode=0755'] })
 *   mount({ where: '/srv/www', what: '/data/www', options: ['bind'] })
 */
export const mount = defineModule<MountParams, WantedMount>({
  name: 'mount',
  schema: mountSchema,
  capabilities: { checkMode: true, diff: true },
  describe: (p) => `mount ${p.where}${p.state && p.state !== 'mounted' ? ` (${p.state})` : ''}`,
  resolve: resolveMount,
  backends: { el9: backend, linux: backend, nixos: nixosMount },
});
