import type { ApplyContext, Change } from '../../lib/module/types.ts';
import { join, sh, trusted, type ShellScript } from '../../lib/shell/quote.ts';
import { PRIVATE_TEMP_DIR, privateTempDir } from '../../lib/shell/temp-dir.ts';
import { CONFIG_DIR } from './params.ts';
import type { Fail2banAction } from './plan.ts';

/** Every fail2ban task asks for the same reload; the engine runs it once, after the last of them. */
export const RELOAD_ID = 'fail2ban reload';

type FileAction = Exclude<Fail2banAction, { do: 'reload' }>;

/**
 * Validate the new files together with everything already in /etc/fail2ban,
 * install them, and ask for one reload. A configuration fail2ban-client
 * rejects never reaches /etc/fail2ban.
 */
export async function applyFail2ban(what: string, changes: readonly Change<Fail2banAction>[], context: ApplyContext): Promise<void> {
  const files = changes.map((c) => c.action).filter((a): a is FileAction => a.do !== 'reload');
  if (files.length > 0) await validate(what, files, context);
  // Asked for before the files change, so the host's journal owes the reload from the moment they do.
  context.defer(RELOAD_ID, reloadScript);
  for (const file of files) {
    if (file.do === 'write') await context.writeFile(file.path, file.content, { mode: 0o644 });
    else await context.run(sh`rm -f -- ${file.path}`);
  }
}

async function validate(what: string, files: readonly FileAction[], context: ApplyContext): Promise<void> {
  const result = await context.run(candidateTest(files), { okCodes: ANY_EXIT });
  if (result.code === 0) return;
  const reasons = testErrors(`${result.stdout}\n${result.stderr}`);
  throw new Error(
    `fail2ban-client -t rejected ${what}; nothing was installed:\n  ${reasons.join('\n  ') || `exit code ${result.code}`}\n` +
      '  fix the task parameters (a filter or action the jail names must exist in filter.d/action.d, or be created by an earlier task)',
  );
}

const ANY_EXIT = Array.from({ length: 256 }, (_, code) => code);

/** A copy of the whole configuration directory with the new files in place, tested by fail2ban-client as it would load it. */
export function candidateTest(files: readonly FileAction[]): ShellScript {
  const edits = files.map((f) => {
    const relative = f.path.slice(CONFIG_DIR.length + 1);
    return f.do === 'write' ? sh`printf %s ${Buffer.from(f.content).toString('base64')} | base64 -d >"$tmp"/${relative}` : sh`rm -f -- "$tmp"/${relative}`;
  });
  return sh`${privateTempDir('tmp')}
cp -a ${CONFIG_DIR}/. "$tmp"/ || exit 1
${join(edits)}
fail2ban-client -c "$tmp" -t 2>&1`;
}

/** fail2ban's ERROR lines (and their continuations) without timestamps, naming /etc/fail2ban rather than the temporary copy. */
export function testErrors(output: string): string[] {
  const lines = output.replace(PRIVATE_TEMP_DIR, CONFIG_DIR).split('\n');
  const kept: string[] = [];
  let inError = false;
  for (const line of lines) {
    const logged = /^\d{4}-\d\d-\d\d [\d:,]+ \S+\s+\[\d+\]: (\w+)\s+(.*)$/.exec(line);
    if (logged) {
      inError = logged[1] === 'ERROR' && !/test configuration failed/.test(logged[2] ?? '');
      if (inError) kept.push(logged[2] ?? '');
    } else if (inError && line.trim() !== '') {
      kept.push(line.trim());
    }
  }
  return kept;
}

/**
 * Reload (or start) fail2ban, then wait until `fail2ban-client status <jail>`
 * answers for every jail the configuration enables; name the ones that do not.
 * The reload goes through systemd (its ExecReload is `fail2ban-client
 * reload`), so the unit's timestamp says when fail2ban last read its files
 * (modules/shared/daemon.ts).
 */
const reloadScript = trusted(`if systemctl is-active --quiet fail2ban.service; then systemctl reload fail2ban.service || exit 1
else systemctl start fail2ban.service || exit 1; fi
jails=$(fail2ban-client -d 2>/dev/null | sed -n "s/^\\['add', '\\([^']*\\)'.*/\\1/p")
i=0
while :; do
  missing=''
  for j in $jails; do fail2ban-client status "$j" >/dev/null 2>&1 || missing="$missing $j"; done
  [ -z "$missing" ] && exit 0
  i=$((i + 1)); [ "$i" -ge 75 ] && break
  sleep 0.2
done
echo "fail2ban runs, but these enabled jails did not start:$missing; see fail2ban-client status and /var/log/fail2ban.log" >&2
exit 1`);
