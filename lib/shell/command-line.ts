import { quote } from './quote.ts';

/**
 * Every script but a batch of probes reaches the host as one argument of one
 * command line: over SSH, sshd runs the login shell with
 * `-c "sh -c '<script>'"`, and Linux refuses an argument longer than
 * MAX_ARG_STRLEN (128 KiB) with E2BIG; past it the host says "Argument list
 * too long", and a much longer command makes sshd drop the connection. A NUL
 * byte cannot be in an argument at all.
 *
 * So a parameter value that goes into a script may take this much of the
 * command line, and all of a task's values together this much; the rest is
 * left for the module's own script text and for a value a script names
 * more than once.
 */
export const MAX_VALUE_BYTES = 16 * 1024;
export const MAX_TASK_VALUES_BYTES = 64 * 1024;

/**
 * The bytes a value takes on the command line sent to the host: quoted once
 * into the script, and the script quoted again into the login shell's
 * command. A quote costs 13 bytes there, most other characters one.
 */
export function commandLineBytes(value: string): number {
  return Buffer.byteLength(quote(quote(value)), 'utf8');
}
