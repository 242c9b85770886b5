/**
 * The pending-actions journal (issue 14): what a host is owed because a
 * change was applied to it. Handlers notified by applied tasks and deferred
 * actions (daemon-reload, a daemon's reload) are written to a root-only file
 * on the host *before* the change that makes them necessary, and leave it
 * only once they have run. A run cut off anywhere in between (a task that
 * failed, a killed control process, a lost connection) leaves the file
 * behind; the next run reads it in its first round trip, with the facts and
 * the run lock, and runs what it owes before anything else. See
 * docs/reliability.md.
 *
 * Writing it costs no round trip of its own where it can be helped: a write
 * rides in front of the command that makes the change (journalPrelude), and
 * the last write of a run (usually: nothing is owed any more) rides on the
 * run lock's channel when the lock is let go (journalReleaseInput).
 */
import { sh, type ShellScript } from '../shell/quote.ts';
import type { LockHolder } from './run-lock.ts';

/** The journal of a run that can become root; a run that cannot keeps its own under the login user's home. */
export const ROOT_JOURNAL_DIR = '/var/lib/hostform';
export const JOURNAL_FILE = 'pending';
/** The line that ends what the control machine sends the lock's script at release: without it, nothing is written. */
export const RELEASE_END = '@@hostform-journal-end';

/** Which run owed an entry first: shown when a later run finds it. */
export interface OwedBy {
  readonly run: string;
  readonly playbook: string;
  readonly started: string;
  readonly user: string;
  readonly control: string;
}

/** A deferred action's confirm step as data: the undo as a script, and the check by name. */
export interface RecordedConfirm {
  /** Puts back what the asking task changed (run with the action's become). */
  readonly undo: string;
  /** What undo does, for the report. */
  readonly undoes: string;
  /** `fresh-login`: a new login with the run's connection settings must work. */
  readonly check: 'fresh-login';
}

export type JournalEntry =
  | {
      readonly kind: 'deferred';
      readonly id: string;
      /** The action's script, as the module built it (quoted already). */
      readonly script: string;
      readonly become: boolean;
      readonly confirms: readonly RecordedConfirm[];
      readonly owedBy: OwedBy;
    }
  | {
      readonly kind: 'handler';
      /** The play that notified it: a later run runs it with the play of that name when it has one. */
      readonly play: string;
      readonly name: string;
      readonly owedBy: OwedBy;
    };

/** Where a host's journal is and what it held when the run took the lock. */
export interface JournalFound {
  readonly path: string;
  /** In a root-only directory, written by root: its entries may run with become. */
  readonly root: boolean;
  /** The file's bytes, undefined when there is none. */
  readonly text: string | undefined;
}

export function owedBy(holder: LockHolder): OwedBy {
  return { run: holder.run, playbook: holder.playbook, started: holder.started, user: holder.user, control: holder.control };
}

/** `playbook site.ts, run … started … by me@laptop`: who left an entry. */
export function describeOwedBy(o: OwedBy): string {
  return `playbook ${o.playbook}, run ${o.run} started ${o.started} by ${o.user}@${o.control}`;
}

export function journalText(entries: readonly JournalEntry[]): string {
  return `${JSON.stringify({ version: 1, entries }, null, 1)}\n`;
}

/** The entries of a journal file, or an Error saying why it cannot be read. */
export function parseJournal(text: string): JournalEntry[] | Error {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return new Error(`it is not JSON (${(error as Error).message})`);
  }
  const entries = (data as { entries?: unknown })?.entries;
  if ((data as { version?: unknown })?.version !== 1 || !Array.isArray(entries)) return new Error('it is not a version 1 journal');
  const bad = entries.findIndex((e) => !isEntry(e));
  if (bad !== -1) return new Error(`entry ${bad + 1} is not one hostform writes`);
  return entries as JournalEntry[];
}

function isEntry(e: unknown): e is JournalEntry {
  if (typeof e !== 'object' || e === null) return false;
  const o = e as Record<string, unknown>;
  const by = o['owedBy'] as Record<string, unknown> | undefined;
  const owed = typeof by === 'object' && by !== null && ['run', 'playbook', 'started', 'user', 'control'].every((k) => typeof by[k] === 'string');
  if (!owed) return false;
  if (o['kind'] === 'handler') return typeof o['play'] === 'string' && typeof o['name'] === 'string';
  if (o['kind'] !== 'deferred') return false;
  const confirms = o['confirms'];
  return (
    typeof o['id'] === 'string' &&
    typeof o['script'] === 'string' &&
    typeof o['become'] === 'boolean' &&
    Array.isArray(confirms) &&
    confirms.every((c: Record<string, unknown>) => typeof c?.['undo'] === 'string' && typeof c['undoes'] === 'string' && c['check'] === 'fresh-login')
  );
}

/** What tells owed actions apart: a deferred action by its id, a handler by its play and name. */
export type ActionKey = { readonly kind: 'deferred'; readonly id: string } | { readonly kind: 'handler'; readonly play: string; readonly name: string };

/** Two entries stand for the same owed action (a second notify of one handler adds nothing). */
export function sameAction(a: ActionKey, b: ActionKey): boolean {
  if (a.kind === 'handler' && b.kind === 'handler') return a.play === b.play && a.name === b.name;
  return a.kind === 'deferred' && b.kind === 'deferred' && a.id === b.id;
}

/**
 * Shell that replaces the journal at `path` with `entries` (removes it when
 * none are left): a temporary file in the same directory, renamed over it,
 * so a reader finds the old journal or the new one. It stops the script it
 * is put in front of when it fails: a change is never made without its
 * journal entry.
 */
export function journalPrelude(path: string, entries: readonly JournalEntry[]): ShellScript {
  const dir = path.slice(0, path.lastIndexOf('/'));
  const write =
    entries.length === 0
      ? sh`rm -f -- ${path}`
      : sh`umask 077 && mkdir -p -m 0700 -- ${dir} && printf %s ${Buffer.from(journalText(entries)).toString('base64')} | base64 -d >${`${path}.new`} && mv -f -- ${`${path}.new`} ${path}`;
  return sh`(${write}) || { echo ${`hostform: cannot write the pending-actions journal ${path}; nothing was changed`} >&2; exit 1; }`;
}

/** What the lock's script reads on its stdin at release to leave `entries` as the journal. */
export function journalReleaseInput(entries: readonly JournalEntry[]): string {
  const payload = entries.length === 0 ? '' : Buffer.from(journalText(entries)).toString('base64');
  return `${payload}\n${RELEASE_END}\n`;
}

/**
 * Shell functions for the run lock's script (run-lock.ts), as whoever holds
 * the lock. `hostform_journal_read DIR` prints the journal's path and
 * content (base64) on one marked line. `hostform_journal_release DIR` waits
 * for its stdin to close; when what arrived ends with RELEASE_END it
 * replaces the journal with it (an empty payload removes it), else (the
 * control machine died, the connection broke) it leaves the journal alone.
 */
export function journalFunctions(mark: string): string {
  return `hostform_journal_read() {
  j=$1/${JOURNAL_FILE}
  p=$(printf %s "$j" | base64 -w0)
  if [ -f "$j" ]; then echo "${mark} journal $p $(base64 -w0 <"$j")"; else echo "${mark} journal $p"; fi
}
hostform_journal_release() {
  j=$1/${JOURNAL_FILE}
  in=$(cat)
  case $in in *"${RELEASE_END}") ;; *) exit 0 ;; esac
  payload=\${in%%"
"*}
  if [ -z "$payload" ]; then rm -f -- "$j"; exit; fi
  (umask 077 && mkdir -p -m 0700 -- "$1" && printf %s "$payload" | base64 -d >"$j.new" && mv -f -- "$j.new" "$j")
}`;
}

/** The journal's part of the lock script's output (`journal PATH [CONTENT]`, both base64): its path, and its text when there is a file. */
export function parseJournalLine(line: string, root: boolean): JournalFound | undefined {
  const match = /^journal ([A-Za-z0-9+/=]+)(?: ([A-Za-z0-9+/=]*))?$/.exec(line);
  if (!match) return undefined;
  const [, path = '', content] = match;
  return { path: Buffer.from(path, 'base64').toString('utf8'), root, text: content === undefined ? undefined : Buffer.from(content, 'base64').toString('utf8') };
}

/**
 * A host's journal during a run: what it owes now, and what the file on the
 * host says. An entry owed here but not yet there must reach the host before
 * the next command (`beforeNextCommand`); an entry dropped here (it ran) only
 * needs writing eventually, with the next write or at release.
 */
export class HostJournal {
  readonly path: string;
  readonly root: boolean;
  readonly by: OwedBy;
  /** Why the file found could not be read (its entries are lost); undefined when it could, or there was none. */
  readonly unreadable: string | undefined;
  #entries: JournalEntry[];
  /** journalText of the file on the host as far as this run knows. */
  #onHost: string;

  constructor(found: JournalFound, by: OwedBy) {
    const parsed = found.text === undefined ? [] : parseJournal(found.text);
    this.path = found.path;
    this.root = found.root;
    this.by = by;
    this.unreadable = parsed instanceof Error ? parsed.message : undefined;
    this.#entries = parsed instanceof Error ? [] : parsed;
    this.#onHost = found.text === undefined ? journalText([]) : found.text;
  }

  get entries(): readonly JournalEntry[] {
    return this.#entries;
  }

  /** Owe an action (replacing an entry for the same action, whose confirm steps may have grown). */
  put(entry: JournalEntry): void {
    const at = this.#entries.findIndex((e) => sameAction(e, entry));
    if (at === -1) this.#entries.push(entry);
    else this.#entries[at] = entry;
  }

  /** The action ran: it is owed no more. */
  settle(action: ActionKey): void {
    this.#entries = this.#entries.filter((e) => !sameAction(e, action));
  }

  owes(action: ActionKey): boolean {
    return this.#entries.some((e) => sameAction(e, action));
  }

  /**
   * The journal write to put in front of the next command, when something is
   * owed that the host does not know yet; undefined otherwise. Call `written`
   * with its `text` once that command ran.
   */
  beforeNextCommand(): { script: ShellScript; text: string } | undefined {
    const onHost = parseJournal(this.#onHost);
    const known = onHost instanceof Error ? [] : onHost;
    const text = journalText(this.#entries);
    const missing = this.#entries.some((e) => !known.some((k) => JSON.stringify(k) === JSON.stringify(e)));
    return missing ? { script: journalPrelude(this.path, this.#entries), text } : undefined;
  }

  written(text: string): void {
    this.#onHost = text;
  }

  /** What to send the lock's script at release, when the file on the host is not what is owed now. */
  atRelease(): string | undefined {
    return journalText(this.#entries) === this.#onHost ? undefined : journalReleaseInput(this.#entries);
  }
}
