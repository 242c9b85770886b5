import { formatSource, PlaybookProblems, type ErrorKind, type ErrorRecord, type SourceLocation } from '../errors.ts';

/**
 * One thing wrong with a playbook, found before any host is changed: a
 * task's parameter, a `when` or a role that threw, a notify naming no
 * handler. `host` is set when the problem depends on the host (a role's
 * tasks, a template, a condition); the same problem on several hosts is
 * said once, naming them.
 */
export interface Problem {
  readonly kind: ErrorKind;
  readonly play: string;
  /** The sentence: `parameter 'mode' = "0999": must be ...`, `when(host) threw TypeError: ...`. */
  readonly text: string;
  readonly host?: string | undefined;
  readonly source?: SourceLocation | undefined;
  readonly role?: string | undefined;
  readonly task?: string | undefined;
  readonly module?: string | undefined;
  readonly parameter?: string | undefined;
  readonly value?: string | undefined;
  readonly expected?: string | undefined;
}

/** Hosts named in a line before the rest are counted. */
const HOSTS_SHOWN = 3;

/**
 * One error listing every problem, each once, with the hosts it was found
 * on. A parameter's problem found on every host of its play (`playHosts`:
 * play name to hosts) is told without them: as far as this run can tell, it
 * does not depend on the host.
 */
export function playbookProblems(problems: readonly Problem[], playHosts: ReadonlyMap<string, readonly string[]>): PlaybookProblems {
  const groups = new Map<string, { problem: Problem; hosts: string[] }>();
  for (const problem of problems) {
    const key = JSON.stringify({ ...problem, host: undefined });
    const group = groups.get(key) ?? { problem, hosts: [] };
    if (problem.host !== undefined && !group.hosts.includes(problem.host)) group.hosts.push(problem.host);
    groups.set(key, group);
  }
  return new PlaybookProblems(
    [...groups.values()].map(({ problem, hosts }) => {
      const all = playHosts.get(problem.play) ?? [];
      const everywhere = problem.kind === 'parameter' && all.length > 0 && all.every((h) => hosts.includes(h));
      return recordOf(problem, everywhere ? [] : hosts);
    }),
  );
}

/** `site.ts:8: play 'site', task 'motd' (file) on nas, web1: parameter 'mode' = "0999": must be ...`. */
function recordOf(p: Problem, hosts: readonly string[]): ErrorRecord {
  const where = p.source ? `${formatSource(p.source)}: ` : '';
  const what = p.task !== undefined ? `, task '${p.task}'${p.module ? ` (${p.module})` : ''}` : p.role !== undefined ? `, role '${p.role}'` : '';
  const on = hosts.length === 0 ? '' : ` on ${hosts.slice(0, HOSTS_SHOWN).join(', ')}${hosts.length > HOSTS_SHOWN ? ` and ${hosts.length - HOSTS_SHOWN} more` : ''}`;
  const message = `${where}play '${p.play}'${what}${on}: ${p.text}`;
  const shortMessage = message.split('\n')[0] ?? '';
  const fields = {
    source: p.source,
    play: p.play,
    hosts: hosts.length > 0 ? hosts : undefined,
    role: p.role,
    task: p.task,
    module: p.module,
    parameter: p.parameter,
    value: p.value,
    expected: p.expected,
  };
  return { kind: p.kind, shortMessage, message, ...definedOnly(fields) };
}

function definedOnly<T extends object>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
