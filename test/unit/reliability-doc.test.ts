import { readFile } from 'node:fs/promises';
import t from 'tap';
import { registeredModules } from '../../modules/registry.ts';

// docs/reliability.md's table of how each module changes the host and what
// vets it is the modules' own capability records: a module changed without
// its row fails here.

const doc = await readFile(new URL('../../docs/reliability.md', import.meta.url), 'utf8');
const lines = doc.slice(doc.indexOf('| module | changes | validated |')).split('\n').slice(2);
const rows = lines.slice(0, lines.findIndex((l) => !l.startsWith('|')));

/** `quadlet.container`, `.network` → quadlet.container, quadlet.network. */
function callsOf(cell: string): string[] {
  const names = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
  let namespace = '';
  return names.map((n) => {
    if (n.startsWith('.')) return `${namespace}${n}`;
    namespace = n.includes('.') ? n.slice(0, n.indexOf('.')) : '';
    return n;
  });
}

const documented = new Map<string, { changes: string; validates: string }>();
for (const row of rows) {
  const [modules = '', changes = '', validates = ''] = row.slice(1, -1).split(' | ').map((c) => c.trim());
  for (const call of callsOf(modules)) documented.set(call, { changes, validates });
}

t.test('docs/reliability.md lists every module with its capability record, and nothing else', async (t) => {
  const wildcard = (call: string) => documented.get(call) ?? documented.get(`${call.slice(0, call.indexOf('.'))}.*`);
  for (const { call, definition } of registeredModules) {
    t.same(wildcard(call), { changes: definition.capabilities.changes.join(', ') || 'none', validates: definition.capabilities.validates }, call);
  }
  for (const call of documented.keys()) {
    t.ok(call.endsWith('.*') || registeredModules.some((m) => m.call === call), `${call} is a module`);
  }
});
