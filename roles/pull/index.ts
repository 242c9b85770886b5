import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TEXTFILE_DIR } from '../../lib/pull/metrics.ts';
import { DEFAULT_STATE_DIR } from '../../lib/pull/scripts.ts';
import { role, type Step } from '../../lib/playbook.ts';
import { command } from '../../modules/command.ts';
import { file } from '../../modules/file/index.ts';
import { packages } from '../../modules/packages/index.ts';
import { literalWord } from '../../modules/quadlet/render.ts';
import { service, timer, unit } from '../../modules/systemd/index.ts';

export interface PullOptions {
  /** The repository the host converges from: any URL `git fetch` takes (`https://`, `ssh://`, `git://`, a path). */
  readonly repo: string;
  /** The branch or tag to follow. Default 'main'. */
  readonly ref?: string;
  /** The playbook, relative to the repository's root: 'playbooks/site.ts'. */
  readonly playbook: string;
  /** Inventory paths relative to the repository's root. Default: play's own (`inventory`). */
  readonly inventory?: readonly string[];
  /**
   * Minutes between pulls: a number that divides 60 (1, 2, 5, 10, 15, 30, 60)
   * or a number of whole hours that divides 24 (120, 180, 240, 360, 480, 720,
   * 1440). The timer is a calendar timer with Persistent=true: a pull missed
   * while the machine was off or asleep runs when it is back. Default 30.
   */
  readonly intervalMinutes?: number;
  /** Each pull waits a random time up to this many seconds, so a fleet does not fetch all at once. Default: a fifth of the interval, at most 300. */
  readonly randomizedDelaySeconds?: number;
  /**
   * Only commits signed by one of these keys are applied: the lines of an
   * allowed-signers file (ssh-keygen's format: `admin@example.org
   * namespaces="git" ssh-ed25519 AAAA...`). Left out: signatures are not checked.
   */
  readonly allowedSigners?: string;
  /** An unchanged commit is only checked: drift shows in the metrics and is repaired by the next apply (a new commit). */
  readonly checkOnlyIfUnchanged?: boolean;
  /** Default /var/lib/hostform/pull. */
  readonly stateDir?: string;
  /** node_exporter's textfile directory, where each pull writes hostform_pull.prom. Default /var/lib/node_exporter/textfile_collector. */
  readonly textfileDir?: string;
  /**
   * Install Node.js (20 or later), npm and git with the host's packages: on
   * EL 9 the nodejs:20 module stream, on NixOS nodejs_20. Default true; false
   * when the host has them from elsewhere.
   */
  readonly installTools?: boolean;
  /**
   * The directory with the repository's package.json and package-lock.json
   * (and .npmrc, when there is one): the timer runs the hostform they lock.
   * Default: the directory play runs in. A pull applying this role keeps it
   * up to date with the repository.
   */
  readonly project?: string;
  /** 'absent' stops and removes the timer and its service, the state directory and the metrics file. Default 'present'. */
  readonly state?: 'present' | 'absent';
}

const NAME = 'hostform-pull';
/** Where the pull finds node, git and npm: NixOS's system profile first, then the usual places. */
const PATH = '/run/current-system/sw/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The copy of package-lock.json that the launcher's last successful `npm ci` installed. */
const INSTALLED_LOCK = 'node_modules/.hostform-launcher-lock';

/**
 * Pull mode (docs/fleet.md): the host converges itself from a git repository
 * on a systemd timer. The timer's service runs `play pull` with the hostform
 * that the repository's lockfile pins (installed into `<stateDir>/launcher`),
 * which fetches the repository, checks its signature when asked to, installs
 * its dependencies and applies its playbook to this host, taking the same run
 * lock as a push. Its log is in the journal (`journalctl -u hostform-pull`);
 * its metrics are in node_exporter's textfile directory.
 */
export const pull = role('pull', (o: PullOptions, host): readonly Step[] => {
  const stateDir = o.stateDir ?? DEFAULT_STATE_DIR;
  const textfileDir = o.textfileDir ?? DEFAULT_TEXTFILE_DIR;
  if (o.state === 'absent') return uninstall(stateDir, textfileDir);

  const minutes = o.intervalMinutes ?? 30;
  const onCalendar = calendarEvery(minutes);
  const delay = o.randomizedDelaySeconds ?? Math.min(300, Math.floor((minutes * 60) / 5));
  if (!Number.isInteger(delay) || delay < 0 || delay > minutes * 60) {
    throw new Error(`pull: randomizedDelaySeconds must be a whole number of seconds from 0 to the interval (${minutes * 60}), got ${delay}`);
  }
  const project = o.project ?? process.cwd();
  const launcher = `${stateDir}/launcher`;
  const allowedSigners = `${stateDir}/allowed_signers`;
  const args = [
    'pull',
    '--repo',
    o.repo,
    '--ref',
    o.ref ?? 'main',
    '--host',
    host.name,
    '--state-dir',
    stateDir,
    '--textfile-dir',
    textfileDir,
    '--interval',
    String(minutes * 60 + delay),
    ...(o.inventory ?? []).flatMap((i) => ['-i', i]),
    ...(o.allowedSigners !== undefined ? ['--verify-signatures', '--allowed-signers', allowedSigners] : []),
    ...(o.checkOnlyIfUnchanged ? ['--check-only-if-unchanged'] : []),
    o.playbook,
  ];
  const env = ['/usr/bin/env', `PATH=${PATH}`];
  return [
    ...(o.installTools === false ? [] : installTools(host.facts.platform)),
    file({ path: stateDir, state: 'directory', mode: '0700' }),
    file({ path: launcher, state: 'directory', mode: '0700' }),
    ...projectFiles(project).map(([name, content]) => file({ path: `${launcher}/${name}`, content, mode: '0600' })),
    command(
      {
        shell: `npm ci --ignore-scripts --omit=dev --no-audit --no-fund && cp package-lock.json ${INSTALLED_LOCK}`,
        chdir: launcher,
        env: { PATH, npm_config_cache: `${stateDir}/npm-cache`, npm_config_update_notifier: 'false' },
        unless: { shell: `cmp -s package-lock.json ${INSTALLED_LOCK} && test -f node_modules/hostform/bin/play.js` },
      },
      { name: 'install the hostform the repository locks (npm ci)' },
    ),
    ...(o.allowedSigners !== undefined ? [file({ path: allowedSigners, content: withNewline(o.allowedSigners), mode: '0644', owner: 'root' })] : [file({ path: allowedSigners, state: 'absent' })]),
    timer({
      name: NAME,
      description: `hostform pull from ${o.repo}`,
      onCalendar,
      persistent: true,
      randomizedDelaySec: delay,
      accuracySec: '1s',
      service: {
        execStart: [...env, 'node', `${launcher}/node_modules/hostform/bin/play.js`, ...args].map(literalWord).join(' '),
        options: {
          ExecStartPre: [
            ...env,
            'sh',
            '-c',
            "command -v node >/dev/null || { echo 'hostform pull: Node.js is not installed: it needs Node.js 20 or later, with npm and git (roles/pull installs them; see docs/fleet.md)' >&2; exit 1; }",
          ]
            .map(literalWord)
            .join(' '),
          // 2: drift found and left (--check-only-if-unchanged); 75: another run held the host, this pull did nothing.
          SuccessExitStatus: '2 75',
          // A pull that hangs (a git server that never answers) must not hold the host's run lock for ever.
          TimeoutStartSec: '1h',
          // The journal names the pull, not /usr/bin/env: journalctl -t hostform-pull.
          SyslogIdentifier: NAME,
        },
      },
    }),
  ];
});

/** OnCalendar= for "every N minutes", on the minute or the hour, so every host's interval is the same length. */
function calendarEvery(minutes: number): string {
  if (Number.isInteger(minutes) && minutes >= 1 && minutes <= 60 && 60 % minutes === 0) return minutes === 60 ? 'hourly' : `*:0/${minutes}`;
  const hours = minutes / 60;
  if (Number.isInteger(hours) && hours >= 1 && hours <= 24 && 24 % hours === 0) return hours === 24 ? 'daily' : `0/${hours}:00`;
  throw new Error(`pull: intervalMinutes must divide 60 (1, 2, 5, 10, 15, 30, 60) or be whole hours dividing 24 (120, 180, 240, 360, 480, 720, 1440), got ${minutes}`);
}

/** package.json and package-lock.json (required) and .npmrc (when there is one) of the project, for the launcher. */
function projectFiles(project: string): [string, string][] {
  const read = (name: string) => readFileSync(join(project, name), 'utf8');
  for (const name of ['package.json', 'package-lock.json']) {
    if (!existsSync(join(project, name))) {
      throw new Error(`pull: ${join(project, name)} does not exist: the timer runs the hostform that the repository's package-lock.json pins (give project: the repository's root)`);
    }
  }
  return [['package.json', read('package.json')], ['package-lock.json', read('package-lock.json')], ...(existsSync(join(project, '.npmrc')) ? [['.npmrc', read('.npmrc')] as [string, string]] : [])];
}

function installTools(platform: string): Step[] {
  if (platform === 'nixos') return [packages({ present: ['nodejs_20', 'git'] })];
  if (platform !== 'el9') return [];
  return [
    command(
      { argv: ['dnf', 'module', 'enable', '-y', 'nodejs:20'], unless: { shell: "dnf module list --enabled nodejs 2>/dev/null | grep -Eq '^nodejs +20 '" } },
      { name: 'enable the nodejs:20 module stream' },
    ),
    packages({ present: ['nodejs', 'npm', 'git-core'] }),
  ];
}

function uninstall(stateDir: string, textfileDir: string): Step[] {
  return [
    service({ name: `${NAME}.timer`, state: 'stopped', enabled: false }),
    service({ name: `${NAME}.service`, state: 'stopped' }),
    unit({ name: `${NAME}.timer`, state: 'absent' }),
    unit({ name: `${NAME}.service`, state: 'absent' }),
    file({ path: stateDir, state: 'absent' }),
    file({ path: `${textfileDir}/hostform_pull.prom`, state: 'absent' }),
  ];
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
