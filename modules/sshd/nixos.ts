import { Skip } from '../../lib/module/skip.ts';
import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import type { NixAttrs, NixValue } from '../../lib/nixos/value.ts';
import { asList } from '../shared/list.ts';
import type { OptionName, SshdOptions } from './options.ts';
import type { WantedDropIn } from './params.ts';

/**
 * Keywords NixOS declares under services.openssh.settings with its own
 * spelling: its duplicate-key assertion compares names without case, so
 * `UseDNS` next to NixOS' `UseDns` would fail evaluation.
 */
const SETTING_NAMES: Partial<Record<OptionName, string>> = { MACs: 'Macs', UseDNS: 'UseDns' };

/** Declared as lists of strings in services.openssh.settings; NixOS joins them itself. */
const LIST_SETTINGS = new Set<OptionName>(['AllowUsers', 'AllowGroups', 'DenyUsers', 'DenyGroups', 'Ciphers', 'MACs', 'KexAlgorithms']);

/** Declared as enums or strings, where hostform takes true/false for yes/no. */
const STRING_SETTINGS = new Set<OptionName>(['PermitRootLogin', 'GatewayPorts']);

/**
 * sshd on NixOS: services.openssh, enabled, with the typed options in
 * `settings` (booleans stay booleans where NixOS declares them so, such as
 * PasswordAuthentication; other keywords are written yes/no by NixOS), Port
 * in `ports`, ListenAddress in `listenAddresses`, AuthorizedKeysFile added
 * to `authorizedKeysFiles` (NixOS' own /etc/ssh/authorized_keys.d/%u stays,
 * so users.users.<name>.openssh keys keep working), and `extra` keywords as
 * lines of `extraConfig`.
 *
 *   sshd.config({ options: { PermitRootLogin: 'prohibit-password', PasswordAuthentication: false, Port: 2222 } })
 *   → services.openssh = { enable = true; ports = [ 2222 ]; settings = { PasswordAuthentication = false; PermitRootLogin = "prohibit-password"; }; }
 */
export const nixosSshd = nixosRenderer<WantedDropIn>((wanted): NixAttrs => {
  const p = wanted.spec;
  if (!wanted.present || p === undefined) {
    throw new Skip('on nixos an sshd setting goes back to its default when no module sets it: remove the task that sets it');
  }
  const options: SshdOptions = p.options ?? {};
  const openssh: Record<string, NixValue> = { enable: true };
  const settings: Record<string, NixValue> = {};
  for (const [name, value] of Object.entries(options) as [OptionName, unknown][]) {
    if (value === undefined) continue;
    switch (name) {
      case 'Port':
        openssh['ports'] = asList(value as number | readonly number[]);
        break;
      case 'ListenAddress':
        openssh['listenAddresses'] = asList(value as string | readonly string[]).map((addr) => ({ addr }));
        break;
      case 'AuthorizedKeysFile':
        openssh['authorizedKeysFiles'] = value as readonly string[];
        break;
      default:
        settings[SETTING_NAMES[name] ?? name] = settingValue(name, value);
    }
  }
  if (Object.keys(settings).length > 0) openssh['settings'] = settings;
  const extra = Object.keys(p.extra ?? {}).sort();
  if (extra.length > 0) openssh['extraConfig'] = extra.map((key) => `${key} ${p.extra?.[key]}\n`).join('');
  return { services: { openssh } };
});

function settingValue(name: OptionName, value: unknown): NixValue {
  if (LIST_SETTINGS.has(name)) return value as readonly string[];
  // Lists NixOS does not declare must be one string: its freeform settings take no lists.
  if (Array.isArray(value)) return value.join(name.endsWith('Algorithms') ? ',' : ' ');
  if (STRING_SETTINGS.has(name) && typeof value === 'boolean') return value ? 'yes' : 'no';
  return value as string | number | boolean;
}
