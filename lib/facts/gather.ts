/**
 * Facts every task may read (`host.facts`), gathered when the host connects,
 * in one round trip: one script prints each probe under a marker line, and a
 * pure function parses the output.
 */
import { RemoteCommandError } from '../errors.ts';
import type { Connection, ExecResult } from '../connection/types.ts';
import type { Platform } from '../inventory/types.ts';
import { trusted } from '../shell/quote.ts';
import type { Facts } from './types.ts';

const MARK = '@@hostform-fact';
const SECTIONS = ['os-release', 'kernel', 'arch', 'hostname', 'user', 'uid', 'sudo'] as const;
type Section = (typeof SECTIONS)[number];

/** Each probe may fail on an odd host; its section is then empty and parsing says which one. */
export const FACTS_SCRIPT = trusted(
  [
    `echo '${MARK} os-release'`,
    'cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null',
    // One uname and one id for all (each process costs the host about a millisecond): uname prints
    // node name, release, machine in that order whatever the order asked; none holds a space.
    'set -- $(uname -nrm) && hf_uid=$(id -u)',
    `echo; echo '${MARK} kernel'`,
    'echo "$2"',
    `echo '${MARK} arch'`,
    'echo "$3"',
    `echo '${MARK} hostname'`,
    'echo "$1"',
    `echo '${MARK} user'`,
    'id -un',
    `echo '${MARK} uid'`,
    'echo "$hf_uid"',
    `echo '${MARK} sudo'`,
    'if [ "$hf_uid" = 0 ]; then echo yes; elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then echo yes; else echo no; fi',
    `echo '${MARK} end'`,
  ].join('\n'),
);

export async function gatherFacts(connection: Connection, platformOverride?: Platform): Promise<Facts> {
  return factsOf(connection.hostName, await connection.run(FACTS_SCRIPT), platformOverride);
}

/** The facts in the output of FACTS_SCRIPT (alone or at the start of a longer script); a RemoteCommandError says what is wrong. */
export function factsOf(hostName: string, result: ExecResult, platformOverride?: Platform): Facts {
  const facts = result.code === 0 ? parseFacts(result.stdout, platformOverride) : undefined;
  if (facts instanceof Error || facts === undefined) {
    throw new RemoteCommandError({
      host: hostName,
      task: 'gather facts',
      command: 'facts probe (os-release, uname, id, sudo -n true)',
      code: result.code,
      stderr: facts instanceof Error ? `${facts.message}\n${result.stderr}` : result.stderr,
      hint: 'the host needs a POSIX sh with uname and id; check that the login shell works with ssh HOST true',
    });
  }
  return facts;
}

/** Parse the facts script's output; an Error names what is missing. */
export function parseFacts(output: string, platformOverride?: Platform): Facts | Error {
  const sections = splitSections(output);
  const missing = SECTIONS.filter((s) => sections.get(s) === undefined);
  if (!sections.has('end') || missing.length > 0) {
    return new Error(`facts output is incomplete (missing: ${[...missing, ...(sections.has('end') ? [] : ['end'])].join(', ')})`);
  }
  const line = (s: Section): string => (sections.get(s) ?? '').trim();
  const uid = Number(line('uid'));
  if (!Number.isInteger(uid) || line('uid') === '') return new Error(`facts output has a bad uid: '${line('uid')}'`);
  const osRelease = parseOsRelease(sections.get('os-release') ?? '');
  return {
    osRelease,
    platform: platformOverride ?? detectPlatform(osRelease),
    kernel: line('kernel'),
    arch: line('arch'),
    hostname: line('hostname'),
    user: line('user'),
    uid,
    canBecome: line('sudo') === 'yes',
  };
}

function splitSections(output: string): Map<string, string> {
  const sections = new Map<string, string>();
  let current: string | undefined;
  let lines: string[] = [];
  for (const text of output.split('\n')) {
    if (text.startsWith(`${MARK} `)) {
      if (current !== undefined) sections.set(current, lines.join('\n'));
      current = text.slice(MARK.length + 1).trim();
      lines = [];
    } else if (current !== undefined) {
      lines.push(text);
    }
  }
  if (current !== undefined) sections.set(current, lines.join('\n'));
  return sections;
}

/** os-release(5): KEY=value lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!match || match[1] === undefined || match[2] === undefined) continue;
    result[match[1]] = unquote(match[2].trim());
  }
  return result;
}

function unquote(value: string): string {
  const first = value[0];
  if ((first === '"' || first === "'") && value.length >= 2 && value.endsWith(first)) {
    const inner = value.slice(1, -1);
    return first === '"' ? inner.replace(/\\([$"`\\])/g, '$1') : inner;
  }
  return value;
}

/**
 * Which module backends the host uses when the inventory does not say:
 * NixOS by its ID; EL 9 (RHEL, CentOS Stream, Rocky, Alma, ...) by ID or
 * ID_LIKE and a major version of 9; everything else is plain 'linux'.
 */
export function detectPlatform(osRelease: Readonly<Record<string, string>>): Platform {
  const id = (osRelease['ID'] ?? '').toLowerCase();
  if (id === 'nixos') return 'nixos';
  const family = [id, ...(osRelease['ID_LIKE'] ?? '').toLowerCase().split(/\s+/)];
  const major = (osRelease['VERSION_ID'] ?? '').split('.')[0];
  if (family.some((f) => f === 'rhel' || f === 'centos' || f === 'fedora') && major === '9') return 'el9';
  return 'linux';
}
