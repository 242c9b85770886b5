import { assertNoParamProblems, problemsIn } from '../../lib/module/param-problems.ts';
import { literalValue, literalValueProblem, renderSections, type UnitSections } from '../systemd/sections.ts';
import { SYSTEM } from '../systemd/scope.ts';
import type { UnitFilesParams } from '../systemd/params.ts';

export type MountState = 'mounted' | 'unmounted' | 'absent';

export interface MountParams {
  /** Where to mount: an absolute path without . or .. parts; the units are named after it, as `systemd-escape --path` does. */
  readonly where: string;
  /**
   * What to mount: a device (`/dev/disk/by-uuid/…`), `server:/export` for
   * NFS, a directory for a bind mount, or any word for tmpfs. Needed unless
   * state is 'absent'.
   */
  readonly what?: string;
  /** The file system type (`nfs`, `nfs4`, `tmpfs`, `xfs`); left out for a bind mount (options: ['bind']). */
  readonly type?: string;
  /** Mount options, one a list item: `['noatime', 'size=512M']`. */
  readonly options?: readonly string[];
  /**
   * Mount on first access instead of at boot: a .automount unit is enabled
   * and started, the .mount unit is not enabled. For network file systems
   * that may be away at boot.
   */
  readonly automount?: boolean;
  /**
   * 'mounted' (default): the units installed, enabled for boot and mounted
   * now (with automount: the automount armed); 'unmounted': installed,
   * neither enabled nor mounted; 'absent': unmounted and the units removed.
   */
  readonly state?: MountState;
}

/** An absolute, normalized path: no empty, . or .. part, no trailing /, no control character, no space or tab at the end. */
const WHERE = '^/(?:(?!\\.\\.?(?:/|$))[^/\\x00-\\x1f\\x7f]+(?:/(?!\\.\\.?(?:/|$))[^/\\x00-\\x1f\\x7f]+)*)?$';

export const mountSchema = {
  type: 'object',
  required: ['where'],
  properties: {
    where: {
      type: 'string',
      pattern: WHERE,
      maxLength: 200,
      'x-expected': 'an absolute path without empty, . or .. parts and without a trailing /',
      description: 'Where to mount: an absolute path without . or .. parts; the units are named after it, as `systemd-escape --path` does.',
    },
    what: {
      type: 'string',
      pattern: '^[^\\s\\x00-\\x1f\\x7f-](?:[^\\x00-\\x1f\\x7f]*\\S)?$',
      maxLength: 1024,
      'x-expected': 'a device, server:/export, a directory or a name, not starting with - and without a space at either end',
      description: 'What to mount: a device (`/dev/disk/by-uuid/…`), `server:/export` for NFS, a directory for a bind mount, or any word for tmpfs. Needed unless state is \'absent\'.',
    },
    type: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9_.]*$',
      maxLength: 50,
      'x-expected': 'a file system type such as "nfs4", "tmpfs" or "fuse.sshfs"',
      description: 'The file system type (`nfs`, `nfs4`, `tmpfs`, `xfs`); left out for a bind mount (options: [\'bind\']).',
    },
    options: {
      type: 'array',
      items: { type: 'string', pattern: '^[^,\\s\\x00-\\x1f\\x7f]+$', maxLength: 1024, 'x-expected': 'one mount option, without a comma or space' },
      description: "Mount options, one a list item: `['noatime', 'size=512M']`.",
    },
    automount: {
      type: 'boolean',
      description: 'Mount on first access instead of at boot: a .automount unit is enabled and started, the .mount unit is not enabled. For network file systems that may be away at boot.',
    },
    state: {
      enum: ['mounted', 'unmounted', 'absent'],
      description:
        "'mounted' (default): the units installed, enabled for boot and mounted now (with automount: the automount armed); 'unmounted': installed, neither enabled nor mounted; 'absent': unmounted and the units removed.",
    },
  },
  additionalProperties: false,
  if: { properties: { state: { const: 'absent' } }, required: ['state'] },
  then: { not: { anyOf: [{ required: ['what'] }, { required: ['type'] }, { required: ['options'] }, { required: ['automount'] }] } },
  else: { required: ['what'] },
} as const;

/** systemd's list of network file systems (fstype_is_network): they wait for the network and belong to remote-fs.target. */
const NETWORK_TYPES = new Set(['afs', 'ceph', 'cifs', 'smb3', 'smbfs', 'sshfs', 'fuse.sshfs', 'ncpfs', 'ncp', 'nfs', 'nfs4', 'gfs', 'gfs2', 'glusterfs', 'pvfs2', 'ocfs2', 'lustre', 'davfs']);

/** The helper program a type needs, and the RHEL package that has it. */
export const HELPERS: Readonly<Record<string, { readonly program: string; readonly pkg: string }>> = {
  nfs: { program: 'mount.nfs', pkg: 'nfs-utils' },
  nfs4: { program: 'mount.nfs', pkg: 'nfs-utils' },
  cifs: { program: 'mount.cifs', pkg: 'cifs-utils' },
  smb3: { program: 'mount.cifs', pkg: 'cifs-utils' },
};

export interface WantedMount extends UnitFilesParams {
  readonly where: string;
  readonly what?: string;
  readonly type?: string;
  readonly options: readonly string[];
  readonly automount: boolean;
  readonly state: MountState;
  readonly mountUnit: string;
  readonly automountUnit: string;
  readonly network: boolean;
}

/**
 * A path as systemd names units after it (`systemd-escape --path`):
 * slashes at the ends dropped, `/` → `-`, every byte but letters, digits,
 * `:`, `_` and a `.` that does not start the name → `\xNN`; `/` itself is `-`.
 */
export function escapePath(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '-';
  return [...Buffer.from(trimmed, 'utf8')]
    .map((byte, i) => {
      const c = String.fromCharCode(byte);
      if (c === '/') return '-';
      if (byte < 0x80 && (/[A-Za-z0-9:_]/.test(c) || (c === '.' && i > 0))) return c;
      return `\\x${byte.toString(16).padStart(2, '0')}`;
    })
    .join('');
}

export function resolveMount(p: MountParams): WantedMount {
  const state = p.state ?? 'mounted';
  const base = escapePath(p.where);
  const mountUnit = `${base}.mount`;
  const automountUnit = `${base}.automount`;
  const automount = p.automount ?? false;
  const options = p.options ?? [];
  const network = (p.type !== undefined && NETWORK_TYPES.has(p.type)) || options.includes('_netdev');
  if (mountUnit.length > 255) throw new Error(`parameter 'where' = ${JSON.stringify(p.where)}: too long for a unit name (${mountUnit.length} characters escaped, at most 255)`);
  // Where= and What= take specifiers (% doubled below); a value must stay one line and keep its ends.
  assertNoParamProblems([...problemsIn('where', p.where, literalValueProblem), ...problemsIn('what', p.what, literalValueProblem)]);
  const common = { where: p.where, options, automount, state, mountUnit, automountUnit, network, scope: SYSTEM, verify: { files: true } as const };
  if (state === 'absent') return { ...common, files: [{ file: mountUnit, content: null }, { file: automountUnit, content: null }] };
  const target = network ? 'remote-fs.target' : 'local-fs.target';
  const mount: UnitSections = {
    Unit: { Description: literalValue(`Mount ${p.where} (hostform)`) },
    Mount: {
      What: literalValue(p.what ?? ''),
      Where: literalValue(p.where),
      ...(p.type !== undefined ? { Type: p.type } : {}),
      ...(options.length > 0 ? { Options: literalValue(options.join(',')) } : {}),
    },
    ...(automount ? {} : { Install: { WantedBy: target } }),
  };
  const auto: UnitSections = {
    Unit: { Description: literalValue(`Automount ${p.where} (hostform)`) },
    Automount: { Where: literalValue(p.where) },
    Install: { WantedBy: target },
  };
  return {
    ...common,
    ...(p.what !== undefined ? { what: p.what } : {}),
    ...(p.type !== undefined ? { type: p.type } : {}),
    files: [
      { file: mountUnit, content: `${HEADER}${renderSections(mount)}` },
      { file: automountUnit, content: automount ? `${HEADER}${renderSections(auto)}` : null },
    ],
  };
}

const HEADER = '# Managed by hostform (mount): edits here are replaced on the next run.\n';
