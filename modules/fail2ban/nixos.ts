import { Skip } from '../../lib/module/skip.ts';
import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import type { NixAttrs } from '../../lib/nixos/value.ts';
import { asList } from '../shared/list.ts';
import type { JailSettings, WantedDefinition, WantedJail } from './params.ts';
import { literal } from './render.ts';

/**
 * A jail on NixOS (23.05 or later): services.fail2ban enabled, and the
 * jail's keys in services.fail2ban.jails.<name>.settings, the same keys
 * and values the el9 jail.d file holds; NixOS writes them to jail.local.
 * NixOS' own [DEFAULT] (backend = systemd, its ignoreip, bantime, maxretry,
 * banaction) applies to whatever a jail leaves out.
 *
 *   fail2ban.jail({ name: 'sshd', maxretry: 3, bantime: '1h' })
 *   → services.fail2ban = { enable = true; jails.sshd = { enabled = true; settings = { bantime = "1h"; maxretry = 3; }; }; }
 */
export const nixosJail = nixosRenderer<WantedJail>((wanted): NixAttrs => {
  const p = wanted.spec;
  if (!wanted.present || p === undefined || p.state === 'absent') {
    throw new Skip(`on nixos a jail is gone when no module declares it (NixOS' stock sshd jail is turned off with enabled: false): remove the task that declares ${wanted.name}`);
  }
  return { services: { fail2ban: { enable: true, jails: { [wanted.name]: { enabled: wanted.enabled, settings: jailSettings(p) } } } } };
});

function jailSettings(j: JailSettings): NixAttrs {
  const increment = typeof j.bantimeIncrement === 'object' ? j.bantimeIncrement : undefined;
  return {
    port: j.port === undefined ? undefined : asList(j.port).join(','),
    protocol: j.protocol,
    filter: j.filter,
    backend: j.backend,
    journalmatch: j.journalmatch,
    // NixOS writes values as they are; log paths and addresses are literal, as on el9.
    logpath: multiline('logpath', j.logpath === undefined ? undefined : asList(j.logpath).map(literal)),
    maxretry: j.maxretry,
    findtime: j.findtime,
    bantime: j.bantime,
    'bantime.increment': j.bantimeIncrement === undefined ? undefined : j.bantimeIncrement !== false,
    'bantime.factor': increment?.factor === undefined ? undefined : wholeOrText(increment.factor),
    'bantime.maxtime': increment?.maxtime,
    'bantime.overalljails': increment?.overalljails,
    ignoreip: j.ignoreip?.map(literal).join(' '),
    banaction: j.banaction,
    action: multiline('action', j.action),
    ...j.options,
  };
}

/** Several values of one key: continuation lines, indented as fail2ban's INI reader wants them. */
function multiline(key: string, value: string | readonly string[] | undefined): string | undefined {
  return value === undefined ? undefined : asList(value).join(`\n${' '.repeat(key.length + 3)}`);
}

/** renderNix writes whole numbers only; a factor like 1.5 goes as text, which is how fail2ban reads every value anyway. */
function wholeOrText(n: number): number | string {
  return Number.isSafeInteger(n) ? n : String(n);
}

/**
 * A filter or action on NixOS: its el9 text in
 * environment.etc."fail2ban/filter.d/<name>.local" (or action.d). NixOS
 * links the packaged *.conf files into those directories, so hostform's
 * always takes the .local name, which fail2ban reads after the .conf (or
 * alone, for a new one).
 */
export const nixosDefinition = nixosRenderer<WantedDefinition>((wanted): NixAttrs => {
  if (!wanted.present) throw new Skip(`on nixos a ${wanted.kind} hostform wrote is gone when no module declares it: remove the task that declares ${wanted.name}`);
  return { environment: { etc: { [`fail2ban/${wanted.kind}.d/${wanted.name}.local`]: { text: wanted.content } } } };
});
