import type { ProbeOutputs, Probes } from '../../lib/module/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { parsePathProbe, pathProbe, type ObservedPath } from '../file/observe.ts';
import { asUser, homeOf } from '../shared/account.ts';
import { parseDaemonRead } from '../shared/daemon.ts';
import { parseUnitState, unitStateProbe, type UnitState } from '../systemd/observe.ts';
import { systemctl, type SystemdScope } from '../systemd/scope.ts';
import type { ResolvedQuadlet } from './params.ts';

export const SYSTEM_QUADLET_DIR = '/etc/containers/systemd';
/** Below the user's home directory. */
export const USER_QUADLET_DIR = '.config/containers/systemd';

export interface Account {
  readonly uid: string;
  /** Name of the user's primary group (what `stat %G` shows). */
  readonly group: string;
  readonly home: string;
}

export interface ObservedQuadlet {
  /** Rootless only: the user's account (undefined when there is no such user) and whether it lingers. */
  readonly account?: Account;
  readonly linger?: boolean;
  /** The quadlet file; undefined when the user it would belong to does not exist. */
  readonly file?: ObservedPath;
  /** The generated service as its manager sees it; 'no-manager' when the user's manager is not running. */
  readonly unit: UnitState | 'no-manager';
  /** Undefined when the task has no image to look for. */
  readonly image?: { readonly present: true; readonly id: string } | { readonly present: false } | 'no-podman';
  /**
   * The service runs since before its quadlet file last changed: it runs an
   * older container (a run cut off between writing the file and restarting).
   */
  readonly stale: boolean;
}

export function quadletPath(r: Pick<ResolvedQuadlet, 'scope' | 'file'>, home?: string): string {
  return r.scope.kind === 'system' ? `${SYSTEM_QUADLET_DIR}/${r.file}` : `${home ?? `~${r.scope.user}`}/${USER_QUADLET_DIR}/${r.file}`;
}

/** The file and the service always; the account only for a rootless quadlet, the image only when there is one to look for. */
export type QuadletProbes = Probes<'file' | 'unit'> & Partial<Probes<'account' | 'image'>>;

/** Read-only probes, independent of each other, so the engine can batch them with every other task's. */
export function quadletProbes(r: ResolvedQuadlet): QuadletProbes {
  return {
    file: { script: fileProbe(r) },
    unit: { script: unitProbe(r) },
    ...(r.scope.kind === 'user' ? { account: { script: accountProbe(r.scope.user) } } : {}),
    ...(r.image !== undefined ? { image: { script: imageProbe(r.scope, r.image) } } : {}),
  };
}

function accountProbe(user: string): ShellScript {
  return sh`echo "account=$(id -u ${user} 2>/dev/null):"${homeOf(user)}
echo "group=$(getent group "$(id -g ${user} 2>/dev/null)" | cut -d: -f1)"
if [ -e /var/lib/systemd/linger/${user} ]; then echo linger=yes; else echo linger=no; fi`;
}

function fileProbe(r: ResolvedQuadlet): ShellScript {
  if (r.scope.kind === 'system') return pathProbe(quadletPath(r));
  // The home directory is only known on the host: probe relative to it, and say nothing when the user is missing.
  return sh`h=${homeOf(r.scope.user)} && [ -n "$h" ] && cd "$h" || exit 0
${pathProbe(`${USER_QUADLET_DIR}/${r.file}`)}`;
}

/** The service's state, then when it last started and when its quadlet file changed (read as parseDaemonRead reads them). */
function unitProbe(r: ResolvedQuadlet): ShellScript {
  const since = systemctl(r.scope, ['show', '--timestamp=us+utc', '-p', 'StateChangeTimestamp', '--value', '--', r.service]);
  const file = r.scope.kind === 'system' ? sh`${quadletPath(r)}` : sh`"$(${homeOf(r.scope.user)})"/${`${USER_QUADLET_DIR}/${r.file}`}`;
  const state = sh`${unitStateProbe(r.scope, r.service)}
ts=$(${since} 2>/dev/null)
if [ -n "$ts" ]; then echo "Since=$(date -d "$ts" +%s.%N 2>/dev/null)"; fi
if [ -e ${file} ]; then echo "Mtime=$(stat -c %.9Y -- ${file})"; else echo Mtime=; fi`;
  if (r.scope.kind === 'system') return state;
  return sh`if [ -S /run/user/"$(id -u ${r.scope.user} 2>/dev/null)"/systemd/private ]; then
${state}
else echo NoManager; fi`;
}

function imageProbe(scope: SystemdScope, image: string): ShellScript {
  return sh`command -v podman >/dev/null || { echo no-podman; exit 0; }
${podman(scope)} image inspect --format '{{.Id}}' ${image} 2>/dev/null || echo absent`;
}

/** `podman` for a scope: a user's runs as the user, in their runtime directory when there is one (see asUser). */
export function podman(scope: SystemdScope): ShellScript {
  return scope.kind === 'system' ? sh`podman` : sh`cd / && ${asUser(scope.user)} podman`;
}

/** Pure: probe output → what is on the host. */
export function parseQuadlet(r: ResolvedQuadlet, outputs: ProbeOutputs<QuadletProbes>): ObservedQuadlet {
  const account = r.scope.kind === 'user' ? parseAccount(outputs.account?.stdout ?? '') : undefined;
  const fileOutput = outputs.file;
  const file =
    r.scope.kind === 'user' && fileOutput.code === 0 && fileOutput.stdout === ''
      ? undefined
      : parsePathProbe(quadletPath(r, account?.account?.home), fileOutput);
  const unitOutput = outputs.unit;
  const unit = unitOutput.code === 0 && unitOutput.stdout.trim() === 'NoManager' ? 'no-manager' : parseUnitState(r.scope, r.service, unitOutput);
  const stale = unit !== 'no-manager' && parseDaemonRead([r.file], unitOutput).stale.length > 0;
  return {
    stale,
    ...(account?.account ? { account: account.account } : {}),
    ...(account ? { linger: account.linger } : {}),
    ...(file ? { file } : {}),
    unit,
    ...(r.image !== undefined ? { image: parseImage(outputs.image?.stdout ?? '') } : {}),
  };
}

function parseAccount(stdout: string): { account?: Account; linger: boolean } {
  const fields = new Map(stdout.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
  const [uid = '', home = ''] = (fields.get('account') ?? '').split(':');
  const group = fields.get('group') ?? '';
  return { ...(uid !== '' && home !== '' ? { account: { uid, group, home } } : {}), linger: fields.get('linger') === 'yes' };
}

function parseImage(stdout: string): NonNullable<ObservedQuadlet['image']> {
  const out = stdout.trim();
  if (out === 'no-podman') return 'no-podman';
  if (out === 'absent' || out === '') return { present: false };
  return { present: true, id: out.split('\n')[0]! };
}
