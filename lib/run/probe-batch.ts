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
  lines.push(
    `i=0; while [ "$i" -lt ${scripts.length} ]; do`,
    `  printf '@hf %s %s ' "$i" "$(cat "$d/$i.c")"; base64 -w0 <"$d/$i.o"; printf ' '; base64 -w0 <"$d/$i.e"; printf '\\n'`,
    '  i=$((i+1))',
    'done',
  );
  return trusted(lines.join('\n'));
}

/** Parse what batchScript printed; undefined when the output is not what it should be. */
export function parseBatchOutput(stdout: string, count: number): ExecResult[] | undefined {
  const results: ExecResult[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('@hf ')) continue;
    const [, index, code, out = '', err = ''] = line.split(' ');
    if (Number(index) !== results.length) return undefined;
    results.push({
      code: Number(code),
      stdout: Buffer.from(out, 'base64').toString('utf8'),
      stderr: Buffer.from(err, 'base64').toString('utf8'),
    });
  }
  return results.length === count ? results : undefined;
}
