import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import type { NixAttrs } from '../../lib/nixos/value.ts';
import type { WantedSysctl } from './params.ts';

/**
 * boot.kernel.sysctl, which NixOS writes to its own sysctl.d file and
 * applies at switch and boot; whole numbers stay numbers.
 *
 *   sysctl({ settings: { 'net.ipv4.ip_forward': 1 } })  →  boot.kernel.sysctl = { "net.ipv4.ip_forward" = 1; };
 */
export const nixosSysctl = nixosRenderer<WantedSysctl>((w): NixAttrs => ({
  boot: { kernel: { sysctl: Object.fromEntries(w.settings.map(([key, value]) => [key, /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : value])) } },
}));
