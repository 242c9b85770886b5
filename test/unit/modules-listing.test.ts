import t from 'tap';
import { hostform } from '../../lib/cli/hostform.ts';
import type { Io } from '../../lib/cli/main.ts';
import { describeModule, renderModule, type ListedModule, type ModuleDoc } from '../../lib/cli/modules.ts';
import { PathResource } from '../../lib/module/resources.ts';
import type { Backend, ModuleDefinition } from '../../lib/module/types.ts';
import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import { file, firewalld, quadlet } from '../../modules/index.ts';
import { modulesIn, registeredModules } from '../../modules/registry.ts';

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), isTty: false };
  const code = await hostform(['modules', ...args], io);
  return { code, stdout, stderr };
}

/** The line of a parameter in `hostform modules NAME`, and the line after it (its description). */
function parameterLines(stdout: string, parameter: string): [string, string] {
  const lines = stdout.split('\n');
  const i = lines.findIndex((l) => new RegExp(`^  ${parameter.replace(/[.[\]]/g, '\\$&')}\\s`).test(l));
  return [lines[i] ?? '', lines[i + 1] ?? ''];
}

const anyBackend = {} as Backend<unknown, unknown, unknown>;
function fakeModule(name: string, schema: object, backends: ModuleDefinition<unknown, unknown>['backends'] = { el9: anyBackend }): ListedModule {
  const definition: ModuleDefinition<unknown, unknown> = {
    name,
    schema,
    capabilities: { checkMode: true, diff: true, changes: ['command'], validates: 'none: a test module' },
    resolve: (p) => p,
    describe: () => name,
    backends,
  };
  return { call: name, definition };
}

t.test('the registry finds every module in the exports, namespaced ones included, and nothing else', async (t) => {
  const calls = registeredModules.map((m) => m.call);
  for (const call of ['command', 'file', 'user', 'dropIn', 'firewalld.zone', 'quadlet.container', 'fail2ban.jail', 'selinux.boolean', 'sshd.config']) {
    t.ok(calls.includes(call), `${call} is listed`);
  }
  t.notOk(calls.some((c) => /Resource/.test(c)), 'resource kinds are not modules');
  t.same(calls, [...calls].sort((a, b) => a.localeCompare(b)), 'sorted by name');
  t.equal(new Set(calls).size, calls.length, 'each listed once');
  t.equal(registeredModules.find((m) => m.call === 'firewalld.zone')?.definition, firewalld.zone.definition, 'the definition is the exported one');
});

t.test('a module added to the exports is listed without being named anywhere else', async (t) => {
  const exports = { file, extra: { thing: Object.assign(() => undefined, { definition: file.definition }) }, PathResource, version: '1' };
  t.same(
    modulesIn(exports).map((m) => m.call),
    ['extra.thing', 'file'],
  );
});

t.test('hostform modules lists every module with its platforms', async (t) => {
  const { code, stdout } = await run();
  t.equal(code, 0);
  for (const { call } of registeredModules) t.match(stdout, new RegExp(`^${call.replace('.', '\\.')}\\s`, 'm'), `${call} has a line`);
  t.match(stdout, /^repo\s+el9\s/m, 'repo: el9 only');
  t.match(stdout, /^packages\s+el9 nixos\s/m, 'packages: el9 and a NixOS renderer');
  t.match(stdout, /^selinux\.port\s+el9 linux\s/m);
  t.match(stdout, /^quadlet\.container\s+el9 linux nixos\s/m);
});

t.test('hostform modules file shows path, content and mode with their types', async (t) => {
  const { code, stdout } = await run('file');
  t.equal(code, 0);
  t.match(stdout, /^file\n/);
  t.match(stdout, /^platforms: el9, linux \(commands on the host\); nixos \(rendered into the play's NixOS module\)$/m);
  t.match(stdout, /^check mode: yes; diff: yes$/m);
  const [path, pathDoc] = parameterLines(stdout, 'path');
  t.match(path, /^  path\s+required string \(an absolute path \(starting with \/\), at least 2 characters\)$/, 'a pattern is said in the words its schema gives');
  t.match(pathDoc, /^\s+Absolute path of the file, directory or link\.$/, 'the description follows the parameter');
  t.match(parameterLines(stdout, 'content')[0], /^  content\s+string \| Buffer \| Secret \[payload: sent as data, never in a script\]$/);
  t.match(parameterLines(stdout, 'mode')[0], /^  mode\s+string \(an octal mode in a string, such as "0644" or "2775"\)$/);
  t.match(parameterLines(stdout, 'state')[0], /"file" \| "directory" \| "link" \| "absent"$/, 'allowed values');
  t.match(stdout, /^  when state is "link": target is required; content, template, mode are not allowed$/m, 'conditions between parameters in words');
  t.match(stdout, /^  when secret is not false: content is sensitive \(never shown\); template is sensitive \(never shown\)$/m);
});

t.test('hostform modules NAME shows nested objects, alternatives, rules, sensitive values and notes', async (t) => {
  const command = (await run('command')).stdout;
  t.match(command, /^notes: commands without a creates\/unless guard are skipped in check mode$/m);
  t.match(command, /^platforms: el9, linux, nixos \(commands on the host\)$/m);
  t.match(parameterLines(command, 'unless')[0], /list \(at least 1 item\) of string \| object$/);
  t.match(parameterLines(command, 'unless.shell')[0], /^  unless\.shell\s+required string \(at least 1 character\)$/);
  t.match(parameterLines(command, 'env')[0], /map of keys matching .* to \(string \| Secret\) \[sensitive: never shown\]$/);
  t.match(command, /^rules:\n  exactly one of argv, shell$/m);

  const forward = (await run('firewalld.forwardPort')).stdout;
  t.match(parameterLines(forward, 'forwardPorts[].protocol')[0], /required "tcp" \| "udp" \| "sctp" \| "dccp"$/);
  t.match(forward, /^  forwardPort: at least one of toPort, toAddr$/m);

  const port = (await run('selinux.port')).stdout;
  t.match(port, /^  port needs protocol$/m);
  t.match(port, /^  when state is not "absent": type is required$/m);
});

t.test('a module is found by the name reports give it, and a namespace lists its modules', async (t) => {
  const dropIn = await run('systemd.dropIn');
  t.equal(dropIn.code, 0);
  t.match(dropIn.stdout, /^dropIn \(reported as systemd\.dropIn\)\n/);
  const namespace = await run('quadlet');
  t.equal(namespace.code, 0);
  t.same(
    namespace.stdout.split('\n').slice(1).filter((l) => /^\w/.test(l) && !l.startsWith("'")).map((l) => l.split(/\s+/)[0]),
    Object.keys(quadlet).map((k) => `quadlet.${k}`).sort(),
  );
});

t.test('hostform modules with an unknown name exits 64 and suggests close names', async (t) => {
  const nosuch = await run('nosuch');
  t.equal(nosuch.code, 64);
  t.equal(nosuch.stdout, '');
  t.equal(nosuch.stderr, "error: no module 'nosuch'; 'hostform modules' lists them all\n");
  t.match((await run('fiel')).stderr, /no module 'fiel' \(did you mean 'file'\?\)/);
  t.match((await run('firewalld.zome')).stderr, /did you mean 'firewalld\.zone'/);
  t.match((await run('firewall')).stderr, /did you mean 'firewalld'\?/, 'namespaces are suggested too');
  t.equal((await run('file', 'user')).code, 64, 'one module at a time');
  t.equal((await run('--jsn')).code, 64, 'an unknown option');
});

t.test('hostform modules --json gives every module as data, with its schema', async (t) => {
  const all = await run('--json');
  t.equal(all.code, 0);
  const { modules } = JSON.parse(all.stdout) as { modules: ModuleDoc[] };
  t.same(
    modules.map((m) => m.module),
    registeredModules.map((m) => m.call),
  );
  const one = await run('file', '--json');
  const doc = JSON.parse(one.stdout) as ModuleDoc;
  t.equal(doc.module, 'file');
  t.same(doc.schema, file.definition.schema);
  t.same(doc.platforms, [
    { platform: 'el9', backend: 'commands' },
    { platform: 'linux', backend: 'commands' },
    { platform: 'nixos', backend: 'nixos-module' },
  ]);
  t.same(
    doc.parameters.find((p) => p.parameter === 'path'),
    { parameter: 'path', required: true, type: 'string (an absolute path (starting with /), at least 2 characters)', description: 'Absolute path of the file, directory or link.' },
  );
  t.match(doc.parameters.find((p) => p.parameter === 'content'), { parameter: 'content', required: false, type: 'string | Buffer', payload: true, description: /^The file's content/ });
  t.same(doc.parameters.find((p) => p.parameter === 'state')?.allowed, ['file', 'directory', 'link', 'absent'], 'allowed values as data');
  t.equal(doc.checkMode, true);
  t.equal(doc.diff, true);
});

t.test('what a schema says beyond types is shown: descriptions, defaults, patterns in words', async (t) => {
  const demo = fakeModule(
    'demo',
    {
      type: 'object',
      description: 'A demonstration.',
      required: ['port'],
      properties: {
        port: { type: 'integer', minimum: 1, maximum: 65535, description: 'Where to listen.', default: 8080 },
        host: { type: 'string', pattern: '^[a-z.]+$', 'x-expected': 'a lower-case host name' },
        tags: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'number' }] }, uniqueItems: true },
        token: { type: 'string', sensitive: true },
      },
      additionalProperties: false,
    },
    { el9: anyBackend, nixos: nixosRenderer(() => ({})) },
  );
  const doc = describeModule(demo);
  t.equal(doc.summary, 'A demonstration.');
  t.same(doc.parameters[0], { parameter: 'port', required: true, type: 'integer from 1 to 65535', description: 'Where to listen.', default: 8080 });
  t.equal(doc.parameters[1]?.type, 'string (a lower-case host name)', 'a pattern explained in words replaces the pattern');
  t.equal(doc.parameters[2]?.type, 'list (no duplicates) of (string | number)');
  const text = renderModule(doc);
  t.match(text, /^demo\n  A demonstration\.\n/);
  t.match(text, /^  port\s+required integer from 1 to 65535 \[default 8080\]\n\s+Where to listen\.$/m);
  t.match(text, /^  token\s+string \[sensitive: never shown\]$/m);
  t.match(text, /^platforms: el9 \(commands on the host\); nixos \(rendered into the play's NixOS module\)$/m);
});

/**
 * Parameters without a description, as a count that may only go down: each
 * one a person has to look up in the source. Raise the bar (lower the
 * number) when descriptions are added; a new parameter comes with one.
 */
const MOST_UNDESCRIBED = 0;

t.test('parameters without a description: their number only goes down', async (t) => {
  const docs = registeredModules.map(describeModule);
  // Entries of maps and lists are described by the parameter that holds them.
  const named = docs.flatMap((d) => d.parameters.filter((p) => !/(<key>|\[\])$/.test(p.parameter)).map((p) => ({ module: d.module, ...p })));
  const missing = named.filter((p) => p.description === undefined);
  const summaries = docs.filter((d) => d.summary === undefined).map((d) => d.module);
  t.comment(`${missing.length} of ${named.length} parameters have no description; ${summaries.length} of ${docs.length} modules have no summary (a schema description)`);
  for (const d of docs) {
    const lacking = missing.filter((p) => p.module === d.module).map((p) => p.parameter);
    if (lacking.length > 0) t.comment(`${d.module}: ${lacking.join(', ')}`);
  }
  t.ok(missing.length <= MOST_UNDESCRIBED, `at most ${MOST_UNDESCRIBED} parameters lack a description (now ${missing.length})`);
});

t.test('every module says how it changes the host and what vets a change, and hostform modules NAME prints both', async (t) => {
  const methods = ['atomic-file', 'transaction', 'tool-commands', 'command'];
  for (const { call, definition } of registeredModules) {
    const { changes, validates } = definition.capabilities;
    // Only a health gate changes nothing (it only reads).
    const readsOnly = definition.capabilities.gate === true;
    t.ok((readsOnly ? changes.length === 0 : changes.length > 0) && changes.every((c) => methods.includes(c)), `${call}: changes ${changes.join(', ') || 'none'}`);
    t.ok(validates.length > 0, `${call}: validates ${validates}`);
  }
  const sshd = await run('sshd.config');
  t.match(sshd.stdout, /^changes: atomic-file\nvalidated: sshd -t and sshd -T on a copy of the whole configuration/m);
  const json = JSON.parse((await run('--json')).stdout) as { modules: ModuleDoc[] };
  t.same(json.modules.find((m) => m.module === 'packages')?.changes, ['transaction']);
});
