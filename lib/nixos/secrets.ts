/**
 * Secrets on NixOS stay out of the Nix store. Everything a NixOS module
 * holds ends up in /nix/store, which every user (and every process) can
 * read; so a task that carries a secret renders only the secret's *path*,
 * and its step writes the value there out of band, over the connection, the
 * way colmena's `deployment.keys` does: into /var/lib/hostform/secrets
 * (root's, 0711: no listing; each file with its own owner, group and mode,
 * 0400 root by default), by the atomic writer, before the play's switch.
 * /var/lib persists, so the secret is there at boot too.
 *
 * Each secret also gets a unit, `hostform-secret-<name>.service`, that
 * succeeds only when the file is there: a service that needs the secret
 * orders itself after it (`after` and `requires`). A secret managed by
 * agenix or sops-nix is no business of hostform's: a task takes its path
 * (`secret.onHost('/run/agenix/x')`) and renders that.
 */
import { secretContentDiff } from '../diff.ts';
import type { ApplyContext, Change, ProbeOutputs, ProbeSet } from '../module/types.ts';
import { sh } from '../shell/quote.ts';
import type { NixosUpload } from './renderer.ts';
import { NixExpr, type NixAttrs } from './value.ts';

export const NIXOS_SECRETS_DIR = '/var/lib/hostform/secrets';

/** A secret file's name from what it is for: `/etc/app/token` → `etc-app-token`, `user alice password` → `user-alice-password`. */
export function secretName(what: string): string {
  const name = what
    .replace(/^\/+/, '')
    .replace(/[^A-Za-z0-9_.]+/g, '-')
    .replace(/^[-.]+|-+$/g, '');
  return name || 'secret';
}

/** The unit that is active only while the secret's file is in place: order after it. */
export function secretUnit(name: string): string {
  return `hostform-secret-${name}.service`;
}

/**
 * One secret for a NixOS host: the file to write out of band and the
 * options that declare its directory and its unit (and, with `link`, a
 * symlink to it made at activation by systemd-tmpfiles). The fragment
 * holds paths and names only, never the value.
 */
export function nixosSecretFile(
  name: string,
  content: Buffer,
  options: { readonly owner?: string; readonly group?: string; readonly mode?: string; readonly link?: string } = {},
): { readonly path: string; readonly upload: NixosUpload; readonly fragment: NixAttrs } {
  const path = `${NIXOS_SECRETS_DIR}/${name}`;
  const unit = secretUnit(name).slice(0, -'.service'.length);
  return {
    path,
    upload: { path, content, mode: options.mode ?? '0400', owner: options.owner ?? 'root', group: options.group ?? 'root' },
    fragment: {
      systemd: {
        tmpfiles: {
          settings: { 'hostform-secrets': { [NIXOS_SECRETS_DIR]: { d: { mode: '0711', user: 'root', group: 'root' } } } },
          ...(options.link !== undefined ? { rules: [`L+ ${tmpfilesPath(options.link)} - - - - ${path}`] } : {}),
        },
        services: {
          [unit]: {
            description: `hostform secret ${path} is in place`,
            wantedBy: ['multi-user.target'],
            serviceConfig: {
              Type: 'oneshot',
              RemainAfterExit: true,
              // The name is made of [A-Za-z0-9_.-] only (secretName): nothing in it needs escaping.
              ExecStart: NixExpr.trusted(`"\${pkgs.coreutils}/bin/test -s ${path}"`),
            },
          },
        },
      },
    },
  };
}

/** A path as a tmpfiles.d field: specifiers doubled, backslash and blanks escaped. */
function tmpfilesPath(path: string): string {
  return path.replace(/%/g, '%%').replace(/\\/g, '\\\\').replace(/ /g, '\\x20').replace(/\t/g, '\\t');
}

// ── the upload step, part of the task's block step (backends.ts) ─────────

/** What is at an upload's path: its mode, owner, group and sha256; absent when no regular file is there. */
export type ObservedUpload = { readonly present: false } | { readonly present: true; readonly mode: string; readonly owner: string; readonly group: string; readonly sha256: string };

/** One probe per upload, `upload0`, `upload1`, ...: only the hash of the file is read, never its bytes. */
export function uploadProbes(uploads: readonly NixosUpload[]): ProbeSet {
  return Object.fromEntries(
    uploads.map((u, i) => [`upload${i}`, { script: sh`if [ -f ${u.path} ] && [ ! -L ${u.path} ]; then stat -c '%a %U %G' -- ${u.path} && sha256sum -- ${u.path} | cut -c1-64; else echo absent; fi` }]),
  );
}

export function parseUploads(uploads: readonly NixosUpload[], outputs: ProbeOutputs): ObservedUpload[] {
  return uploads.map((u, i) => {
    const out = outputs[`upload${i}`];
    if (!out || out.code !== 0) throw new Error(`cannot read ${u.path}: ${out?.stderr.trim() || 'no output'} (set become: true: secret files are root's)`);
    const [stat = '', hash = ''] = out.stdout.trim().split('\n');
    if (stat === 'absent') return { present: false };
    const [mode = '', owner = '', group = ''] = stat.split(' ');
    return { present: true, mode: mode.padStart(4, '0'), owner, group, sha256: hash };
  });
}

export type UploadAction = { readonly do: 'upload'; readonly index: number };

/** Pure: the uploads whose file is missing or differs in content, mode, owner or group; a change shows the new hash only. */
export function planUploads(uploads: readonly NixosUpload[], observed: readonly ObservedUpload[]): Change<UploadAction>[] {
  return uploads.flatMap((u, index): Change<UploadAction>[] => {
    const now = observed[index];
    const diff = secretContentDiff(u.content);
    const sha = diff.slice(diff.lastIndexOf(' ') + 1);
    if (!now?.present) return [{ summary: `upload secret ${u.path} (secret, mode ${u.mode}, ${u.owner}:${u.group}), out of the Nix store`, diff, action: { do: 'upload', index } }];
    const attributes = (['mode', 'owner', 'group'] as const).filter((k) => now[k] !== u[k]);
    if (now.sha256 === sha && attributes.length === 0) return [];
    const what = now.sha256 === sha ? attributes.map((k) => `${k} ${now[k]} → ${u[k]}`).join(', ') : 'secret: content not shown';
    return [{ summary: `update secret ${u.path} (${what})`, ...(now.sha256 === sha ? {} : { diff }), action: { do: 'upload', index } }];
  });
}

/** Write each planned upload: the directory (root's, 0711), then the file, atomically, its bytes on standard input. */
export async function applyUploads(uploads: readonly NixosUpload[], actions: readonly UploadAction[], context: ApplyContext): Promise<void> {
  if (actions.length === 0) return;
  await context.run(sh`mkdir -p -m 0711 -- ${NIXOS_SECRETS_DIR} && chown root:root -- ${NIXOS_SECRETS_DIR} && chmod 0711 -- ${NIXOS_SECRETS_DIR}`);
  for (const { index } of actions) {
    const u = uploads[index] as NixosUpload;
    await context.writeFile(u.path, u.content, { mode: parseInt(u.mode, 8), owner: u.owner, group: u.group });
  }
}
