import type { ProbeOutputs, Probes } from '../../lib/module/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { parsePathProbe, pathProbe, type ObservedPath } from '../file/observe.ts';
import { asUser, homeOf } from '../shared/account.ts';
import { parseDaemonRead } from '../shared/daemon.ts';
import { parseUnitState, unitStateProbe, type UnitState } from '../systemd/observe.ts';
import { systemctl, type SystemdScope } from '../systemd/scope.ts';
import type { ResolvedPodmanSecret, ResolvedQuadlet } from './params.ts';

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

// ── Podman secrets ───────────────────────────────────────────────────────

/** The label that keeps the sha256 of a secret's value, so a run compares without reading the value back. */
export const SECRET_HASH_LABEL = 'hostform.sha256';

/** What the host has of a Podman secret: the hash in its label ('' when it has none), and for a value kept on the host, that file's hash. */
export interface ObservedPodmanSecret {
  readonly secret: { readonly present: false } | { readonly present: true; readonly sha256: string } | 'no-podman';
  /** The sha256 of the host file holding the value (secret.onHost); undefined when the task has none or the file is missing. */
  readonly hostFile?: string;
}

export type PodmanSecretProbes = Probes<'secret'> & Partial<Probes<'hostFile'>>;

export function podmanSecretProbes(r: ResolvedPodmanSecret): PodmanSecretProbes {
  const p = podman(r.scope);
  const hostFile = r.state === 'present' && 'hostFile' in r.value ? r.value.hostFile : undefined;
  return {
    secret: {
      script: sh`command -v podman >/dev/null || { echo no-podman; exit 0; }
if ${p} secret exists ${r.name}; then printf 'present '; ${p} secret inspect --format ${`{{index .Spec.Labels "${SECRET_HASH_LABEL}"}}`} ${r.name}; else echo absent; fi`,
    },
    // Only the file's hash comes back, never its bytes.
    ...(hostFile !== undefined ? { hostFile: { script: sh`if [ -f ${hostFile} ]; then sha256sum -- ${hostFile} | cut -c1-64; fi` } } : {}),
  };
}

export function parsePodmanSecret(r: ResolvedPodmanSecret, outputs: ProbeOutputs<PodmanSecretProbes>): ObservedPodmanSecret {
  const out = outputs.secret;
  if (out.code !== 0) throw new Error(`cannot read the Podman secret ${r.name}: ${out.stderr.trim() || `exit code ${out.code}`}`);
  const text = out.stdout.trim();
  const secret = text === 'no-podman' ? 'no-podman' : text.startsWith('present') ? { present: true as const, sha256: labelValue(text.slice('present'.length).trim()) } : { present: false as const };
  const hostHash = outputs.hostFile?.stdout.trim();
  return { secret, ...(hostHash ? { hostFile: hostHash } : {}) };
}

/** Go templates print `<no value>` for a label that is not there. */
function labelValue(text: string): string {
  return /^[0-9a-f]{64}$/.test(text) ? text : '';
}
