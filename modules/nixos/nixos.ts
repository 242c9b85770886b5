import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import type { NixAttrs } from '../../lib/nixos/value.ts';

/**
 * The options as given, one block of the play's module. hostform does not
 * know these options, so the engine checks them against what the play's
 * other tasks render (checkConflicts) before anything changes; whether they
 * exist and have the right types, NixOS says (check mode's dry-activate).
 *
 *   nixos.options({ services: { prometheus: { enable: true, port: 9090 } } })
 *   → services = { prometheus = { enable = true; port = 9090; }; };
 */
export const nixosOptions = nixosRenderer<NixAttrs>((options) => options, { checkConflicts: true });
