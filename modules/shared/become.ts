/** What to do when the host refused for want of root, in the same words in every module. */
export const BECOME_HINT = 'set become: true on the task or the play, or connect as root';

/**
 * How hosts refuse an unprivileged probe: EACCES and EPERM ("Permission
 * denied", "Operation not permitted"), polkit and D-Bus policies ("Not
 * authorized"), libsemanage ("policy is not managed or store cannot be
 * accessed"), and tools that say so themselves ("You need to be root",
 * "semanage needs root").
 */
const NEEDS_ROOT = /denied|permission|not permitted|authoriz|not managed|cannot be accessed|needs? (to be )?root|must be root/i;

/** A probe that failed: `<failure>: <reason>`, and the become hint when the reason says root was needed. */
export function probeFailure(failure: string, reason: string): Error {
  return new Error(`${failure}: ${reason}${NEEDS_ROOT.test(reason) ? ` (needs root: ${BECOME_HINT})` : ''}`);
}

/** A change the plan knows only root can make: `<what> needs root: set become: true ...`. */
export function rootNeeded(what: string): Error {
  return new Error(`${what} needs root: ${BECOME_HINT}`);
}
