/** waitFor: health gates. Each waits on the host until something is healthy, after the play's changes. */
import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Capabilities, Probes } from '../../lib/module/types.ts';
import { applyHealth } from './apply.ts';
import { parseHealth, tryScript, type ObservedHealth } from './observe.ts';
import {
  describeHealth,
  httpSchema,
  resolveHttp,
  resolveTcp,
  resolveUnitActive,
  tcpSchema,
  unitActiveSchema,
  type HttpParams,
  type TcpParams,
  type UnitActiveParams,
  type WantedHealth,
} from './params.ts';
import { planHealth, type WaitAction } from './plan.ts';

export type { HttpParams as WaitForHttpParams, TcpParams as WaitForTcpParams, UnitActiveParams as WaitForUnitActiveParams } from './params.ts';

const gate: Backend<WantedHealth, ObservedHealth, WaitAction, Probes<'health'>> = {
  probes: (w) => ({ health: { script: tryScript(w) } }),
  parse: (_w, outputs) => parseHealth(outputs.health),
  plan: planHealth,
  apply: applyHealth,
};

const capabilities: Capabilities = {
  checkMode: true,
  diff: true,
  changes: [],
  validates: 'none: a health gate changes nothing on the host, it only reads',
  gate: true,
  notes: "a health gate: runs last in its play, after the handlers; check mode tries once and does not wait",
};

const backends = { el9: gate, linux: gate, nixos: gate };

/**
 * Health gates: a play's last steps, run after its changes and handlers, that
 * wait until something on the host is healthy, and fail the host when it does
 * not get there in time. With `play --serial`, a batch whose gates fail stops
 * the rollout before the next batch.
 *
 *   waitFor.http({ url: 'http://127.0.0.1:8080/health', status: 200, timeout: 30 })
 *   waitFor.tcp({ port: 5432 })
 *   waitFor.unitActive({ unit: 'nginx' })
 */
export const waitFor = {
  /** Until a request from the host answers with the status wanted (curl on the host). */
  http: defineModule<HttpParams, WantedHealth>({
    name: 'waitFor.http',
    schema: httpSchema,
    capabilities,
    describe: (p) => `wait for ${describeHealth(resolveHttp(p))}`,
    resolve: resolveHttp,
    backends,
  }),
  /** Until a TCP port accepts a connection from the host (bash's /dev/tcp). */
  tcp: defineModule<TcpParams, WantedHealth>({
    name: 'waitFor.tcp',
    schema: tcpSchema,
    capabilities,
    describe: (p) => `wait for ${describeHealth(resolveTcp(p))}`,
    resolve: resolveTcp,
    backends,
  }),
  /** Until a system unit is active (`systemctl is-active`). */
  unitActive: defineModule<UnitActiveParams, WantedHealth>({
    name: 'waitFor.unitActive',
    schema: unitActiveSchema,
    capabilities,
    describe: (p) => `wait for ${describeHealth(resolveUnitActive(p))}`,
    resolve: resolveUnitActive,
    backends,
  }),
};
