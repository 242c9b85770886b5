import t from 'tap';
import { PlannedState } from '../../lib/module/resources.ts';
import { Skip } from '../../lib/module/skip.ts';
import type { Change, HostView, PlanContext, Task } from '../../lib/module/types.ts';
import { taskProblems } from '../../lib/module/validate.ts';
import { importLine } from '../../modules/selinux/apply.ts';
import { selinux } from '../../modules/selinux/index.ts';
import { parseGuarded, parseMode, parseStore, parseStoreJson, type SelinuxStore } from '../../modules/selinux/observe.ts';
import { configuredMode, planBooleans, planFileContext, planMode, planPorts, withMode } from '../../modules/selinux/plan.ts';
import { restoreconPathFor } from '../../modules/selinux/restorecon-paths.ts';

// Probe output of read-store.py captured from the el9 test image (libsemanage 3.8, Debian's default
// policy) after `semanage import` of a few mappings; lists cut to what the tests use.
const STORE = JSON.stringify({
  booleans: { container_manage_cgroup: [0, 0], httpd_can_network_connect: [0, 1], httpd_enable_homedirs: [1, 0], virt_use_nfs: [0, 0] },
  fcontexts: [
    ['/srv/www(/.*)?', 'all files', 'httpd_sys_content_t'],
    ['/srv/file\\.txt', 'regular file', 'httpd_sys_content_t'],
    ['/srv/none(/.*)?', 'all files', '<<none>>'],
  ],
  localPorts: [['tcp', 8444, 8444, 'http_port_t'], ['tcp', 9000, 9010, 'http_port_t'], ['tcp', 22, 22, 'http_port_t']],
  ports: [
    ['tcp', 10080, 10083, 'amanda_port_t'],
    ['tcp', 22, 22, 'http_port_t'],
    ['tcp', 9000, 9010, 'http_port_t'],
    ['tcp', 8444, 8444, 'http_port_t'],
    ['tcp', 8443, 8443, 'http_port_t'],
    ['tcp', 22, 22, 'ssh_port_t'],
    ['tcp', 1024, 65535, 'unreserved_port_t'],
  ],
});
const CONFIG = `# This file controls the state of SELinux on the system.
# SELINUX= can take one of these three values:
SELINUX=permissive
# SELINUXTYPE= can take one of these two values:
SELINUXTYPE=default

SETLOCALDEFS=0
`;

const host = { name: 'h', groups: [], vars: {}, facts: {} } as unknown as HostView;
const context = (planned = new PlannedState()): PlanContext => ({ host, checkMode: false, planned });
const enabled = { state: 'enabled' } as const;
const observed = (store: Partial<SelinuxStore> = {}) => ({ status: enabled, store: { ...parseStoreJson(STORE), ...store } });
const summaries = (changes: readonly Change<unknown>[]) => changes.map((c) => c.summary);
const resolve = <I>(call: { definition: { resolve(input: I, host: HostView): unknown } }, input: I) => call.definition.resolve(input, host) as never;

t.test('a guarded probe reports SELinux disabled, missing tools and a root-only semanage in words a person can act on', async (t) => {
  t.same(parseGuarded({ code: 0, stdout: 'selinux: disabled\n', stderr: '' }, 'x').status, { state: 'disabled', reason: 'selinuxenabled says it is off (getenforce: Disabled)' });
  t.match(parseGuarded({ code: 0, stdout: 'selinux: no-semanage\n', stderr: '' }, 'x').status, { reason: /policycoreutils-python-utils/ });
  t.throws(() => parseGuarded({ code: 1, stdout: 'selinux: enabled\n', stderr: 'ValueError: SELinux policy is not managed or store cannot be accessed.' }, 'SELinux booleans'), /cannot read SELinux booleans: .*set become: true/);
  t.equal(parseGuarded({ code: 0, stdout: `selinux: enabled\n${STORE}\n`, stderr: '' }, 'x').body, `${STORE}\n`);
});

t.test('booleans: only those that differ change, naming runtime or persistent when only one differs', async (t) => {
    const r = resolve(selinux.boolean, { values: { container_manage_cgroup: true, httpd_can_network_connect: true, httpd_enable_homedirs: false, virt_use_nfs: false } });
  const changes = planBooleans(r, observed(), context());
  t.same(summaries(changes), [
    'container_manage_cgroup: off → on',
    'httpd_can_network_connect: runtime off → on (persistent already on)',
    'httpd_enable_homedirs: runtime on → off (persistent already off)',
  ]);
  t.equal(changes[0]?.diff, '- container_manage_cgroup (runtime) off\n+ container_manage_cgroup (runtime) on\n- container_manage_cgroup (persistent) off\n+ container_manage_cgroup (persistent) on');
  t.same(changes.map((c) => importLine(['boolean', '-m', c.action.value ? '--on' : '--off', c.action.name])), [
    'boolean -m --on container_manage_cgroup',
    'boolean -m --on httpd_can_network_connect',
    'boolean -m --off httpd_enable_homedirs',
  ]);
});

t.test('booleans: a boolean the policy does not define fails with where to look', async (t) => {
    t.throws(() => planBooleans(resolve(selinux.boolean, { values: { no_such_bool: true } }), observed(), context()), /no_such_bool is not defined by the loaded policy; `semanage boolean -l`/);
});

t.test('booleans: an earlier task of the run counts before what the host showed', async (t) => {
  const planned = new PlannedState();
  planned.record(selinux.boolean.definition.backends.el9!.effects!(resolve(selinux.boolean, { values: { container_manage_cgroup: true } })));
    t.same(planBooleans(resolve(selinux.boolean, { values: { container_manage_cgroup: true } }), observed(), context(planned)), []);
});

t.test('every module skips with "SELinux disabled" where it is off, and fails when required', async (t) => {
  const disabled = { state: 'disabled', reason: 'selinuxenabled says it is off (getenforce: Disabled)' } as const;
  const skip = (fn: () => unknown) => {
    try {
      fn();
      return 'no skip';
    } catch (e) {
      return e instanceof Skip ? e.note : `error: ${(e as Error).message}`;
    }
  };
  t.match(skip(() => planBooleans(resolve(selinux.boolean, { values: { a: true } }), parseStore({ code: 0, stdout: 'selinux: disabled\n', stderr: '' }), context())), /^SELinux disabled: selinuxenabled/);
  t.match(skip(() => planFileContext(resolve(selinux.fileContext, { target: '/srv/a', type: 'var_t' }), parseStore({ code: 0, stdout: 'selinux: disabled\n', stderr: '' }), context())), /^SELinux disabled/);
  t.match(skip(() => planPorts(resolve(selinux.port, { ports: ['1/tcp'], type: 'http_port_t' }), parseStore({ code: 0, stdout: 'selinux: disabled\n', stderr: '' }), context())), /^SELinux disabled/);
  t.match(skip(() => planMode(resolve(selinux.mode, { mode: 'enforcing' }), { container: true, runtime: 'disabled', config: CONFIG }, context())), /^SELinux disabled: a container/);
  t.match(
    skip(() => planPorts(resolve(selinux.port, { ports: ['1/tcp'], type: 'http_port_t', required: true }), parseStore({ code: 0, stdout: 'selinux: disabled\n', stderr: '' }), context())),
    /^error: SELinux is required by this task \(required: true\) but is disabled on this host: selinuxenabled .*drop required: true/,
  );
});

t.test('the store probe parses into booleans, local file contexts and ports by key', async (t) => {
  const { status, store } = parseStore({ code: 0, stdout: `selinux: enabled\n${STORE}\n`, stderr: '' });
  t.same(status, enabled);
  t.same(store.booleans.get('httpd_can_network_connect'), { runtime: false, persistent: true });
  t.same([...store.fcontexts], [
    ['all files: /srv/www(/.*)?', 'httpd_sys_content_t'],
    ['regular file: /srv/file\\.txt', 'httpd_sys_content_t'],
    ['all files: /srv/none(/.*)?', '<<none>>'],
  ]);
  t.same([...store.localPorts.keys()], ['tcp/8444', 'tcp/9000-9010', 'tcp/22']);
  t.same([...(store.ports.get('tcp/22') ?? [])], ['http_port_t', 'ssh_port_t']);
  t.equal(store.ports.has('tcp/1024'), false, 'inside a range is not the range');
  t.throws(() => parseStore({ code: 0, stdout: 'selinux: enabled\nTraceback', stderr: '' }), /cannot read the SELinux policy store: unexpected output/);
});

t.test('file contexts: add, modify, remove, or nothing; each change relabels the derived path', async (t) => {
  const plan = (input: object) => planFileContext(resolve(selinux.fileContext, input), observed(), context());
  t.same(plan({ target: '/srv/www(/.*)?', type: 'httpd_sys_content_t' }), [], 'already mapped');
  const add = plan({ target: '/srv/data(/.*)?', type: 'public_content_t' });
  t.same(summaries(add), ['file context /srv/data(/.*)? (all files): none → public_content_t, then restorecon -R /srv/data']);
  t.same(add[0]?.action, { words: ['fcontext', '-a', '-f', 'a', '-t', 'public_content_t', '/srv/data(/.*)?'], relabel: ['/srv/data'] });
  t.equal(add[0]?.diff, '+ fcontext /srv/data(/.*)? (all files) public_content_t');
  const modify = plan({ target: '/srv/file\\.txt', ftype: 'file', type: 'public_content_t', restoreconPaths: ['/srv/file.txt', '/srv/other'] });
  t.same(modify[0]?.action, { words: ['fcontext', '-m', '-f', 'f', '-t', 'public_content_t', '/srv/file\\.txt'], relabel: ['/srv/file.txt', '/srv/other'] });
  const remove = plan({ target: '/srv/www(/.*)?', state: 'absent', restorecon: false });
  t.same(summaries(remove), ['remove file context /srv/www(/.*)? (all files) (was httpd_sys_content_t)']);
  t.same(remove[0]?.action, { words: ['fcontext', '-d', '-f', 'a', '/srv/www(/.*)?'], relabel: [] });
  t.same(plan({ target: '/srv/gone', state: 'absent' }), [], 'nothing to remove');
  t.same(plan({ target: '/srv/www(/.*)?', ftype: 'directory', type: 'httpd_sys_content_t' }).length, 1, 'a mapping for another file type is another mapping');
});

t.test('file contexts: the path to relabel is the literal prefix of the regex, cut to whole components', async (t) => {
  t.equal(restoreconPathFor('/srv/www(/.*)?'), '/srv/www');
  t.equal(restoreconPathFor('/srv/file\\.txt'), '/srv/file.txt');
  t.equal(restoreconPathFor('/srv/web/.*\\.html'), '/srv/web');
  t.equal(restoreconPathFor('/srv/app[0-9]+/data'), '/srv');
  t.equal(restoreconPathFor('/srv/x?'), '/srv');
  t.equal(restoreconPathFor('/var/lib/app/\\d+'), '/var/lib/app');
  t.equal(restoreconPathFor('/(.*)'), undefined);
  t.throws(() => resolve(selinux.fileContext, { target: '/.*', type: 'var_t' }), /parameter 'target' = "\/\.\*": no path to relabel .*restoreconPaths/);
});

t.test('ports: add a new range, modify a policy-defined one, leave a policy match alone', async (t) => {
  const plan = (input: object) => planPorts(resolve(selinux.port, input), observed(), context());
  t.same(plan({ ports: ['8443/tcp', '9000-9010/tcp', '8444/tcp'], type: 'http_port_t' }), [], 'policy has 8443, local has the others');
  const changes = plan({ ports: ['10080-10083/tcp', '7777/tcp'], type: 'http_port_t' });
  t.same(summaries(changes), ['port tcp/10080-10083: amanda_port_t → http_port_t', 'port tcp/7777: none → http_port_t']);
  t.same(changes.map((c) => importLine(c.action.words)), ['port -m -t http_port_t -p tcp 10080-10083', 'port -a -t http_port_t -p tcp 7777']);
  t.same(summaries(plan({ port: 22, protocol: 'tcp', type: 'ssh_port_t' })), ['port tcp/22: http_port_t → ssh_port_t'], 'the local mapping wins over the policy');
});

t.test('ports: absent removes only local mappings, back to the policy type', async (t) => {
  const local = new Map([['tcp/22', 'http_port_t'], ['tcp/8444', 'http_port_t']]);
  const plan = (input: object) => planPorts(resolve(selinux.port, input), observed({ localPorts: local }), context());
  const changes = plan({ ports: ['22/tcp', '8444/tcp', '7777/tcp'], state: 'absent' });
  t.same(summaries(changes), ['remove local port mapping tcp/22 (http_port_t), back to the policy\'s ssh_port_t', 'remove local port mapping tcp/8444 (http_port_t)']);
  t.same(changes.map((c) => importLine(c.action.words)), ['port -d -p tcp 22', 'port -d -p tcp 8444']);
  t.same(plan({ ports: ['22/tcp'], type: 'ssh_port_t', state: 'absent' }), [], 'the local mapping is another type');
  t.throws(() => plan({ ports: ['8443/tcp'], type: 'http_port_t', state: 'absent' }), /tcp\/8443 is http_port_t in the SELinux policy itself/);
});

t.test('ports: a range out of order or out of bounds fails naming the parameter and value', async (t) => {
  t.throws(() => resolve(selinux.port, { ports: ['9010-9000/tcp'], type: 'http_port_t' }), /parameter 'ports' = "9010-9000\/tcp": not a port or range within 1-65535/);
  t.throws(() => resolve(selinux.port, { ports: ['70000/tcp'], type: 'http_port_t' }), /"70000\/tcp"/);
});

t.test('mode: the SELINUX= line changes, the rest of the config stays', async (t) => {
  t.equal(configuredMode(CONFIG), 'permissive');
  t.equal(withMode(CONFIG, 'enforcing'), CONFIG.replace('SELINUX=permissive', 'SELINUX=enforcing'));
  t.equal(withMode('SELINUXTYPE=targeted\n', 'enforcing'), 'SELINUXTYPE=targeted\nSELINUX=enforcing\n');
  t.same(parseMode(`container: no\nruntime: Permissive\nconfig: present\n${CONFIG}`), { container: false, runtime: 'permissive', config: CONFIG });
});

t.test('mode: enforcing ↔ permissive changes config and runtime with no reboot', async (t) => {
  const changes = planMode(resolve(selinux.mode, { mode: 'enforcing' }), { container: false, runtime: 'permissive', config: CONFIG }, context());
  t.same(summaries(changes), ['/etc/selinux/config: SELINUX=permissive → enforcing', 'runtime: permissive → enforcing (setenforce 1)']);
  t.match(changes[0]?.diff, /-SELINUX=permissive\n\+SELINUX=enforcing/);
  t.same(changes.map((c) => c.note), [undefined, undefined]);
  t.same(planMode(resolve(selinux.mode, { mode: 'permissive' }), { container: false, runtime: 'permissive', config: CONFIG }, context()), []);
});

t.test('mode: to or from disabled changes the config and notes that a reboot is needed', async (t) => {
  const off = planMode(resolve(selinux.mode, { mode: 'disabled' }), { container: false, runtime: 'enforcing', config: CONFIG }, context());
  t.same(summaries(off), ['/etc/selinux/config: SELINUX=permissive → disabled: reboot needed', 'runtime: enforcing → permissive (setenforce 0)']);
  t.match(off[0]?.note, /^reboot needed/);
  const on = planMode(resolve(selinux.mode, { mode: 'enforcing' }), { container: false, runtime: 'disabled', config: withMode(CONFIG, 'disabled') }, context());
  t.same(summaries(on), ['/etc/selinux/config: SELINUX=disabled → enforcing: reboot needed (/.autorelabel relabels every file at that boot)']);
  t.same(on[0]?.action, { do: 'config', content: withMode(CONFIG, 'enforcing'), autorelabel: true });
  t.same(planMode(resolve(selinux.mode, { mode: 'enforcing' }), { container: false, runtime: 'disabled', config: withMode(CONFIG, 'enforcing') }, context()), [], 'configured, waiting for the reboot');
});

t.test('invalid parameters fail validation naming task, parameter and value', async (t) => {
  const problems = (task: Task) => taskProblems(task, '').join('\n');
  t.match(problems(selinux.boolean({ values: { httpd_can_network_connect: 'yes' as never } }) as Task), /task 'selinux boolean .*' \(selinux.boolean\): parameter 'values.httpd_can_network_connect' = "yes": must be true or false/);
  t.match(problems(selinux.fileContext({ target: 'srv/www', type: 'httpd_sys_content_t' }) as Task), /parameter 'target' = "srv\/www": must be an absolute path or path expression without blanks or quotes/);
  t.match(problems(selinux.fileContext({ target: '/srv/www' }) as Task), /parameter 'type' is required/);
  t.match(problems(selinux.fileContext({ target: "/srv/it's", type: 'var_t' }) as Task), /parameter 'target' = "\/srv\/it's"/);
  t.match(problems(selinux.port({ ports: ['8443'] as never, type: 'http_port_t' }) as Task), /parameter 'ports.0' = "8443": must be a port or range with its protocol, such as "443\/tcp"/);
  t.match(problems(selinux.mode({ mode: 'on' as never }) as Task), /parameter 'mode' = "on": must be one of "enforcing", "permissive", "disabled"/);
  t.equal(problems(selinux.port({ port: 2222, protocol: 'tcp', type: 'ssh_port_t' }) as Task), '');
});

t.test('no value that reaches setsebool, semanage or restorecon can start with a dash and pass for an option', async (t) => {
  // The schemas are what keeps them out (issue 17, item 6): names and types are [a-z0-9_], paths start with '/', ports are digits.
  const problems = (task: Task) => taskProblems(task, '').join('\n');
  t.match(problems(selinux.boolean({ values: { '-P': true } }) as Task), /parameter 'values' has a key "-P" that is not valid/);
  t.match(problems(selinux.fileContext({ target: '-x', type: 'var_t' }) as Task), /parameter 'target' = "-x": must be an absolute path/);
  t.match(problems(selinux.fileContext({ target: '/srv/x', type: '-t' }) as Task), /parameter 'type' = "-t": must be an SELinux type/);
  t.match(problems(selinux.fileContext({ target: '/srv/x', type: 'var_t', restoreconPaths: ['-R'] }) as Task), /parameter 'restoreconPaths.0' = "-R": must be an absolute path/);
  t.match(problems(selinux.port({ ports: ['-1/tcp'] as never, type: 'http_port_t' }) as Task), /parameter 'ports.0' = "-1\/tcp": must be a port or range with its protocol/);
  t.match(problems(selinux.port({ port: '-1' as never, protocol: 'tcp', type: '-d' }) as Task), /parameter 'type' = "-d": must be an SELinux type/);
});

t.test('semanage import lines quote regexes the way semanage export does and refuse what it cannot carry', async (t) => {
  t.equal(importLine(['fcontext', '-a', '-f', 'a', '-t', 'httpd_sys_content_t', '/srv/www(/.*)?']), "fcontext -a -f a -t httpd_sys_content_t '/srv/www(/.*)?'");
  t.throws(() => importLine(['fcontext', '/srv/a b']), /no spaces or quotes/);
});
