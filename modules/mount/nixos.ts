import { Skip } from '../../lib/module/skip.ts';
import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import type { NixAttrs } from '../../lib/nixos/value.ts';
import type { WantedMount } from './params.ts';

/**
 * fileSystems."<where>", which NixOS turns into the same mount unit.
 * A bind mount without a type is fsType "none"; automount adds
 * x-systemd.automount and noauto, and 'unmounted' noauto (NixOS mounts
 * what it declares at boot and at switch).
 *
 *   mount({ where: '/srv/media', what: 'nas:/media', type: 'nfs4', options: ['ro'], automount: true })
 *   →  fileSystems."/srv/media" = { device = "nas:/media"; fsType = "nfs4"; options = [ "ro" "x-systemd.automount" "noauto" ]; };
 */
export const nixosMount = nixosRenderer<WantedMount>((w): NixAttrs => {
  if (w.state === 'absent') throw new Skip(`on nixos ${w.where} is unmounted and its unit removed when no module declares it: remove the task that declares it`);
  const fsType = w.type ?? (w.options.includes('bind') || w.options.includes('rbind') ? 'none' : 'auto');
  const extra = [...(w.automount ? ['x-systemd.automount'] : []), ...(w.automount || w.state === 'unmounted' ? ['noauto'] : [])];
  return { fileSystems: { [w.where]: { device: w.what ?? '', fsType, options: [...w.options, ...extra.filter((o) => !w.options.includes(o))] } } };
});
