import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { stringify } from 'yaml';
import type { ErrorRecord } from '../lib/errors.ts';
import { printableLine } from '../lib/report/terminal.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { runPlay, writePlaybook } from './support/play.ts';

// Every row of the table in docs/errors.md, run through `play`: the exit code,
// the line printed and the kind of the --json record must be what the row
// says, so the documentation cannot drift from what hostform prints.

const DOC = new URL('../docs/errors.md', import.meta.url);
const lib = new URL('../lib/index.ts', import.meta.url).pathname;
const modules = new URL('../modules/index.ts', import.meta.url).pathname;

interface Row {
  readonly number: string;
  readonly mistake: string;
  readonly task: string;
  readonly on: string;
  readonly exit: number;
  readonly kind: string;
  readonly message: string;
}

/** The table's rows: cells split at `|` outside backticks, code cells unwrapped. */
function rowsOf(doc: string): Row[] {
  const header = doc.indexOf('| # | mistake |');
  const lines = doc.slice(header).split('\n').slice(2);
  const rows: Row[] = [];
  for (const line of lines) {
    if (!line.startsWith('|')) break;
    const cells = (line.slice(1, -1).match(/(?:`[^`]*`|[^|`])+/g) ?? []).map((c) => c.trim().replace(/^`(.*)`$/, '$1'));
    const [number = '', mistake = '', task = '', on = '', exit = '', kind = '', message = ''] = cells;
    rows.push({ number, mistake, task, on, exit: Number(exit), kind, message });
  }
  return rows;
}

/** The playbook of the doc, with `TASK` replaced and hostform imported from this checkout (same lines). */
function playbookOf(doc: string, task: string): string {
  const code = /```ts\n(import \{ playbook[\s\S]*?)```/.exec(doc)?.[1] ?? '';
  return code.replace(`'hostform'`, JSON.stringify(lib)).replace(`'hostform/modules'`, JSON.stringify(modules)).replace('TASK', task);
}

/** `…` stands for any text. */
const matcher = (message: string) => new RegExp(`^${message.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`);

/** Lines as printed, without the prefixes that say where a line comes from (`error: `, `[box] failed: `). */
const printedLines = (stderr: string) => stderr.split('\n').map((l) => l.trim().replace(/^error: /, '').replace(/^\[[^\]]+\] (failed|unreachable): /, ''));

/** The records of a --json report: a run's failures, or the errors of a run that never started. */
function recordsOf(stdout: string): ErrorRecord[] {
  const report = JSON.parse(stdout) as { errors?: ErrorRecord[]; hosts?: { error?: ErrorRecord; tasks: { error?: ErrorRecord }[] }[] };
  return report.errors ?? (report.hosts ?? []).flatMap((h) => [h.error, ...h.tasks.map((task) => task.error)]).filter((e): e is ErrorRecord => e !== undefined);
}

const doc = await readFile(DOC, 'utf8');
const rows = rowsOf(doc);
/** The --json record the doc shows, one of the rows'. */
const example = JSON.parse(/```json\n([\s\S]*?)```/.exec(doc)?.[1] ?? '{}') as ErrorRecord;
const home = process.cwd();

let h: TestHost;
let dir: string;
t.before(async () => {
  [h] = (await hosts.up(1, 'el9')) as [TestHost];
  dir = await mkdtemp(join(tmpdir(), 'hostform-errors-doc-'));
});
t.teardown(async () => {
  process.chdir(home);
  await hosts.down();
  await rm(dir, { recursive: true, force: true });
});

/** Where a row runs: the inventory written for it, and what is added to the command line. */
async function setUp(row: Row): Promise<{ inventory: object; args: string[]; during?: () => Promise<() => Promise<void>> }> {
  const entry = h.inventoryEntry();
  // A box where nothing listens: a mistake found there was found without connecting.
  const nowhere = { address: '127.0.0.1', port: 1, user: 'admin', identityFile: entry.identityFile, knownHostsFile: join(dir, 'known_hosts') };
  const inventory = (box: object) => ({ hosts: { box }, groups: { web: { hosts: ['box'] } } });
  switch (row.on) {
    case 'nowhere':
      return { inventory: inventory(nowhere), args: [] };
    case 'nowhere, `--limit webz`':
      return { inventory: inventory(nowhere), args: ['--limit', 'webz'] };
    case 'nowhere, `port: 70000` in the inventory':
      return { inventory: inventory({ ...nowhere, port: 70000 }), args: [] };
    case 'box':
      return { inventory: inventory(entry), args: [] };
    case 'box, locked':
      return { inventory: inventory(entry), args: ['--lock-timeout', '0'], during: () => holdLock(inventory(entry)) };
    case 'box, as pwuser':
      return { inventory: inventory({ ...entry, user: 'pwuser' }), args: [] };
    case 'box, without flock':
      return { inventory: inventory(entry), args: [], during: () => away('/usr/bin/flock') };
    case 'box, owing':
      return { inventory: inventory(entry), args: [], during: owing };
    default:
      throw new Error(`row ${row.number}: no setup for '${row.on}'`);
  }
}

/** Another run holding the host's lock (a playbook that sleeps); resolves once it holds it, with a function that waits for it to end. */
async function holdLock(inventory: object): Promise<() => Promise<void>> {
  const holder = join(dir, 'holder');
  await mkdir(holder, { recursive: true });
  await writeFile(join(holder, 'inventory.yml'), stringify(inventory));
  const book = await writePlaybook(holder, 'holder', `export default playbook({ name: 'holder', hosts: 'all', tasks: [command({ argv: ['sleep', '8'] })] });`);
  const run = runPlay([book, '-i', join(holder, 'inventory.yml')]);
  for (let i = 0; i < 100 && (await h.exec('flock -n /run/hostform/run.lock true')).code === 0; i++) await sleep(100);
  return async () => void (await run);
}

/** A program moved away from the host for the run; resolves with what puts it back. */
async function away(path: string): Promise<() => Promise<void>> {
  await h.exec(`mv ${path} ${path}.away`);
  return async () => void (await h.exec(`mv ${path}.away ${path}`));
}

/** A pending-actions journal left by an interrupted run of another playbook, owing a handler; resolves with what removes it. */
async function owing(): Promise<() => Promise<void>> {
  const owedBy = { run: 'r-earlier', playbook: 'other.ts', started: '2026-01-02T03:04:05.000Z', user: 'me', control: 'laptop' };
  const text = JSON.stringify({ version: 1, entries: [{ kind: 'handler', play: 'site', name: 'reload app', owedBy }] });
  await h.exec(`mkdir -p -m 0700 /var/lib/hostform && printf %s '${text}' >/var/lib/hostform/pending`);
  return async () => void (await h.exec('rm -f /var/lib/hostform/pending'));
}

t.test('docs/errors.md has a table of at least 15 mistakes', async (t) => {
  t.ok(rows.length >= 15, `${rows.length} rows`);
  t.ok(rows.some((row) => matcher(row.message).test(example.shortMessage)), 'the --json example is the record of a row');
  t.same(
    rows.map((r) => r.number),
    rows.map((_, i) => String(i + 1)),
    'numbered in order',
  );
});

for (const row of rows) {
  t.test(`docs/errors.md row ${row.number}, ${row.mistake}: exit ${row.exit}, kind ${row.kind}, the message as written`, async (t) => {
    const { inventory, args, during } = await setUp(row);
    // A directory per row: a playbook module is loaded once per path.
    const rowDir = join(dir, `row-${row.number}`);
    await mkdir(rowDir, { recursive: true });
    await writeFile(join(rowDir, 'package.json'), '{ "type": "module" }');
    await writeFile(join(rowDir, 'site.ts'), playbookOf(doc, row.task));
    await writeFile(join(rowDir, 'inventory.yml'), stringify(inventory));
    // Locations are shown relative to the working directory: `site.ts:9`.
    process.chdir(rowDir);
    try {
      for (const json of [false, true]) {
        const finished = await during?.();
        const result = await runPlay(['site.ts', '-i', 'inventory.yml', ...args, ...(json ? ['--json'] : [])]);
        await finished?.();
        t.equal(result.code, row.exit, `exit code${json ? ' with --json' : ''}`);
        if (!json) {
          const printed = printedLines(result.stderr);
          t.ok(printed.some((line) => matcher(row.message).test(line)), 'the message is printed', { printed: result.stderr, wanted: row.message });
          continue;
        }
        const records = recordsOf(result.stdout);
        t.equal(records.length, 1, 'one error record');
        if (records[0]?.shortMessage === example.shortMessage) t.same(records[0], example, 'the record shown in the doc is this one');
        t.equal(records[0]?.kind, row.kind, 'its kind');
        // As printed: a control character in it is shown as an escape (see lib/report/terminal.ts).
        t.match(printableLine(records[0]?.shortMessage ?? ''), matcher(row.message), 'its short message');
      }
    } finally {
      process.chdir(home);
    }
  });
}
