/**
 * One hostform run per host at a time (issue 14; issue 17, item 7). Two runs
 * planning against the same host at once each see the other's changes as
 * theirs to make, and both report them.
 *
 * The lock is flock(1) on a file, held by a script that runs as long as the
 * run's connection: Connection.hold() starts it in the same round trip as
 * the facts, it prints the facts, takes the lock, then waits on its stdin.
 * When the run ends, or its control machine dies and the channel closes, the
 * script exits and the kernel lets go of the lock, so a lock is never left
 * behind by a run that is gone. The second run waits up to --lock-timeout
 * seconds on the host, then fails on that host naming who holds the lock.
 *
 * Where: /run/hostform/run.lock when the run can become root (root, or
 * passwordless sudo), else the login user's own /run/user/UID/hostform/run.lock
 * or ~/.cache/hostform/run.lock. Its content says who holds it: `key=value`
 * lines (run, control, user, pid, started, playbook). Anything else that
 * changes a host on hostform's behalf (pull mode) takes the same lock:
 * `flock` on that file, and its holder lines written once it is held.
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Connection, HeldScript } from '../connection/types.ts';
import { factsOf, FACTS_SCRIPT } from '../facts/gather.ts';
import type { Facts } from '../facts/types.ts';
import type { Platform } from '../inventory/types.ts';
import { join, sh, trusted, type ShellScript } from '../shell/quote.ts';
import { journalFunctions, parseJournalLine, ROOT_JOURNAL_DIR, type JournalFound } from './journal.ts';

/** Seconds a run waits for another run's lock on a host before it fails there. */
export const DEFAULT_LOCK_TIMEOUT_SECONDS = 10;
export const ROOT_LOCK_DIR = '/run/hostform';

const MARK = '@@hostform-lock';
const READY = `${MARK} ready`;

/** Who holds a lock, as written into the lock file. */
export interface LockHolder {
  /** Tells the hosts of one run apart from another run's: an inventory naming one machine twice joins its own lock. */
  readonly run: string;
  /** The control machine's host name. */
  readonly control: string;
  readonly user: string;
  readonly pid: number;
  /** ISO 8601. */
  readonly started: string;
  readonly playbook: string;
}

export function newHolder(playbook: string): LockHolder {
  return { run: randomUUID(), control: hostname(), user: userInfo().username, pid: process.pid, started: new Date().toISOString(), playbook };
}

/** The lock file's content: one `key=value` line per field, each value on its one line. */
export function holderText(holder: LockHolder): string {
  return Object.entries(holder)
    .map(([key, value]) => `${key}=${String(value).replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')}`)
    .join('\n');
}

export function parseHolder(text: string): Partial<Record<keyof LockHolder, string>> {
  const holder: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^(run|control|user|pid|started|playbook)=(.*)$/.exec(line);
    if (match) holder[match[1] as string] = match[2] as string;
  }
  return holder;
}

/**
 * hostform_lock DIR HOLDER RUN WAIT JOURNAL: take DIR/run.lock, then wait on
 * stdin. The lock file is written in place, never replaced: a lock is on the
 * file itself, and a new file would be a new lock. Held: prints `acquired`
 * and the pending-actions journal found in JOURNAL (see journal.ts), or
 * `joined` when this run holds it already, then the ready line; at release it
 * writes the journal the run sends on stdin. Busy after WAIT seconds: `busy`
 * and the holder's lines, and exits. Every outcome is one `@@hostform-lock`
 * line, so the control machine never guesses.
 */
const LOCK_FUNCTION = `${journalFunctions(MARK)}
hostform_lock() {
  umask 077
  command -v flock >/dev/null 2>&1 || { echo '${MARK} error flock is not installed (it comes with util-linux)'; exit 0; }
  mkdir -p -m 0700 -- "$1" 2>/dev/null
  lock=$1/run.lock
  (true >>"$lock") 2>/dev/null || { echo "${MARK} error cannot open $lock"; exit 0; }
  exec 9>>"$lock"
  waited=0
  until flock -n 9; do
    if [ "$(sed -n 's/^run=//p' "$lock" 2>/dev/null)" = "$3" ]; then
      echo "${MARK} joined $lock"; echo '${READY}'; exec cat >/dev/null
    fi
    if [ "$waited" -ge "$4" ]; then echo "${MARK} busy $lock"; cat -- "$lock"; exit 0; fi
    waited=$((waited + 1))
    flock -w 1 9 && break
  done
  printf '%s\\n' "$2" >"$lock"
  echo "${MARK} acquired $lock"
  hostform_journal_read "$5"
  echo '${READY}'
  hostform_journal_release "$5"
}`;

/** Take the lock where the run's user can: root's when it can become root, else the user's own. */
export function lockScript(holder: LockHolder, waitSeconds: number): ShellScript {
  const args = [holderText(holder), holder.run, String(waitSeconds)];
  // A user who cannot become root keeps a journal of their own, which survives a reboot as root's does.
  const userJournal = trusted('"${XDG_STATE_HOME:-${HOME:-/nonexistent}/.local/state}/hostform"');
  return sh`${trusted(LOCK_FUNCTION)}
if [ "$(id -u)" = 0 ]; then hostform_lock ${ROOT_LOCK_DIR} ${args} ${ROOT_JOURNAL_DIR}
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
  sudo -n -- sh -c ${`${LOCK_FUNCTION}\nhostform_lock "$@"`} sh ${ROOT_LOCK_DIR} ${args} ${ROOT_JOURNAL_DIR} || echo "${trusted(MARK)} error sudo -n failed (exit $?)"
elif [ -d "/run/user/$(id -u)" ] && [ -w "/run/user/$(id -u)" ]; then hostform_lock "/run/user/$(id -u)/hostform" ${args} ${userJournal}
else hostform_lock "\${HOME:-/nonexistent}/.cache/hostform" ${args} ${userJournal}
fi`;
}

export type LockOutcome =
  /** `journal`: what the host owes from earlier runs; absent when this run joined its own lock. */
  | { readonly kind: 'acquired' | 'joined'; readonly path: string; readonly journal?: JournalFound }
  | { readonly kind: 'busy'; readonly path: string; readonly holder: Partial<Record<keyof LockHolder, string>> }
  | { readonly kind: 'error'; readonly message: string };

/** Split the output of facts + lock script: the facts' part, and what the lock part said (undefined: nothing). */
export function parseLockOutput(stdout: string): { factsText: string; outcome: LockOutcome | undefined } {
  const at = `\n${stdout}`.indexOf(`\n${MARK} `);
  if (at === -1) return { factsText: stdout, outcome: undefined };
  const [line = '', ...rest] = stdout.slice(at).split('\n');
  const [kind = '', ...words] = line.slice(MARK.length + 1).split(' ');
  const detail = words.join(' ');
  const factsText = stdout.slice(0, at);
  if (kind === 'joined') return { factsText, outcome: { kind, path: detail } };
  if (kind === 'acquired') {
    const journalLine = rest.find((l) => l.startsWith(`${MARK} journal `))?.slice(MARK.length + 1);
    const journal = journalLine === undefined ? undefined : parseJournalLine(journalLine, detail === `${ROOT_LOCK_DIR}/run.lock`);
    return { factsText, outcome: { kind, path: detail, ...(journal ? { journal } : {}) } };
  }
  if (kind === 'busy') return { factsText, outcome: { kind, path: detail, holder: parseHolder(rest.join('\n')) } };
  return { factsText, outcome: { kind: 'error', message: kind === 'error' ? detail : line } };
}

/** The host was reached, but the run lock could not be taken there: the host fails (it is not unreachable). */
export class RunLockError extends Error {
  override readonly name: string = 'RunLockError';
}

export interface HostLockedDetails {
  readonly host: string;
  readonly path: string;
  readonly holder: Partial<Record<keyof LockHolder, string>>;
  readonly waitedSeconds: number;
}

/** Another run holds the host's lock: the host fails, naming the holder. */
export class HostLockedError extends RunLockError {
  override readonly name = 'HostLockedError';
  readonly details: HostLockedDetails;

  constructor(
    details: HostLockedDetails,
  ) {
    super(
      `${details.host} is locked by another hostform run (${details.path}): ${describeHolder(details.holder)}; waited ${details.waitedSeconds} s\n` +
        '  try: run again when it has finished, or wait longer with --lock-timeout SECONDS',
    );
    this.details = details;
  }
}

export function describeHolder(h: Partial<Record<keyof LockHolder, string>>): string {
  if (!h.run && !h.started) return 'the holder left no information (a run that is starting, or not hostform)';
  return `playbook ${h.playbook ?? '?'}, started ${h.started ?? '?'} by ${h.user ?? '?'}@${h.control ?? '?'} (pid ${h.pid ?? '?'}, run ${h.run ?? '?'})`;
}

/**
 * Facts and the run lock in one round trip. Resolves with the lock held
 * (release() it when the run ends); throws HostLockedError when another
 * run holds it, or another error when it could not be taken.
 */
export async function lockAndGatherFacts(
  connection: Connection,
  options: { readonly platform?: Platform; readonly holder: LockHolder; readonly waitSeconds: number },
): Promise<{ facts: Facts; lock: HeldScript; journal?: JournalFound }> {
  const held = await connection.hold(join([FACTS_SCRIPT, lockScript(options.holder, options.waitSeconds)]), { ready: READY });
  try {
    const { factsText, outcome } = parseLockOutput(held.stdout);
    const facts = factsOf(connection.hostName, { stdout: factsText, stderr: held.stderr, code: held.code ?? 0 }, options.platform);
    if (outcome?.kind === 'acquired' || outcome?.kind === 'joined') return { facts, lock: held, ...(outcome.journal ? { journal: outcome.journal } : {}) };
    if (outcome?.kind === 'busy') throw new HostLockedError({ host: connection.hostName, path: outcome.path, holder: outcome.holder, waitedSeconds: options.waitSeconds });
    const why = outcome?.kind === 'error' ? outcome.message : held.stderr.trim() || `the lock script ended with exit code ${held.code}`;
    throw new RunLockError(`cannot take the run lock on ${connection.hostName}: ${why}\n  try: hostform needs flock (util-linux) and a writable ${ROOT_LOCK_DIR} (as root) or home directory on the host`);
  } catch (error) {
    await held.release();
    throw error;
  }
}
