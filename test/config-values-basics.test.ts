import t from 'tap';
import { mount } from '../modules/mount/index.ts';
import { networkConnection } from '../modules/network/index.ts';
import type { WantedConnection } from '../modules/network/params.ts';
import type { WantedMount } from '../modules/mount/params.ts';
import { sudoers } from '../modules/sudoers/index.ts';
import { sysctl } from '../modules/sysctl/index.ts';
import type { WantedSysctl } from '../modules/sysctl/params.ts';
import { systemdConfig } from '../modules/systemd-config/index.ts';
import type { WantedSystemdConfig } from '../modules/systemd-config/params.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { HOSTILE_PIECES, hostileStrings, label, prepare } from './support/hostile.ts';
import { errors, runTasks, statuses } from './support/run-tasks.ts';

// Configuration values of the host-basics modules read back with the real
// parsers on a test host, or refused naming the parameter (docs/security.md,
// "Configuration values cannot inject configuration"): systemd-sysctl (it
// logs the value it parsed when the kernel refuses it), systemd's mount
// units (systemctl show, and systemd checking Where= against the unit name),
// the service manager's own configuration, and sudo (the command runs
// through sudo exactly as given, and only so). NetworkManager keyfiles take
// only addresses and plain names (proven by refusal here, no host needed), and
// hostname and timezone no file at all.

const [h] = (await hosts.up(1, 'el9')) as [TestHost];
t.teardown(() => hosts.down());

const run = async (cmd: string, input?: string) => {
  const r = await h.exec(cmd, { timeoutMs: 180_000, ...(input !== undefined ? { input } : {}) });
  if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};
const writeFiles = (files: Record<string, string>) =>
  run(`python3 -c 'import json,os,sys
for p, text in json.load(sys.stdin).items():
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "w", encoding="utf-8", newline="").write(text)'`, JSON.stringify(files));

t.test('sysctl: hostile values are parsed by systemd-sysctl exactly as given, or refused naming the parameter', async (t) => {
  const accepted: { file: string; value: string }[] = [];
  const files: Record<string, string> = {};
  for (const [i, value] of hostileStrings(11_01, 60).entries()) {
    const p = prepare<WantedSysctl>(sysctl({ file: `hf-cv-${i}.conf`, settings: { 'net.ipv4.tcp_congestion_control': value } }));
    if ('refused' in p) {
      t.match(p.refused, /parameter 'settings\.net\.ipv4\.tcp_congestion_control' = /, `refused ${label(value)}`);
      t.ok(/[\x00-\x08\x0a-\x1f\x7f]/.test(value) || /^[\s\x00-\x20]|[\s\x00-\x20]$/.test(value), `refused only for a control character or a blank at an end: ${label(value)}`);
      continue;
    }
    accepted.push({ file: `/run/hf-cv/${p.resolved.file}`, value });
    files[`/run/hf-cv/${p.resolved.file}`] = p.resolved.content;
  }
  t.ok(accepted.length > 10, `${accepted.length} accepted`);
  await writeFiles(files);
  // No algorithm has such a name, so the kernel refuses each, and systemd-sysctl says what it tried to write.
  const logs = await run(`for f in ${accepted.map((a) => a.file).join(' ')}; do /usr/lib/systemd/systemd-sysctl "$f" 2>&1; echo @@; done`);
  const parsed = logs.split('@@\n').slice(0, -1);
  accepted.forEach((a, i) => {
    const line = parsed[i] ?? '';
    const start = line.indexOf("Couldn't write '") + "Couldn't write '".length;
    const end = line.lastIndexOf("' to 'net/ipv4/tcp_congestion_control'");
    t.equal(line.slice(start, end), a.value, `systemd-sysctl read ${label(a.value)}`);
  });
  await run('rm -rf /run/hf-cv');
});

t.test('mount: hostile what, where and options reach systemd exactly, the unit named as systemd names it, or are refused naming the parameter', async (t) => {
  const pieces = HOSTILE_PIECES.filter((p) => p !== '/');
  const accepted: { unit: string; where: string; what: string; option: string }[] = [];
  const files: Record<string, string> = {};
  // One parameter hostile at a time, the others plain, so each is accepted or refused on its own.
  const strings = hostileStrings(11_02, 40, pieces);
  const variants = strings.flatMap((value, i) => [
    { param: 'where', where: `/srv/hf-cv ${value}`, what: 'hfcv', option: 'x-hf=1', i },
    { param: 'what', where: `/srv/hf-cv-what-${i}`, what: `hf${value}`, option: 'x-hf=1', i },
    { param: 'options.0', where: `/srv/hf-cv-opt-${i}`, what: 'hfcv', option: `x-hf=${value}`, i },
  ]);
  for (const v of variants) {
    const p = prepare<WantedMount>(mount({ where: v.where, what: v.what, type: 'tmpfs', options: [v.option] }));
    if ('refused' in p) {
      t.match(p.refused, new RegExp(`parameter '${v.param.replace('.', '\\.')}' = `), `refused ${v.param} ${label(strings[v.i])}`);
      const value = strings[v.i] ?? '';
      const why = { where: /[\x00-\x1f\x7f]|[ \t]$/, what: /[\x00-\x1f\x7f]|\s$/, 'options.0': /[\x00-\x1f\x7f,\s]/ }[v.param];
      t.ok(why?.test(value) || value.length > 150, `${v.param} refused only for a control character, a blank the unit would lose, a comma or blank in an option, or its length: ${label(value)}`);
      continue;
    }
    accepted.push({ unit: p.resolved.mountUnit, where: p.resolved.where, what: v.what, option: v.option });
    files[`/etc/systemd/system/${p.resolved.mountUnit}`] = p.resolved.files[0]!.content!;
  }
  t.ok(accepted.length > 20, `${accepted.length} accepted`);
  await writeFiles(files);
  await run('systemctl daemon-reload');
  for (const a of accepted) {
    const shown = await run(`systemctl show -p LoadState,LoadError,Where,What,Options -- '${a.unit.replace(/'/g, `'\\''`)}'`);
    const fields = new Map(shown.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
    t.equal(fields.get('LoadState'), 'loaded', `${label(a.where)} loads under ${label(a.unit)}: ${fields.get('LoadError') ?? ''}`);
    t.equal(fields.get('Where'), a.where, `Where ${label(a.where)}`);
    t.equal(fields.get('What'), a.what, `What ${label(a.what)}`);
    t.equal(fields.get('Options'), a.option, `Options ${label(a.option)}`);
  }
  await run(`rm -f /etc/systemd/system/srv-hf*.mount && systemctl daemon-reload`);
});

t.test("systemdConfig: '#', ';', '[' and '=' in a value stay part of it, and the setting after it still applies", async (t) => {
  const report = await runTasks(h.inventoryEntry(), [systemdConfig({ component: 'system', name: 'hf-cv', settings: { DefaultEnvironment: 'HF_A=x#y;z[Manager]=w', DefaultTimeoutStopSec: '43s' } })], 'apply');
  t.same(statuses(report), ['changed', 'changed'], errors(report));
  t.match(await run('systemctl show -p Environment -p DefaultTimeoutStopUSec'), /^Environment=.*HF_A=x#y;z\[Manager\]=w.*\nDefaultTimeoutStopUSec=43s$/m);
  await run('rm -f /etc/systemd/system.conf.d/hf-cv.conf && systemctl daemon-reload');
});

t.test('systemdConfig: hostile values reach the service manager exactly as given, the settings around them intact, or are refused naming the parameter', async (t) => {
  // DefaultEnvironment splits words at blanks, reads quotes and backslashes and expands specifiers: its own syntax (documented), so those are left out here.
  const pieces = HOSTILE_PIECES.filter((p) => !/[ \t%]/.test(p) && !['"', "'", '\\', '\\\\'].includes(p));
  let accepted = 0;
  for (const [i, value] of hostileStrings(11_04, 40, pieces).entries()) {
    // Settings before and after the hostile one, each with its own value per case: a value that ran into the next line or made a section of its own would lose one of them.
    const before = `${10 + i}s`;
    const after = `${11 + i}s`;
    const p = prepare<WantedSystemdConfig>(systemdConfig({ component: 'system', name: 'hf-cv', settings: { DefaultTimeoutStartSec: before, DefaultEnvironment: `HF_CV=${value}`, DefaultTimeoutStopSec: after } }));
    if ('refused' in p) {
      t.match(p.refused, /parameter 'settings\.DefaultEnvironment' /, `refused ${label(value)}`);
      t.ok(/[\r\n\0]/.test(value) || /\s$/.test(value), `refused only for a line break or a blank at the end: ${label(value)}`);
      continue;
    }
    accepted++;
    await writeFiles({ [p.resolved.path]: p.resolved.content! });
    const shown = await run('systemctl daemon-reload && systemctl show -p DefaultTimeoutStartUSec -p DefaultTimeoutStopUSec');
    const fields = new Map(shown.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
    t.equal(fields.get('DefaultTimeoutStartUSec'), before, `the setting before ${label(value)} applies`);
    t.equal(fields.get('DefaultTimeoutStopUSec'), after, `the setting after ${label(value)} applies`);
    // What a service started now gets, read raw: systemctl show would print it shell-quoted.
    t.equal(await run('systemd-run --pipe --wait --quiet /usr/bin/printenv HF_CV'), `${value}\n`, `a service's environment holds ${label(value)}`);
  }
  t.ok(accepted > 10, `${accepted} accepted`);
  await run('rm -f /etc/systemd/system.conf.d/hf-cv.conf && systemctl daemon-reload');
});

t.test('networkConnection: a name, interface or search domain that is more than letters, digits, _, . and - is refused naming the parameter, before any keyfile is made', async (t) => {
  const plain = (s: string) => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(s);
  let accepted = 0;
  // Two plain values, so that what is accepted is checked too (a random mix is almost never plain).
  for (const value of [...hostileStrings(11_05, 60), 'eth1', 'lan0.example']) {
    const variants = [
      { param: 'name', task: networkConnection({ name: value, interface: 'eth1' }) },
      { param: 'interface', task: networkConnection({ name: 'lab', interface: value }) },
      { param: 'ipv4.dnsSearch.0', task: networkConnection({ name: 'lab', interface: 'eth1', ipv4: { method: 'auto', dnsSearch: [value] } }) },
    ];
    for (const v of variants) {
      const p = prepare<WantedConnection>(v.task);
      if ('refused' in p) {
        t.match(p.refused, new RegExp(`parameter '${v.param.replace(/\./g, '\\.')}' = `), `${v.param} ${label(value)} refused`);
        continue;
      }
      // What gets through is plain text that the keyfile carries as it is.
      accepted++;
      t.ok(plain(value), `${v.param} ${label(value)} accepted only as plain text`);
      const line = { name: `id=${value}`, interface: `interface-name=${value}`, 'ipv4.dnsSearch.0': `dns-search=${value};` }[v.param];
      t.ok(p.resolved.content.split('\n').includes(line ?? ''), `the keyfile says ${label(line)}`);
    }
  }
  t.ok(accepted > 0, `${accepted} accepted`);
});

t.test('sudoers: hostile arguments are allowed by sudo exactly as written, and not otherwise, or refused naming the parameter', async (t) => {
  // Wildcards and a lone "" are sudoers' own syntax for arguments (documented), so they are left out here.
  const pieces = HOSTILE_PIECES.filter((p) => !['*', '?', '[', ']', '"'].includes(p));
  await run('id hfcv >/dev/null 2>&1 || useradd -M hfcv');
  const cases: { args: string[]; command: string }[] = [];
  for (const value of hostileStrings(11_03, 40, pieces)) {
    const command = `/usr/bin/printf %s| ${value}`;
    const p = prepare(sudoers({ name: 'hf-cv', rules: [{ users: ['hfcv'], commands: [{ command, options: ['NOPASSWD'] }] }] }));
    if ('refused' in p) {
      t.match(p.refused, /parameter 'rules\.0\.commands\.0(\.command)?' = /, `refused ${label(value)}`);
      t.ok(/[\x00-\x1f\x7f\\]/.test(value), `refused only for a control character or a backslash: ${label(value)}`);
      continue;
    }
    const args = value.split(' ').filter((a) => a !== '');
    if (args.length > 0) cases.push({ args, command });
  }
  t.ok(cases.length > 5, `${cases.length} accepted`);
  const report = await runTasks(h.inventoryEntry(), [sudoers({ name: 'hf-cv', rules: [{ users: ['hfcv'], commands: cases.map((c) => ({ command: c.command, options: ['NOPASSWD' as const] })) }] })], 'apply');
  t.same(statuses(report), ['changed'], errors(report));
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = cases.map((c) => `runuser -u hfcv -- sudo -n /usr/bin/printf '%s|' ${c.args.map(q).join(' ')} 2>/dev/null; echo; runuser -u hfcv -- sudo -n /usr/bin/printf '%s|' ${c.args.map(q).join(' ')} extra 2>/dev/null; echo @@`).join('\n');
  const out = (await run(script)).split('@@\n');
  cases.forEach((c, i) => {
    const [allowed, other] = (out[i] ?? '').split('\n');
    t.equal(allowed, c.args.map((a) => `${a}|`).join(''), `sudo runs ${label(c.args)}`);
    t.equal(other, '', 'and not the same command with another argument');
  });
  await runTasks(h.inventoryEntry(), [sudoers({ name: 'hf-cv', state: 'absent' })], 'apply');
});
