import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { describeModule, type ModuleDoc } from '../../lib/cli/modules.ts';
import * as hostformExports from '../../lib/index.ts';
import { registeredModules } from '../../modules/registry.ts';
import * as roleExports from '../../roles/index.ts';

/**
 * The docs are checked against the modules' own record (`hostform modules`):
 * a module added, renamed or removed, or a backend added or dropped, fails
 * here until the docs say so.
 */
const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const moduleDocPages = readdirSync(new URL('docs/', root))
  .filter((f) => /^modules-.*\.md$/.test(f))
  .sort()
  .map((f) => `docs/${f}`);

const docs = registeredModules.map(describeModule);
const byName = new Map<string, ModuleDoc>(docs.map((d) => [d.module, d]));
const namespaces = new Set(docs.flatMap((d) => (d.module.includes('.') ? [d.module.split('.')[0] as string] : [])));
const platformsOf = (module: string, backend?: 'commands' | 'nixos-module') =>
  (byName.get(module)?.platforms ?? []).filter((p) => backend === undefined || p.backend === backend).map((p) => p.platform).sort();

/** `## heading` → the text under it, up to the next `##`. */
function sections(markdown: string): { heading: string; body: string }[] {
  return markdown
    .split(/^(?=## )/m)
    .filter((s) => s.startsWith('## '))
    .map((s) => ({ heading: (s.split('\n')[0] ?? '').slice(3).trim(), body: s.slice(s.indexOf('\n') + 1) }));
}

/**
 * The modules a heading is about: `user and group`, `systemd: unit, dropIn`,
 * `quadlet: container, network` (a namespace, then its members), `firewalld`
 * or `SELinux` (a whole namespace), `fail2ban.jail`. Other words are prose.
 */
function modulesNamedBy(heading: string): string[] {
  const plain = heading.replace(/`/g, '').replace(/\([^)]*\)/g, ' ');
  const prefixed = /^(\w+):(.*)$/.exec(plain);
  const prefix = prefixed && namespaces.has((prefixed[1] ?? '').toLowerCase()) ? `${(prefixed[1] ?? '').toLowerCase()}.` : '';
  const words = (prefixed && prefix ? (prefixed[2] ?? '') : plain).split(/[\s,:]+/).filter((w) => w !== '' && w !== 'and');
  return words.flatMap((word) => {
    const name = `${prefix}${word}`;
    if (byName.has(name)) return [name];
    if (!prefix && namespaces.has(word.toLowerCase())) return docs.map((d) => d.module).filter((m) => m.startsWith(`${word.toLowerCase()}.`));
    return [];
  });
}

/** Every `name({` and `ns.name({` written in a page: the modules (and other functions) it shows being called. */
function calls(markdown: string): string[] {
  return [...markdown.matchAll(/(?<![\w$.])([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)?)\(\{/g)].map((m) => m[1] as string);
}

/** The rows of README's module table: the modules each names, and its platforms column. */
function readmeModuleRows(): { cell: string; modules: string[]; platforms: string[] }[] {
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('### Modules'));
  const table = section.slice(section.indexOf('\n|')).split('\n').slice(1);
  const rows = table.slice(0, table.findIndex((l) => !l.startsWith('|'))).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
  const [header, , ...body] = rows;
  const column = (name: string) => (header ?? []).indexOf(name);
  return body.map((cells) => {
    const cell = cells[column('modules')] ?? '';
    // What is said in parentheses is about a module, not another module: `file` (content, ...).
    let outside = cell;
    while (/\([^()]*\)/.test(outside)) outside = outside.replace(/\([^()]*\)/g, '');
    let namespace = '';
    const modules = [...outside.matchAll(/`([^`]+)`/g)].map((m) => {
      const name = m[1] as string;
      if (name.startsWith('.')) return `${namespace}${name}`;
      namespace = name.includes('.') ? name.slice(0, name.indexOf('.')) : '';
      return name;
    });
    const platforms = (cells[column('platforms')] ?? '').split(/[\s,]+/).filter(Boolean).sort();
    return { cell, modules, platforms };
  });
}

t.test("README's module table names every module hostform/modules exports, once, and no other", async (t) => {
  const named = readmeModuleRows().flatMap((r) => r.modules);
  t.ok(named.length > 0, 'the table is found');
  t.same(
    docs.map((d) => d.module).filter((m) => !named.includes(m)),
    [],
    'missing from the table',
  );
  t.same(
    named.filter((m) => !byName.has(m)),
    [],
    'named in the table but not a module',
  );
  t.same(
    named.filter((m, i) => named.indexOf(m) !== i),
    [],
    'named twice',
  );
});

t.test("README's module table gives each module the platforms it has backends or NixOS renderers for", async (t) => {
  for (const row of readmeModuleRows()) {
    for (const module of row.modules.filter((m) => byName.has(m))) {
      t.same(row.platforms, platformsOf(module), `${module}: platforms column of the row "${row.cell.slice(0, 40)}..."`);
    }
  }
});

t.test('every module shown being called in README and docs/modules-*.md exists', async (t) => {
  // Functions other than modules that the pages call: hostform's own exports, its roles, and roles a page defines (`const motd = role(`).
  const others = new Set([...Object.keys(hostformExports), ...Object.keys(roleExports), 'myRole']);
  for (const page of ['README.md', ...moduleDocPages]) {
    const defined = new Set([...read(page).matchAll(/\bconst (\w+) = role\(/g)].map((m) => m[1] as string));
    const unknown = calls(read(page)).filter((name) => !byName.has(name) && (name.includes('.') || !(others.has(name) || defined.has(name))));
    t.same([...new Set(unknown)], [], `${page} calls only modules and functions that exist`);
    const headings = sections(read(page)).flatMap((s) => [...s.heading.matchAll(/\b(\w+)\.(\w+)\b/g)].map((m) => m[0]));
    t.same(
      headings.filter((name) => namespaces.has(name.split('.')[0] as string) && !byName.has(name)),
      [],
      `${page}: every module a heading names exists`,
    );
  }
});

t.test('every module is shown being called in README or docs/modules-*.md', async (t) => {
  const shown = new Set(['README.md', ...moduleDocPages].flatMap((page) => calls(read(page))));
  t.same(
    docs.map((d) => d.module).filter((m) => !shown.has(m)),
    [],
  );
});

t.test('each section of the el9 module pages names the platforms its modules run commands on', async (t) => {
  for (const page of ['docs/modules-el9.md', 'docs/modules-security.md']) {
    for (const { heading, body } of sections(read(page))) {
      const modules = modulesNamedBy(heading);
      if (modules.length === 0) continue;
      // "Backends: `el9` and `linux` (any systemd host ...)": the backticked names up to the first parenthesis or full stop.
      const stated = /Backends?:\s*((?:`[^`]+`|\s|,|and)+)/.exec(body.replace(/\s+/g, ' '));
      t.ok(stated, `${page}, section "${heading}", says which platforms it has backends for`);
      const platforms = [...(stated?.[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] as string).sort();
      for (const module of modules) t.same(platforms, platformsOf(module, 'commands'), `${page}, section "${heading}": ${module}`);
    }
  }
});

t.test('the NixOS pages cover exactly the modules with a nixos backend', async (t) => {
  // docs/nixos.md's "What renders to what" table (file, command), and one section per family in docs/modules-nixos.md.
  const nixos = read('docs/nixos.md');
  const table = nixos.slice(nixos.indexOf('## What renders to what'));
  const inTable = [...table.slice(0, table.indexOf('\n\n', table.indexOf('\n|'))).matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1] as string);
  const inSections = sections(read('docs/modules-nixos.md')).flatMap((s) => modulesNamedBy(s.heading));
  const documented = [...new Set([...inTable, ...inSections])].sort();
  t.same(
    documented,
    docs.filter((d) => d.platforms.some((p) => p.platform === 'nixos')).map((d) => d.module).sort(),
    "named in docs/nixos.md's table or by a section of docs/modules-nixos.md",
  );
  t.same(
    inSections.filter((m) => platformsOf(m, 'nixos-module').length === 0),
    [],
    'a section in modules-nixos.md is about a module that renders into the NixOS module',
  );
});
