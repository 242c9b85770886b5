/**
 * The atomic write both connections share: upload to a temporary file, then
 * one command (installScript) sets attributes and renames it over the target.
 * Two round trips per file, whether or not sudo is involved.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { RemoteCommandError, UsageError } from '../errors.ts';
import { becomeError } from './become.ts';
import { installScript, temporaryName } from './install-script.ts';
import type { Connection, WriteFileOptions } from './types.ts';

export interface WriteTransport {
  readonly hostName: string;
  readonly loginUser: string;
  readonly loginIsRoot: boolean;
  /** A directory only the login user can use safely for a 0600 staging file (the sudo path). */
  readonly privateTempDir: string;
  /** Create `path` exclusively (fail if it exists) with mode 0600 and write `data`. */
  upload(path: string, data: Buffer): Promise<void>;
  /** Remove a staging file the install command never got to clean up. */
  remove(path: string): Promise<void>;
  run: Connection['run'];
}

export async function writeFileAtomically(
  transport: WriteTransport,
  target: string,
  content: Buffer | string,
  options: WriteFileOptions,
): Promise<void> {
  if (!posix.isAbsolute(target)) {
    throw new UsageError(`writeFile on ${transport.hostName}: '${target}' is not an absolute path`);
  }
  const viaSudo = options.become === true && !transport.loginIsRoot;
  const random = randomBytes(6).toString('hex');
  const staging = viaSudo
    ? posix.join(transport.privateTempDir, `.hostform-${random}`)
    : temporaryName(posix.dirname(target), target, random);
  const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;

  try {
    await transport.upload(staging, data);
  } catch (error) {
    throw new RemoteCommandError({
      host: transport.hostName,
      command: `upload ${data.length} bytes to ${staging}`,
      code: -1,
      stderr: error instanceof Error ? error.message : String(error),
      hint: viaSudo
        ? `${transport.privateTempDir} must be writable by ${transport.loginUser}`
        : `${posix.dirname(target)} must exist and be writable by ${transport.loginUser}; use become to write as root`,
    });
  }

  const script = installScript({
    source: staging,
    target,
    copy: viaSudo,
    ...(options.mode !== undefined ? { mode: options.mode } : {}),
    ...(options.owner !== undefined ? { owner: options.owner } : {}),
    ...(options.group !== undefined ? { group: options.group } : {}),
  });
  const result = await transport.run(script, { become: options.become ?? false });
  if (result.code === 0) return;

  const command = `install ${target} from ${staging}${viaSudo ? ' (sudo -n)' : ''}`;
  if (viaSudo) {
    // If sudo refused, the script that removes the staging file never ran;
    // otherwise the script's trap removed it already and this fails harmlessly.
    await transport.remove(staging).catch(() => undefined);
    const sudoError = becomeError(transport.hostName, transport.loginUser, command, result);
    if (sudoError) throw sudoError;
  }
  throw new RemoteCommandError({
    host: transport.hostName,
    command,
    code: result.code,
    stderr: result.stderr,
    hint: `check that ${posix.dirname(target)} exists and that the owner and group exist on ${transport.hostName}`,
  });
}
