import { dirname } from 'node:path/posix';
import type { ApplyContext, Change } from '../../lib/module/types.ts';
import { join, sh, type ShellScript } from '../../lib/shell/quote.ts';
import { privateTempDir } from '../../lib/shell/temp-dir.ts';
import { applyPath } from '../file/apply.ts';
import { asUser } from '../shared/account.ts';
import { controlUnit } from '../systemd/apply.ts';
import { daemonReload, type SystemdScope } from '../systemd/scope.ts';
import { podman, SECRET_HASH_LABEL } from './observe.ts';
import type { ResolvedPodmanSecret, ResolvedQuadlet } from './params.ts';
import type { PodmanSecretAction, QuadletAction } from './plan.ts';

/** The generator systemd runs at boot and on daemon-reload; `--dryrun` prints units and errors without installing. */
export const GENERATOR = '/usr/lib/systemd/system-generators/podman-system-generator';

export interface QuadletItem {
  readonly params: ResolvedQuadlet;
  readonly changes: readonly Change<QuadletAction>[];
}

/**
 * Apply the changes of consecutive quadlet tasks of one scope together:
 * lingering; the pulls and every new file checked by ONE generator dry run
 * (so a container can name a network written in the same batch), in one
 * round trip; the files written (in one round trip, after the directory's
 * when the dry run found none); ONE daemon-reload with the first service's
 * start; then every other generated service started or restarted in task
 * order, in one round trip.
 */
export async function applyQuadlets(items: readonly QuadletItem[], context: ApplyContext): Promise<void> {
  const scope = items[0]!.params.scope;
  const actions = (item: QuadletItem) => item.changes.map((c) => c.action);

  if (scope.kind === 'user' && items.some((i) => actions(i).some((a) => a.do === 'linger'))) {
    await context.run(sh`loginctl enable-linger ${scope.user} && systemctl start "user@$(id -u ${scope.user}).service"`);
  }

  // Every pull at once, and the check of the new files with them: they share a round trip (the pulls run one
  // after the other there, in task order).
  const writes = items.flatMap((item) => actions(item).flatMap((a) => (a.do === 'file' && a.file.do === 'write' ? [{ item, wanted: a.wanted }] : [])));
  const pulls = items.flatMap((item) => actions(item).flatMap((a) => (a.do === 'pull' ? [{ item, image: a.image, always: a.always }] : [])));
  const [pulled, dirThere] = await Promise.all([
    Promise.all(pulls.map(({ image }) => context.run(pullScript(scope, image)))),
    writes.length > 0
      ? validate(
          scope,
          dirname(writes[0]!.wanted.path),
          writes.map((w) => ({ file: w.item.params.file, content: w.wanted.content })),
          context,
        )
      : true,
  ]);
  const restartedForImage = new Set<QuadletItem>();
  pulls.forEach(({ item, always }, i) => {
    const verbs = actions(item).filter((x) => x.do === 'start' || x.do === 'restart');
    // pull: always — a new image only matters to a running service if something restarts it.
    if (always && pulled[i]?.stdout.trim() === 'new' && verbs.length === 0) restartedForImage.add(item);
  });

  // Asked for before the files change, so the host's journal owes it from the moment they do.
  const reload = daemonReload(scope);
  if (writes.length > 0) context.defer(reload.id, reload.script);
  const files = items.flatMap((item) => {
    const fileActions = actions(item).flatMap((a) => (a.do === 'file' ? [a] : []));
    return fileActions.length > 0 ? [{ wanted: fileActions[0]!.wanted, fileActions }] : [];
  });
  // The directory when the check found none, then every file at once: different files, so their commands share round trips.
  if (!dirThere) for (const dir of new Set(files.map((f) => dirname(f.wanted.path)))) await context.run(mkdirScript(scope, dir));
  await Promise.all(
    files.map(({ wanted, fileActions }) =>
      applyPath(
        wanted,
        fileActions.map((a) => ({ summary: '', action: a.file })),
        context,
      ),
    ),
  );
  const controls = items.flatMap((item) => {
    const planned = actions(item).find((a) => a.do === 'start' || a.do === 'restart');
    const verb = planned?.do === 'start' || planned?.do === 'restart' ? planned.do : restartedForImage.has(item) ? 'restart' : undefined;
    // A daemon-reload this run did not ask for (one lost by an earlier run) still comes first.
    const reload = planned?.do === 'start' || planned?.do === 'restart' ? planned.reload === true : false;
    return verb ? [() => controlUnit(context, scope, item.params.service, [verb], { reload })] : [];
  });
  // The first with the pending daemon-reload, alone; then the others at once, in one round trip (in task
  // order there, each whatever the others did: one service that fails to start does not keep the others down).
  const [first, ...rest] = controls;
  if (first) await first();
  await Promise.all(rest.map((control) => control()));
}

function pullScript(scope: SystemdScope, image: string): ShellScript {
  const p = podman(scope);
  return sh`old=$(${p} image inspect --format '{{.Id}}' ${image} 2>/dev/null)
${p} pull --quiet ${image} >/dev/null || exit
new=$(${p} image inspect --format '{{.Id}}' ${image}) || exit
if [ "$old" = "$new" ]; then echo same; else echo new; fi`;
}

function mkdirScript(scope: SystemdScope, dir: string): ShellScript {
  // As the user, so every directory it creates in the home belongs to them.
  return scope.kind === 'system' ? sh`mkdir -p -- ${dir}` : sh`cd / && ${asUser(scope.user)} mkdir -p -- ${dir}`;
}

/**
 * Run the generator's dry run on the quadlet directory as it would be after
 * this batch: a copy of what is there with the new files on top. A refusal
 * naming one of the new files fails the tasks before anything is installed.
 * Says whether the directory is there (a directory, reached by no link on
 * its last step): when it is, the files need no mkdir first.
 */
async function validate(scope: SystemdScope, dir: string, files: readonly { file: string; content: Buffer }[], context: ApplyContext): Promise<boolean> {
  const copies = files.map(({ file, content }) => sh`printf %s ${content.toString('base64')} | base64 -d >"$tmp"/${file}`);
  const userFlag = scope.kind === 'user' ? ['--user'] : [];
  const check = sh`[ -x ${GENERATOR} ] || exit 3
${privateTempDir('tmp')}
echo "$tmp"
if [ -d ${dir} ]; then cp -a ${dir}/. "$tmp"/ || exit 1; [ -L ${dir} ] || echo there; fi
${join(copies, '\n')}
QUADLET_UNIT_DIRS="$tmp" ${GENERATOR} ${userFlag} --dryrun >/dev/null`;
  // A user's directory is copied and checked as the user: root reading it would follow whatever links they planted.
  const result = await context.run(scope.kind === 'system' ? check : sh`cd / && ${asUser(scope.user)} sh -c ${check.text}`, { okCodes: [0, 1, 3] });
  if (result.code === 3) {
    throw new Error(`podman's quadlet generator is not installed (${GENERATOR}); install podman (4.4 or later) before quadlet tasks`);
  }
  const [tmp = '', there] = result.stdout.split('\n');
  if (result.code === 0) return there === 'there';
  // The generator names the temporary copy; the user knows the real directory.
  const stderr = result.stderr.split(tmp.trim() || '\0').join(dir);
  const problems = generatorProblems(stderr, files.map((f) => f.file));
  if (problems === undefined) return there === 'there';
  throw new Error(`the quadlet generator refused ${files.map((f) => f.file).join(', ')}; nothing was installed:\n${problems}`);
}

/**
 * The generator's complaints about our files, or undefined when it only
 * complained about other files already on the host (not ours to judge).
 */
export function generatorProblems(stderr: string, ours: readonly string[]): string | undefined {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^quadlet-generator\[\d+\]: /, '').trim())
    .filter((l) => l !== '' && !l.startsWith('Loading source unit file'));
  const converting = lines.filter((l) => /^converting "/.test(l));
  const mine = converting.filter((l) => ours.some((f) => l.startsWith(`converting "${f}"`)));
  if (mine.length > 0) return mine.join('\n');
  return converting.length > 0 ? undefined : lines.join('\n') || 'the generator failed without a message';
}

// ── Podman secrets ───────────────────────────────────────────────────────

/**
 * `podman secret create`, the value on standard input (or piped from the
 * host file by cat), its sha256 in a label for the
 * next run to compare. A container reads a replaced secret when it starts
 * again: notify a handler that restarts it.
 */
export async function applyPodmanSecret(r: ResolvedPodmanSecret, changes: readonly Change<PodmanSecretAction>[], context: ApplyContext): Promise<void> {
  const p = podman(r.scope);
  for (const { action } of changes) {
    if (action.do === 'remove') {
      await context.run(sh`${p} secret rm -- ${r.name}`);
      continue;
    }
    if (r.state !== 'present') continue;
    const replace = action.replace ? ['--replace'] : [];
    if ('text' in r.value) {
      await context.run(sh`${p} secret create ${replace} --label ${`${SECRET_HASH_LABEL}=${r.value.sha256}`} -- ${r.name} -`, { stdin: r.value.text });
    } else {
      const file = r.value.hostFile;
      // A pipe, not a redirection: podman takes `-` only from a pipe; cat reads the file as root, even for a user's podman.
      await context.run(sh`h=$(sha256sum -- ${file} | cut -c1-64) && cat -- ${file} | ${p} secret create ${replace} --label "${SECRET_HASH_LABEL}=$h" -- ${r.name} -`);
    }
  }
}
