import { Skip } from '../../lib/module/skip.ts';
import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import type { NixAttrs } from '../../lib/nixos/value.ts';
import type { SystemdComponent, WantedSystemdConfig } from './params.ts';

/** Where NixOS takes lines for each component's section of its configuration file. */
const OPTION: Readonly<Record<SystemdComponent, (lines: string) => NixAttrs>> = {
  journald: (lines) => ({ services: { journald: { extraConfig: lines } } }),
  logind: (lines) => ({ services: { logind: { extraConfig: lines } } }),
  resolved: (lines) => ({ services: { resolved: { extraConfig: lines } } }),
  timesyncd: (lines) => ({ services: { timesyncd: { extraConfig: lines } } }),
  system: (lines) => ({ systemd: { extraConfig: lines } }),
};

/**
 * The settings as lines of the component's extraConfig, which NixOS
 * appends to the section of the file it generates (so they win over NixOS'
 * own lines above them), and which merges with other modules' lines.
 *
 *   systemdConfig({ component: 'journald', settings: { SystemMaxUse: '500M' } })  →  services.journald.extraConfig = "SystemMaxUse=500M\n";
 */
export const nixosSystemdConfig = nixosRenderer<WantedSystemdConfig>((w): NixAttrs => {
  if (w.content === null) throw new Skip(`on nixos a ${w.component} setting goes back to its default when no module sets it: remove the task that sets it`);
  return OPTION[w.component](w.settings.map(([key, value]) => `${key}=${value}\n`).join(''));
});
