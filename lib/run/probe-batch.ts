import type { Connection, ExecResult } from '../connection/types.ts';
import { RemoteCommandError } from '../errors.ts';
import { ShellScript, trusted } from '../shell/quote.ts';
import { privateTempDir } from '../shell/temp-dir.ts';

export interface ProbeRequest {
  readonly script: ShellScript;
  readonly become: boolean;
  /** The probe's standard input (see Probe.stdin): such a probe runs on its own. */
  readonly stdin?: string | Buffer | undefined;
}

/**
 * Run many read-only probes in as few round trips as possible: one script per
 * `become` setting, each probe in its own subshell with its stdout, stderr and
 * exit code kept apart. Identical probes (same script, same become) run once.
 * Outputs travel base64-encoded so bytes and trailing newlines survive exactly.
 * A probe with its own standard input (which carries a secret: never part of a
 * script) runs alone, in a round trip of its own.
 */
export async function runProbes(connection: Connection, requests: readonly ProbeRequest[]): Promise<ExecResult[]> {
  const unique = new Map<string, ProbeRequest>();
  for (const r of requests) if (r.stdin === undefined) unique.set(probeKey(r), r);

  const results = new Map<string, ExecResult>();
  for (const r of requests) {
    if (r.stdin !== undefined) results.set(probeKey(r), await connection.run(r.script, { become: r.become, stdin: r.stdin }));
  }
  for (const become of [false, true]) {
    const group = [...unique.values()].filter((r) => r.become === become);
    if (group.length === 0) continue;
    const outputs = await runGroup(connection, group, become);
    group.forEach((r, i) => results.set(probeKey(r), outputs[i] as ExecResult));
  }
  return requests.map((r) => results.get(probeKey(r)) as ExecResult);
}

function probeKey(r: ProbeRequest): string {
  return `${r.become ? 'root' : 'user'}\0${r.script.text}${r.stdin === undefined ? '' : `\0${Buffer.from(r.stdin).toString('base64')}`}`;
}

async function runGroup(connection: Connection, group: readonly ProbeRequest[], become: boolean): Promise<ExecResult[]> {
  const only = group.length === 1 ? group[0] : undefined;
  if (only) return [await connection.run(only.script, { become })];
  const script = batchScript(group.map((r) => r.script));
  // A batch of many probes can outgrow one command-line argument: it travels on stdin (each probe reads /dev/null).
  const result = await connection.run(script, { become, scriptOnStdin: true });
  const parsed = parseBatchOutput(result.stdout, group.length);
  if (!parsed) {
    throw new RemoteCommandError({
      host: connection.hostName,
      command: `(batch of ${group.length} probes)`,
      code: result.code,
      stderr: result.stderr,
      hint: 'the host needs a POSIX sh with mktemp and base64 (coreutils); check that the login shell works',
    });
  }
  return parsed;
}

/**
 * One script running each of `scripts` in its own subshell, its stdout,
 * stderr and exit code kept apart and printed, in order, as parseBatchOutput
 * reads them. Probes run from `/` on an empty standard input. With `inputs`
 * (the byte count of each script's standard input, undefined for none), the
 * batch's standard input is their concatenation: it is kept whole in the
 * private directory and its size checked before any script runs (a cut
 * connection runs nothing, as lib/run/whole-input.ts), then each script reads
 * its own part from a pipe.
 */
export function batchScript(scripts: readonly ShellScript[], inputs?: readonly (number | undefined)[]): ShellScript {
  // Probe outputs may hold file contents (secrets too): a private directory, removed however the script ends.
  const lines = [privateTempDir('d').text];
  if (inputs) {
    const total = inputs.reduce<number>((sum, n) => sum + (n ?? 0), 0);
    lines.push(
      'cat >"$d/in" || exit 1',
      `if [ "$(stat -c %s -- "$d/in")" != ${total} ]; then echo "hostform: standard input arrived incomplete; nothing was run" >&2; exit 1; fi`,
    );
  } else lines.push('cd /');
  let offset = 0;
  scripts.forEach((s, i) => {
    const size = inputs?.[i];
    const input = size === undefined ? '</dev/null' : '';
    const feed = size === undefined ? '' : `tail -c +${offset + 1} -- "$d/in" 2>/dev/null | head -c ${size} | `;
    offset += size ?? 0;
    lines.push(`${feed}(\n${s.text}\n) ${input} >"$d/${i}.o" 2>"$d/${i}.e"; echo $? >"$d/${i}.c"`);
  });
  // Exit codes one line each; then the sizes of every output and one base64 of them all, so the
  // host starts three processes for the whole batch, not three per script.
  lines.push(
    `set --; i=0; while [ "$i" -lt ${scripts.length} ]; do`,
    `  read -r c <"$d/$i.c"; printf '@hf %s %s\\n' "$i" "$c"; set -- "$@" "$d/$i.o" "$d/$i.e"`,
    '  i=$((i+1))',
    'done',
    'echo @hf-sizes $(stat -c %s -- "$@")',
    'cat -- "$@" | base64 -w0; echo',
  );
  return trusted(lines.join('\n'));
}

/** Parse what batchScript printed; undefined when the output is not what it should be. */
export function parseBatchOutput(stdout: string, count: number): ExecResult[] | undefined {
  const lines = stdout.split('\n');
  const codes: number[] = [];
  let at = 0;
  for (; at < lines.length && !lines[at]?.startsWith('@hf-sizes'); at++) {
    const line = lines[at] ?? '';
    if (!line.startsWith('@hf ')) continue;
    const [, index, code = ''] = line.split(' ');
    if (Number(index) !== codes.length || !/^\d+$/.test(code)) return undefined;
    codes.push(Number(code));
  }
  const sizes = (lines[at] ?? '').split(' ').slice(1).map(Number);
  const data = Buffer.from(lines[at + 1] ?? '', 'base64');
  if (codes.length !== count || sizes.length !== 2 * count || sizes.some((n) => !Number.isInteger(n) || n < 0)) return undefined;
  if (sizes.reduce((sum, n) => sum + n, 0) !== data.length) return undefined;
  let offset = 0;
  const take = (size: number) => data.subarray(offset, (offset += size)).toString('utf8');
  return codes.map((code, i) => ({ code, stdout: take(sizes[2 * i] as number), stderr: take(sizes[2 * i + 1] as number) }));
}
