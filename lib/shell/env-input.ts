/**
 * Environment variables for a command, carried on its standard input rather
 * than in its script: a script is an argument of `sh -c`, which every user
 * of the host can read in `ps` and /proc while it runs, and a value given as
 * `env NAME=value` is an argument of `env` as well.
 *
 * The script starts with ENV_FROM_STDIN: it reads a byte count, then that
 * many bytes of `export NAME='value'` lines (each value quoted by quote()),
 * and evaluates them; whatever follows on standard input is the command's
 * own. The variables reach the command alone: the shell's own environment
 * (/proc/PID/environ) is what it started with.
 */
import { named, quote, trusted, type ShellScript } from './quote.ts';

export const ENV_FROM_STDIN: ShellScript = named('environment from standard input', trusted('IFS= read -r hf_n && hf_env=$(head -c "$hf_n") && eval "$hf_env" && unset hf_n hf_env'));

/** What ENV_FROM_STDIN reads: the byte count, a line break, the exports. Names must be variable names (the caller's schema checks them). */
export function environmentInput(env: Readonly<Record<string, string>>): string {
  const exports = Object.entries(env)
    .map(([name, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`environmentInput(): '${name}' is not a variable name`);
      return `export ${name}=${quote(value)}\n`;
    })
    .join('');
  return `${Buffer.byteLength(exports)}\n${exports}`;
}
