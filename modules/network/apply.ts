import { ConnectionError, RemoteCommandError } from '../../lib/errors.ts';
import type { ApplyContext, Change, ChangePreview } from '../../lib/module/types.ts';
import { join, sh, type ShellScript } from '../../lib/shell/quote.ts';
import { armSelfRevert, confirmSelfRevert, disarmSelfRevert } from '../../lib/shell/self-revert.ts';
import { assertFreshLogin, loginProbe, parseLogin, type LoginView } from '../sshd/login.ts';
import { canonicalIp, type WantedConnection } from './params.ts';
import type { ConnectionAction } from './plan.ts';

type FreshLogin = NonNullable<ApplyContext['freshLogin']>;

/**
 * Confirm-or-revert. Over SSH, hostform first learns the address its own
 * login arrives at and refuses a change that would take that address off
 * the interface. Then the host arms a timer holding the way back (the
 * previous keyfile, and the profile or addresses and routes that were on the
 * interface); the keyfile is written, NetworkManager reloads and brings the
 * connection up; a brand-new login must then work and the timer must still
 * be waiting, or the change is put back. If hostform cannot reach the host
 * at all any more, nothing confirms and the host puts it back by itself
 * when the timer fires. With `connection: local` nothing can be cut off and
 * nothing is armed.
 */
export async function applyConnection(w: WantedConnection, changes: readonly Change<ConnectionAction>[], context: ApplyContext): Promise<void> {
  const action = changes[0]?.action;
  if (!action) return;
  const freshLogin = context.freshLogin;
  if (freshLogin) {
    refuseCuttingOff(w, action, await loginBefore(freshLogin));
    await context.run(armSelfRevert(w.revertId, undoScript(w, action), w.confirmWithin));
  }
  try {
    if (w.present && action.write) await context.writeFile(w.path, w.content, { mode: 0o600 });
    if (!w.present) await context.run(sh`rm -f -- ${w.path}`);
    await context.run(activateScript(w));
  } catch (error) {
    if (!freshLogin) throw error;
    throw await afterFailure(w, action, error, context);
  }
  if (!freshLogin) return;
  try {
    await assertFreshLogin(freshLogin, `after ${w.name} ${w.present ? 'came up' : 'went away'} on ${w.interface}`);
  } catch (error) {
    throw await afterFailure(w, action, error, context);
  }
  const verdict = (await context.run(confirmSelfRevert(w.revertId))).stdout.trim();
  if (verdict !== 'kept') {
    throw new Error(
      `the change did not hold: hostform could confirm it only after the ${w.confirmWithin} s deadline, and by then the host had put the previous configuration of ${w.interface} back by itself. ` +
        'If the change is right and only slow to come up, raise confirmWithin',
    );
  }
}

/** Put the previous configuration back now if hostform still can, and say what happened. */
async function afterFailure(w: WantedConnection, action: ConnectionAction, error: unknown, context: ApplyContext): Promise<Error> {
  const message = error instanceof Error ? error.message : String(error);
  const byItself = `the host puts the previous configuration of ${w.interface} back by itself ${w.confirmWithin} s after the change was armed`;
  if (error instanceof ConnectionError) {
    return new ConnectionError(`lost the connection to the host while changing ${w.interface} (${message}); ${byItself}`, { cause: error });
  }
  try {
    await context.run(join([undoScript(w, action), disarmSelfRevert(w.revertId)]));
  } catch (undoError) {
    const reason = undoError instanceof Error ? undoError.message : String(undoError);
    return new ConnectionError(`${message}\nhostform could not put the previous configuration back itself (${reason}); ${byItself}`, { cause: error });
  }
  const what = error instanceof RemoteCommandError ? `NetworkManager refused to bring ${w.name} up on ${w.interface}` : message;
  return new Error(`${what}; the previous configuration of ${w.interface} was put back${error instanceof RemoteCommandError ? `:\n${message}` : ''}`, { cause: error });
}

async function loginBefore(freshLogin: FreshLogin): Promise<LoginView> {
  try {
    return parseLogin(await freshLogin(loginProbe));
  } catch (error) {
    throw new Error(`a new SSH login to the host fails already, before any change, so hostform could not confirm a network change; nothing was changed: ${(error as Error).message}`);
  }
}

/**
 * Refused before anything changes: the interface holds the address
 * hostform's login arrives at, and the new configuration would take it off.
 * (DHCP may or may not hand it out again: that case is left to the revert.)
 */
export function refuseCuttingOff(w: WantedConnection, action: ConnectionAction, login: LoginView): void {
  const server = canonicalIp(login.serverAddress);
  const held = action.before.addresses.some((a) => canonicalIp(a.local) === server);
  if (!held) return;
  const ip = server.includes(':') ? w.ipv6 : w.ipv4;
  const kept = w.present && (ip.method === 'auto' || ip.addresses.some((a) => canonicalIp(a.split('/')[0] ?? '') === server));
  if (kept) return;
  throw new Error(
    `hostform's own login arrives at ${login.serverAddress} on ${w.interface}, and ${w.present ? `the new configuration of ${w.name} would take that address off` : `removing ${w.name} would take the interface down`}, ` +
      'so the next run could not reach the host; nothing was changed. To move the host to a new address: add it next to the old one, point the inventory at it, then remove the old one',
  );
}

/** Check mode: the same refusal, reported with the change instead of enforced. */
export async function previewConnection(w: WantedConnection, changes: readonly Change<ConnectionAction>[], context: ApplyContext): Promise<ChangePreview | undefined> {
  const action = changes[0]?.action;
  if (!action || !context.freshLogin) return undefined;
  try {
    refuseCuttingOff(w, action, await loginBefore(context.freshLogin));
  } catch (error) {
    return { summary: 'on the host as it is now, applying would refuse this change', detail: (error as Error).message };
  }
  return { summary: `the change would be confirmed by a new login within ${w.confirmWithin} s, or put back by the host`, detail: '' };
}

/** Reload the profiles; bring ours up (present) or let NetworkManager take the removed one down (absent). */
export function activateScript(w: WantedConnection): ShellScript {
  return w.present ? sh`nmcli connection reload && nmcli --wait 60 connection up uuid ${w.uuid}` : sh`nmcli connection reload`;
}

/**
 * The way back, run by the host's timer (or by hostform when it still can):
 * the previous keyfile, a reload, and the profile that was active; when none
 * with a file of its own was, the device is let go and its addresses and
 * routes put back by hand (NetworkManager then sees it as set up outside).
 */
export function undoScript(w: WantedConnection, action: ConnectionAction): ShellScript {
  const file =
    action.previous === undefined
      ? sh`rm -f -- ${w.path}`
      : sh`(umask 077 && printf %s ${Buffer.from(action.previous).toString('base64')} | base64 -d >${`${w.path}.hostform-revert`}) && mv -f -- ${`${w.path}.hostform-revert`} ${w.path}`;
  const profile = action.before.profile ? sh`nmcli --wait 60 connection up uuid ${action.before.profile}` : sh`false`;
  const addresses = action.before.addresses.map((a) => sh`ip ${a.family === 'inet6' ? '-6' : '-4'} address add ${`${a.local}/${a.prefixlen}`} dev ${w.interface}`);
  const routes = action.before.routes.map(
    (r) =>
      sh`ip ${r.family === 6 ? '-6' : '-4'} route replace ${r.dst}${r.gateway ? sh` via ${r.gateway}` : sh``} dev ${w.interface}${r.metric !== undefined ? sh` metric ${r.metric}` : sh``}${r.prefsrc ? sh` src ${r.prefsrc}` : sh``}`,
  );
  // No exit: the self-revert appends the removal of its own script, and hostform may append the disarm.
  return sh`PATH="$PATH:/usr/sbin:/sbin"
${file}
nmcli connection reload
if ! ${profile}; then
  nmcli device disconnect ${w.interface} 2>/dev/null
  ip address flush dev ${w.interface} scope global
  ${join([...addresses, ...routes, sh`true`], ';')}
fi`;
}
