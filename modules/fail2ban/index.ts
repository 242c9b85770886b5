import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Probes } from '../../lib/module/types.ts';
import { parsePathProbe, pathProbe } from '../file/observe.ts';
import { daemonReadProbe, parseDaemonRead } from '../shared/daemon.ts';
import { applyFail2ban } from './apply.ts';
import { nixosDefinition, nixosJail } from './nixos.ts';
import { parseService, serviceProbe, type ObservedDefinition, type ObservedJail } from './observe.ts';
import {
  actionSchema,
  filterSchema,
  jailSchema,
  resolveAction,
  resolveFilter,
  resolveJail,
  type ActionParams,
  type FilterParams,
  type JailParams,
  type WantedDefinition,
  type WantedJail,
} from './params.ts';
import { definitionEffects, jailEffects, planDefinition, planJail, type Fail2banAction } from './plan.ts';

export type { ActionParams, Duration, FilterParams, JailParams } from './params.ts';

const capabilities = {
  checkMode: true,
  diff: true,
  changes: ['atomic-file'],
  validates: 'fail2ban-client -t on a copy of the whole configuration, before the files are installed',
  notes: 'fail2ban-client -t validates the new configuration when it is applied; check mode shows the file diff without validating',
} as const;

const UNIT = ['fail2ban.service'];

const jailBackend: Backend<WantedJail, ObservedJail, Fail2banAction, Probes<'file' | 'service' | 'daemon'>> = {
  probes: (w) => ({ file: { script: pathProbe(w.path) }, service: { script: serviceProbe }, daemon: { script: daemonReadProbe(UNIT, [w.path]) } }),
  parse: (w, outputs) => ({ file: parsePathProbe(w.path, outputs.file), service: parseService(outputs.service), daemon: parseDaemonRead([w.path], outputs.daemon) }),
  plan: planJail,
  apply: (w, changes, context) => applyFail2ban(`jail ${w.name}`, changes, context),
  effects: jailEffects,
  // Jails in a row are tested by fail2ban-client together, in one copy of the configuration.
  batch: {
    key: () => 'fail2ban.jail',
    apply: (items, context) => applyFail2ban(`jails ${items.map((i) => i.params.name).join(', ')}`, items.flatMap((i) => i.changes), context),
  },
};

const definitionBackend: Backend<WantedDefinition, ObservedDefinition, Fail2banAction, Probes<'conf' | 'local' | 'service' | 'daemon'>> = {
  probes: (w) => ({
    conf: { script: pathProbe(w.paths.conf) },
    local: { script: pathProbe(w.paths.local) },
    service: { script: serviceProbe },
    daemon: { script: daemonReadProbe(UNIT, [w.paths.conf, w.paths.local]) },
  }),
  parse: (w, outputs) => ({
    conf: parsePathProbe(w.paths.conf, outputs.conf),
    local: parsePathProbe(w.paths.local, outputs.local),
    service: parseService(outputs.service),
    daemon: parseDaemonRead([w.paths.conf, w.paths.local], outputs.daemon),
  }),
  plan: planDefinition,
  apply: (w, changes, context) => applyFail2ban(`${w.kind} ${w.name}`, changes, context),
  effects: definitionEffects,
  batch: {
    key: (w) => `fail2ban.${w.kind}`,
    apply: (items, context) => applyFail2ban(items.map((i) => `${i.params.kind} ${i.params.name}`).join(', '), items.flatMap((i) => i.changes), context),
  },
};

/**
 * A jail in /etc/fail2ban/jail.d/<name>.local (jail.conf is never edited).
 *
 *   fail2ban.jail({ name: 'sshd', backend: 'systemd', journalmatch: '_SYSTEMD_UNIT=sshd.service', maxretry: 3, bantime: '1h' })
 *   fail2ban.jail({ name: 'nginx-http-auth', port: ['http', 'https'], logpath: '/var/log/nginx/error.log' })
 *   fail2ban.jail({ name: 'old', state: 'absent' })
 */
const jail = defineModule<JailParams, WantedJail>({
  name: 'fail2ban.jail',
  schema: jailSchema,
  capabilities,
  describe: (p) => `fail2ban jail ${p.name}${p.state === 'absent' ? ' (absent)' : ''}`,
  resolve: resolveJail,
  backends: { el9: jailBackend, linux: jailBackend, nixos: nixosJail },
});

/**
 * A filter: filter.d/<name>.conf when new, filter.d/<name>.local when it overrides a packaged one.
 *
 *   fail2ban.filter({ name: 'myapp', failregex: '^Login failed for .* from <HOST>$', datepattern: '^%%Y-%%m-%%d %%H:%%M:%%S' })
 */
const filter = defineModule<FilterParams, WantedDefinition>({
  name: 'fail2ban.filter',
  schema: filterSchema,
  capabilities,
  describe: (p) => `fail2ban filter ${p.name}${p.state === 'absent' ? ' (absent)' : ''}`,
  resolve: resolveFilter,
  backends: { el9: definitionBackend, linux: definitionBackend, nixos: nixosDefinition },
});

/**
 * A ban action: action.d/<name>.conf when new, action.d/<name>.local when it overrides a packaged one.
 *
 *   fail2ban.action({ name: 'log-ban', actionban: 'logger -t fail2ban "ban <ip> in <name>"', actionunban: 'logger -t fail2ban "unban <ip>"' })
 */
const action = defineModule<ActionParams, WantedDefinition>({
  name: 'fail2ban.action',
  schema: actionSchema,
  capabilities,
  describe: (p) => `fail2ban action ${p.name}${p.state === 'absent' ? ' (absent)' : ''}`,
  resolve: resolveAction,
  backends: { el9: definitionBackend, linux: definitionBackend, nixos: nixosDefinition },
});

/** fail2ban jails, filters and actions; every change is validated by `fail2ban-client -t` first and reloads fail2ban once per run. */
export const fail2ban = { jail, filter, action };
