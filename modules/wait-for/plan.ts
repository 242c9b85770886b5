import type { Change, PlanContext } from '../../lib/module/types.ts';
import type { ObservedHealth } from './observe.ts';
import { describeHealth, type WantedHealth } from './params.ts';

export type WaitAction = { readonly do: 'wait' };

/**
 * Healthy now: nothing to do. Not healthy: in check mode the gate is skipped
 * with what it saw (check mode changes nothing, so there is nothing to wait
 * for); in apply mode it waits (see apply.ts).
 */
export function planHealth(w: WantedHealth, observed: ObservedHealth, context: PlanContext): Change<WaitAction>[] {
  if (observed.cannotTell) throw new Error(`cannot check ${describeHealth(w)}: ${observed.saw}`);
  if (observed.healthy) return [];
  return [
    {
      summary: `wait up to ${w.timeout} s for ${describeHealth(w)} (now: ${observed.saw})`,
      action: { do: 'wait' },
      ...(context.checkMode ? { uncertain: `not healthy now (${observed.saw}); in apply mode this gate waits up to ${w.timeout} s, after the play's changes and handlers` } : {}),
    },
  ];
}
