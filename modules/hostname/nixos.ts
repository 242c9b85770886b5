import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import type { NixAttrs } from '../../lib/nixos/value.ts';
import type { WantedHostname } from './params.ts';

/**
 * networking.hostName, which NixOS allows no dots in: a fully qualified
 * name is split into its first label and networking.domain.
 *
 *   hostname({ name: 'web1.example.com' })  →  networking = { domain = "example.com"; hostName = "web1"; };
 */
export const nixosHostname = nixosRenderer<WantedHostname>((w): NixAttrs => {
  const dot = w.name.indexOf('.');
  if (dot < 0) return { networking: { hostName: w.name } };
  return { networking: { hostName: w.name.slice(0, dot), domain: w.name.slice(dot + 1) } };
});
