import { Skip } from '../../lib/module/skip.ts';
import { nixosRenderer, type NixosUpload } from '../../lib/nixos/renderer.ts';
import { nixosSecretFile, secretName } from '../../lib/nixos/secrets.ts';
import { NixExpr, type NixAttrs, type NixValue } from '../../lib/nixos/value.ts';
import type { WantedGroup, WantedPresentUser, WantedUser } from './params.ts';

const ABSENT_NOTE = (what: 'user' | 'group', name: string) =>
  `on nixos a ${what} is removed by no longer declaring it: NixOS deletes ${what}s it declared before (and with users.mutableUsers = false every ${what} no module declares); remove the task that declares ${name}. Home directories are kept`;

/**
 * A user as NixOS declares one, in users.users.<name>. NixOS needs exactly
 * one of isNormalUser / isSystemUser, and a system user needs a primary
 * group: without `group`, it gets one of its own name (as useradd does on
 * el9), declared in users.groups. A normal user without `group` keeps
 * NixOS' default primary group, `users`.
 *
 * `groups` becomes extraGroups. NixOS concatenates every module's
 * extraGroups, so `append: true` and `false` render the same: the set is
 * exact only as long as no other module adds to it.
 *
 *   user({ name: 'alice', groups: ['wheel'], shell: '/bin/bash', authorizedKeys: ['ssh-ed25519 AAAA... alice@laptop'] })
 *   → users.users.alice = { isNormalUser = true; extraGroups = [ "wheel" ]; shell = pkgs.bashInteractive; openssh.authorizedKeys.keys = [ ... ]; }
 */
export const nixosUser = nixosRenderer<WantedUser>(renderUser, {
  uploads: (wanted) => {
    const upload = wanted.state === 'present' ? passwordHashFile(wanted)?.upload : undefined;
    return upload ? [upload] : [];
  },
});

function renderUser(wanted: WantedUser): NixAttrs {
  if (wanted.state === 'absent') throw new Skip(ABSENT_NOTE('user', wanted.name));
  const hashFile = passwordHashFile(wanted);
  const shell = wanted.shell === undefined ? undefined : nixosShell(wanted.name, wanted.shell);
  const ownGroup = wanted.system && wanted.group === undefined;
  const account: NixAttrs = {
    ...(wanted.system ? { isSystemUser: true } : { isNormalUser: true }),
    uid: wanted.uid,
    group: ownGroup ? wanted.name : wanted.group,
    extraGroups: wanted.groups,
    shell: shell?.value,
    home: wanted.home,
    createHome: wanted.createHome,
    description: wanted.comment,
    hashedPassword: isLock(wanted.passwordHash) ? wanted.passwordHash : undefined,
    hashedPasswordFile: hashFile?.path,
    openssh: wanted.authorizedKeys === undefined ? undefined : { authorizedKeys: { keys: wanted.authorizedKeys } },
  };
  return {
    users: { users: { [wanted.name]: account }, ...(ownGroup ? { groups: { [wanted.name]: {} } } : {}) },
    ...(shell?.program ? { programs: { [shell.program]: { enable: true } } } : {}),
    ...(hashFile?.fragment ?? {}),
  };
}

/**
 * A group in users.groups.<name>. `system` has no NixOS form: NixOS picks a
 * gid from the system range for groups without one either way.
 *
 *   group({ name: 'media', gid: 1500 })  →  users.groups.media = { gid = 1500; }
 */
export const nixosGroup = nixosRenderer<WantedGroup>((wanted): NixAttrs => {
  if (wanted.state === 'absent') throw new Skip(ABSENT_NOTE('group', wanted.name));
  return { users: { groups: { [wanted.name]: { gid: wanted.gid } } } };
});

/** The lock markers, which are no secret, are rendered as hashedPassword (an empty hash is refused earlier, by resolveUser). */
function isLock(hash: string | undefined): hash is string {
  return hash !== undefined && /^[!*]+$/.test(hash);
}

/**
 * A crypt hash in a NixOS module would be readable by everyone (the module
 * file and the Nix store are world-readable) and show in the task's diff,
 * where on el9 it stays in /etc/shadow and is never shown. So it goes to a
 * root-only file out of band (lib/nixos/secrets.ts) and the module names
 * the file, `hashedPasswordFile`, which NixOS reads at activation; a hash
 * kept on the host by agenix or sops-nix (secret.onHost) is named as it is.
 */
function passwordHashFile(wanted: WantedPresentUser): { path: string; upload?: NixosUpload; fragment?: NixAttrs } | undefined {
  if (wanted.passwordHashFile !== undefined) return { path: wanted.passwordHashFile };
  if (wanted.passwordHash === undefined || isLock(wanted.passwordHash)) return undefined;
  return nixosSecretFile(secretName(`user ${wanted.name} password hash`), Buffer.from(wanted.passwordHash, 'utf8'));
}

/** Login shells by the names el9 paths give them; `program` is the NixOS module a shell needs enabled. */
const SHELLS: Readonly<Record<string, { readonly value: NixValue; readonly program?: string }>> = {
  bash: { value: NixExpr.pkgs('bashInteractive') },
  sh: { value: '/bin/sh' },
  zsh: { value: NixExpr.pkgs('zsh'), program: 'zsh' },
  fish: { value: NixExpr.pkgs('fish'), program: 'fish' },
  nologin: { value: '/run/current-system/sw/bin/nologin' },
  false: { value: '/run/current-system/sw/bin/false' },
};

/**
 * NixOS has no /usr/bin or /sbin: an el9 shell path means the shell of
 * that name. Other paths (/run/current-system/sw/bin/..., a store path)
 * are taken as given.
 */
function nixosShell(user: string, path: string): { readonly value: NixValue; readonly program?: string } {
  const fhs = /^\/(?:usr\/)?s?bin\/([^/]+)$/.exec(path);
  if (!fhs) return { value: path };
  const known = SHELLS[fhs[1]!];
  if (known) return known;
  throw new Error(`user ${user}: shell ${path} does not exist on nixos and hostform does not know its package: give it as /run/current-system/sw/bin/${fhs[1]} and install its package`);
}
