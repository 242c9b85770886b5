import { defineModule } from '../../lib/module/define.ts';
import type { NixAttrs } from '../../lib/nixos/value.ts';
import { nixosOptions } from './nixos.ts';
import { nixosOptionsSchema, resolveOptions, type NixosOptionsParams } from './params.ts';

export type { NixForced, NixOptionSet, NixOptionValue, NixosOptionsParams, NixPackage } from './params.ts';

/**
 * Any NixOS option, set from a play: for what hostform has no module for
 * (Prometheus, Loki, Tailscale, exporters, system.autoUpgrade, nix.gc).
 * Merged into the play's NixOS module as one block; an option another task
 * of the play sets to another value stops the run before anything changes.
 * Only nixos hosts have it: elsewhere the task is skipped.
 *
 *   nixos.options({ services: { tailscale: { enable: true } }, nix: { gc: { automatic: true, dates: 'weekly' } } })
 *   nixos.options({ services: { prometheus: { exporters: { node: { enable: true, package: { $pkgs: 'prometheus-node-exporter' } } } } } })
 *   nixos.options({ services: { openssh: { settings: { PermitRootLogin: { $force: 'no' } } } } })
 */
const options = defineModule<NixosOptionsParams, NixAttrs>({
  name: 'nixos.options',
  schema: nixosOptionsSchema,
  capabilities: { checkMode: true, diff: true, changes: ['transaction'], validates: 'NixOS evaluates and builds the whole configuration before activating it (a new generation); the host switches back by itself unless a new login confirms', notes: "NixOS checks the options themselves: check mode runs nixos-rebuild dry-activate on a copy of the configuration" },
  describe: (p) => `nixos options ${Object.keys(p).sort().join(', ')}`,
  resolve: resolveOptions,
  backends: { nixos: nixosOptions },
});

export const nixos = { options };
