import { sh, type ShellScript } from '../shell/quote.ts';
import { privateTempDir } from '../shell/temp-dir.ts';

/**
 * `script`, run only once all of its standard input has arrived. When the
 * connection dies while the bytes travel (a killed sshd or control process),
 * the script would otherwise read a short input to its end and act on it: a
 * truncated key list, a password hash cut in two, half a dnf transaction.
 * The input is kept in a private directory (lib/shell/temp-dir.ts: it may
 * hold secrets), its size checked, then fed to the script through a pipe:
 * some tools read `-` only from a pipe (podman secret create).
 */
export function wholeInput(script: ShellScript, input: string | Buffer): ShellScript {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  return sh`${privateTempDir('hf_in')}
cat >"$hf_in/stdin" || exit 1
hf_got=$(stat -c %s -- "$hf_in/stdin")
if [ "$hf_got" != ${size} ]; then echo "hostform: standard input arrived incomplete ($hf_got of "${size}" bytes); nothing was run" >&2; exit 1; fi
cat -- "$hf_in/stdin" | (
${script}
)`;
}
