import { defineModule } from '../../lib/module/define.ts';
import type { Backend, ProbeOutputs, Probes } from '../../lib/module/types.ts';
import { applyFileContexts, applyMode, applyPorts, setsebool } from './apply.ts';
import { modeProbe, parseMode, parseStore, storeProbe, type ObservedMode, type ObservedStore } from './observe.ts';
import {
  booleanSchema,
  fileContextSchema,
  modeSchema,
  portSchema,
  resolveBoolean,
  resolveFileContext,
  resolveMode,
  resolvePort,
  type BooleanParams,
  type FileContextParams,
  type ModeParams,
  type PortParams,
  type ResolvedBoolean,
  type ResolvedFileContext,
  type ResolvedMode,
  type ResolvedPort,
} from './params.ts';
import {
  booleanEffects,
  fileContextEffects,
  onOff,
  planBooleans,
  planFileContext,
  planMode,
  planPorts,
  portEffects,
  type BooleanAction,
  type FileContextAction,
  type ModeAction,
  type PortAction,
} from './plan.ts';

export type { BooleanParams, FileContextParams, FileType, ModeParams, PortParams, PortSpec, Protocol, SelinuxMode } from './params.ts';

const modeBackend: Backend<ResolvedMode, ObservedMode, ModeAction, Probes<'mode'>> = {
  probes: () => ({ mode: { script: modeProbe } }),
  parse: (_r, outputs) => parseMode(outputs.mode.stdout),
  plan: planMode,
  apply: (_r, changes, context) => applyMode(changes, context),
};

/** The policy store, the one probe of the boolean, fileContext and port backends (the engine runs it once per batch). */
const storeObserved = {
  probes: () => ({ store: { script: storeProbe } }),
  parse: (_r: unknown, outputs: ProbeOutputs<Probes<'store'>>) => parseStore(outputs.store),
};

const booleanBackend: Backend<ResolvedBoolean, ObservedStore, BooleanAction, Probes<'store'>> = {
  ...storeObserved,
  plan: planBooleans,
  apply: async (_r, changes, context) => {
    await context.run(setsebool(changes));
  },
  effects: booleanEffects,
  batch: {
    key: () => 'setsebool',
    apply: async (items, context) => {
      await context.run(setsebool(items.flatMap((item) => item.changes)));
    },
  },
};

const fileContextBackend: Backend<ResolvedFileContext, ObservedStore, FileContextAction, Probes<'store'>> = {
  ...storeObserved,
  plan: planFileContext,
  apply: (_r, changes, context) => applyFileContexts(changes, context),
  effects: fileContextEffects,
  batch: {
    key: () => 'semanage import',
    apply: (items, context) => applyFileContexts(items.flatMap((item) => item.changes), context),
  },
};

const portBackend: Backend<ResolvedPort, ObservedStore, PortAction, Probes<'store'>> = {
  ...storeObserved,
  plan: planPorts,
  apply: (_r, changes, context) => applyPorts(changes, context),
  effects: portEffects,
  batch: {
    key: () => 'semanage import',
    apply: (items, context) => applyPorts(items.flatMap((item) => item.changes), context),
  },
};

/**
 * The SELinux mode, now and after reboots.
 *
 *   selinux.mode({ mode: 'enforcing' })
 *
 * Between enforcing and permissive it switches at once (setenforce). To or
 * from disabled it edits /etc/selinux/config and reports "reboot needed".
 * Skipped in containers and where the SELinux tools are missing, unless `required: true`.
 */
const mode = defineModule<ModeParams, ResolvedMode>({
  name: 'selinux.mode',
  schema: modeSchema,
  capabilities: { checkMode: true, diff: true, changes: ['tool-commands', 'atomic-file'], validates: 'none on the host: the config is rendered from the typed mode', notes: 'to or from disabled, only the config changes: the task notes "reboot needed"' },
  describe: (p) => `selinux mode ${p.mode}`,
  resolve: resolveMode,
  backends: { el9: modeBackend, linux: modeBackend },
});

/**
 * SELinux booleans, set at runtime and persistently in one transaction.
 *
 *   selinux.boolean({ values: { httpd_can_network_connect: true, container_manage_cgroup: true } })
 *
 * Skipped where SELinux is disabled, unless `required: true`.
 */
const boolean = defineModule<BooleanParams, ResolvedBoolean>({
  name: 'selinux.boolean',
  schema: booleanSchema,
  capabilities: { checkMode: true, diff: true, changes: ['transaction'], validates: 'setsebool -P commits every boolean in one libsemanage transaction, or none', notes: 'skipped on hosts where SELinux is disabled unless required: true' },
  describe: (p) => `selinux boolean ${Object.entries(p.values ?? {}).map(([k, v]) => `${k}=${onOff(v)}`).join(' ')}`,
  resolve: resolveBoolean,
  backends: { el9: booleanBackend, linux: booleanBackend },
});

/**
 * A `semanage fcontext` mapping, and a relabel of the matching paths when it changed
 * (Ansible's sefcontext leaves that to you: ansible/ansible#33577).
 *
 *   selinux.fileContext({ target: '/srv/www(/.*)?', type: 'httpd_sys_content_t' })
 *   selinux.fileContext({ target: '/srv/app/run\\.sock', type: 'var_run_t', ftype: 'socket', restorecon: false })
 *   selinux.fileContext({ target: '/srv/old(/.*)?', state: 'absent' })
 *
 * Consecutive fileContext tasks apply in one `semanage import` transaction.
 * Skipped where SELinux is disabled, unless `required: true`.
 */
const fileContext = defineModule<FileContextParams, ResolvedFileContext>({
  name: 'selinux.fileContext',
  schema: fileContextSchema,
  capabilities: { checkMode: true, diff: true, changes: ['transaction', 'tool-commands'], validates: 'semanage import commits every mapping in one transaction, or none; then restorecon', notes: 'skipped on hosts where SELinux is disabled unless required: true' },
  describe: (p) => `selinux file context ${p.target}${p.state === 'absent' ? ' (absent)' : p.type ? ` → ${p.type}` : ''}`,
  resolve: resolveFileContext,
  backends: { el9: fileContextBackend, linux: fileContextBackend },
});

/**
 * The SELinux type of network ports (`semanage port`): add, modify where the
 * policy already defines the port, or remove the local mapping.
 *
 *   selinux.port({ ports: ['8443/tcp', '9000-9010/tcp'], type: 'http_port_t' })
 *   selinux.port({ port: 2222, protocol: 'tcp', type: 'ssh_port_t' })
 *   selinux.port({ ports: ['9000-9010/tcp'], state: 'absent' })
 *
 * Consecutive port tasks apply in one `semanage import` transaction.
 * Skipped where SELinux is disabled, unless `required: true`.
 */
const port = defineModule<PortParams, ResolvedPort>({
  name: 'selinux.port',
  schema: portSchema,
  capabilities: { checkMode: true, diff: true, changes: ['transaction'], validates: 'semanage import commits every mapping in one transaction, or none', notes: 'skipped on hosts where SELinux is disabled unless required: true' },
  describe: (p) => `selinux port ${(p.ports ?? [`${p.port}/${p.protocol}`]).join(' ')}${p.state === 'absent' ? ' (absent)' : p.type ? ` → ${p.type}` : ''}`,
  resolve: resolvePort,
  backends: { el9: portBackend, linux: portBackend },
});

/**
 * SELinux on el9 hosts: mode, booleans, file contexts and port types.
 *
 *   selinux.mode({ mode: 'enforcing' })
 *   selinux.boolean({ values: { httpd_can_network_connect: true } })
 *   selinux.fileContext({ target: '/srv/www(/.*)?', type: 'httpd_sys_content_t' })
 *   selinux.port({ ports: ['8443/tcp'], type: 'http_port_t' })
 */
export const selinux = { mode, boolean, fileContext, port };
