import { RemoteCommandError } from '../../lib/errors.ts';
import type { ApplyContext, Change } from '../../lib/module/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { CONFIG } from './observe.ts';
import type { BooleanAction, FileContextAction, ModeAction, PortAction } from './plan.ts';

// ── semanage import: one transaction for many mappings ─────────────────

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

// ── mode ─────────────────────────────────────────────────────────────────

/** setenforce now, and the config file for the next boot. */
export async function applyMode(changes: readonly Change<ModeAction>[], context: ApplyContext): Promise<void> {
  for (const { action } of changes) {
    if (action.do === 'setenforce') {
      await context.run(sh`setenforce ${action.enforcing ? 1 : 0}`);
      continue;
    }
    await context.writeFile(CONFIG, action.content, { mode: 0o644 });
    // The new file must carry the config's label, or an enforcing boot cannot read it.
    await context.run(sh`if selinuxenabled; then restorecon ${CONFIG}; fi${action.autorelabel ? sh` && touch /.autorelabel` : sh``}`);
  }
}

// ── boolean ──────────────────────────────────────────────────────────────

/**
 * `setsebool -P a=1 b=0`: runtime and persistent values of all booleans in one
 * libsemanage transaction. Chosen over `semanage import` (the same transaction)
 * because setsebool is C: on the emulated test VM 9-13 s against 80 s, nearly
 * all of it semanage's Python start-up.
 */
export function setsebool(changes: readonly Change<BooleanAction>[]): ShellScript {
  return sh`setsebool -P ${changes.map(({ action }) => `${action.name}=${action.value ? 1 : 0}`)}`;
}

// ── file context ─────────────────────────────────────────────────────────

/** Relabel what exists of the paths; a path not created yet needs nothing. */
function restorecon(paths: readonly string[]): ShellScript | undefined {
  if (paths.length === 0) return undefined;
  return sh`for p in ${[...new Set(paths)]}; do if [ -e "$p" ]; then restorecon -R -- "$p" || exit 1; fi; done`;
}

/** The mappings in one `semanage import` transaction, then the relabels they ask for. */
export async function applyFileContexts(changes: readonly Change<FileContextAction>[], context: ApplyContext): Promise<void> {
  await semanageImport(
    changes.map((c) => importLine(c.action.words)),
    context,
    restorecon(changes.flatMap((c) => c.action.relabel)),
  );
}

// ── port ─────────────────────────────────────────────────────────────────

/** The port mappings in one `semanage import` transaction. */
export async function applyPorts(changes: readonly Change<PortAction>[], context: ApplyContext): Promise<void> {
  await semanageImport(changes.map((c) => importLine(c.action.words)), context);
}
