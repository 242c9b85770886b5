/**
 * Errors as data. Every error a run can meet has a kind (the phase it comes
 * from), a one-line `shortMessage`, a `message` with the whole story, and
 * the fields a machine reads (ErrorRecord): reports print the messages,
 * `--json` carries the record. docs/errors.md lists the kinds and shows
 * what each mistake reads like.
 */

/**
 * The phase an error comes from. Before any host is touched (exit 64):
 * `usage` (the command line), `playbook` (the file could not be loaded),
 * `inventory`, `parameter` (a task's parameters or options), `condition`
 * (a task's `when` threw), `role` (a role threw while building its tasks),
 * `handler` (a notify names no handler), `secret` (a secret's source could
 * not be read). On a host (exit 1): `connection`,
 * `lock` (another run holds the host), `become` (sudo needs a password),
 * `probe` (reading the host's state), `plan`, `remote-command` (a command
 * exited non-zero), `apply` (any other failure while changing the host),
 * `deferred` (a confirm-or-revert action failed), `pending` (an action an
 * earlier run left owed cannot be run), `gate` (a health gate gave up
 * waiting), `internal` (a bug).
 */
export type ErrorKind =
  | 'usage'
  | 'playbook'
  | 'inventory'
  | 'parameter'
  | 'condition'
  | 'role'
  | 'handler'
  | 'secret'
  | 'connection'
  | 'lock'
  | 'become'
  | 'probe'
  | 'plan'
  | 'remote-command'
  | 'apply'
  | 'deferred'
  | 'pending'
  | 'gate'
  | 'internal';

/** Where in a playbook, role or inventory file something was written. `file` is relative to the working directory when inside it. */
export interface SourceLocation {
  readonly file: string;
  /** 1-based; absent when only the file is known (a problem of a whole inventory file). */
  readonly line?: number;
  readonly column?: number;
}

/** `roles/monitoring/index.ts:42`, or the file alone. */
export function formatSource(source: SourceLocation): string {
  return source.line === undefined ? source.file : `${source.file}:${source.line}`;
}

/**
 * An error as `--json` carries it. Only `kind`, `shortMessage` and
 * `message` are always there; the rest when they apply. Every string in it
 * has the task's sensitive values masked (see redact()).
 */
export interface ErrorRecord {
  readonly kind: ErrorKind;
  /** One line: where, what and why — `site.ts:8: task 'motd' on nas: command failed with exit code 1`. */
  readonly shortMessage: string;
  /** The short message and what follows it: the command, its stderr, what to try. */
  readonly message: string;
  /** Where the task was written (or where a role or `when` threw). */
  readonly source?: SourceLocation;
  readonly play?: string;
  /** The host a run-time error happened on. */
  readonly host?: string;
  /** The hosts a problem found before the run was found on, when it depends on the host. */
  readonly hosts?: readonly string[];
  readonly task?: string;
  readonly module?: string;
  readonly role?: string;
  /** Dotted path of the parameter: `service.environment.GREETING`, `argv.0`. */
  readonly parameter?: string;
  /** The value as shown in the message: JSON, cut short, a sensitive value described instead. */
  readonly value?: string;
  /** What the value must be: `must be an absolute path`. */
  readonly expected?: string;
  /** The command as shown to people. */
  readonly command?: string;
  readonly exitCode?: number;
  /** The last lines of the command's stderr (its stdout when stderr was empty). */
  readonly stderr?: string;
  /** What to try, in the user's terms. */
  readonly hint?: string;
  /** Why a connection failed: `refused`, `timeout`, `authentication`, `host-key-unknown`, ... */
  readonly reason?: string;
}

/**
 * Errors a person must fix before anything runs: a bad playbook, inventory,
 * parameter or command line. The CLI prints the message and exits 64.
 */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
  readonly kind: ErrorKind = 'usage';
}

/**
 * Every problem found in the playbook before any host was changed: bad
 * parameters, `when` or a role that threw, a notify naming no handler.
 * One line per problem, each an ErrorRecord for `--json`.
 */
export class PlaybookProblems extends UsageError {
  readonly problems: readonly ErrorRecord[];

  constructor(problems: readonly ErrorRecord[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`the playbook has ${count} (nothing was changed on any host):\n  ${problems.map((p) => p.message.split('\n').join('\n    ')).join('\n  ')}`);
    this.problems = problems;
  }
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

/** Lines of a command's stderr a report shows: the end, where the reason usually is. */
export const STDERR_TAIL_LINES = 8;

/** The last lines of a command's output, trimmed. */
export function stderrTail(stderr: string): string {
  return stderr.trim().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
}

/** A remote command failed while observing or applying; carries what a person needs to act. */
export class RemoteCommandError extends Error {
  override readonly name = 'RemoteCommandError';
  readonly kind: ErrorKind = 'remote-command';
  readonly details: RemoteCommandDetails;
  /** `task 'x' on nas: command failed with exit code 1`. */
  readonly shortMessage: string;

  constructor(details: RemoteCommandDetails) {
    super(RemoteCommandError.describe(details));
    this.details = details;
    this.shortMessage = this.message.split('\n')[0] ?? '';
  }

  static describe(d: RemoteCommandError['details']): string {
    return [`${d.task ? `task '${d.task}' ` : ''}on ${d.host}: ${RemoteCommandError.reason(d)}`, ...RemoteCommandError.detailLines(d)].join('\n');
  }

  /** What went wrong, without who: `command failed with exit code 1`. */
  static reason(d: RemoteCommandDetails): string {
    return `command failed with exit code ${d.code}`;
  }

  /** The indented lines under the first: command, stderr, what to try. */
  static detailLines(d: RemoteCommandDetails): string[] {
    const tail = stderrTail(d.stderr).split('\n').join('\n  ');
    return [`  command: ${d.command}`, tail ? `  stderr: ${tail}` : '  stderr: (empty)', ...(d.hint ? [`  try: ${d.hint}`] : [])];
  }
}

/**
 * A health gate (`waitFor.*`) gave up: what it waited for was not healthy
 * within its time. The message says what it saw last; the host fails, and a
 * rolling run (--serial) counts it against its batch.
 */
export class HealthGateError extends Error {
  override readonly name = 'HealthGateError';
  readonly kind: ErrorKind = 'gate';
}

/** The host could not be reached or logged into; the runner marks the host unreachable. */
export class ConnectionError extends Error {
  override readonly name: string = 'ConnectionError';
  readonly kind: ErrorKind = 'connection';
}

/**
 * The `try:` line of a message written as "what failed\n  try: what to do",
 * the form connection, lock and command errors share.
 */
export function hintOf(message: string): string | undefined {
  const match = /\n\s*try: (.*)$/.exec(message);
  return match?.[1];
}

/**
 * Sensitive values shorter than this are not masked: a '!' password hash or
 * an environment value '1' would blank out ordinary text and hide nothing.
 */
export const MIN_MASKED_LENGTH = 4;

/**
 * The text with every occurrence of each sensitive value replaced by `***`,
 * also as a script carries it inside single quotes (each ' written '\''),
 * and as JSON carries it inside a string (a rendered JSON file in a diff),
 * for everything shown of a task with sensitive parameters: its commands,
 * the host's output, its errors, its changes; and, with every secret a run
 * read, for everything the run prints (lib/secret/mask.ts).
 */
export function redact(text: string, secrets: readonly string[]): string {
  const forms = secrets.filter((s) => s.length >= MIN_MASKED_LENGTH).flatMap((s) => [s, s.replace(/'/g, `'\\''`), JSON.stringify(s).slice(1, -1)]);
  // Longest first, so a value that contains another is masked whole.
  let out = text;
  for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length)) out = out.split(form).join('***');
  return out;
}

/** The record with every string field masked (see redact()): what a task with sensitive values may show. */
export function redactRecord(record: ErrorRecord, secrets: readonly string[]): ErrorRecord {
  if (secrets.length === 0) return record;
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, typeof value === 'string' ? redact(value, secrets) : value])) as unknown as ErrorRecord;
}
