import { basename } from 'node:path/posix';
import type { ApplyContext } from '../../lib/module/types.ts';
import { sh, trusted, type ShellScript } from '../../lib/shell/quote.ts';
import { PRIVATE_TEMP_DIR, privateTempDir } from '../../lib/shell/temp-dir.ts';
import { SBIN_PATH } from './observe.ts';
import { DROP_IN_DIR, type Expectation, type WantedDropIn } from './params.ts';

/** Every sshd.config task asks for the same reload; the engine runs it once. */
export const RELOAD_ID = 'sshd reload';

const ANY_EXIT = Array.from({ length: 256 }, (_, code) => code);

/**
 * Test the whole configuration as it would be, in a temporary copy; only
 * then install the drop-in and ask for one reload. A drop-in sshd refuses
 * never reaches /etc/ssh, so the running sshd and a later restart are safe.
 */
export async function applyDropIn(w: WantedDropIn, context: ApplyContext): Promise<void> {
  const result = await context.run(candidateCheck(w), { okCodes: ANY_EXIT });
  if (result.code !== 0) {
    const reason = withRealPaths(result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`);
    throw new Error(`sshd -t refused the configuration with ${basename(w.path)}; nothing was installed and the running sshd is unchanged:\n  ${reason.split('\n').join('\n  ')}`);
  }
  const overridden = overriddenOptions(w.expectations, parseEffective(result.stdout));
  if (overridden.length > 0) {
    throw new Error(
      `sshd would not use ${overridden.map((o) => `${o.option} ${o.value} (it would use ${o.actual})`).join(', ')}: ` +
        `a line read before ${w.path} sets them first, and sshd keeps the first value. ` +
        'Remove them from sshd_config (above its Include line) or from drop-ins that sort earlier, or give this task a lower order. Nothing was installed.',
    );
  }
  if (w.present) await context.writeFile(w.path, w.content, { mode: 0o600 });
  else await context.run(sh`rm -f -- ${w.path}`);
  context.defer(RELOAD_ID, reloadScript);
}

/**
 * sshd_config with its Include of sshd_config.d pointed at a copy of that
 * directory holding the new drop-in; `sshd -t` on it, then `sshd -T` to read
 * the values sshd would use.
 */
export function candidateCheck(w: WantedDropIn): ShellScript {
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
sshd -T -f "$tmp/sshd_config"`;
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

/** Reload, never restart: established sessions stay, and a reload of a config that passed sshd -t cannot lock anyone out. */
const reloadScript = trusted(`${SBIN_PATH.text}
sshd -t || { echo 'the installed sshd configuration fails sshd -t, so sshd was not reloaded; run sshd -t on the host to see why' >&2; exit 1; }
unit=sshd.service
systemctl cat sshd.service >/dev/null 2>&1 || unit=ssh.service
if systemctl is-active --quiet "$unit"; then systemctl reload "$unit"
else echo "$unit is not running; it reads the new configuration when it starts" >&2; fi`);
