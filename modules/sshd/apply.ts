import { basename } from 'node:path/posix';
import { installScript } from '../../lib/connection/install-script.ts';
import type { ApplyContext, ChangePreview, DeferredConfirm } from '../../lib/module/types.ts';
import { sh, trusted, type ShellScript } from '../../lib/shell/quote.ts';
import { PRIVATE_TEMP_DIR, privateTempDir } from '../../lib/shell/temp-dir.ts';
import { authorizedKeysFiles, lockoutReasons } from './lockout.ts';
import { assertFreshLogin, connectionSpec, loginProbe, parseLogin, type LoginView } from './login.ts';
import { SBIN_PATH, type SshdSetup } from './observe.ts';
import { DROP_IN_DIR, type Expectation, type WantedDropIn } from './params.ts';
import type { SshdAction } from './plan.ts';

/** Every sshd.config task asks for the same reload; the engine runs it once. */
export const RELOAD_ID = 'sshd reload';

const ANY_EXIT = Array.from({ length: 256 }, (_, code) => code);

/** Separates `sshd -T` from `sshd -T -C <hostform's login>` in the candidate check's output. */
const LOGIN_MARK = '@@hostform-login';

/**
 * Test the whole configuration as it would be, in a temporary copy; refuse
 * one that provably locks hostform's own login out; only then install the
 * drop-in and ask for one reload, which a new login must survive or the
 * drop-in is put back. A drop-in sshd refuses never reaches /etc/ssh, so
 * the running sshd and a later restart are safe.
 */
export async function applyDropIn(w: WantedDropIn, action: SshdAction, context: ApplyContext): Promise<void> {
  await vetCandidate(w, context);
  // The drop-in is in place already: only the reload, vetted like a change (there is nothing older to put back).
  if (action.do === 'reload') return context.defer(RELOAD_ID, reloadScript);
  // Asked for before the drop-in changes, so the host's journal owes the reload from the moment it does.
  context.defer(RELOAD_ID, reloadScript, context.freshLogin ? revertUnlessLoginWorks(w.path, action.previous, context.freshLogin, context) : undefined);
  if (w.present) await context.writeFile(w.path, w.content, { mode: 0o600 });
  else await context.run(sh`rm -f -- ${w.path}`);
}

/**
 * Check mode: the same tests, installing nothing. Their verdict is reported,
 * not enforced: an earlier task of this run (a user, a key file) may change
 * what they depend on. With sshd not installed yet there is nothing to test.
 */
export async function previewDropIn(w: WantedDropIn, setup: SshdSetup, context: ApplyContext): Promise<ChangePreview | undefined> {
  if (setup === 'missing') return undefined;
  try {
    await vetCandidate(w, context);
  } catch (error) {
    return { summary: 'on the host as it is now, applying would refuse this drop-in (fine only if an earlier task of this run changes what the refusal depends on)', detail: (error as Error).message };
  }
  return { summary: `sshd -t accepts the configuration${context.freshLogin ? ", and hostform's own login would still get in" : ''}`, detail: '' };
}

/** Throws, saying why and that nothing was installed, unless the drop-in may be installed. */
async function vetCandidate(w: WantedDropIn, context: ApplyContext): Promise<void> {
  const login = context.freshLogin ? await loginBefore(context.freshLogin) : undefined;
  const result = await context.run(candidateCheck(w, login), { okCodes: ANY_EXIT });
  const [general = '', forLogin] = result.stdout.split(`${LOGIN_MARK}\n`);
  if (result.code !== 0) {
    const reason = withRealPaths(result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`);
    if (forLogin !== undefined) throw new Error(`sshd -T -C ${login ? connectionSpec(login) : ''} failed, so hostform cannot tell whether it could still log in; nothing was installed:\n  ${reason}`);
    throw new Error(`sshd -t refused the configuration with ${basename(w.path)}; nothing was installed and the running sshd is unchanged:\n  ${reason.split('\n').join('\n  ')}`);
  }
  const overridden = overriddenOptions(w.expectations, parseEffective(general));
  if (overridden.length > 0) {
    throw new Error(
      `sshd would not use ${overridden.map((o) => `${o.option} ${o.value} (it would use ${o.actual})`).join(', ')}: ` +
        `a line read before ${w.path} sets them first, and sshd keeps the first value. ` +
        'Remove them from sshd_config (above its Include line) or from drop-ins that sort earlier, or give this task a lower order. Nothing was installed.',
    );
  }
  if (login && forLogin !== undefined) await refuseLockout(w, parseEffective(forLogin), login, context);
}

async function loginBefore(freshLogin: NonNullable<ApplyContext['freshLogin']>): Promise<LoginView> {
  try {
    return parseLogin(await freshLogin(loginProbe));
  } catch (error) {
    throw new Error(
      `a new SSH login to the host fails already, before any change, so hostform cannot prove that a new sshd configuration would still let it in; nothing was installed: ${(error as Error).message}`,
    );
  }
}

/** Throws, with every reason found, when the candidate would turn hostform's login away: from sshd -T -C and the key files on the host. */
async function refuseLockout(w: WantedDropIn, effective: Map<string, string[]>, login: LoginView, context: ApplyContext): Promise<void> {
  const reasons = lockoutReasons(effective, login);
  const files = authorizedKeysFiles(effective, login);
  if (files !== undefined) {
    const holding = files.length > 0 ? (await context.run(keyFilesProbe(files))).stdout.trim() : '';
    if (holding === '') {
      reasons.push(`AuthorizedKeysFile ${effective.get('authorizedkeysfile')?.[0] ?? ''}: ${files.length > 0 ? `none of ${files.join(', ')} holds a key` : 'no file'} for ${login.user}, and hostform logs in with a key`);
    }
  }
  if (reasons.length > 0) {
    throw new Error(
      `with ${basename(w.path)} sshd would turn away hostform's own login (${login.user} from ${login.clientAddress} to ${login.serverAddress} port ${login.serverPort}), ` +
        `so the next run could not reach the host; nothing was installed and the running sshd is unchanged:\n  ${reasons.join('\n  ')}`,
    );
  }
}

/**
 * Which of the files hold at least one key line. Read as root in files the
 * user controls: only regular files, at most 1 MiB of each, and never for
 * long (a file swapped for a FIFO would block a plain read).
 */
function keyFilesProbe(files: readonly string[]): ShellScript {
  return sh`for f in ${files}; do
  if [ -f "$f" ] && timeout 5 head -c 1048576 -- "$f" 2>/dev/null | grep -Eq '^[[:space:]]*[^#[:space:]]'; then printf '%s\n' "$f"; fi
done`;
}

/**
 * After the reload, a new login with the run's settings must work; when it
 * does not, the engine puts every sshd task's previous drop-in back and
 * reloads again.
 */
function revertUnlessLoginWorks(path: string, previous: string | undefined, freshLogin: NonNullable<ApplyContext['freshLogin']>, context: ApplyContext): DeferredConfirm {
  return {
    check: () => assertFreshLogin(freshLogin, 'the new sshd configuration locks hostform out: after the reload'),
    undo: async () => {
      if (previous === undefined) await context.run(sh`rm -f -- ${path}`);
      else await context.writeFile(path, previous, { mode: 0o600 });
    },
    undoes: previous === undefined ? `remove ${path} (it did not exist before)` : `put back the previous ${path}`,
    recorded: { undo: undoScript(path, previous), check: 'fresh-login' },
  };
}

/** The same undo as one script, for a later run that finds the reload owed: the previous bytes written back the one atomic way. */
function undoScript(path: string, previous: string | undefined): ShellScript {
  if (previous === undefined) return sh`rm -f -- ${path}`;
  const bytes = Buffer.from(previous);
  return sh`printf %s ${bytes.toString('base64')} | base64 -d | sh -c ${installScript({ target: path, mode: 0o600, size: bytes.length }).text}`;
}

/**
 * sshd_config with its Include of sshd_config.d pointed at a copy of that
 * directory holding the new drop-in; `sshd -t` on it, then `sshd -T` to read
 * the values sshd would use and, given hostform's login, `sshd -T -C` for
 * the values that apply to that login (Match blocks included).
 */
export function candidateCheck(w: WantedDropIn, login?: LoginView): ShellScript {
  const place = w.present ? sh`printf %s ${Buffer.from(w.content).toString('base64')} | base64 -d >"$tmp/d"/${basename(w.path)}` : sh`:`;
  return sh`${SBIN_PATH}
${privateTempDir('tmp')}
mkdir "$tmp/d" || exit 1
for f in ${DROP_IN_DIR}/*.conf; do
  if [ -e "$f" ] && [ "$f" != ${w.path} ]; then cp -p -- "$f" "$tmp/d/" || exit 1; fi
done
${place}
sed -E "s#^([[:space:]]*[Ii][Nn][Cc][Ll][Uu][Dd][Ee][[:space:]]+)(/etc/ssh/)?sshd_config\\.d/\\*\\.conf#\\1$tmp/d/*.conf#" /etc/ssh/sshd_config >"$tmp/sshd_config" || exit 1
sshd -t -f "$tmp/sshd_config" || exit $?
sshd -T -f "$tmp/sshd_config"${login ? sh` || exit $?
echo ${LOGIN_MARK}
sshd -T -f "$tmp/sshd_config" -C ${connectionSpec(login)}` : sh``}`;
}

/** sshd's messages name the temporary copy; show the files the user knows. */
function withRealPaths(text: string): string {
  return text.replace(new RegExp(`${PRIVATE_TEMP_DIR.source}/d/`, 'g'), `${DROP_IN_DIR}/`).replace(new RegExp(`${PRIVATE_TEMP_DIR.source}/sshd_config`, 'g'), '/etc/ssh/sshd_config');
}

/** `sshd -T` output: keyword → its values, in order (Port and ListenAddress repeat). */
export function parseEffective(output: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    const match = /^(\S+) (.*)$/.exec(line.trim());
    if (!match) continue;
    const [, keyword = '', value = ''] = match;
    values.set(keyword, [...(values.get(keyword) ?? []), value]);
  }
  return values;
}

/** Older sshd prints the old spellings of some values. */
const SAME: Readonly<Record<string, string>> = { 'without-password': 'prohibit-password', DEBUG: 'DEBUG1' };
const canonical = (value: string) => SAME[value] ?? value;

export function overriddenOptions(expectations: readonly Expectation[], effective: ReadonlyMap<string, readonly string[]>): (Expectation & { actual: string })[] {
  return expectations.flatMap((e) => {
    const actual = effective.get(e.keyword)?.[0];
    return actual === undefined || canonical(actual) === canonical(e.value) ? [] : [{ ...e, actual }];
  });
}

/**
 * Reload, never restart: established sessions, hostform's own included, stay
 * up, so the run can still put the previous drop-in back when a new login
 * fails afterwards (sshd -t alone does not prove anyone can log in).
 */
const reloadScript = trusted(`${SBIN_PATH.text}
sshd -t || { echo 'the installed sshd configuration fails sshd -t, so sshd was not reloaded; run sshd -t on the host to see why' >&2; exit 1; }
unit=sshd.service
systemctl cat sshd.service >/dev/null 2>&1 || unit=ssh.service
if systemctl is-active --quiet "$unit"; then systemctl reload "$unit"
else echo "$unit is not running; it reads the new configuration when it starts" >&2; fi`);
