import { fieldDiff, secretContentDiff } from '../../lib/diff.ts';
import { effect, PathResource, type Effect } from '../../lib/module/resources.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import type { WantedPath } from '../file/params.ts';
import { planPath, type FileAction } from '../file/plan.ts';
import { isRunning } from '../systemd/observe.ts';
import { UnitResource, unitKey } from '../systemd/resources.ts';
import { scopeSuffix } from '../systemd/scope.ts';
import { quadletPath, type ObservedPodmanSecret, type ObservedQuadlet } from './observe.ts';
import type { ResolvedPodmanSecret, ResolvedQuadlet } from './params.ts';

export type QuadletAction =
  | { readonly do: 'linger' }
  | { readonly do: 'pull'; readonly image: string; readonly always: boolean }
  /** `wanted` carries the path, which for a rootless quadlet depends on the home directory observed on the host. */
  | { readonly do: 'file'; readonly file: FileAction; readonly wanted: Extract<WantedPath, { state: 'file' }> }
  /** `reload`: the manager has not read the generated unit yet (NeedDaemonReload), so it reloads first. */
  | { readonly do: 'start' | 'restart'; readonly reload?: boolean };

/** The quadlet file as the file module should leave it. */
export function wantedFile(r: ResolvedQuadlet, observed: Pick<ObservedQuadlet, 'account'>): Extract<WantedPath, { state: 'file' }> {
  return {
    state: 'file',
    path: quadletPath(r, observed.account?.home),
    content: r.content,
    mode: '0644',
    // Rootless: the user's manager must be able to read the file, and the user to edit their own quadlets.
    ...(r.scope.kind === 'user' ? { owner: r.scope.user, group: observed.account?.group ?? r.scope.user } : { owner: 'root', group: 'root' }),
    force: false,
    secret: false,
  };
}

/**
 * Pure: wanted × observed → changes, in the order apply carries them out:
 * lingering, image pull, file, then start or restart of the generated service.
 */
export function planQuadlet(r: ResolvedQuadlet, observed: ObservedQuadlet, context: PlanContext): Change<QuadletAction>[] {
  const changes: Change<QuadletAction>[] = [];
  if (r.scope.kind === 'user') {
    if (!observed.account) {
      throw new Error(`user ${r.scope.user} does not exist on the host; create it (and its /etc/subuid range) before its rootless quadlets`);
    }
    if (!observed.linger) {
      changes.push({
        summary: `enable lingering for ${r.scope.user} (its services run without a login and start at boot)`,
        action: { do: 'linger' },
        diff: fieldDiff([{ name: 'linger', before: 'no', after: 'yes' }]),
      });
    }
  }
  changes.push(...planImage(r, observed, context));

  const wanted = wantedFile(r, observed);
  // Apply creates the quadlet directory when it is missing, so a missing parent is not an error here.
  const fileChanges = planPath(wanted, { ...(observed.file ?? { type: 'absent' }), parentExists: true }, context).map(
    (c): Change<QuadletAction> => ({ ...c, action: { do: 'file', file: c.action, wanted } }),
  );
  changes.push(...fileChanges);

  const running = observed.unit !== 'no-manager' && isRunning(observed.unit);
  const reload = observed.unit !== 'no-manager' && observed.unit.needDaemonReload ? { reload: true } : {};
  const state = observed.unit === 'no-manager' ? 'not running (no user manager)' : observed.unit.activeState;
  const contentChanges = fileChanges.some((c) => c.action.do === 'file' && c.action.file.do === 'write');
  if (contentChanges && running) {
    changes.push({ summary: `restart ${r.service} (its quadlet changed)`, action: { do: 'restart', ...reload } });
  } else if (running && observed.stale && fileChanges.length === 0) {
    changes.push({
      summary: `restart ${r.service}: it runs since before its quadlet changed (a run cut off before the restart, or an edit by hand)`,
      action: { do: 'restart', ...reload },
      diff: fieldDiff([{ name: r.service, before: `started before ${r.file} changed`, after: 'restarted' }]),
    });
  } else if (!running) {
    changes.push({
      summary: `start ${r.service}`,
      action: { do: 'start', ...reload },
      diff: fieldDiff([{ name: r.service, before: state, after: 'active' }]),
    });
  }
  return changes;
}

function planImage(r: ResolvedQuadlet, observed: ObservedQuadlet, context: PlanContext): Change<QuadletAction>[] {
  const image = observed.image;
  if (r.image === undefined || image === undefined) return [];
  if (image === 'no-podman') throw new Error('podman is not installed on the host; install it (packages({ present: [\'podman\'] })) before quadlet tasks');
  if (r.pull === 'always') {
    return [
      {
        summary: `pull ${r.image} (pull: always)`,
        action: { do: 'pull', image: r.image, always: true },
        uncertain: 'pull: always asks the registry on every run; check mode does not pull',
      },
    ];
  }
  if (image.present) return [];
  if (r.pull === 'never') {
    const message = `image ${r.image} is not on the host and pull is 'never': load it first (podman load / podman import${r.scope.kind === 'user' ? ` as ${r.scope.user}` : ''}) or set pull: 'missing'`;
    // In check mode an earlier task may be the one that loads it; only a real run can tell.
    if (context.checkMode) return [{ summary: message, action: { do: 'pull', image: r.image, always: false }, uncertain: message }];
    throw new Error(message);
  }
  return [
    {
      summary: `pull ${r.image}`,
      action: { do: 'pull', image: r.image, always: false },
      diff: fieldDiff([{ name: 'image', before: undefined, after: r.image }]),
    },
  ];
}

/** The generated service and (rootful) the quadlet file, for the tasks after it in check mode. */
export function quadletEffects(r: ResolvedQuadlet): Effect[] {
  return [
    effect(UnitResource, unitKey(r.scope, r.service), { scope: r.scope, present: true }),
    // A rootless quadlet's path depends on a home directory only the host knows.
    ...(r.scope.kind === 'system' ? [effect(PathResource, quadletPath(r), { type: 'file' as const, content: r.content, mode: '0644', owner: 'root', group: 'root' })] : []),
  ];
}

// ── Podman secrets ───────────────────────────────────────────────────────

export type PodmanSecretAction = { readonly do: 'create'; readonly replace: boolean } | { readonly do: 'remove' };

/** Pure: the secret is created, or replaced when the hash in its label is not its value's; a change shows the new hash only. */
export function planPodmanSecret(r: ResolvedPodmanSecret, observed: ObservedPodmanSecret): Change<PodmanSecretAction>[] {
  if (observed.secret === 'no-podman') throw new Error("podman is not installed on the host; install it (packages({ present: ['podman'] })) before Podman secret tasks");
  const what = `Podman secret ${r.name}${scopeSuffix(r.scope)}`;
  if (r.state === 'absent') return observed.secret.present ? [{ summary: `remove ${what}`, diff: secretContentDiff(undefined), action: { do: 'remove' } }] : [];
  const hostFile = 'hostFile' in r.value ? r.value.hostFile : undefined;
  const wanted = 'text' in r.value ? r.value.sha256 : observed.hostFile;
  if (wanted === undefined) throw new Error(`${hostFile} is not on the host: the Podman secret ${r.name} is made from it (secret.onHost), so deploy it first (agenix, sops-nix)`);
  if (observed.secret.present && observed.secret.sha256 === wanted) return [];
  const replace = observed.secret.present;
  const diff = 'text' in r.value ? secretContentDiff(Buffer.from(r.value.text, 'utf8')) : `~ content (secret: not shown), from ${hostFile}, sha256 ${wanted}`;
  return [{ summary: `${replace ? 'replace' : 'create'} ${what} (secret: value not shown)`, diff, action: { do: 'create', replace } }];
}
