/**
 * Reading a secret's value on the control machine, from the source the
 * playbook named: nothing else is tried when it fails (no fallback value,
 * no empty string), and the error names the source and why.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { MIN_MASKED_LENGTH } from '../errors.ts';
import type { SecretSource } from './secret.ts';

/** A secret could not be read: the run stops before any host is changed. The message names the source. */
export class SecretSourceError extends Error {
  override readonly name = 'SecretSourceError';
}

/** How long a program may take to print a secret (a passphrase prompt included). */
export const SECRET_COMMAND_TIMEOUT_MS = 120_000;

/** Lines of a failed program's stderr a message shows. */
const STDERR_LINES = 3;

/** The value the source holds now; throws SecretSourceError saying what is wrong. */
export function readSource(source: SecretSource, label: string): string {
  const fail = (why: string): never => {
    throw new SecretSourceError(`secret from ${label}: ${why}`);
  };
  const value = read(source, fail);
  if (value === '') fail('the value is empty');
  // Masking works on the value's text: one too short would blank out ordinary words and hide nothing.
  if (value.length < MIN_MASKED_LENGTH) fail(`the value is shorter than ${MIN_MASKED_LENGTH} characters, too short to be masked in what hostform prints`);
  return value;
}

function read(source: SecretSource, fail: (why: string) => never): string {
  switch (source.kind) {
    case 'env': {
      const value = process.env[source.name];
      return value === undefined ? fail('the variable is not set') : value;
    }
    case 'file':
      return trimmed(readPrivateFile(expandHome(source.path), fail), source.exact);
    case 'command': {
      const out = trimmed(runProgram(source.argv, fail), source.exact);
      return source.firstLine ? (out.split(/\r?\n/)[0] ?? '') : out;
    }
    case 'host':
      return fail('hostform never reads a secret that lives on the host, and this parameter needs its value: give it from a source on the control machine (secret.env, secret.file, secret.pass, ...), or use a parameter that takes a file on the host (docs/secrets.md)');
  }
}

/** The file's text, when it is a regular file of the user's own that no one else may read or write. */
function readPrivateFile(path: string, fail: (why: string) => never): string {
  let info;
  try {
    info = statSync(path);
  } catch (error) {
    return fail(`cannot read it: ${describeIoError(error)}`);
  }
  if (!info.isFile()) fail('it is not a regular file');
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) fail(`it belongs to uid ${info.uid}, not to you (${userInfo().username}, uid ${uid}): keep it in a file of your own`);
  const mode = info.mode & 0o777;
  if ((mode & 0o077) !== 0) fail(`group or others have access to it (mode ${mode.toString(8).padStart(4, '0')}): make it yours alone with chmod 600 ${path}`);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    return fail(`cannot read it: ${describeIoError(error)}`);
  }
}

/** What the program printed on stdout; its stdin is the user's (a passphrase prompt), its stderr kept for the message. */
function runProgram(argv: readonly string[], fail: (why: string) => never): string {
  const [program = '', ...args] = argv;
  const result = spawnSync(program, args, { stdio: ['inherit', 'pipe', 'pipe'], timeout: SECRET_COMMAND_TIMEOUT_MS, maxBuffer: 1024 * 1024 });
  const stderr = (result.stderr ?? Buffer.alloc(0)).toString('utf8').trim().split('\n').slice(-STDERR_LINES).join(' / ');
  const said = stderr ? `: ${stderr}` : '';
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail(`${program} is not installed or not on PATH`);
    if (code === 'ETIMEDOUT') fail(`${program} did not finish within ${SECRET_COMMAND_TIMEOUT_MS / 1000} s${said}`);
    fail(`${program} could not run: ${result.error.message}`);
  }
  if (result.signal) fail(`${program} was killed by ${result.signal}${said}`);
  if (result.status !== 0) fail(`${program} exited with code ${result.status}${said}`);
  return result.stdout.toString('utf8');
}

/** One line break at the end dropped, unless the source asked for the exact bytes. */
function trimmed(text: string, exact: boolean): string {
  return exact ? text : text.replace(/\r?\n$/, '');
}

export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

function describeIoError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'permission denied';
    default:
      return e.message;
  }
}
