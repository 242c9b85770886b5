import { isText } from '../../lib/diff.ts';
import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import { nixosSecretFile, secretName } from '../../lib/nixos/secrets.ts';
import type { NixAttrs } from '../../lib/nixos/value.ts';
import type { WantedPath } from './params.ts';

/** What a new file gets on el9 when the task gives no mode (root's umask 022). */
const NEW_FILE_MODE = '0644';

/**
 * Files on NixOS, declaratively: files under /etc become `environment.etc`
 * entries (copied with their mode, owner and group when any is given, the
 * mode then 0644 unless given; else linked from the store); everything else
 * becomes a systemd-tmpfiles rule, which NixOS applies at activation and at
 * every boot. A secret file never enters the store (see secretFile).
 */
export const nixosFile = nixosRenderer<WantedPath>(
  (wanted): NixAttrs => {
    if (wanted.state === 'file' && wanted.secret) {
      // Everything in a NixOS module ends up in the world-readable store: only the link to the secret's file, and its unit, are rendered.
      return secretFile(wanted).fragment;
    }
    return renderPlain(wanted);
  },
  { uploads: (wanted) => (wanted.state === 'file' && wanted.secret ? [secretFile(wanted).upload] : []) },
);

/**
 * A secret file on NixOS: its bytes go to /var/lib/hostform/secrets out of
 * band (lib/nixos/secrets.ts), with the task's owner, group and mode
 * (0600 root by default, as on el9), and the task's path becomes a link to
 * it, made at activation (systemd-tmpfiles `L+`).
 */
function secretFile(wanted: Extract<WantedPath, { state: 'file' }>) {
  return nixosSecretFile(secretName(wanted.path), wanted.content, { mode: wanted.mode ?? '0600', owner: wanted.owner ?? 'root', group: wanted.group ?? 'root', link: wanted.path });
}

function renderPlain(wanted: WantedPath): NixAttrs {
  if (wanted.state === 'file' && wanted.path.startsWith('/etc/')) {
    if (!isText(wanted.content)) throw new Error(`${wanted.path}: binary content cannot be written into a NixOS module; put the file in the store with a derivation instead`);
    return {
      environment: {
        etc: {
          [wanted.path.slice('/etc/'.length)]: {
            text: wanted.content.toString('utf8'),
            // NixOS only sets the owner of a copied file, and it copies only when a mode is given (else it links from the store, root's).
            ...(wanted.mode || wanted.owner || wanted.group ? { mode: wanted.mode ?? NEW_FILE_MODE } : {}),
            ...(wanted.owner ? { user: wanted.owner } : {}),
            ...(wanted.group ? { group: wanted.group } : {}),
          },
        },
      },
    };
  }
  return { systemd: { tmpfiles: { rules: [tmpfilesRule(wanted)] } } };
}

function tmpfilesRule(wanted: WantedPath): string {
  const path = tmpfilesField(wanted.path);
  switch (wanted.state) {
    case 'absent':
      return `R ${path}`;
    case 'link':
      return `L+ ${path} - - - - ${tmpfilesField(wanted.target)}`;
    case 'directory':
      return `d ${path} ${wanted.mode ?? '-'} ${wanted.owner ?? '-'} ${wanted.group ?? '-'} -`;
    case 'file':
      if (!isText(wanted.content)) throw new Error(`${wanted.path}: binary content cannot be written through systemd-tmpfiles`);
      return `f+ ${path} ${wanted.mode ?? '-'} ${wanted.owner ?? '-'} ${wanted.group ?? '-'} - ${tmpfilesArgument(wanted.content.toString('utf8'))}`;
  }
}

/** A path field of a tmpfiles line: specifiers doubled, whitespace escaped. */
function tmpfilesField(text: string): string {
  return text.replace(/%/g, '%%').replace(/\\/g, '\\\\').replace(/ /g, '\\x20').replace(/\t/g, '\\t');
}

/**
 * The argument field (the file's content): C-style escapes, specifiers
 * doubled. systemd-tmpfiles strips blanks around the field, so spaces at
 * either end are written as \x20 to survive.
 */
function tmpfilesArgument(text: string): string {
  const escaped = text.replace(/%/g, '%%').replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r');
  return escaped.replace(/^ +| +$/g, (spaces) => '\\x20'.repeat(spaces.length));
}
