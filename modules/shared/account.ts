import { sh, type ShellScript } from '../../lib/shell/quote.ts';

/**
 * The home directory of an existing user, as a shell expression evaluated on
 * the host: the user database's answer (`getent passwd`, field 6), empty when
 * there is no such user. The one way every module finds a home.
 */
export function homeOf(user: string): ShellScript {
  return sh`"$(getent passwd ${user} | cut -d: -f6)"`;
}

/**
 * Prefix that runs a command as `user`, in the user's runtime directory
 * (XDG_RUNTIME_DIR: their systemd manager's socket, podman's state) when it
 * exists. Before lingering starts the user's manager there is none, and a
 * tool pointed at a runtime directory it cannot create fails, where without
 * one podman picks its own and systemctl says the manager is not running.
 *
 *   sh`${asUser('alice')} systemctl --user start sync.service`
 */
export function asUser(user: string): ShellScript {
  return sh`runuser -u ${user} -- sh -c ${'d=/run/user/$(id -u); if [ -d "$d" ]; then export XDG_RUNTIME_DIR="$d"; else unset XDG_RUNTIME_DIR; fi; exec "$@"'} sh`;
}
