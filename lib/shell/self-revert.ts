/**
 * A change that puts itself back unless hostform confirms it in time: the
 * host-side half of confirm-or-revert, for changes that can cut hostform off
 * (a NixOS switch, a network address, an sshd port). Before the change, arm:
 * the host keeps the undo script in a root-only file and a transient systemd
 * timer that runs it after the deadline. After the change, hostform logs in
 * anew (ApplyContext.freshLogin) and disarms; if it cannot reach the host,
 * nothing disarms and the host reverts by itself, connection or not (the
 * idea of deploy-rs's "magic rollback").
 *
 * The timer is transient: a reboot before the deadline forgets it (the
 * change stays). Ids are fixed by the module (`nixos-switch`, `network-eth0`);
 * arming again replaces an earlier timer of the same id.
 */
import { sh, type ShellScript } from './quote.ts';

export const SELF_REVERT_DIR = '/var/lib/hostform/revert';

const unitOf = (id: string) => `hostform-revert-${id}`;

function checkId(id: string): void {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) throw new Error(`self-revert id '${id}' must be lower-case letters, digits and -`);
}

/**
 * Root script: store `undo` and start a timer that runs it in `deadlineSeconds`
 * (then removes itself). Its output reaches the journal under the unit's name.
 */
export function armSelfRevert(id: string, undo: ShellScript, deadlineSeconds: number): ShellScript {
  checkId(id);
  if (!Number.isInteger(deadlineSeconds) || deadlineSeconds < 5) throw new Error('self-revert deadline: a whole number of seconds, at least 5');
  const unit = unitOf(id);
  const file = `${SELF_REVERT_DIR}/${id}.sh`;
  return sh`set -e
command -v systemd-run >/dev/null || { echo 'hostform: systemd-run is needed to arm a change that reverts itself' >&2; exit 1; }
mkdir -p -m 0700 ${SELF_REVERT_DIR}
systemctl stop ${`${unit}.timer`} ${`${unit}.service`} 2>/dev/null || true
systemctl reset-failed ${`${unit}.timer`} ${`${unit}.service`} 2>/dev/null || true
umask 077
printf '%s\\n' ${undo.text} 'rm -f -- "$0"' >${file}
systemd-run --quiet --unit=${unit} --description=${`hostform: put back ${id} unless confirmed`} --on-active=${`${deadlineSeconds}s`} --timer-property=AccuracySec=1s -- /bin/sh ${file}`;
}

/** Root script: the change is confirmed; stop the timer and forget the undo script. Harmless when nothing is armed. */
export function disarmSelfRevert(id: string): ShellScript {
  checkId(id);
  const unit = unitOf(id);
  return sh`systemctl stop ${`${unit}.timer`} 2>/dev/null || true
systemctl reset-failed ${`${unit}.timer`} ${`${unit}.service`} 2>/dev/null || true
rm -f -- ${`${SELF_REVERT_DIR}/${id}.sh`}`;
}

/** Root script printing `armed` while the timer waits, else `idle`: for a later run to find an undecided change. */
export function selfRevertState(id: string): ShellScript {
  checkId(id);
  return sh`if systemctl is-active --quiet ${`${unitOf(id)}.timer`}; then echo armed; else echo idle; fi`;
}

/**
 * Root script: keep the change unless the host has already put it back,
 * and say which. The timer is stopped first, so it cannot fire after the
 * answer; then `kept` when the undo never started (its script is still
 * there and its service never ran; the script is forgotten), else
 * `reverted` (it ran, is running, or failed part way). Unlike
 * disarmSelfRevert, this tells a change confirmed in time from one whose
 * deadline passed while hostform could not reach the host.
 */
export function confirmSelfRevert(id: string): ShellScript {
  checkId(id);
  const unit = unitOf(id);
  const file = `${SELF_REVERT_DIR}/${id}.sh`;
  return sh`systemctl stop ${`${unit}.timer`} 2>/dev/null || true
started=$(systemctl show -p InactiveExitTimestampMonotonic --value ${`${unit}.service`} 2>/dev/null)
if [ -e ${file} ] && { [ -z "$started" ] || [ "$started" = 0 ]; }; then
  rm -f -- ${file}
  systemctl reset-failed ${`${unit}.timer`} ${`${unit}.service`} 2>/dev/null || true
  echo kept
else echo reverted; fi`;
}
