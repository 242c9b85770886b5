import t from 'tap';
import type { ErrorRecord } from '../lib/errors.ts';
import type { Task } from '../lib/module/types.ts';
import type { RunMode, TaskResult } from '../lib/run/results.ts';
import { secret } from '../lib/secret/secret.ts';
import { command } from '../modules/index.ts';
import { registeredModules } from '../modules/registry.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { label, prepare } from './support/hostile.ts';
import { runTasks } from './support/run-tasks.ts';
import { hostileBytes, hostileValues, MARKER_DIR, stringPlaces, type HostileValue, type StringPlace } from './support/sweep.ts';

/**
 * Issue 14: "every string parameter of every module (generated from the
 * modules' schemas, so new parameters are covered automatically) fed quotes,
 * `$()`, backticks, newlines, `;`, globs, leading dashes, very long strings
 * and non-UTF-8 bytes, in check mode and apply, on a test host: the value
 * lands as exact data or is refused before any host is touched with a clear
 * message; a marker command in the strings never runs."
 *
 * For every module, a valid task (SEEDS) and every place its schema takes a
 * string (test/support/sweep.ts); each place gets each hostile value. What
 * the schema or the module refuses must say which parameter. What it lets
 * through runs on four test hosts: the values of one module, seed and
 * hostile label together in one task where they fit, in check mode, apply,
 * check mode again. No marker file may appear; no command may fail with a
 * shell's syntax error (a value read as code); a task that applied must plan
 * nothing the second time (the host holds exactly what it was given); a
 * task the host refuses is split until each refusal is one value's, and
 * that refusal must be one listed in HOST_REFUSES.
 */

type Params = Record<string, unknown>;

/** Parameters that are shell code by contract: hostform runs them with sh, which is their point. */
const SHELL_CODE = new Set(['command.shell', 'command.unless.shell']);

/**
 * A valid task per module, with names made unique by `i` so a module's
 * candidates run side by side. Units, jails and actions are written but not
 * started: their commands are data for daemons that never run them here.
 */
const SEEDS: Readonly<Record<string, (i: number) => Params>> = {
  command: () => ({ argv: ['/bin/true', 'x'], creates: '/tmp/hf-sweep-never', chdir: '/tmp', env: { HF_SWEEP: 'x' } }),
  dropIn: (i) => ({ unit: `hf-sweep-${i}.service`, name: 'sweep', sections: { Service: { Environment: 'A=1' } } }),
  'fail2ban.action': (i) => ({ name: `hf-sweep-${i}`, actionstart: 'true', actionban: 'true <ip>', before: 'iptables-common.conf', definition: { x: 'y' }, init: { name: 'default' } }),
  'fail2ban.filter': (i) => ({ name: `hf-sweep-${i}`, failregex: '^bad <HOST>$', ignoreregex: '^ok$', datepattern: '{^LN-BEG}', definition: { x: 'y' }, init: { maxlines: '1' } }),
  'fail2ban.jail': (i) => ({ name: `hf-sweep-${i}`, enabled: false, port: 'ssh', filter: 'sshd', logpath: '/var/log/hf-sweep.log', findtime: '10m', bantime: '1h', ignoreip: ['10.0.0.1'], banaction: 'iptables-multiport', options: { usedns: 'no' } }),
  file: (i) => ({ path: `/etc/hf-sweep/f${i}`, content: 'x\n' }),
  'firewalld.forwardPort': (i) => ({ zone: 'public', forwardPort: { port: 9000 + i, protocol: 'tcp', toPort: 9500 + i, toAddr: '10.0.0.5' } }),
  'firewalld.masquerade': () => ({ zone: 'public' }),
  'firewalld.port': (i) => ({ zone: 'public', port: 10000 + i }),
  'firewalld.richRule': (i) => ({ zone: 'public', rule: `rule family="ipv4" source address="10.1.${i % 250}.0/24" accept` }),
  'firewalld.service': () => ({ zone: 'public', service: 'http' }),
  'firewalld.zone': (i) => ({ name: `hfs${i}`, interfaces: [`hfs${i}`], sources: [`10.2.${i % 250}.0/24`] }),
  group: (i) => ({ name: `hfsweep${i}` }),
  packages: () => ({ present: ['hostform-test-a'] }),
  'quadlet.container': (i) => ({
    name: `hf-sweep-${i}`,
    image: 'localhost/busybox:latest',
    pull: 'never',
    exec: ['sleep', 'infinity'],
    description: 'sweep',
    environment: { HF: 'x' },
    label: { app: 'sweep' },
    extra: { Container: { StopTimeout: 1 } },
  }),
  'quadlet.network': (i) => ({ name: `hf-sweep-${i}`, description: 'sweep', label: { app: 'sweep' } }),
  'quadlet.pod': (i) => ({ name: `hf-sweep-${i}`, description: 'sweep' }),
  'quadlet.volume': (i) => ({ name: `hf-sweep-${i}`, description: 'sweep', label: { app: 'sweep' } }),
  repo: (i) => ({ name: `hf-sweep-${i}`, description: 'sweep', baseurl: 'file:///srv/hf-sweep', enabled: false, gpgcheck: false, options: { keepcache: '0' } }),
  'selinux.boolean': () => ({ values: { httpd_can_network_connect: true } }),
  'selinux.fileContext': (i) => ({ target: `/srv/hf-sweep-${i}(/.*)?`, type: 'httpd_sys_content_t' }),
  'selinux.mode': () => ({ mode: 'permissive' }),
  'selinux.port': (i) => ({ port: String(20000 + i), protocol: 'tcp', type: 'http_port_t' }),
  service: () => ({ name: 'hf-sweep-none', enabled: false }),
  'sshd.config': (i) => ({ name: `sweep${i}`, order: 90, options: { Banner: 'none', AllowGroups: ['root', 'admin', 'sudo'] } }),
  timer: (i) => ({ name: `hf-sweep-${i}`, description: 'sweep', onCalendar: 'yearly', service: { execStart: '/usr/bin/true', environment: { HF: 'x' } } }),
  unit: (i) => ({ name: `hf-sweep-${i}.service`, sections: { Unit: { Description: 'sweep' }, Service: { ExecStart: '/usr/bin/true', Environment: 'A=1' } } }),
  hostname: (i) => ({ name: `hf-sweep-${i}` }),
  mount: (i) => ({ where: `/srv/hf-sweep-${i}`, what: 'tmpfs', type: 'tmpfs', options: ['size=1M'], state: 'unmounted' }),
  networkConnection: (i) => ({ name: `hf-sweep-${i}`, interface: `hfs${i}`, ipv4: { method: 'manual', address: '192.0.2.10/24', gateway: '192.0.2.1', dns: ['192.0.2.53'], dnsSearch: ['sweep.example'] } }),
  'nixos.options': () => ({ services: { hfSweep: { enable: true, name: 'x' } } }),
  'quadlet.secret': (i) => ({ name: `hf-sweep-${i}`, value: secret.onHost('/etc/hf-sweep/secret') }),
  sudoers: (i) => ({ name: `hf-sweep-${i}`, rules: [{ users: ['admin'], commands: ['/usr/bin/true x'] }] }),
  sysctl: (i) => ({ settings: { 'net.ipv4.ip_forward': 0 }, file: `hf-sweep-${i}.conf` }),
  systemdConfig: (i) => ({ component: 'journald', name: `hf-sweep-${i}`, settings: { Storage: 'auto' } }),
  timezone: () => ({ zone: 'UTC' }),
  'waitFor.http': (i) => ({ url: `http://127.0.0.1:${8000 + i}/health`, status: 200, timeout: 1 }),
  'waitFor.tcp': (i) => ({ port: 8000 + i, host: '127.0.0.1', timeout: 1 }),
  'waitFor.unitActive': (i) => ({ unit: `hf-sweep-${i}.service`, timeout: 1 }),
  user: (i) => ({ name: `hfsweep${i}`, shell: '/bin/sh', comment: 'sweep', authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFm3S4l2i5oP6w1YVxJ1yJ6tq2eM9o0kzq2f0rYQh3kE sweep'] }),
};

/**
 * More valid tasks for the places the first seed cannot reach: one of a
 * choice the seed already makes (`content` where it gives `sections`), a
 * list where it gives one value, a value of the shape a place needs (a time,
 * a URL) so that what follows it is what is judged.
 */
const VARIANTS: Readonly<Record<string, (i: number) => readonly Params[]>> = {
  dropIn: (i) => [{ unit: `hf-sweep-${i}.service`, name: 'sweep', content: '[Service]\nEnvironment=A=1\n' }],
  'fail2ban.jail': (i) => [
    { name: `hf-sweep-${i}`, enabled: false, filter: 'sshd', backend: 'systemd', journalmatch: '_SYSTEMD_UNIT=sshd.service' },
    { name: `hf-sweep-${i}`, enabled: false, filter: 'sshd', logpath: ['/var/log/hf-sweep.log'] },
  ],
  file: (i) => [{ path: `/etc/hf-sweep/t${i}`, template: 'x\n', mode: '0644' }],
  'firewalld.forwardPort': (i) => [{ zone: 'public', forwardPort: { port: `${9000 + 2 * i}-${9001 + 2 * i}`, protocol: 'tcp', toPort: `${9500 + 2 * i}-${9501 + 2 * i}`, toAddr: '10.0.0.5' } }],
  'firewalld.port': (i) => [{ zone: 'public', port: `${10000 + 2 * i}-${10001 + 2 * i}` }, { zone: 'public', ports: [`${10000 + i}/tcp`] }],
  'firewalld.richRule': (i) => [{ zone: 'public', rules: [`rule family="ipv4" source address="10.1.${i % 250}.0/24" accept`] }],
  'firewalld.service': () => [{ zone: 'public', services: ['http'] }],
  'quadlet.container': (i) => [
    {
      name: `hf-sweep-${i}`,
      image: 'localhost/busybox:latest',
      pull: 'never',
      timeoutStartSec: '30s',
      healthCmd: 'true',
      healthInterval: '30s',
      healthStartPeriod: '30s',
      healthTimeout: '30s',
      exec: ['sleep', 'infinity'],
      extra: { Unit: { Documentation: 'https://example.org' }, Service: { Restart: 'no' }, Install: { RequiredBy: 'multi-user.target' } },
    },
    // Alone: the pod is not on the host, so the generator refuses this container whatever else it holds.
    { name: `hf-sweep-${i}`, image: 'localhost/busybox:latest', pull: 'never', pod: `hf-sweep-${i}.pod` },
  ],
  'quadlet.network': (i) => [{ name: `hf-sweep-${i}`, timeoutStartSec: '30s' }],
  'quadlet.pod': (i) => [{ name: `hf-sweep-${i}`, timeoutStartSec: '30s' }],
  'quadlet.volume': (i) => [{ name: `hf-sweep-${i}`, timeoutStartSec: '30s' }],
  repo: (i) => [
    { name: `hf-sweep-${i}`, baseurl: ['file:///srv/hf-sweep'], gpgkey: 'file:///etc/pki/hf-sweep', metadataExpire: '6h', enabled: false },
    { name: `hf-sweep-${i}`, metalink: 'https://example.org/metalink', gpgkey: ['file:///etc/pki/hf-sweep'], enabled: false },
    { name: `hf-sweep-${i}`, mirrorlist: 'https://example.org/mirrorlist', enabled: false },
  ],
  'selinux.fileContext': (i) => [{ target: `/srv/hf-sweep-${i}(/.*)?`, type: 'httpd_sys_content_t', restoreconPaths: [`/srv/hf-sweep-${i}`] }],
  'selinux.port': (i) => [{ ports: [`${20000 + i}/tcp`], type: 'http_port_t' }],
  'sshd.config': (i) => [{ name: `sweep${i}`, order: 90, options: { MaxStartups: '10:30:100', LoginGraceTime: '2m', ClientAliveInterval: '30s' }, extra: { PrintLastLog: 'yes' } }],
  timer: (i) => [{ name: `hf-sweep-${i}`, onCalendar: 'yearly', service: { execStart: '/usr/bin/true', workingDirectory: '/tmp', options: { Nice: '5' } } }],
  unit: (i) => [{ name: `hf-sweep-${i}.service`, content: '[Unit]\nDescription=sweep\n' }],
  user: (i) => [{ name: `hfsweep${i}`, home: `/home/hfsweep${i}`, passwordHash: '!' }],
};

/** A module's seeds, the first from SEEDS, then its VARIANTS. */
const seedsOf = (call: string, n: number): Params[] => [SEEDS[call]?.(n) ?? {}, ...(VARIANTS[call]?.(n) ?? [])];

/** A hostile value the schema and the module let through, and where it goes: for the host. */
interface Candidate {
  readonly module: string;
  readonly parameter: string;
  readonly label: string;
  /** Which of the module's seeds (SEEDS, then VARIANTS) it goes into, and where. */
  readonly seed: number;
  readonly place: StringPlace;
  readonly value: string | Buffer;
  /** The seed with this value alone. */
  readonly task: Task;
}

const accepted: Candidate[] = [];

t.test('every module has a seed for the sweep (add one for a new module)', async (t) => {
  t.same(
    registeredModules.map((m) => m.call).filter((call) => !SEEDS[call]),
    [],
  );
});

/** Numbers the names in the seeds: every task of the sweep has its own unit, file, user. */
let i = 0;

t.test('hostile strings in every string parameter of every module: refused before any host is touched, naming the parameter, or let through', async (t) => {
  let refused = 0;
  const unreached: string[] = [];
  for (const { call, definition } of registeredModules) {
    const seeds = (n: number) => seedsOf(call, n);
    const prepared = (params: Params) => prepare({ kind: 'task', module: definition, params } as Task);
    seeds(0).forEach((seed, v) => {
      const outcome = prepared(seed);
      t.ok('resolved' in outcome, `${call}: seed ${v} is valid`, { refused: 'refused' in outcome ? outcome.refused : '' });
    });
    // Each place from the first seed that takes a plain value there (its own, or "x"): then a refusal is about the hostile part.
    const places = new Map<string, { place: StringPlace; seed: number }>();
    seeds(0).forEach((seed, v) => {
      for (const place of stringPlaces(definition.schema as Params, seed)) {
        if (places.has(place.parameter) || SHELL_CODE.has(`${call}.${place.parameter}`)) continue;
        if ('resolved' in prepared(place.put(seed, place.current(seed) ?? 'x'))) places.set(place.parameter, { place, seed: v });
      }
    });
    const everyPlace = new Set(seeds(0).flatMap((seed) => stringPlaces(definition.schema as Params, seed).map((p) => p.parameter)));
    unreached.push(...[...everyPlace].filter((p) => !places.has(p) && !SHELL_CODE.has(`${call}.${p}`)).map((p) => `${call} ${p}`));

    for (const { place, seed: v } of places.values()) {
      // The value with every piece together first; each piece alone only when the place refuses that one.
      const tryValue = (pick: (v: ReturnType<typeof hostileValues>) => HostileValue): boolean => {
        i += 1;
        const own = seeds(i)[v] as Params;
        const hostile = pick(hostileValues(place.current(own), `${call}-${i}`));
        const task = { kind: 'task', module: definition, params: place.put(own, hostile.value) } as Task;
        const outcome = prepare(task);
        if ('resolved' in outcome) {
          accepted.push({ module: call, parameter: place.parameter, label: hostile.label, seed: v, place, value: hostile.value, task });
          return true;
        }
        refused += 1;
        // Clear: it names the parameter (`parameter 'env.A'`, `a key of parameter 'env'`).
        const top = place.parameter.split(/[.[ ]/)[0] as string;
        t.ok(outcome.refused.includes(`parameter '${top}`), `${call} ${place.parameter} (${hostile.label}): refused, naming the parameter`, { message: label(outcome.refused.slice(0, 400)) });
        return false;
      };
      if (!tryValue((v) => v.together)) for (let k = 0; k < 4; k++) tryValue((v) => v.alone[k]!);
      for (let k = 0; k < 4; k++) tryValue((v) => v.apart[k]!);
      if (place.bytes) tryValue(() => hostileBytes(`${call}-${i}`));
    }
  }
  t.same(unreached, [], 'every string place of every module is reached: some seed takes a plain value there (add a variant for one that is not)');
  t.comment(`${i} hostile values: ${refused} refused before any host was touched, ${accepted.length} let through to the host`);
  t.comment(`let through, by module: ${[...new Set(accepted.map((c) => c.module))].map((m) => `${m} ${accepted.filter((c) => c.module === m).length}`).join(', ')}`);
});

/**
 * What the host runs: one task holding the values of several candidates of
 * one module, seed and hostile label (a value in each of their places), or
 * a candidate's own task. About ten tasks a module instead of a hundred.
 */
interface Unit {
  readonly candidates: readonly Candidate[];
  readonly task: Task;
}

/** Whether `params` still hold the candidate's value (`exec` and `exec[]` write the same parameter). */
const holds = (params: Params, c: Candidate) => typeof c.value !== 'string' || c.place.current(params) === c.value;

/**
 * Candidates of one module, seed and label as few tasks: a candidate whose
 * place another already filled starts another task, and a task the module
 * refuses as a whole (the values together too long, say) is halved until it
 * is taken (one candidate alone always is: the first test prepared it).
 */
function unitsOf(group: readonly Candidate[]): Unit[] {
  const bins: { candidates: Candidate[]; params: Params }[] = [];
  for (const c of group) {
    const fits = (b: (typeof bins)[number]) => {
      const params = c.place.put(b.params, c.value);
      return [...b.candidates, c].every((d) => holds(params, d)) ? params : undefined;
    };
    const bin = bins.find((b) => fits(b) !== undefined);
    if (bin) {
      bin.params = fits(bin) as Params;
      bin.candidates.push(c);
    } else {
      i += 1;
      bins.push({ candidates: [c], params: c.place.put(seedsOf(c.module, i)[c.seed] as Params, c.value) });
    }
  }
  return bins.flatMap((b) => taken(b.candidates, b.params));
}

/** One task for `candidates` (one bin of unitsOf), halved until the module takes it. */
function taken(candidates: readonly Candidate[], params: Params): Unit[] {
  if (candidates.length === 1) return [{ candidates, task: candidates[0]!.task }];
  const task = { kind: 'task', module: candidates[0]!.task.module, params } as Task;
  if ('resolved' in prepare(task)) return [{ candidates, task }];
  return halves(candidates);
}

/** `candidates` as two tasks (or more, where the module refuses one). */
function halves(candidates: readonly Candidate[]): Unit[] {
  const half = Math.ceil(candidates.length / 2);
  return [candidates.slice(0, half), candidates.slice(half)].flatMap((part) => {
    i += 1;
    return taken(part, part.reduce((p, c) => c.place.put(p, c.value), seedsOf(part[0]!.module, i)[part[0]!.seed] as Params));
  });
}

/**
 * A generated service that would not start: podman refused the value it was
 * given (`Error: invalid argument "x'\"$(touch …)\"'" for "--stop-timeout"
 * flag`, `crun: executable file … not found`; the journal's last 15 lines
 * show it when podman's lines are not crowded out by systemd's). The file
 * landed and was read as data (the next check must plan only the start),
 * the container did not start. A unit of
 * several values that fails so stays whole: its file is on the host, and
 * splitting it would start a container per value, which is what made the
 * sweep too slow to run.
 */
const START_REFUSED = /systemctl start -- \S+\.service[\s\S]*Failed to start /;

/** Between two units: a task that plans nothing, so that no two units are applied as one batch (quadlets are). */
const SEPARATOR = 'sweep: between units';
const separator = command({ argv: ['true'], creates: '/' }, { name: SEPARATOR });

type Results = Map<Candidate, TaskResult>;

/**
 * Run `units` on a host in `mode`, each candidate's result in `results`.
 * A failed task stops the host for the rest of the play, so what follows it
 * goes again in a new play; a failed unit of several candidates goes again
 * in halves, until each refusal is a value's own. The units as
 * they ended (split where they failed), for the next mode.
 */
async function runUnits(h: TestHost, units: readonly Unit[], mode: RunMode, results: Results, hostErrors: ErrorRecord[], counter: { plays: number }): Promise<Unit[]> {
  const done: Unit[] = [];
  let rest = [...units];
  while (rest.length > 0) {
    counter.plays += 1;
    const report = await runTasks(h.inventoryEntry(), rest.flatMap((u) => [u.task, separator]), mode, { become: true });
    const host = report.hosts[0];
    if (host?.error) hostErrors.push(host.error);
    const own = (host?.tasks ?? []).filter((r) => !r.handler && r.name !== SEPARATOR);
    if (own.length === 0) break;
    const ran = rest.slice(0, own.length);
    rest = rest.slice(own.length);
    ran.forEach((u, k) => {
      const r = own[k] as TaskResult;
      if (r.status === 'failed' && u.candidates.length > 1 && !START_REFUSED.test(r.error?.message ?? '')) rest.unshift(...halves(u.candidates));
      else {
        done.push(u);
        for (const c of u.candidates) results.set(c, r);
      }
    });
  }
  return done;
}

/**
 * Values the schemas let through that the host then refused, as exact data
 * it cannot use (the path, directory, image, pod named is not there: the
 * sweep's values hold `/`, so a path's parent is a directory that does not
 * exist), or that the host's own check refused before anything was
 * installed. A refusal not listed fails the sweep: it is either a value
 * hostform should refuse before connecting, or one to add here with its
 * reason.
 */
const HOST_REFUSES: readonly { readonly place: RegExp; readonly because: RegExp; readonly why: string }[] = [
  { place: /^command chdir /, because: /can't cd to|No such file or directory/, why: 'a directory that does not exist' },
  { place: /^file path /, because: /does not exist/, why: 'a parent directory that does not exist' },
  { place: /^quadlet\.container image /, because: /is not on the host and pull is 'never'/, why: 'an image that is not there' },
  { place: /^(timer|unit|dropIn) /, because: /systemd-analyze verify refused .*; nothing was installed/, why: "systemd's own check, before anything was installed" },
  { place: /^quadlet\./, because: /the quadlet generator refused .*; nothing was installed/, why: "quadlet's own check, before anything was installed" },
  { place: /^quadlet\./, because: START_REFUSED, why: "podman's refusal to start the service, quoting the value" },
  { place: /^sshd\.config /, because: /sshd would turn away hostform's own login .*; nothing was installed/, why: "hostform's own check that it can still log in, before anything was installed" },
  { place: /^sshd\.config /, because: /sshd -t refused the configuration .*; nothing was installed/, why: "sshd's own check, before anything was installed" },
  { place: /^sysctl settings/, because: /the kernel refused /, why: 'a value the kernel does not take, reported per key' },
  { place: /^waitFor\./, because: /still not healthy after 1 s/, why: 'a health gate on something that is not there (nothing answers on the test host)' },
];

/** Modules a container el9 host has no backend for (nixos.options): they skip there. */
const NO_EL9 = new Set(registeredModules.filter((m) => !('el9' in m.definition.backends)).map((m) => m.call));

const HOSTS = 4;
t.test('what the schemas let through lands on test hosts as data: check mode, apply, check mode again; no marker command ever runs', async (t) => {
  const started = Date.now();
  const up = (await hosts.up(HOSTS, 'el9')) as TestHost[];
  t.teardown(() => hosts.down());
  const booted = Date.now();
  await Promise.all(up.map((h) => h.exec(`rm -rf ${MARKER_DIR} && mkdir -p ${MARKER_DIR} /etc/hf-sweep && touch /var/log/hf-sweep.log`)));

  // One label of one module in one place: a unit's failure is about few values.
  const groups = new Map<string, Candidate[]>();
  for (const c of accepted) groups.set(`${c.module} ${c.seed} ${c.label}`, [...(groups.get(`${c.module} ${c.seed} ${c.label}`) ?? []), c]);
  const units = [...groups.values()].flatMap(unitsOf);
  // Dealt out in turn: each host gets a share of every module, and a failure stops only its own host's play.
  const shares = up.map((_h, k) => units.filter((_u, n) => n % HOSTS === k));

  const SHELL_SYNTAX = /syntax error|unexpected (EOF|end of file|token)|unterminated quoted|bad substitution|Unterminated/i;
  const hostErrors: ErrorRecord[] = [];
  const counter = { plays: 0 };
  const checked: Results = new Map();
  const applied: Results = new Map();
  const again: Results = new Map();
  await Promise.all(
    up.map(async (h, k) => {
      const afterCheck = await runUnits(h, shares[k] as Unit[], 'check', checked, hostErrors, counter);
      t.equal((await h.exec(`ls -A ${MARKER_DIR}`)).stdout.trim(), '', `${h.name}: check mode ran no marker command`);
      const afterApply = await runUnits(h, afterCheck, 'apply', applied, hostErrors, counter);
      const landed = afterApply.filter((u) => {
        const r = applied.get(u.candidates[0] as Candidate);
        return r?.status !== 'failed' || START_REFUSED.test(r.error?.message ?? '');
      });
      await runUnits(h, landed, 'check', again, hostErrors, counter);
      t.equal((await h.exec(`ls -A ${MARKER_DIR}`)).stdout.trim(), '', `${h.name}: no marker command ran`);
    }),
  );

  const refusedByHost: string[] = [];
  const skipped: string[] = [];
  for (const c of accepted) {
    const what = `${c.module} ${c.parameter} (${c.label})`;
    const results = { check: checked.get(c), apply: applied.get(c), again: again.get(c) };
    for (const [mode, r] of Object.entries(results)) {
      const message = r?.error?.message ?? '';
      t.notMatch(message, SHELL_SYNTAX, `${what}, ${mode}: no shell read the value as code`, { error: label(message.slice(0, 400)) });
    }
    t.ok(results.check && results.apply, `${what}: checked and applied`);
    if (results.apply?.status === 'failed') {
      const message = results.apply.error?.message ?? '';
      const known = HOST_REFUSES.find((k) => k.place.test(what) && k.because.test(message));
      t.ok(known, `${what}: refused by the host only as exact data it cannot take (${known?.why ?? 'not listed'})`, { error: label(message.slice(0, 1500)) });
      refusedByHost.push(`${what}: ${known?.why ?? 'not listed'}`);
      if (!START_REFUSED.test(message)) continue;
      // The file stays what was written: the next check would only start the service again.
      const others = (results.again?.changes ?? []).filter((change) => !/^start \S+\.service$/.test(change.summary));
      t.same(others, [], `${what}: the file the service failed with holds exactly the value (the next check plans only the start)`, { changes: label(results.again?.changes ?? null) });
      continue;
    }
    // SELinux is off on the container test hosts: its modules skip, saying so, and reach nothing there. A
    // module with no el9 backend (nixos.options) skips as not applicable; its renderings are evaluated in
    // test/nixos-eval.test.ts.
    if (results.apply?.status === 'skipped') {
      t.ok(/^selinux\./.test(c.module) || NO_EL9.has(c.module), `${what}: skipped only where the host has no SELinux, or where the module has no el9 backend`, { note: results.apply.note });
      skipped.push(what);
      continue;
    }
    // A command's own guard decides whether it runs again: there is no state to compare.
    if (c.module === 'command') continue;
    t.equal(results.again?.status, 'ok', `${what}: applied, the host holds exactly the value (the next check plans nothing)`, { changes: label(results.again?.changes ?? null) });
  }
  t.same(hostErrors.map((e) => e.message), [], 'no error outside the tasks (a deferred action, the journal)');
  t.comment(
    `${accepted.length} values in ${units.length} tasks on ${HOSTS} hosts, ${counter.plays} plays, ${Math.round((Date.now() - booted) / 1000)} s (boot ${Math.round((booted - started) / 1000)} s); refused by the host as exact data it cannot take: ${refusedByHost.length}; skipped (no SELinux on the host): ${skipped.length}`,
  );
});
