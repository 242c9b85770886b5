import { RemoteCommandError } from '../../lib/errors.ts';
import type { ApplyContext } from '../../lib/module/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';

/**
 * One line of `semanage import` input, e.g. `fcontext -a -t httpd_sys_content_t '/srv/www(/.*)?'`.
 * semanage splits these lines on whitespace and strips quotes around words,
 * with no escapes, so a word must hold neither (the schemas refuse both);
 * words are single-quoted the way `semanage export` writes them.
 */
export function importLine(words: readonly string[]): string {
  for (const word of words) {
    if (word === '' || /[\s'"]/.test(word)) throw new Error(`cannot pass ${JSON.stringify(word)} to semanage import: no spaces or quotes allowed`);
  }
  return words.map((w) => (/^[A-Za-z0-9_.:/-]+$/.test(w) ? w : `'${w}'`)).join(' ');
}

/**
 * Apply many customizations in one `semanage import` transaction: one policy
 * rebuild instead of one per mapping, which is what makes per-call semanage
 * take minutes. A failing line aborts the whole transaction. (semanage commits
 * deletions in a transaction of their own, before the rest.)
 */
export async function semanageImport(lines: readonly string[], context: ApplyContext, then?: ShellScript): Promise<void> {
  if (lines.length === 0) return;
  const input = `${lines.join('\n')}\n`;
  const script = then ? sh`semanage import && ${then}` : sh`semanage import`;
  try {
    await context.run(script, { stdin: input });
  } catch (error) {
    if (!(error instanceof RemoteCommandError)) throw error;
    throw new RemoteCommandError({
      ...error.details,
      command: `${script.text} <<'EOF'\n  ${lines.join('\n  ')}\n  EOF`,
      hint: 'nothing of this transaction was committed; fix the line semanage names above (a type, boolean or port it does not know) and run again',
    });
  }
}
