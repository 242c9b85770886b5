import { dirname } from 'node:path/posix';
import type { ApplyContext, Change } from '../../lib/module/types.ts';
import { asControllerOf, onlyWhereRootControls } from '../../lib/shell/path-guard.ts';
import { argv, inSequence, sh, type ShellScript } from '../../lib/shell/quote.ts';
import type { WantedGroup, WantedUser } from './params.ts';
import type { GroupAction, UserAction } from './plan.ts';

// ── user ─────────────────────────────────────────────────────────────────

/** userdel's exit code for "user is currently used by process N". */
const USER_BUSY = 8;

/** A command of a user's change, and what it reads on standard input. */
interface Step {
  readonly script: ShellScript;
  readonly stdin?: string;
}

/**
 * Carry out the planned changes of one user, in the order the plan lists
 * them. Consecutive commands go to the host as one (useradd, then the keys
 * in the new home: one round trip), each only after the one before
 * succeeded, as long as at most one of them reads standard input.
 */
export async function applyUser(wanted: WantedUser, changes: readonly Change<UserAction>[], context: ApplyContext): Promise<void> {
  const name = wanted.name;
  let steps: Step[] = [];
  const send = async () => {
    if (steps.length === 0) return;
    const stdin = steps.find((s) => s.stdin !== undefined)?.stdin;
    const script = inSequence(steps.map((s) => s.script));
    steps = [];
    await context.run(script, stdin !== undefined ? { stdin } : {});
  };
  const add = async (step: Step) => {
    if (step.stdin !== undefined && steps.some((s) => s.stdin !== undefined)) await send();
    steps.push(step);
  };
  for (const { action } of changes) {
    switch (action.do) {
      case 'useradd': {
        const useradd = argv(['useradd', ...action.args, name]);
        const home = action.args.includes('--create-home') ? action.args[action.args.indexOf('--home-dir') + 1] : undefined;
        // useradd makes the home as root, following whatever links lie on the way.
        await add({ script: home && action.args.includes('--home-dir') ? onlyWhereRootControls(dirname(home), useradd, `create the home ${home}`) : useradd });
        break;
      }
      case 'usermod':
        await add({ script: argv(['usermod', ...action.args, name]) });
        break;
      case 'mkhome':
        // Made as whoever controls the directory it goes in (root for /home): see lib/shell/path-guard.ts.
        await add({ script: asControllerOf(dirname(action.home), sh`mkdir -p -- "$1" && cp -a /etc/skel/. "$1"/ && chown -R -- ${`${name}:`} "$1" && chmod 0700 -- "$1"`, [action.home]) });
        break;
      case 'password':
        // On stdin, so the hash never shows in ps or in an error message.
        await add({ script: sh`chpasswd -e`, stdin: `${name}:${action.hash}\n` });
        break;
      case 'keys':
        await add(keysStep(name, action.home, action.lines));
        break;
      case 'userdel':
        await send();
        await deleteUser(name, action, context);
        break;
    }
  }
  await send();
}

/**
 * Written as the user (runuser), not as root: ~/.ssh belongs to the user,
 * who could swap it for a symlink at any moment, and a root that followed it
 * would chmod or overwrite whatever it points at. Only the ownership of an
 * existing .ssh is fixed as root, with -h so a symlink is not followed.
 */
function keysStep(name: string, home: string, lines: readonly string[]): Step {
  const dir = `${home}/.ssh`;
  const content = lines.length > 0 ? `${lines.join('\n')}\n` : '';
  return {
    script: sh`if [ -e ${dir} ] || [ -L ${dir} ]; then chown -h -- ${`${name}:`} ${dir}; fi
runuser -u ${name} -- sh -c 'set -e; umask 077; mkdir -p -- "$1"; chmod 0700 -- "$1"; t=$(mktemp "$1/.authorized_keys.XXXXXX"); cat > "$t"; chmod 0600 -- "$t"; mv -f -- "$t" "$1/authorized_keys"' sh ${dir}`,
    stdin: content,
  };
}

async function deleteUser(name: string, action: Extract<UserAction, { do: 'userdel' }>, context: ApplyContext): Promise<void> {
  const userdel = argv(['userdel', ...(action.removeHome ? ['--remove'] : []), name]);
  if (action.force) {
    // Sessions first (logind would restart nothing, but ends them cleanly), then whatever is left; wait until the kernel has reaped them.
    await context.run(sh`loginctl terminate-user ${name} 2>/dev/null || true
pkill -KILL -u ${name} || true
i=0; while pgrep -u ${name} >/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i+1)); done
${userdel}`);
    return;
  }
  const result = await context.run(userdel, { okCodes: [0, USER_BUSY] });
  if (result.code === USER_BUSY) {
    throw new Error(
      `user ${name} cannot be removed: ${result.stderr.trim().split('\n').pop() ?? 'it is in use'}. Stop its processes (loginctl terminate-user ${name}, or stop the service that runs them) and run again, or set force: true to kill them first`,
    );
  }
}

// ── group ────────────────────────────────────────────────────────────────

/** groupadd, groupmod or groupdel, as planned. */
export async function applyGroup(wanted: WantedGroup, changes: readonly Change<GroupAction>[], context: ApplyContext): Promise<void> {
  for (const { action } of changes) {
    switch (action.do) {
      case 'groupadd':
        await context.run(argv(['groupadd', ...(action.system ? ['--system'] : []), ...(action.gid !== undefined ? ['--gid', String(action.gid)] : []), wanted.name]));
        break;
      case 'groupmod':
        await context.run(argv(['groupmod', '--gid', String(action.gid), wanted.name]));
        break;
      case 'groupdel':
        await context.run(argv(['groupdel', wanted.name]));
        break;
    }
  }
}
