/**
 * No script hostform runs holds a secret. A script travels to the host as
 * the argument of `sh -c`, where every user of the host can read it (`ps`,
 * /proc/PID/cmdline) for as long as it runs; secrets travel as data on
 * standard input instead (a file's bytes, a command's environment, a
 * password for chpasswd). Modules are written that way; this guard makes it
 * a rule the engine enforces for every value the run read: a script that
 * holds one, as text, shell-quoted or base64-encoded (a file copied into a
 * check script), is refused before it leaves the control machine.
 */
import type { Connection, RunOptions } from '../connection/types.ts';
import type { ShellScript } from '../shell/quote.ts';
import { secretIn } from './scope.ts';

/** Thrown instead of running a script that holds a secret. */
export class SecretOnCommandLineError extends Error {
  override readonly name = 'SecretOnCommandLineError';
}

/** The connection, refusing any script whose text holds a secret of the run. */
export function guardSecrets(connection: Connection): Connection {
  return {
    get hostName() {
      return connection.hostName;
    },
    get loginUser() {
      return connection.loginUser;
    },
    get roundTrips() {
      return connection.roundTrips;
    },
    run: (script: ShellScript, options?: RunOptions) => {
      refuseSecret(script);
      return connection.run(script, options);
    },
    writeFile: (path, content, options) => connection.writeFile(path, content, options),
    close: () => connection.close(),
    hold: (script, options) => {
      refuseSecret(script);
      return connection.hold(script, options);
    },
  };
}

/** Throws when the script's text holds a secret the run has read (see scriptForms). */
export function refuseSecret(script: ShellScript): void {
  const source = secretIn(script.text, scriptForms);
  if (source === undefined) return;
  throw new SecretOnCommandLineError(
    `refused to run a command holding the secret from ${source}: a command line can be read by every user of the host (ps, /proc) while it runs. Secrets reach a host as data, through the parameters that take a Secret (docs/secrets.md); a secret made text with unsafeSecretText() belongs only in a file's content`,
  );
}

/** Base64 of a run of bytes long enough to be no accident. */
const MIN_BASE64_FORM = 8;

/**
 * How a value can appear in a script: as is, single-quoted by quote()
 * (each ' written '\''), and base64-encoded inside a longer text at any of
 * the three offsets a base64 group can start at (the characters that
 * depend only on the value's own bytes).
 */
export function scriptForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const encoded = [0, 1, 2].flatMap((shift) => {
    const whole = bytes.subarray(shift, shift + Math.floor((bytes.length - shift) / 3) * 3);
    const text = whole.toString('base64');
    return text.length >= MIN_BASE64_FORM ? [text] : [];
  });
  return [value, value.replace(/'/g, `'\\''`), ...encoded];
}
