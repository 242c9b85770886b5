import { Skip } from '../../lib/module/skip.ts';
import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import { forced, type NixAttrs, type NixValue } from '../../lib/nixos/value.ts';
import type { ResolvedService, TimerParams, UnitFilesParams } from './params.ts';
import type { SystemdScope } from './scope.ts';
import { literalValue } from './sections.ts';

/**
 * systemd on NixOS. Units are declared, never enabled or started by hand:
 * `wantedBy` makes the links `systemctl enable` would, and nixos-rebuild
 * switch starts, restarts or stops units as their definitions change. The
 * [Install] section of a unit's text is not read by NixOS.
 */

function systemOnly(scope: SystemdScope, what: string): void {
  if (scope.kind === 'user') {
    throw new Skip(
      `${what} of user ${scope.user}: nixos declares user units for every user at once (systemd.user.*), not for one user's manager; declare it in the NixOS configuration or with home-manager`,
    );
  }
}

// ── unit ─────────────────────────────────────────────────────────────────

/**
 * A unit file's text in systemd.units."<name>".text, byte for byte what el9
 * would install. When a package already ships a unit of that name, NixOS
 * installs the text as its drop-in (overrides.conf) instead of replacing it.
 *
 *   unit({ name: 'app.service', sections: {...} })  →  systemd.units."app.service".text = "[Unit]\n...";
 */
export const nixosUnit = nixosRenderer<UnitFilesParams & { readonly name: string }>((r): NixAttrs => {
  systemOnly(r.scope, `unit ${r.name}`);
  const content = r.files[0]?.content ?? null;
  if (content === null) throw new Skip(`on nixos a unit is removed when no module declares it: remove the task that declares ${r.name}`);
  return { systemd: { units: { [r.name]: { text: content } } } };
});

// ── drop-in ──────────────────────────────────────────────────────────────

/** The NixOS option set of each unit type that has one, and the attribute holding its own section. */
const UNIT_TYPES: Readonly<Record<string, { readonly option: string; readonly section: string; readonly config: string }>> = {
  service: { option: 'services', section: 'Service', config: 'serviceConfig' },
  socket: { option: 'sockets', section: 'Socket', config: 'socketConfig' },
  timer: { option: 'timers', section: 'Timer', config: 'timerConfig' },
  path: { option: 'paths', section: 'Path', config: 'pathConfig' },
  slice: { option: 'slices', section: 'Slice', config: 'sliceConfig' },
  target: { option: 'targets', section: 'Unit', config: 'unitConfig' },
};

/**
 * A drop-in becomes settings of the unit's structured options, which NixOS
 * merges with every other module's: `dropIn({ unit: 'nginx.service', ... })`
 * → systemd.services.nginx.serviceConfig. As in a drop-in, a key given once
 * replaces the unit's value (it is forced over other modules' definitions);
 * a key given several times (`ExecStart: ['', '/x']`) is appended, so `''`
 * first still resets the list. Template instances (`app@one.service`) are
 * declared as drop-ins of their template. The drop-in's file name has no
 * NixOS counterpart: all settings of a unit land in one generated file.
 */
export const nixosDropIn = nixosRenderer<UnitFilesParams>((r): NixAttrs => {
  const file = r.files[0]!;
  const unitName = file.file.replace(/\.d\/[^/]+\.conf$/, '');
  systemOnly(r.scope, `drop-in for ${unitName}`);
  if (file.content === null) throw new Skip(`on nixos a drop-in's settings go away when no module declares them: remove the task that declares them for ${unitName}`);
  const dot = unitName.lastIndexOf('.');
  const base = unitName.slice(0, dot);
  const type = UNIT_TYPES[unitName.slice(dot + 1)];
  if (!type) throw new Error(`drop-in for ${unitName}: nixos has no per-name options for ${unitName.slice(dot + 1)} units; change the unit in the NixOS configuration`);

  const settings: Record<string, NixAttrs> = {};
  for (const [section, keys] of parseUnitText(file.content)) {
    const attr = section === 'Unit' ? 'unitConfig' : section === type.section ? type.config : undefined;
    if (attr === undefined) {
      throw new Error(
        section === 'Install'
          ? `drop-in for ${unitName}: nixos does not read [Install]; enable the unit with service({ name: '${unitName}', enabled: true })`
          : `drop-in for ${unitName}: a ${unitName.slice(dot + 1)} unit has no [${section}] section`,
      );
    }
    const values: Record<string, NixValue> = {};
    for (const [key, list] of keys) values[key] = list.length === 1 ? forced(list[0]!) : list;
    settings[attr] = { ...settings[attr], ...values };
  }
  // An instance has no unit file of its own: without asDropin NixOS would write a whole unit for it.
  const instance = /@[^.]+$/.test(base) ? { overrideStrategy: 'asDropin' } : {};
  return { systemd: { [type.option]: { [base]: { ...instance, ...settings } } } };
});

/**
 * Sections of a unit file, each key's values in order. Comments and blank
 * lines are dropped; a line ending in a backslash continues on the next.
 */
export function parseUnitText(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      current = sections.get(header[1]!) ?? new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq <= 0) throw new Error(`not a unit file line: ${JSON.stringify(raw)}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

// ── service ──────────────────────────────────────────────────────────────

/** The target whose wants a unit joins when it is enabled, by unit type (what their [Install] sections say by convention). */
function bootTarget(unit: string): string {
  if (unit.endsWith('.timer')) return 'timers.target';
  if (unit.endsWith('.socket')) return 'sockets.target';
  if (unit.endsWith('.path')) return 'paths.target';
  return 'multi-user.target';
}

/**
 * Whether a unit runs, on NixOS: `enabled: true` (or `state: 'started'`)
 * puts it in the wants of its boot target (systemd.units."<unit>".wantedBy),
 * which both starts it at boot and has nixos-rebuild switch start it now.
 * `masked: true` links it to /dev/null (systemd.units."<unit>".enable =
 * lib.mkForce false, forced so it also masks units other modules declare).
 * systemd.units works for units from NixOS modules, from packages and from
 * unit tasks alike, where systemd.services would redefine the unit.
 *
 *   service({ name: 'nginx', state: 'started', enabled: true })  →  systemd.units."nginx.service".wantedBy = [ "multi-user.target" ];
 */
export const nixosService = nixosRenderer<ResolvedService>((r): NixAttrs => {
  systemOnly(r.scope, `service ${r.unit}`);
  const runs = r.enabled === true || r.state === 'started';
  if (r.masked === true) {
    if (runs) throw new Error(`service ${r.unit}: masked and ${r.enabled === true ? 'enabled' : 'started'} at once; drop one`);
    return { systemd: { units: { [r.unit]: { enable: forced(false) } } } };
  }
  if (runs && r.enabled === false) {
    throw new Skip(`on nixos a unit runs when a target wants it at boot: 'started' but not enabled has no declarative form (systemctl start ${r.unit} starts it until the next switch)`);
  }
  if (runs) return { systemd: { units: { [r.unit]: { wantedBy: [bootTarget(r.unit)] } } } };
  if (r.enabled === false || r.state === 'stopped') {
    throw new Skip('on nixos a unit is stopped and disabled when no module wants it (wantedBy); to keep it from running at all, mask it');
  }
  if (r.state === 'restarted' || r.state === 'reloaded') {
    throw new Skip(`on nixos, nixos-rebuild switch ${r.state === 'reloaded' ? 'reloads or ' : ''}restarts units whose definition changed`);
  }
  throw new Skip('on nixos a unit is unmasked unless a module sets its enable option to false');
});

// ── timer ────────────────────────────────────────────────────────────────

/**
 * A timer and its job as NixOS declares them: systemd.timers.<name>
 * (wanted by timers.target, so it is armed at boot and by the switch) and
 * systemd.services.<name>, whose environment NixOS writes as Environment=
 * lines. NixOS adds its usual PATH (coreutils, findutils, grep, sed,
 * systemd) to the job's environment. NixOS writes these values into the
 * unit as they are, so the literal ones (description, environment,
 * workingDirectory) get their `%` doubled here, as on el9.
 *
 *   timer({ name: 'backup', onCalendar: 'daily', persistent: true, service: { execStart: '/usr/local/bin/backup', user: 'backup' } })
 */
export const nixosTimer = nixosRenderer<{ readonly scope: SystemdScope; readonly spec: TimerParams }>(({ scope, spec: p }): NixAttrs => {
  systemOnly(scope, `timer ${p.name}`);
  const description = literalValue(p.description ?? `${p.name} (hostform timer)`);
  const s = p.service;
  const environment = Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, literalValue(v)]));
  return {
    systemd: {
      timers: {
        [p.name]: {
          description,
          wantedBy: ['timers.target'],
          timerConfig: {
            OnCalendar: p.onCalendar,
            OnBootSec: p.onBootSec,
            OnStartupSec: p.onStartupSec,
            OnActiveSec: p.onActiveSec,
            OnUnitActiveSec: p.onUnitActiveSec,
            OnUnitInactiveSec: p.onUnitInactiveSec,
            Persistent: p.persistent,
            RandomizedDelaySec: p.randomizedDelaySec,
            AccuracySec: p.accuracySec,
          },
        },
      },
      services: {
        [p.name]: {
          description,
          ...(Object.keys(environment).length > 0 ? { environment } : {}),
          serviceConfig: {
            Type: s.type ?? 'oneshot',
            ExecStart: s.execStart,
            User: s.user,
            Group: s.group,
            WorkingDirectory: s.workingDirectory === undefined ? undefined : literalValue(s.workingDirectory),
            ...s.options,
          },
        },
      },
    },
  };
});
