import { HealthGateError } from '../../lib/errors.ts';
import type { ApplyContext, Change } from '../../lib/module/types.ts';
import { sh } from '../../lib/shell/quote.ts';
import { tryScript } from './observe.ts';
import { describeHealth, type WantedHealth } from './params.ts';
import type { WaitAction } from './plan.ts';

/**
 * Try once a second, on the host, until healthy or `timeout` seconds have
 * passed; the whole wait is one round trip. Giving up fails the task with a
 * HealthGateError saying what the last try saw.
 */
export async function applyHealth(w: WantedHealth, _changes: readonly Change<WaitAction>[], context: ApplyContext): Promise<void> {
  const wait = sh`start=$(date +%s)
while :; do
  saw=$(sh -c ${tryScript(w).text}); rc=$?
  waited=$(( $(date +%s) - start ))
  if [ "$rc" = 0 ]; then echo "healthy after $waited s ($saw)"; exit 0; fi
  if [ "$rc" = 2 ] || [ "$waited" -ge ${String(w.timeout)} ]; then echo "$saw"; exit "$rc"; fi
  sleep 1
done`;
  const result = await context.run(wait, { okCodes: [0, 1, 2] });
  const saw = result.stdout.trim().split('\n').pop() ?? '';
  if (result.code === 2) throw new Error(`cannot check ${describeHealth(w)}: ${saw}`);
  if (result.code !== 0) throw new HealthGateError(`health gate ${describeHealth(w)}: still not healthy after ${w.timeout} s (last try: ${saw})`);
}
