import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import type { NixAttrs } from '../../lib/nixos/value.ts';
import type { WantedTimezone } from './params.ts';

/**
 * time.timeZone: NixOS makes /etc/localtime itself.
 *
 *   timezone({ zone: 'Europe/Berlin' })  →  time.timeZone = "Europe/Berlin";
 */
export const nixosTimezone = nixosRenderer<WantedTimezone>((w): NixAttrs => ({ time: { timeZone: w.zone } }));
