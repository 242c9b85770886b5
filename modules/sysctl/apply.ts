import type { ApplyContext, Change } from '../../lib/module/types.ts';
import { join, sh } from '../../lib/shell/quote.ts';
import { normalizeValue, procPath, type WantedSysctl } from './params.ts';
import type { SysctlAction } from './plan.ts';

/**
 * The file first (so a boot keeps what is set now), then each differing
 * parameter written to /proc/sys and read back: the kernel's own message
 * when it refuses a value, and an error when it keeps another one (a value
 * it rounds or clamps), since the next run would report drift again.
 */
export async function applySysctl(w: WantedSysctl, changes: readonly Change<SysctlAction>[], context: ApplyContext): Promise<void> {
  if (changes.some((c) => c.action.do === 'file')) await context.writeFile(w.path, w.content, { mode: 0o644 });
  const runtime = changes.flatMap((c) => (c.action.do === 'runtime' ? [c.action] : []));
  if (runtime.length === 0) return;
  // tee, not the shell's redirection: it prints the kernel's reason (Invalid argument), where dash says only "I/O error".
  const writes = runtime.map(({ key, value }) => sh`printf '%s\\n' ${value} | tee -- ${procPath(key)} >/dev/null || { echo ${`the kernel refused ${key} = ${value}`} >&2; exit 1; }
cat -- ${procPath(key)} | base64 -w0; echo`);
  const result = await context.run(join(writes));
  const readBack = result.stdout.split('\n');
  const kept = runtime.flatMap(({ key, value }, i) => {
    const now = normalizeValue(Buffer.from(readBack[i] ?? '', 'base64').toString('utf8'));
    return now === normalizeValue(value) ? [] : [`${key}: given ${value}, the kernel keeps ${now}`];
  });
  if (kept.length > 0) throw new Error(`the kernel changed the values as it stored them, so they would show as drift on every run: ${kept.join('; ')}. Write the value the kernel keeps`);
}
