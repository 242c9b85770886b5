import { basename } from 'node:path/posix';
import type { ApplyContext, Change, ChangePreview } from '../../lib/module/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { PRIVATE_TEMP_DIR, privateTempDir } from '../../lib/shell/temp-dir.ts';
import { SBIN_PATH } from './observe.ts';
import type { WantedSudoers } from './params.ts';
import type { SudoersAction } from './plan.ts';

/** Exit code of the check when visudo refused the candidate (any other failure is the script's own). */
const REFUSED = 65;

/**
 * `visudo -cf` on a copy in a private temporary directory: a rule visudo
 * refuses never reaches /etc/sudoers.d, where it would break sudo for
 * everyone. After the install, `visudo -c` checks the whole configuration;
 * if that fails, the previous file is put back.
 */
export async function applySudoers(w: WantedSudoers, changes: readonly Change<SudoersAction>[], context: ApplyContext): Promise<void> {
  const action = changes[0]?.action;
  if (!action) return;
  if (action.do === 'remove') {
    await context.run(sh`rm -f -- ${w.path}`);
    return;
  }
  await vet(w.path, action.content, context);
  await context.writeFile(w.path, action.content, { mode: 0o440, owner: 'root', group: 'root' });
  const whole = await context.run(sh`${SBIN_PATH}
visudo -c`, { okCodes: [0, 1] });
  if (whole.code !== 0) {
    if (action.previous === undefined) await context.run(sh`rm -f -- ${w.path}`);
    else await context.writeFile(w.path, action.previous, { mode: 0o440, owner: 'root', group: 'root' });
    throw new Error(`visudo -c refused the sudo configuration with the new ${w.path}, so the previous one was put back:\n  ${(whole.stderr.trim() || whole.stdout.trim()).split('\n').join('\n  ')}`);
  }
}

/** Check mode: visudo's verdict on the candidate, reported with the change. */
export async function previewSudoers(w: WantedSudoers, changes: readonly Change<SudoersAction>[], context: ApplyContext): Promise<ChangePreview | undefined> {
  const action = changes[0]?.action;
  if (action?.do !== 'write') return undefined;
  try {
    await vet(w.path, action.content, context);
  } catch (error) {
    return { summary: 'visudo refuses the new file', detail: (error as Error).message };
  }
  return { summary: 'visudo -cf accepts the new file', detail: '' };
}

async function vet(path: string, content: string, context: ApplyContext): Promise<void> {
  const result = await context.run(candidateCheck(path, content), { okCodes: [0, REFUSED] });
  if (result.code === REFUSED) {
    const reason = result.stdout.trim().replace(new RegExp(`${PRIVATE_TEMP_DIR.source}/[^:\\s]+`, 'g'), path);
    throw new Error(`visudo -cf refused ${path}; nothing was installed and sudo is unchanged:\n  ${reason.split('\n').join('\n  ')}`);
  }
}

export function candidateCheck(path: string, content: string): ShellScript {
  return sh`${SBIN_PATH}
${privateTempDir('tmp')}
printf %s ${Buffer.from(content).toString('base64')} | base64 -d >"$tmp"/${basename(path)} || exit 1
if ! out=$(visudo -cf "$tmp"/${basename(path)} 2>&1); then printf '%s\\n' "$out"; exit ${REFUSED}; fi`;
}
