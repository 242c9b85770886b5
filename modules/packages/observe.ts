import type { ExecResult } from '../../lib/connection/types.ts';
import { quote, sh, type ShellScript } from '../../lib/shell/quote.ts';
import { probeFailure } from '../shared/become.ts';
import { allSpecs, type PackageSpec, type WantedPackages } from './params.ts';

/** An installed package as rpm reports it. */
export interface RpmPackage {
  readonly name: string;
  readonly epoch: string;
  readonly version: string;
  readonly release: string;
  readonly arch: string;
}

/** A package a repository offers. */
export interface RepoPackage extends RpmPackage {
  readonly repo: string;
}

export interface ObservedPackages {
  /** `rpm -q ARG` for every spec and every pin reading's name: the installed packages it matches. */
  readonly installed: ReadonlyMap<string, readonly RpmPackage[]>;
  /** `rpm -q --whatprovides SPEC`: installed packages providing the spec (names, files, virtual provides). */
  readonly providers: ReadonlyMap<string, readonly RpmPackage[]>;
  /**
   * What the repositories offer, asked only when something is to be
   * installed or `latest` is wanted (dnf is slow to start; rpm is not).
   */
  readonly repo?: RepoAnswer;
}

export type RepoAnswer =
  | {
      /** Per present/latest spec: the newest package that would be installed for it. */
      readonly available: ReadonlyMap<string, RepoPackage>;
      /** Per latest spec: the upgrade dnf would make, when there is one. */
      readonly upgrades: ReadonlyMap<string, RepoPackage>;
    }
  | { readonly error: string };

/** Ends every answer of a multi-argument rpm query: rpm answers in argument order, but not saying for which. */
const END = '@@hostform-end@@';
const RPM_FORMAT = '+\\t%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n';
const DNF_FORMAT = '%{name}\t%{epoch}\t%{version}\t%{release}\t%{arch}\t%{repoid}';

/** The arguments of the two rpm queries; probe and parse both derive them from the task. */
export function rpmArguments(w: WantedPackages): { names: string[]; provides: string[] } {
  const specs = allSpecs(w);
  const names = new Set<string>();
  for (const s of specs) {
    // rpm -q reads an absolute path as a file to query; whatprovides answers for paths.
    if (!s.spec.startsWith('/')) names.add(s.spec);
    for (const pin of s.pins) names.add(pin.name);
  }
  return { names: [...names], provides: specs.map((s) => s.spec) };
}

/** Specs the repositories are asked about, indexed by position in this list. */
function repoSpecs(w: WantedPackages): PackageSpec[] {
  return [...w.present, ...w.latest];
}

/** dnf's own options for a task: repositories disabled first, so `disableRepos: ['*'], enableRepos: ['x']` means only x. */
export function repoOptions(w: WantedPackages): string[] {
  return [...w.disableRepos.map((r) => `--disablerepo=${r}`), ...w.enableRepos.map((r) => `--enablerepo=${r}`)];
}

/**
 * One script: two rpm queries for all specs (each argument followed by an
 * end marker), then, only when a wanted package is missing or `latest` is
 * asked for, one `dnf shell` that runs a repoquery per spec. The decision is
 * made on the host so the probe stays a single round trip.
 */
export function packagesProbe(w: WantedPackages): ShellScript {
  const { names, provides } = rpmArguments(w);
  const queries = repoSpecs(w).flatMap((s, i) => repoQueries(s.spec, i, w.latest.includes(s)));
  const withEnd = (args: readonly string[]) => args.flatMap((a) => [a, END]);
  return sh`export LC_ALL=C
command -v rpm >/dev/null || { echo 'rpm not found: the packages module needs an rpm-based host (RHEL 9 and rebuilds)' >&2; exit 3; }
${names.length > 0 ? sh`names=$(rpm -q --qf ${RPM_FORMAT} -- ${withEnd(names)})` : sh`names=`}
${provides.length > 0 ? sh`provides=$(rpm -q --whatprovides --qf ${RPM_FORMAT} -- ${withEnd(provides)})` : sh`provides=`}
printf '%s\n@@provides\n%s\n' "$names" "$provides"
need=${w.latest.length > 0 ? 1 : 0}
for s in ${w.present.map((s) => s.spec)}; do
  if printf '%s\n' "$names" | grep -qxF "package $s is not installed" && printf '%s\n' "$provides" | grep -qxF "no package provides $s"; then need=1; fi
done
if [ "$need" = 1 ]; then
  echo @@repo
  printf '%s\n' ${queries} | dnf -q ${repoOptions(w)} shell
  rc=$?; echo; echo "@@dnf $rc"
fi`;
}

/** dnf shell lines (split like a POSIX shell) asking the repositories about one spec, tagged with its index. */
function repoQueries(spec: string, index: number, latest: boolean): string[] {
  const ask = (tag: string, how: string) => `repoquery --latest-limit 1 ${how} --qf ${quote(`${tag}${index}\t${DNF_FORMAT}`)}`;
  // A plain repoquery matches names and files but not virtual provides; --whatprovides finds those.
  const lines = [`${ask('A', '')} -- ${quote(spec)}`, `${ask('P', `--whatprovides ${quote(spec)}`)}`];
  if (latest) lines.push(`${ask('U', '--upgrades')} -- ${quote(spec)}`);
  return lines;
}

export function parsePackagesProbe(w: WantedPackages, result: ExecResult): ObservedPackages {
  if (result.code !== 0) {
    const reason = result.stderr.trim() || `exit code ${result.code}`;
    throw probeFailure('cannot query the rpm database', reason);
  }
  const [rpmPart = '', repoPart] = result.stdout.split('\n@@repo\n');
  const [namesPart = '', providesPart = ''] = rpmPart.split('\n@@provides\n');
  const { names, provides } = rpmArguments(w);
  return {
    installed: answersByArgument(names, namesPart),
    providers: answersByArgument(provides, providesPart),
    ...(repoPart !== undefined ? { repo: parseRepoAnswer(w, repoPart, result.stderr) } : {}),
  };
}

function answersByArgument(args: readonly string[], text: string): Map<string, RpmPackage[]> {
  const answers: RpmPackage[][] = [[]];
  for (const line of text.split('\n')) {
    if (line.startsWith('+\t')) {
      const [, name = '', epoch = '0', version = '', release = '', arch = ''] = line.split('\t');
      answers[answers.length - 1]?.push({ name, epoch, version, release, arch });
    } else if (line.endsWith(` ${END} is not installed`) || line.endsWith(` provides ${END}`)) {
      answers.push([]);
    }
  }
  answers.pop();
  if (answers.length !== args.length) {
    throw new Error(`unexpected rpm output: ${answers.length} answers for ${args.length} questions: ${JSON.stringify(text.slice(0, 300))}`);
  }
  return new Map(args.map((a, i) => [a, answers[i] ?? []]));
}

function parseRepoAnswer(w: WantedPackages, text: string, stderr: string): RepoAnswer {
  const code = /^@@dnf (\d+)$/m.exec(text)?.[1];
  if (code !== '0') {
    const detail = stderr.trim().split('\n').slice(-6).join('\n  ') || `dnf exited with ${code ?? 'no status'}`;
    return { error: detail };
  }
  const specs = repoSpecs(w);
  const found = { A: new Map<string, RepoPackage>(), P: new Map<string, RepoPackage>(), U: new Map<string, RepoPackage>() };
  for (const raw of text.split('\n')) {
    // dnf shell prints its "> " prompt before every answer, and after the last one.
    const line = raw.replace(/^(> )+/, '');
    const match = /^([APU])(\d+)\t(.*)$/.exec(line);
    if (!match) continue;
    const [, tag = 'A', index = '', rest = ''] = match;
    const spec = specs[Number(index)]?.spec;
    const [name = '', epoch = '0', version = '', release = '', arch = '', repo = ''] = rest.split('\t');
    const map = found[tag as 'A' | 'P' | 'U'];
    if (spec !== undefined && !map.has(spec)) map.set(spec, { name, epoch, version, release, arch, repo });
  }
  const available = new Map(found.P);
  for (const [spec, pkg] of found.A) available.set(spec, pkg);
  return { available, upgrades: found.U };
}

/** `1.0-1`, or `2:1.0-1` with an epoch. */
export function evr(p: Pick<RpmPackage, 'epoch' | 'version' | 'release'>): string {
  return `${p.epoch && p.epoch !== '0' ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
}

/** `name-[epoch:]version-release.arch`: exactly one installed package, for removal. */
export function nevra(p: RpmPackage): string {
  return `${p.name}-${evr(p)}.${p.arch}`;
}
