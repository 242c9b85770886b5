import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import ts from 'typescript';
import { taskSource } from '../../lib/module/define.ts';
import type { HostView, Task } from '../../lib/module/types.ts';
import { firstUserFrame, throwSiteOf } from '../../lib/module/source.ts';
import { backup } from '../../roles/index.ts';

// Where a task was written is found from the stack of the module call: the
// first frame outside hostform's engine (lib/, modules/), mapped to .ts lines.

const host = { name: 'h', groups: ['all'], vars: {}, facts: { platform: 'el9' } } as unknown as HostView;
const repo = new URL('../../', import.meta.url).pathname;

t.test('a task written in a playbook is located at its line there, not in the engine', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hostform-source-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'site.mts');
  // Types first, so a transpiler that dropped lines would show it.
  await writeFile(
    file,
    [
      `import { file, quadlet } from ${JSON.stringify(join(repo, 'modules/index.ts'))};`,
      'interface Options { readonly path: string }',
      'const options: Options = { path: "/etc/motd" };',
      'export const tasks = [',
      '  file({ path: options.path, content: "x" }),',
      '  quadlet.container({ name: "web", image: "nginx" }),',
      '];',
    ].join('\n'),
  );
  const { tasks } = (await import(pathToFileURL(file).href)) as { tasks: Task[] };
  t.same(tasks.map((task) => taskSource(task)), [
    { file, line: 5, column: 3 },
    { file, line: 6, column: 11 },
  ]);
});

t.test('a task written in one of hostform\'s roles is located in roles/', async (t) => {
  const steps = backup({ password: 'pw' }).expand(host) as Task[];
  const source = await readFile(join(repo, 'roles/backup/index.ts'), 'utf8');
  const line = source.split('\n').findIndex((l) => l.includes("command({ argv: init,")) + 1;
  const init = steps.find((s) => s.name === 'restic init');
  t.equal(taskSource(init as Task)?.line, line, `the restic init task, line ${line}`);
  t.match(taskSource(init as Task)?.file, /(^|\/)roles\/backup\/index\.ts$/);
});

t.test('an error thrown in a role is located where it was thrown', async (t) => {
  const error = (() => {
    try {
      throw new Error('no');
    } catch (e) {
      return e;
    }
  })();
  const line = (await readFile(new URL(import.meta.url), 'utf8')).split('\n').findIndex((l) => l.includes("throw new Error('no')")) + 1;
  t.match(throwSiteOf(error), { file: /test\/unit\/source-location\.test\.ts$/, line });
});

t.test('from a compiled package, the engine under dist/ and its mapped sources are skipped', async (t) => {
  // The same file placed as a build would place it: node_modules/hostform/dist/lib/module/source.js.
  const root = await mkdtemp(join(tmpdir(), 'hostform-dist-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const pkg = join(root, 'node_modules/hostform');
  await mkdir(join(pkg, 'dist/lib/module'), { recursive: true });
  const { outputText } = ts.transpileModule(await readFile(join(repo, 'lib/module/source.ts'), 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  await writeFile(join(pkg, 'package.json'), '{ "type": "module" }');
  await writeFile(join(pkg, 'dist/lib/module/source.js'), outputText);
  const compiled = (await import(pathToFileURL(join(pkg, 'dist/lib/module/source.js')).href)) as { firstUserFrame: typeof firstUserFrame };
  const stack = [
    'Error',
    `    at call (${pkg}/dist/lib/module/define.js:20:5)`,
    `    at call (${pkg}/lib/module/define.ts:22:5)`,
    `    at container (file://${pkg}/dist/modules/quadlet/index.js:40:12)`,
    '    at node:internal/modules/esm/module_job:325:25',
    `    at build (${pkg}/dist/roles/monitoring.js:42:7)`,
    `    at ${root}/site.js:3:1`,
  ].join('\n');
  t.same(compiled.firstUserFrame(stack), { file: `${pkg}/dist/roles/monitoring.js`, line: 42, column: 7 }, 'a shipped role is where the task is');
  t.same(compiled.firstUserFrame(stack.replace(/.*roles.*\n/, '')), { file: `${root}/site.js`, line: 3, column: 1 }, 'else the playbook');
  t.same(firstUserFrame(stack), { file: `${pkg}/dist/lib/module/define.js`, line: 20, column: 5 }, 'what is skipped is the engine the running code belongs to');
});
