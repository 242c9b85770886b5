/**
 * Errors a person must fix before anything runs: a bad playbook, inventory,
 * parameter or command line. The CLI prints the message and exits 64.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface RemoteCommandDetails {
  readonly host: string;
  readonly task?: string;
  /** The command as shown to people (secrets already redacted: see redact()). */
  readonly command: string;
  readonly code: number;
  readonly stderr: string;
  /** What to try, in the user's terms. */
  readonly hint?: string;
}

/** A remote command failed while observing or applying; carries what a person needs to act. */
export class RemoteCommandError extends Error {
  override readonly name = 'RemoteCommandError';
  readonly details: RemoteCommandDetails;

  constructor(
    details: RemoteCommandDetails,
  ) {
    super(RemoteCommandError.describe(details));
    this.details = details;
  }

  static describe(d: RemoteCommandError['details']): string {
    const tail = d.stderr.trim().split('\n').slice(-8).join('\n  ');
    return [
      `${d.task ? `task '${d.task}' ` : ''}on ${d.host}: command failed with exit code ${d.code}`,
      `  command: ${d.command}`,
      tail ? `  stderr: ${tail}` : '  stderr: (empty)',
      d.hint ? `  try: ${d.hint}` : '',
    ]
      .filter(Boolean)
      .join('\n');
  }
}

/** The host could not be reached or logged into; the runner marks the host unreachable. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
}

/**
 * Sensitive values shorter than this are not masked: a '!' password hash or
 * an environment value '1' would blank out ordinary text and hide nothing.
 */
export const MIN_MASKED_LENGTH = 4;

/**
 * The text with every occurrence of each sensitive value replaced by `***`,
 * also as a script carries it inside single quotes (each ' written '\''),
 * for everything shown of a task with sensitive parameters: its commands,
 * the host's output, its errors, its changes.
 */
export function redact(text: string, secrets: readonly string[]): string {
  const forms = secrets.filter((s) => s.length >= MIN_MASKED_LENGTH).flatMap((s) => [s, s.replace(/'/g, `'\\''`)]);
  // Longest first, so a value that contains another is masked whole.
  let out = text;
  for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length)) out = out.split(form).join('***');
  return out;
}
