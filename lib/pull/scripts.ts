/**
 * The commands a pull runs on its own host, as scripts built from quoted
 * values only (lib/shell/quote.ts). Git and npm do the work: git fetches
 * and verifies, npm installs exactly what the repository locks.
 *
 * The state directory (default /var/lib/hostform/pull) holds:
 *   repo.git/       a bare repository, fetched with --depth=1 (the host keeps the commits it runs, not the history)
 *   checkout/       the fetched commit's files, and node_modules from its package-lock.json
 *   state.json      the last commit applied, the last success, the lockfile last installed
 *   npm-cache/      npm's cache, so a pull's downloads stay inside the state directory
 *   launcher/       roles/pull's install of hostform that the timer runs (see roles/pull)
 */
import { onlyWhereRootControls } from '../shell/path-guard.ts';
import { argv, sh, trusted, type ShellScript } from '../shell/quote.ts';

export const DEFAULT_STATE_DIR = '/var/lib/hostform/pull';
export const DEFAULT_ALLOWED_SIGNERS = '/etc/hostform/allowed_signers';

export interface StatePaths {
  readonly dir: string;
  readonly repo: string;
  readonly checkout: string;
  readonly stateFile: string;
  readonly npmCache: string;
}

export function statePaths(dir: string): StatePaths {
  return { dir, repo: `${dir}/repo.git`, checkout: `${dir}/checkout`, stateFile: `${dir}/state.json`, npmCache: `${dir}/npm-cache` };
}

/**
 * The state directory, private to its user (0700), made where only root
 * controls the path when the pull runs as root: root runs the code it
 * fetches there, so no other user may be able to put anything in its way.
 */
export function prepareStateDir(paths: StatePaths): ShellScript {
  return onlyWhereRootControls(
    paths.dir,
    sh`umask 077
mkdir -p -- ${paths.dir} && chmod 0700 -- ${paths.dir} || exit 1
[ -d ${paths.repo} ] || git init --quiet --bare -- ${paths.repo} || exit 1
mkdir -p -- ${paths.checkout}`,
    `keep the pull's state in ${paths.dir}`,
  );
}

/**
 * Fetch REF (a branch or a tag) from URL, keeping only its commit, and print
 * that commit's id. `--no-tags`: a tag the server moves is never followed
 * behind the pull's back; `--force`: a rewritten branch is taken as it is now.
 */
export function fetchScript(paths: StatePaths, url: string, ref: string): ShellScript {
  return sh`git -C ${paths.repo} fetch --quiet --no-tags --force --depth=1 -- ${url} ${ref} || exit 1
git -C ${paths.repo} rev-parse --verify --quiet ${'FETCH_HEAD^{commit}'}`;
}

/**
 * git's own check of the commit's signature against an allowed-signers file
 * (SSH signatures, ssh-keygen's format; see docs/fleet.md). The file decides
 * what root runs, so it must be root's own and writable by no one else.
 * Prints git's verdict; exits 3 when the commit carries no signature.
 */
export function verifyScript(paths: StatePaths, commit: string, allowedSigners: string): ShellScript {
  return sh`[ -f ${allowedSigners} ] && [ ! -L ${allowedSigners} ] || { echo "the allowed signers file "${allowedSigners}" does not exist (or is a link)" >&2; exit 2; }
set -- $(stat -c '%u %a' -- ${allowedSigners})
if [ "$(id -u)" = 0 ] && { [ "$1" != 0 ] || [ $((0$2 & 022)) != 0 ]; }; then
  echo "the allowed signers file "${allowedSigners}" must belong to root and be writable by no one else (owner uid $1, mode $2): whoever can change it decides what root runs" >&2; exit 2
fi
[ -n "$(git -C ${paths.repo} cat-file commit ${commit} | sed -n '/^gpgsig /p')" ] || exit 3
git -C ${paths.repo} -c gpg.ssh.allowedSignersFile=${allowedSigners} verify-commit ${commit}`;
}

/**
 * The checkout made exactly the commit's files: files of the previous commit
 * that this one does not have are removed, and so is anything else left in
 * it (node_modules aside, which `npm ci` owns).
 */
export function checkoutScript(paths: StatePaths, commit: string): ShellScript {
  const git = argv(['git', `--git-dir=${paths.repo}`, `--work-tree=${paths.checkout}`]);
  return sh`${git} read-tree -u --reset ${commit} && ${git} clean -ffdxq -e /node_modules`;
}

/**
 * `npm ci` of the checkout's lockfile: exactly the locked versions, checked
 * against their integrity. Install scripts are not run (hostform and its
 * dependencies need none, and they would run as root); devDependencies are
 * left out; no audit or funding requests go out.
 */
export function npmCiScript(paths: StatePaths): ShellScript {
  return sh`cd ${paths.checkout} && exec env npm_config_cache=${paths.npmCache} npm_config_update_notifier=false npm ci --ignore-scripts --omit=dev --no-audit --no-fund`;
}

/** The tools a pull needs besides Node.js itself, one `missing NAME` line for each that is not installed. */
export const TOOLS_SCRIPT: ShellScript = trusted(`for tool in git npm; do command -v "$tool" >/dev/null 2>&1 || echo "missing $tool"; done; true`);

/**
 * The repository's own hostform runs the playbook (the version its lockfile
 * pins), on this machine as the inventory host `host`, with the pull's run id
 * so it joins the run lock the pull holds. The report comes back as JSON.
 */
export function applyScript(
  paths: StatePaths,
  node: string,
  options: { readonly playbook: string; readonly inventory: readonly string[]; readonly host: string; readonly check: boolean; readonly runIdVariable: string; readonly runId: string },
): ShellScript {
  const args = [
    node,
    `${paths.checkout}/node_modules/hostform/bin/play.js`,
    options.playbook,
    ...options.inventory.flatMap((i) => ['-i', i]),
    '--limit',
    options.host,
    '--connection',
    'local',
    '--json',
    ...(options.check ? ['--check'] : []),
  ];
  return sh`cd ${paths.checkout} && exec env ${`${options.runIdVariable}=${options.runId}`} ${argv(args)}`;
}
