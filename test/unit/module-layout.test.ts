import t from 'tap';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ModuleDefinition } from '../../lib/module/types.ts';
import { isNixosRenderer } from '../../lib/nixos/renderer.ts';

// The layout rule of docs/modules.md: a family is a folder of six files (nixos.ts only with a NixOS
// renderer), or a single file with the same sections in the same order.

const modulesDir = fileURLToPath(new URL('../../modules/', import.meta.url));
const STEPS = ['params.ts', 'observe.ts', 'plan.ts', 'apply.ts', 'index.ts'];
const SECTIONS = ['params', 'observe', 'plan', 'apply', 'index'];
const SINGLE_FILE_LINES = 250;

/** The module definitions among a file's exports, namespaces (`selinux.port`) included. */
function definitionsIn(exports: object): ModuleDefinition<unknown, unknown>[] {
  return Object.values(exports).flatMap((value): ModuleDefinition<unknown, unknown>[] => {
    const definition = typeof value === 'function' ? (value as { definition?: ModuleDefinition<unknown, unknown> }).definition : undefined;
    if (definition?.backends) return [definition];
    return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype ? definitionsIn(value) : [];
  });
}

const hasNixosRenderer = (definitions: readonly ModuleDefinition<unknown, unknown>[]) => definitions.some((d) => isNixosRenderer(d.backends.nixos));

// index.ts and registry.ts list the modules; they are not modules themselves.
const entries = readdirSync(modulesDir).filter((name) => !['index.ts', 'registry.ts', 'shared'].includes(name));
const folders = entries.filter((name) => statSync(`${modulesDir}${name}`).isDirectory());
const singleFiles = entries.filter((name) => name.endsWith('.ts'));

t.test('modules/ holds only family folders, single-file modules, index.ts, registry.ts and shared/', async (t) => {
  t.same(entries.filter((name) => !folders.includes(name) && !singleFiles.includes(name)), []);
  t.ok(folders.length >= 9 && singleFiles.length >= 1, `${folders.length} folders, ${singleFiles.length} single files`);
});

for (const family of folders) {
  t.test(`${family}: a folder with params, observe, plan, apply and index, and nixos.ts exactly when it renders NixOS`, async (t) => {
    const dir = `${modulesDir}${family}/`;
    t.same(STEPS.filter((file) => !existsSync(`${dir}${file}`)), [], 'every step has its file');
    const definitions = definitionsIn(await import(`${dir}index.ts`));
    t.ok(definitions.length > 0, 'index.ts exports its modules');
    t.equal(existsSync(`${dir}nixos.ts`), hasNixosRenderer(definitions), 'nixos.ts holds the NixOS renderers, if any');
  });
}

for (const file of singleFiles) {
  t.test(`${file}: a single-file module with the sections params, observe, plan, apply, index in that order`, async (t) => {
    const text = readFileSync(`${modulesDir}${file}`, 'utf8');
    const sections = [...text.matchAll(/^\/\/ ── (\w+) ─/gm)].map((m) => m[1]);
    t.same(sections, SECTIONS);
    t.ok(text.split('\n').length <= SINGLE_FILE_LINES, `at most ${SINGLE_FILE_LINES} lines, else a folder`);
    const definitions = definitionsIn(await import(`${modulesDir}${file}`));
    t.equal(definitions.length, 1, 'one module');
    t.notOk(hasNixosRenderer(definitions), 'no NixOS renderer (that takes the folder form)');
  });
}

t.test('no module reads a probe output by an untyped key', async (t) => {
  const sources = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => (statSync(`${dir}${name}`).isDirectory() ? sources(`${dir}${name}/`) : name.endsWith('.ts') ? [`${dir}${name}`] : []));
  const untyped = sources(modulesDir).filter((path) => /outputs\[['"`]/.test(readFileSync(path, 'utf8')));
  t.same(untyped, [], "outputs['x'] is outputs.x, typed by the backend's probe keys");
});
