import t from 'tap';
import { UsageError } from '../lib/errors.ts';
import type { UnitFilesParams } from '../modules/systemd/params.ts';
import { fail2ban } from '../modules/fail2ban/index.ts';
import type { WantedDefinition, WantedJail } from '../modules/fail2ban/params.ts';
import { repo } from '../modules/packages/index.ts';
import type { WantedRepo } from '../modules/packages/params.ts';
import { quadlet } from '../modules/quadlet/index.ts';
import type { ResolvedQuadlet } from '../modules/quadlet/params.ts';
import { service, timer, unit } from '../modules/systemd/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { HOSTILE_PIECES, hostileStrings, label, prepare } from './support/hostile.ts';
import { errors, runTasks, statuses } from './support/run-tasks.ts';

// Configuration injection (issue 17, item 3): every value a module renders
// into a file another program parses either reaches that program exactly
// or is refused before any host is touched, naming the parameter. Values
// are read back with the real parsers on a test host: systemd (systemctl
// show, the job's own environment), quadlet + podman (podman inspect),
// fail2ban (fail2ban-client -d) and libdnf (its ConfigParser).

const [h] = (await hosts.up(1, 'el9')) as [TestHost];
t.teardown(() => hosts.down());

const run = async (cmd: string, input?: string) => {
  const r = await h.exec(cmd, { timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });
  if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};
const exists = async (path: string) => (await h.exec(`test -e '${path}'`)).code === 0;

/** Files written as they are, from a JSON map path → text (the renderer's output is what is under test, not the engine's writing). */
const writeFiles = (files: Record<string, string>) =>
  run(`python3 -c 'import json,os,sys
for p, text in json.load(sys.stdin).items():
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "w", encoding="utf-8", newline="").write(text)'`, JSON.stringify(files));

/** Python's str.strip(): what configparser strips from each line of a value. */
const pyStrip = (s: string) => s.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/g, '');

/** `systemctl show` of several units: one map of properties per unit, by Id. */
async function show(units: readonly string[], properties: string): Promise<Map<string, Map<string, string>>> {
  const out = await run(`systemctl show -p Id,${properties} ${units.join(' ')}`);
  const byId = new Map<string, Map<string, string>>();
  for (const block of out.split('\n\n')) {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
    }
    if (fields.has('Id')) byId.set(fields.get('Id')!, fields);
  }
  return byId;
}

// ── systemd ──────────────────────────────────────────────────────────────

t.test('systemd: a NUL in a unit or timer value is refused, so it never becomes an ExecStartPre= that runs', async (t) => {
  const inUnit = unit({
    name: 'hf-nul.service',
    sections: { Service: { Type: 'oneshot', ExecStart: '/usr/bin/true', Environment: 'A=1\u0000ExecStartPre=/usr/bin/touch /run/hf-nul-ran' } },
  });
  const error = await runTasks(h.inventoryEntry(), [inUnit, service({ name: 'hf-nul', state: 'started' })], 'apply').catch((e: Error) => e);
  t.type(error, UsageError);
  t.match(String(error), /task 'unit hf-nul.service' \(systemd.unit\): parameter 'sections.Service.Environment' = "A=1\\u0000ExecStartPre=/);

  const inTimer = timer({
    name: 'hf-nul-timer',
    onCalendar: 'yearly',
    service: { execStart: '/usr/bin/true', options: { Nice: '0\u0000ExecStartPre=/usr/bin/touch /run/hf-nul-ran' } },
  });
  const timerError = await runTasks(h.inventoryEntry(), [inTimer], 'apply').catch((e: Error) => e);
  t.type(timerError, UsageError);
  t.match(String(timerError), /parameter 'service.options.Nice' = "0\\u0000ExecStartPre=/);
  await h.exec('systemctl start hf-nul.service hf-nul-timer.service');
  t.notOk(await exists('/run/hf-nul-ran'), 'no injected command ran');
});

t.test('systemd: a trailing backslash in ExecStart= is refused, so it cannot swallow User= and run the job as root', async (t) => {
  const task = unit({
    name: 'hf-bs.service',
    sections: { Service: { Type: 'oneshot', ExecStart: '/usr/bin/sh -c "id -un >/run/hf-bs-user" \\', User: 'nobody' } },
  });
  const error = await runTasks(h.inventoryEntry(), [task], 'apply').catch((e: Error) => e);
  t.type(error, UsageError);
  t.match(String(error), /parameter 'sections.Service.ExecStart' = .*: ends in a backslash, which systemd reads as a line continuation/);
  await h.exec('systemctl start hf-bs.service');
  t.notOk(await exists('/run/hf-bs-user'), 'the job never ran, as root or otherwise');

  // An escaped backslash at the end is an ordinary character: accepted, and User= stays a setting of its own.
  const escaped = unit({ name: 'hf-bs2.service', sections: { Service: { Type: 'oneshot', ExecStart: '/usr/bin/true x\\\\', User: 'nobody' } } });
  const report = await runTasks(h.inventoryEntry(), [escaped], 'apply');
  t.same(statuses(report), ['changed', 'changed'], errors(report));
  t.equal((await run('systemctl show -P User hf-bs2.service')).trim(), 'nobody');
});

t.test("systemd: '%h' in a timer's environment reaches the job as written, not as the home directory", async (t) => {
  const task = timer({ name: 'hf-pct', onCalendar: 'yearly', service: { execStart: '/usr/bin/cp /proc/self/environ /run/hf-pct.env', environment: { A: 'ab%hcd' } } });
  const report = await runTasks(h.inventoryEntry(), [task], 'apply');
  t.notOk(errors(report), errors(report));
  await run('systemctl start hf-pct.service');
  t.ok((await run("tr '\\0' '\\n' </run/hf-pct.env")).split('\n').includes('A=ab%hcd'));
});

t.test('systemd: hostile timer values reach the job exactly, or are refused naming the parameter', async (t) => {
  // Environment: every accepted value becomes a variable of one job, read back from the job's own environment.
  const env: Record<string, string> = {};
  for (const [i, v] of hostileStrings(17_01, 80).entries()) {
    const p = prepare(timer({ name: 'hfprop', onCalendar: 'daily', service: { execStart: '/usr/bin/true', environment: { V: v } } }));
    if ('refused' in p) t.match(p.refused, /parameter 'service\.environment\.V' = /, `refused ${label(v)}`);
    else env[`V${i}`] = v;
  }
  t.ok(Object.keys(env).length >= 60, 'most values are accepted: only NUL has no escape');
  const job = prepare<UnitFilesParams>(timer({ name: 'hfprop-env', onCalendar: 'daily', service: { execStart: '/usr/bin/cp /proc/self/environ /run/hfprop.env', environment: env } }));
  if (!('resolved' in job)) throw new Error(job.refused);

  // Description and WorkingDirectory: one job per value, read back with systemctl show.
  const literals: { unit: string; description: string; workingDirectory: string }[] = [];
  const files: Record<string, string> = {};
  const pathPieces = HOSTILE_PIECES.filter((p) => !p.includes('/'));
  const paths = hostileStrings(17_02, 40, pathPieces, '/srv/');
  for (const [i, description] of hostileStrings(17_03, 40).entries()) {
    const workingDirectory = paths[i]!;
    const p = prepare<UnitFilesParams>(timer({ name: `hfprop-${i}`, description, onCalendar: 'daily', service: { execStart: '/usr/bin/true', workingDirectory } }));
    if ('refused' in p) {
      t.match(p.refused, /parameter '(description|service\.workingDirectory)' = /, `refused ${label([description, workingDirectory])}`);
      continue;
    }
    literals.push({ unit: `hfprop-${i}.service`, description, workingDirectory });
    files[`/etc/systemd/system/hfprop-${i}.service`] = p.resolved.files.find((f) => f.file === `hfprop-${i}.service`)!.content!;
  }
  t.ok(literals.length >= 5, `${literals.length} description/path pairs accepted`);
  files['/etc/systemd/system/hfprop-env.service'] = job.resolved.files.find((f) => f.file === 'hfprop-env.service')!.content!;
  await writeFiles(files);
  await run('systemctl daemon-reload && systemctl start hfprop-env.service');

  const assignments = Buffer.from(await run('base64 -w0 /run/hfprop.env'), 'base64').toString('utf8').split('\0');
  const environ = new Map(assignments.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
  for (const [name, value] of Object.entries(env)) t.equal(environ.get(name), value, `environment ${name} = ${label(value)}`);

  const shown = await show(literals.map((l) => l.unit), 'Description,WorkingDirectory');
  for (const l of literals) {
    t.equal(shown.get(l.unit)?.get('Description'), l.description, `description ${label(l.description)}`);
    t.equal(shown.get(l.unit)?.get('WorkingDirectory'), l.workingDirectory, `workingDirectory ${label(l.workingDirectory)}`);
  }
});

t.test('systemd: hostile values in sections stay one assignment of their key, or are refused naming the parameter', async (t) => {
  // Values in systemd's own syntax: `%` is a specifier there, so it is left out; what systemd does to the rest is strip blanks.
  const pieces = HOSTILE_PIECES.filter((p) => !p.includes('%'));
  const accepted: { unit: string; value: string }[] = [];
  const files: Record<string, string> = {};
  for (const [i, value] of hostileStrings(17_04, 80, pieces).entries()) {
    const name = `hfsec-${i}.service`;
    const p = prepare<UnitFilesParams>(unit({ name, sections: { Unit: { Description: value, Documentation: 'man:hf-sentinel(1)' }, Service: { ExecStart: '/usr/bin/true' } } }));
    if ('refused' in p) {
      t.match(p.refused, /parameter 'sections\.Unit\.Description' = /, `refused ${label(value)}`);
      t.ok(/[\n\r\0]/.test(value) || /(?:^|[^\\])(?:\\\\)*\\$/.test(value), `refused only for a line break or a trailing backslash: ${label(value)}`);
      continue;
    }
    if (value.trim() === '') continue;
    accepted.push({ unit: name, value });
    files[`/etc/systemd/system/${name}`] = p.resolved.files[0]!.content!;
  }
  await writeFiles(files);
  await run('systemctl daemon-reload');
  const shown = await show(accepted.map((a) => a.unit), 'Description,Documentation');
  for (const a of accepted) {
    t.equal(shown.get(a.unit)?.get('Description'), a.value.replace(/^[ \t]+|[ \t]+$/g, ''), `Description ${label(a.value)}`);
    t.equal(shown.get(a.unit)?.get('Documentation'), '"man:hf-sentinel(1)"', 'the next key is still its own setting');
  }
});

// ── quadlet ──────────────────────────────────────────────────────────────

const IMAGE = 'localhost/busybox:latest';

t.test('quadlet: a trailing backslash in exec is refused, so it cannot swallow User= and run the container as root', async (t) => {
  const task = quadlet.container({ name: 'hf-bs', image: IMAGE, pull: 'never', exec: 'sleep 600 \\', user: 'nobody' });
  const error = await runTasks(h.inventoryEntry(), [task], 'apply').catch((e: Error) => e);
  t.type(error, UsageError);
  t.match(String(error), /task 'quadlet hf-bs.container' \(quadlet.container\): parameter 'exec' = "sleep 600 \\\\": ends in a backslash, which quadlet reads as a line continuation/);
  t.notOk(await exists('/etc/containers/systemd/hf-bs.container'));
});

t.test("quadlet: an image starting with '-' is refused, not passed to podman run as an option", async (t) => {
  const error = await runTasks(h.inventoryEntry(), [quadlet.container({ name: 'hf-dash', image: '--help' })], 'apply').catch((e: Error) => e);
  t.type(error, UsageError);
  t.match(String(error), /parameter 'image' = "--help": starts with "-", which podman would read as an option/);
  const network = await runTasks(h.inventoryEntry(), [quadlet.network({ name: 'hf-dash', networkName: '-d' })], 'apply').catch((e: Error) => e);
  t.match(String(network), /parameter 'networkName' = "-d": starts with "-"/);
  t.notOk(await exists('/etc/containers/systemd/hf-dash.container'));
});

t.test("quadlet: a lone ';' word is refused, so it cannot start a second command outside the container", async (t) => {
  for (const exec of [['/bin/echo', ';', '/usr/bin/touch', '/run/hf-semi'], '/bin/echo ";" /usr/bin/touch /run/hf-semi']) {
    const task = quadlet.container({ name: 'hf-semi', image: IMAGE, pull: 'never', exec, extra: { Service: { Type: 'oneshot' } } });
    const error = await runTasks(h.inventoryEntry(), [task], 'apply').catch((e: Error) => e);
    t.type(error, UsageError, label(exec));
    t.match(String(error), /parameter 'exec(\.1)?' = .*: has ';' as a word of its own/);
  }
  await h.exec('systemctl start hf-semi.service');
  t.notOk(await exists('/run/hf-semi'));
});

t.test('quadlet: hostile environment, label and exec values reach the container exactly, or are refused naming the parameter', async (t) => {
  const environment: Record<string, string> = {};
  const label_: Record<string, string> = {};
  for (const [i, v] of hostileStrings(17_05, 80).entries()) {
    const asEnv = prepare(quadlet.container({ name: 'hfq', image: IMAGE, environment: { V: v } }));
    if ('refused' in asEnv) {
      t.match(asEnv.refused, /parameter 'environment\.V' = /, `refused ${label(v)}`);
      t.ok(v.includes('\0') || v.includes('\r\n'), `refused only for NUL or CR LF: ${label(v)}`);
    } else environment[`V${i}`] = v;
    const asLabel = prepare(quadlet.container({ name: 'hfq', image: IMAGE, label: { l: v } }));
    if ('refused' in asLabel) {
      t.match(asLabel.refused, /parameter 'label\.l' = /, `refused ${label(v)}`);
      t.ok(v.includes('\0'), `refused only for NUL: ${label(v)}`);
    } else label_[`l${i}`] = v;
  }
  // Words of the command: `%` and `$` are systemd's there (specifiers, variables), so they are left out.
  const words: string[] = [];
  for (const w of hostileStrings(17_06, 60, HOSTILE_PIECES.filter((p) => !/[%$]/.test(p)))) {
    const p = prepare(quadlet.container({ name: 'hfq', image: IMAGE, exec: ['/bin/sh', w] }));
    if ('refused' in p) {
      t.match(p.refused, /parameter 'exec(\.1)?' = /, `refused ${label(w)}`);
      t.ok(w === ';' || /[\n\r\0]/.test(w), `refused only for a line break, NUL or a lone ';': ${label(w)}`);
    } else words.push(w);
  }
  const p = prepare<ResolvedQuadlet>(
    quadlet.container({ name: 'hfq', image: IMAGE, pull: 'never', environment, label: label_, exec: ['/bin/sh', '-c', 'sleep 600', 'sh', ...words] }),
  );
  if (!('resolved' in p)) throw new Error(p.refused);
  await writeFiles({ '/etc/containers/systemd/hfq.container': p.resolved.content.toString('utf8') });
  await run('systemctl daemon-reload && systemctl start hfq.service');
  t.teardown(() => h.exec('systemctl stop hfq.service; rm -f /etc/containers/systemd/hfq.container; systemctl daemon-reload'));
  const config = JSON.parse(await run("podman container inspect systemd-hfq --format '{{json .Config}}'")) as { Env: string[]; Labels: Record<string, string>; Cmd: string[] };
  const env = new Map(config.Env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
  for (const [name, value] of Object.entries(environment)) t.equal(env.get(name), value, `environment ${name} = ${label(value)}`);
  for (const [name, value] of Object.entries(label_)) t.equal(config.Labels[name], value, `label ${name} = ${label(value)}`);
  t.same(config.Cmd.slice(4), words, 'every word of exec arrives as one argument, as given');
});

// ── fail2ban ─────────────────────────────────────────────────────────────

/** The commands `fail2ban-client -d` makes of a configuration directory, as JSON. */
async function fail2banDump(dir: string): Promise<unknown[][]> {
  const script = `import ast, json, subprocess, sys
out = subprocess.run(["fail2ban-client", "-c", sys.argv[1], "-d"], capture_output=True, text=True, check=True).stdout
print(json.dumps([ast.literal_eval(l) for l in out.splitlines() if l.startswith("[")]))`;
  return JSON.parse(await run(`python3 -c '${script}' ${dir}`)) as unknown[][];
}

t.test('fail2ban: a carriage return in logpath is refused, so it cannot add ignoreip = 0.0.0.0/0 to the jail', async (t) => {
  await run('touch /var/log/hf-cr.log');
  const task = fail2ban.jail({ name: 'hf-cr', backend: 'polling', filter: 'sshd', logpath: '/var/log/hf-cr.log\rignoreip = 0.0.0.0/0 ::/0' });
  const error = await runTasks(h.inventoryEntry(), [task], 'apply').catch((e: Error) => e);
  t.type(error, UsageError);
  t.match(String(error), /task 'fail2ban jail hf-cr' \(fail2ban.jail\): parameter 'logpath' = "\/var\/log\/hf-cr.log\\rignoreip = 0.0.0.0\/0 ::\/0"/);
  t.notOk(await exists('/etc/fail2ban/jail.d/hf-cr.local'));
  const ignored = (await fail2banDump('/etc/fail2ban')).filter((c) => c[1] === 'hf-cr' && c[2] === 'addignoreip');
  t.same(ignored, [], 'no jail ignores every address');
});

t.test('fail2ban: hostile log paths, addresses, regexes and action commands are read back by fail2ban-client -d exactly, or refused naming the parameter', async (t) => {
  const dir = '/var/log/hfprop/';
  const FIRST_REGEX = '^hf first <HOST>$';
  // Glob characters are fail2ban's syntax in a log path, and a file name has at most 255 bytes.
  const logpaths: string[] = [];
  for (const v of hostileStrings(17_07, 80, HOSTILE_PIECES.filter((p) => !/[/*?[]/.test(p)), dir).filter((v) => v.length < 200)) {
    const p = prepare(fail2ban.jail({ name: 'hfprop', backend: 'polling', logpath: v }));
    if ('refused' in p) t.match(p.refused, /parameter 'logpath' = /, `refused ${label(v)}`);
    else logpaths.push(v);
  }
  const ignoreip: string[] = [];
  for (const v of hostileStrings(17_08, 80)) {
    const p = prepare(fail2ban.jail({ name: 'hfprop', ignoreip: [v] }));
    if ('refused' in p) t.match(p.refused, /parameter 'ignoreip(\.0)?' = /, `refused ${label(v)}`);
    else ignoreip.push(v);
  }
  // Regexes and commands are fail2ban's syntax: `%` interpolation and `<tag>`s are left out, the rest must survive.
  const syntax = HOSTILE_PIECES.filter((p) => !/[%<]/.test(p));
  const failregex: string[] = [];
  for (const v of hostileStrings(17_09, 80, syntax)) {
    // As the list's second item, on a continuation line, where it will be in the file read back.
    const p = prepare(fail2ban.filter({ name: 'hfprop', failregex: [FIRST_REGEX, v] }));
    if ('refused' in p) t.match(p.refused, /parameter 'failregex(\.1)?' = /, `refused ${label(v)}`);
    else if (pyStrip(v) !== '') failregex.push(v);
  }
  const commands: string[] = [];
  for (const v of hostileStrings(17_10, 80, syntax)) {
    const p = prepare(fail2ban.action({ name: 'hfprop', actionban: v }));
    if ('refused' in p) t.match(p.refused, /parameter 'actionban' = /, `refused ${label(v)}`);
    else if (pyStrip(v.split('\n')[0]!) !== '') commands.push(v);
  }
  t.ok([logpaths, ignoreip, failregex, commands].every((l) => l.length >= 10), 'each kind has accepted values to read back');

  const jail = prepare<WantedJail>(fail2ban.jail({ name: 'hfprop', backend: 'polling', filter: 'hfprop', action: 'hfprop', logpath: logpaths, ignoreip }));
  const filter = prepare<WantedDefinition>(fail2ban.filter({ name: 'hfprop', failregex: [FIRST_REGEX, ...failregex] }));
  const actions = commands.map((c, i) => prepare<WantedDefinition>(fail2ban.action({ name: `hfprop${i}`, actionban: c })));
  const all = [jail, filter, ...actions];
  for (const p of all) if ('refused' in p) throw new Error(p.refused);
  const copy = '/tmp/hfprop-fail2ban';
  await run(`rm -rf ${copy} && cp -a /etc/fail2ban ${copy} && mkdir -p ${dir}`);
  await run(`python3 -c 'import json, sys
for p in json.load(sys.stdin): open(p, "w").close()'`, JSON.stringify(logpaths));
  const files: Record<string, string> = {
    [`${copy}/jail.d/hfprop.local`]: (jail as { resolved: WantedJail }).resolved.content,
    [`${copy}/filter.d/hfprop.conf`]: (filter as { resolved: WantedDefinition }).resolved.content,
  };
  // One action per command; the jail uses the first, the others are read through jails of their own.
  actions.forEach((a, i) => (files[`${copy}/action.d/hfprop${i}.conf`] = (a as { resolved: WantedDefinition }).resolved.content));
  files[`${copy}/jail.d/hfprop-actions.local`] = commands.map((_, i) => `[hfprop-a${i}]\nenabled = true\nfilter = hfprop\nbackend = polling\nlogpath = /var/log/hfprop-a.log\naction = hfprop${i}\n`).join('\n');
  files[`${copy}/action.d/hfprop.conf`] = '[Definition]\nactionban = true\n';
  await run('touch /var/log/hfprop-a.log');
  await writeFiles(files);
  const dump = await fail2banDump(copy);

  const ofJail = (name: string, command: string) => dump.filter((c) => c[1] === name && c[2] === command);
  t.same(ofJail('hfprop', 'addlogpath').map((c) => c[3]), logpaths, 'log paths');
  t.same(ofJail('hfprop', 'addignoreip').flatMap((c) => c.slice(3)), ignoreip, 'ignoreip');
  t.same(ofJail('hfprop', 'addfailregex').flatMap((c) => c[3] as string[]), [FIRST_REGEX, ...failregex.map(pyStrip)], 'failregex: fail2ban strips each line');
  commands.forEach((c, i) => {
    const set = dump.find((d) => d[0] === 'multi-set' && d[1] === `hfprop-a${i}` && d[2] === 'action') as [string, string, string, string, [string, string][]] | undefined;
    const actionban = set?.[4].find(([k]) => k === 'actionban')?.[1];
    const expected = c.split('\n').map(pyStrip).join('\n').replace(/[\s\x1c-\x1f\x85]+$/, '');
    t.equal(actionban, expected, `actionban ${label(c)}`);
  });
});

// ── dnf repository files ─────────────────────────────────────────────────

t.test("repo: hostile descriptions, user names and options are read back by libdnf's ConfigParser exactly, or refused naming the parameter", async (t) => {
  // `$` starts a dnf variable ($basearch), which is dnf's syntax in every value, so it is left out.
  const pieces = HOSTILE_PIECES.filter((p) => !p.includes('$'));
  const files: Record<string, string> = {};
  const expected: Record<string, Record<string, string>> = {};
  for (const [i, v] of hostileStrings(17_11, 80, pieces).entries()) {
    const name = `hfprop${i}`;
    const p = prepare<WantedRepo>(repo({ name, description: v, username: v, baseurl: 'file:///srv/hostform-test-repo', options: { hf_extra: v } }));
    if ('refused' in p) {
      t.match(p.refused, /parameter '(description|username|options\.hf_extra)' = /, `refused ${label(v)}`);
      t.ok(/[\r\n\0]|^[ \t]|[ \t]$/.test(v), `refused only for a line break, NUL or a blank at an end: ${label(v)}`);
      continue;
    }
    if (p.resolved.file.state !== 'file') throw new Error('a present repo is a file');
    files[`/tmp/hfprop-repos/${name}.repo`] = p.resolved.file.content.toString('utf8');
    expected[name] = { name: v, username: v, hf_extra: v };
  }
  t.ok(Object.keys(expected).length >= 20, `${Object.keys(expected).length} values accepted`);
  await run('rm -rf /tmp/hfprop-repos');
  await writeFiles(files);
  const script = `import glob, json, libdnf.conf
out = {}
for path in sorted(glob.glob("/tmp/hfprop-repos/*.repo")):
    parser = libdnf.conf.ConfigParser()
    parser.read(path)
    for section in parser.sections():
        out[section] = {key: parser.getValue(section, key) for key in ("name", "username", "hf_extra")}
print(json.dumps(out))`;
  const read = JSON.parse(await run(`python3 -c '${script}'`)) as Record<string, Record<string, string>>;
  for (const [name, values] of Object.entries(expected)) t.same(read[name], values, `${name}: ${label(values.name)}`);
});
