/**
 * The atomic write both connections share: one command (installScript) that
 * reads the bytes on its standard input, writes them to a temporary file next
 * to the target and renames it over the target. One round trip, with or
 * without sudo, and no staging copy anywhere else on the host.
 */
import { posix } from 'node:path';
import { RemoteCommandError, UsageError } from '../errors.ts';
import { becomeError } from './become.ts';
import { installScript } from './install-script.ts';
import { join } from '../shell/quote.ts';
import type { Connection, WriteFileOptions } from './types.ts';

export interface WriteTransport {
  readonly hostName: string;
  readonly loginUser: string;
  readonly loginIsRoot: boolean;
  run: Connection['run'];
}

export async function writeFileAtomically(transport: WriteTransport, target: string, content: Buffer | string, options: WriteFileOptions): Promise<void> {
  if (!posix.isAbsolute(target)) {
    throw new UsageError(`writeFile on ${transport.hostName}: '${target}' is not an absolute path`);
  }
  const stdin = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const install = installScript({
    target,
    size: stdin.length,
    ...(options.mode !== undefined ? { mode: options.mode } : {}),
    ...(options.owner !== undefined ? { owner: options.owner } : {}),
    ...(options.group !== undefined ? { group: options.group } : {}),
  });
  const script = options.prelude ? join([options.prelude, install]) : install;
  const result = await transport.run(script, { become: options.become ?? false, stdin });
  if (result.code === 0) return;

  const viaSudo = options.become === true && !transport.loginIsRoot;
  const command = `write ${stdin.length} bytes to ${target}${viaSudo ? ' (sudo -n)' : ''}`;
  const sudoError = viaSudo ? becomeError(transport.hostName, transport.loginUser, command, result) : undefined;
  if (sudoError) throw sudoError;
  // The path guard's own words (a refusal, or who the write ran as) say more than a generic hint.
  const refused = /^hostform: (refusing|this ran as)/m.test(result.stderr);
  throw new RemoteCommandError({
    host: transport.hostName,
    command,
    code: result.code,
    stderr: result.stderr,
    ...(refused
      ? {}
      : {
          hint: options.become
            ? `check that ${posix.dirname(target)} exists and that the owner and group exist on ${transport.hostName}`
            : `${posix.dirname(target)} must exist and be writable by ${transport.loginUser}; use become to write as root`,
        }),
  });
}
