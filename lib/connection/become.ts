/**
 * Privilege escalation through `sudo -n` only: hostform never types a
 * password, so a sudo that asks for one fails at once instead of hanging.
 */
import { RemoteCommandError } from '../errors.ts';
import type { ShellScript } from '../shell/quote.ts';
import type { ExecResult, RunOptions } from './types.ts';

/** The program and arguments that run a script, through sudo when asked and the login user is not root. */
export function scriptArgv(script: ShellScript, options: RunOptions, loginIsRoot: boolean): string[] {
  // `--`: a script is never read as an option of sh, whatever its first word.
  const run = options.scriptOnStdin ? ['sh', '-s'] : ['sh', '-c', '--', script.text];
  return options.become && !loginIsRoot ? ['sudo', '-n', '--', ...run] : run;
}

/** What the script's standard input receives: the script itself (scriptOnStdin), or the caller's bytes. */
export function scriptInput(script: ShellScript, options: RunOptions): string | Buffer | undefined {
  if (!options.scriptOnStdin) return options.stdin;
  if (options.stdin !== undefined) throw new Error('run(): scriptOnStdin and stdin cannot be used together');
  return script.text;
}

export type BecomeFailure = 'password-required' | 'not-allowed' | 'sudo-missing';

/**
 * Why sudo itself refused, or undefined when the script ran. Only meaningful
 * for a result of `run(..., { become: true })` by a non-root login user.
 */
export function becomeFailure(result: ExecResult): BecomeFailure | undefined {
  if (result.code === 127 && /\bsudo: (?:command )?not found/.test(result.stderr)) return 'sudo-missing';
  if (result.code !== 1) return undefined;
  if (/^sudo: (?:a password is required|a terminal is required|no tty present)/m.test(result.stderr)) {
    return 'password-required';
  }
  if (/^(?:sudo: )?\S+ is not in the sudoers file|^Sorry, user \S+ is not allowed to execute/m.test(result.stderr)) {
    return 'not-allowed';
  }
  return undefined;
}

export function becomeFailed(result: ExecResult): boolean {
  return becomeFailure(result) !== undefined;
}

export function becomeFailureMessage(host: string, user: string, failure: BecomeFailure): string {
  switch (failure) {
    case 'password-required':
      return `sudo on ${host} needs a password; hostform only uses passwordless sudo (sudo -n). Add a NOPASSWD rule for ${user} or connect as root.`;
    case 'not-allowed':
      return `${user} may not use sudo on ${host}. Add a NOPASSWD sudoers rule for ${user} or connect as root.`;
    case 'sudo-missing':
      return `sudo is not installed on ${host}, so ${user} cannot become root. Install sudo with a NOPASSWD rule for ${user} or connect as root.`;
  }
}

/** The error the engine throws when a become task could not get root; undefined when sudo was not the problem. */
export function becomeError(
  host: string,
  user: string,
  command: string,
  result: ExecResult,
  task?: string,
): RemoteCommandError | undefined {
  const failure = becomeFailure(result);
  if (failure === undefined) return undefined;
  return new RemoteCommandError({
    host,
    ...(task !== undefined ? { task } : {}),
    command,
    code: result.code,
    stderr: result.stderr,
    hint: becomeFailureMessage(host, user, failure),
  });
}
