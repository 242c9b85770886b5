import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadInventory } from '../lib/inventory/load.ts';
import { defineModule } from '../lib/module/define.ts';
import { Skip } from '../lib/module/skip.ts';
import { effect, resourceKey, ResourceKind } from '../lib/module/resources.ts';
import type { Backend } from '../lib/module/types.ts';
import { playbook } from '../lib/playbook.ts';
import { runPlaybooks } from '../lib/run/run.ts';
import { sh } from '../lib/shell/quote.ts';

// Engine mechanics that modules such as packages and systemd rely on, shown
// with a small real module on the local connection: consecutive tasks applied
// together, and a host-wide action deferred and run once.

const dir = await mkdtemp(join(tmpdir(), 'hostform-batch-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const log = join(dir, 'log');

interface Line { readonly line: string }
const LineKind = new ResourceKind<boolean>('test-line');
const backend: Backend<Line, boolean, null> = {
  probes: (p) => ({ has: { script: sh`grep -qxF ${p.line} ${log} 2>/dev/null && echo yes || echo no` } }),
  parse: (_p, out) => out['has']?.stdout.trim() === 'yes',
  plan: (p, present, context) => (present || context.planned.get(LineKind, p.line) ? [] : [{ summary: `add ${p.line}`, action: null }]),
  effects: (p) => [effect(LineKind, p.line, true)],
  async apply(p, _changes, context) {
    await context.run(sh`echo ${`single ${p.line}`} >> ${log}; echo ${p.line} >> ${log}`);
    context.defer('reload', sh`echo reload >> ${log}`);
  },
  batch: {
    key: () => 'lines',
    async apply(items, context) {
      await context.run(sh`echo ${`batch of ${items.length}`} >> ${log}`);
      for (const { params } of items) await context.run(sh`echo ${params.line} >> ${log}`);
      context.defer('reload', sh`echo reload >> ${log}`);
    },
  },
};
const line = defineModule<Line, Line>({
  name: 'test.line',
  schema: { type: 'object', required: ['line'], properties: { line: { type: 'string' } }, additionalProperties: false },
  capabilities: { checkMode: true, diff: true, changes: ['command'], validates: 'none: a test module' },
  describe: (p) => `line ${p.line}`,
  resolve: (p) => p,
  backends: { linux: backend, el9: backend, nixos: backend },
});

const invFile = join(dir, 'inventory.ts');
// A .ts inventory outside an ESM package: loads as CommonJS, which the loader must unwrap.
await writeFile(invFile, 'export default { hosts: { here: { connection: "local" } } };\n');
const inv = await loadInventory([invFile]);
// The local connection takes this machine's run lock (/run/hostform/run.lock
// when root), which engine-ssh's runs against its sshd on 127.0.0.1 take too,
// for minutes at a time; test files run side by side wait for each other.
const ON_THIS_MACHINE = { forks: 1, lockTimeoutSeconds: 900 };

t.test('consecutive tasks of a batching module apply in one call, and a deferred action runs once', async (t) => {
  const book = playbook({ name: 'batch', hosts: 'all', tasks: [line({ line: 'a' }), line({ line: 'b' }), line({ line: 'c' })] });
  const report = await runPlaybooks([book], inv, { mode: 'apply', ...ON_THIS_MACHINE });
  t.equal(report.exitCode, 0);
  t.equal(await readFile(log, 'utf8'), 'batch of 3\na\nb\nc\nreload\n');
  t.same(report.hosts[0]?.tasks.map((x) => `${x.name}=${x.status}`), ['line a=changed', 'line b=changed', 'line c=changed', 'deferred: reload=changed']);

  const again = await runPlaybooks([book], inv, { mode: 'apply', ...ON_THIS_MACHINE });
  t.same(again.hosts[0]?.tasks.map((x) => x.status), ['ok', 'ok', 'ok'], 'second run: nothing to do, nothing deferred');
});

t.test('only tasks that need changes join the batch; the others report ok', async (t) => {
  const book = playbook({ name: 'mixed', hosts: 'all', tasks: [line({ line: 'a' }), line({ line: 'd' })] });
  const report = await runPlaybooks([book], inv, { mode: 'apply', ...ON_THIS_MACHINE });
  t.same(report.hosts[0]?.tasks.map((x) => `${x.name}=${x.status}`), ['line a=ok', 'line d=changed', 'deferred: reload=changed']);
  t.match(await readFile(log, 'utf8'), /reload\nsingle d\nd\nreload\n$/);
});

t.test('check mode applies nothing and defers nothing', async (t) => {
  const before = await readFile(log, 'utf8');
  const book = playbook({ name: 'check', hosts: 'all', tasks: [line({ line: 'x' }), line({ line: 'y' })] });
  const report = await runPlaybooks([book], inv, { mode: 'check', ...ON_THIS_MACHINE });
  t.equal(report.exitCode, 2);
  t.same(report.hosts[0]?.tasks.map((x) => x.status), ['changed', 'changed']);
  t.equal(await readFile(log, 'utf8'), before);
});

t.test('a plan that throws Skip reports the task skipped with its note, in both modes', async (t) => {
  const skipping = defineModule<Line, Line>({
    name: 'test.skipping',
    schema: { type: 'object', required: ['line'], properties: { line: { type: 'string' } }, additionalProperties: false },
    capabilities: { checkMode: true, diff: true, changes: ['command'], validates: 'none: a test module' },
    describe: (p) => `skipping ${p.line}`,
    resolve: (p) => p,
    backends: {
      linux: {
        ...backend,
        plan: () => {
          throw new Skip('feature disabled on this host');
        },
      },
    },
  });
  const book = playbook({ name: 'skip', hosts: 'all', tasks: [skipping({ line: 'z' }), line({ line: 'a' })] });
  for (const mode of ['check', 'apply'] as const) {
    const report = await runPlaybooks([book], inv, { mode, ...ON_THIS_MACHINE });
    t.equal(report.exitCode, 0, mode);
    t.same(report.hosts[0]?.tasks.map((x) => [x.status, x.note]), [['skipped', 'feature disabled on this host'], ['ok', undefined]], mode);
  }
});

t.test('in a batch, a task plans against the tasks before it: asking twice for one line changes it once', async (t) => {
  const book = playbook({ name: 'twice', hosts: 'all', tasks: [line({ line: 'q' }), line({ line: 'q' })] });
  const report = await runPlaybooks([book], inv, { mode: 'apply', ...ON_THIS_MACHINE });
  t.same(report.hosts[0]?.tasks.map((x) => `${x.name}=${x.status}`), ['line q=changed', 'line q=ok', 'deferred: reload=changed']);
});

t.test('in a batch, a task that fails to plan stops the host: tasks after it are not applied', async (t) => {
  const refusingBad: Backend<Line, boolean, null> = {
    ...backend,
    plan: (p, present, context) => {
      if (p.line === 'BAD') throw new Error('cannot plan BAD');
      return backend.plan(p, present, context);
    },
  };
  const strictLine = defineModule<Line, Line>({ ...line.definition, name: 'test.strict-line', resolve: (p) => p, backends: { linux: refusingBad } });
  const book = playbook({ name: 'stop', hosts: 'all', tasks: [strictLine({ line: 'r' }), strictLine({ line: 'BAD' }), strictLine({ line: 's' })] });
  const report = await runPlaybooks([book], inv, { mode: 'apply', ...ON_THIS_MACHINE });
  // r's change is in place, so the reload it asked for still runs after the failure (docs/reliability.md).
  t.same(report.hosts[0]?.tasks.map((x) => `${x.name}=${x.status}`), ['line r=changed', 'line BAD=failed', 'deferred: reload=changed']);
  const written = await readFile(log, 'utf8');
  t.match(written, /\nr\nreload\n$/, 'r, planned before the failure, was applied, and its reload ran');
  t.notMatch(written, /\ns\n/, 's, after the failure, was not');
});

// A cell: a file holding one value. Its probe reads the file; a change writes it,
// in one command or (steps: 2) in two, the first leaving a value on the way.
interface Cell { readonly cell: string; readonly value: string; readonly steps?: number }
const CellKind = new ResourceKind<string>('test-cell');
const cellPath = (p: Cell) => join(dir, `cell-${p.cell}`);
const cellBackend: Backend<Cell, string, null> = {
  probes: (p) => ({ value: { script: sh`cat ${cellPath(p)} 2>/dev/null || true` } }),
  parse: (_p, out) => out['value']?.stdout ?? '',
  reads: (p) => [resourceKey(CellKind, p.cell)],
  plan: (p, value) => (value === p.value ? [] : [{ summary: `set ${p.cell} to ${p.value}`, action: null }]),
  effects: (p) => [effect(CellKind, p.cell, p.value)],
  async apply(p, _changes, context) {
    if (p.steps === 2) await context.run(sh`printf %s ${`${p.value} on the way`} > ${cellPath(p)}`);
    await context.run(sh`printf %s ${p.value} > ${cellPath(p)}`);
  },
};
const cell = defineModule<Cell, Cell>({
  name: 'test.cell',
  schema: { type: 'object', required: ['cell', 'value'], properties: { cell: { type: 'string' }, value: { type: 'string' }, steps: { type: 'number' } }, additionalProperties: false },
  capabilities: { checkMode: true, diff: true, changes: ['command'], validates: 'none: a test module' },
  describe: (p) => `cell ${p.cell} = ${p.value}${p.steps ? ` in ${p.steps} steps` : ''}`,
  resolve: (p) => p,
  backends: { linux: cellBackend, el9: cellBackend, nixos: cellBackend },
});

t.test('a later task that a change makes stale is probed in the change\'s own round trip, after its command', async (t) => {
  const book = playbook({ name: 'cells', hosts: 'all', tasks: [cell({ cell: 'a', value: '1' }), cell({ cell: 'a', value: '1' }), cell({ cell: 'a', value: '2' })] });
  const report = await runPlaybooks([book], inv, { mode: 'apply', ...ON_THIS_MACHINE });
  t.same(report.hosts[0]?.tasks.map((x) => `${x.name}=${x.status}`), ['cell a = 1=changed', 'cell a = 1=ok', 'cell a = 2=changed']);
  // Facts and lock, the probes, the first change with the probes of the two after it, the third change.
  t.equal(report.hosts[0]?.roundTrips, 4);
  t.equal(await readFile(join(dir, 'cell-a'), 'utf8'), '2');
});

t.test('a change that takes more than one round trip keeps no probe that rode with its first: the later task is probed after the last', async (t) => {
  const book = playbook({ name: 'cells', hosts: 'all', tasks: [cell({ cell: 'b', value: '1', steps: 2 }), cell({ cell: 'b', value: '1' })] });
  const report = await runPlaybooks([book], inv, { mode: 'apply', ...ON_THIS_MACHINE });
  // Kept, the probe that rode with the first command would have seen "1 on the way" and set the cell again.
  t.same(report.hosts[0]?.tasks.map((x) => `${x.name}=${x.status}`), ['cell b = 1 in 2 steps=changed', 'cell b = 1=ok']);
  t.equal(report.hosts[0]?.roundTrips, 5, 'facts and lock, the probes, the two commands, the probe again');
  t.equal(await readFile(join(dir, 'cell-b'), 'utf8'), '1');
});
