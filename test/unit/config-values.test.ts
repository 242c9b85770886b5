import t from 'tap';
import { fail2ban } from '../../modules/fail2ban/index.ts';
import type { WantedJail } from '../../modules/fail2ban/params.ts';
import { quadlet } from '../../modules/quadlet/index.ts';
import type { ResolvedQuadlet } from '../../modules/quadlet/params.ts';
import { literalWord } from '../../modules/quadlet/render.ts';
import { dropIn, timer, unit } from '../../modules/systemd/index.ts';
import { environmentValue } from '../../modules/systemd/sections.ts';
import { renderTimer } from '../../modules/systemd/params.ts';
import { prepare } from '../support/hostile.ts';

// How each renderer escapes or refuses the bytes its parser treats
// specially, by example; test/config-values.test.ts reads the files back
// with the real parsers.

const refusal = (task: Parameters<typeof prepare>[0]) => {
  const p = prepare(task);
  return 'refused' in p ? p.refused : undefined;
};

t.test('systemd: Environment= values are quoted with backslashes, quotes, % and control characters escaped', async (t) => {
  t.equal(environmentValue('A', 'ab%hcd'), '"A=ab%%hcd"');
  t.equal(environmentValue('A', 'say "hi" \\'), '"A=say \\"hi\\" \\\\"');
  t.equal(environmentValue('A', 'x\ny\tz\x7f'), '"A=x\\x0ay\\x09z\\x7f"');
});

t.test('systemd: a timer writes its description and working directory literally, % doubled', async (t) => {
  const { service } = renderTimer({ name: 'b', description: '50% done', onCalendar: 'daily', service: { execStart: '/bin/true %h', workingDirectory: '/srv/%x' } });
  t.match(service, /^Description=50%% done$/m);
  t.match(service, /^WorkingDirectory=\/srv\/%%x$/m);
  t.match(service, /^ExecStart=\/bin\/true %h$/m, 'a command line stays systemd syntax: %h is a specifier there');
});

t.test('systemd: a value ending in an unescaped backslash is refused; an escaped one is a character', async (t) => {
  t.match(refusal(unit({ name: 'a.service', sections: { Service: { ExecStart: '/bin/true \\' } } })), /parameter 'sections.Service.ExecStart' = "\/bin\/true \\\\": ends in a backslash/);
  t.match(refusal(dropIn({ unit: 'a.service', name: 'x', sections: { Service: { Environment: ['A=1', 'B=\\\\\\'] } } })), /parameter 'sections.Service.Environment.1'/);
  t.equal(refusal(unit({ name: 'a.service', sections: { Service: { ExecStart: '/bin/echo \\\\' } } })), undefined);
  t.match(refusal(timer({ name: 'b', description: 'x\\\\', onCalendar: 'daily', service: { execStart: '/bin/true' } })), /parameter 'description' = .*ends in a backslash/, 'a literal value has no escape for it');
  t.match(refusal(timer({ name: 'b', description: ' x', onCalendar: 'daily', service: { execStart: '/bin/true' } })), /parameter 'description' = " x": starts or ends with a space or tab, which systemd strips/);
});

t.test('systemd: NUL, CR and LF are refused by the schema wherever they would end the line', async (t) => {
  t.match(refusal(unit({ name: 'a.service', sections: { Service: { Environment: 'A=1\u0000ExecStartPre=/x' } } })), /parameter 'sections.Service.Environment' = "A=1\\u0000ExecStartPre=\/x": must be one line \(no line break or NUL\)/);
  t.match(refusal(timer({ name: 'b', onCalendar: 'daily', service: { execStart: '/bin/true', environment: { A: '\u0000' } } })), /parameter 'service.environment.A'/);
  t.equal(refusal(timer({ name: 'b', onCalendar: 'daily', service: { execStart: '/bin/true', environment: { A: 'two\nlines' } } })), undefined, 'a line break in an environment value is escaped instead');
});

t.test('quadlet: environment and label values are escaped so they arrive exactly; other values keep quadlet syntax', async (t) => {
  t.equal(literalWord('A=plain'), 'A=plain');
  t.equal(literalWord('A=ab%h$HOME'), 'A=ab%%h$$HOME');
  t.equal(literalWord('A=a "b"\n'), '"A=a \\"b\\"\\x0a"');
  const p = prepare<ResolvedQuadlet>(quadlet.container({ name: 'w', image: 'img', description: '100%', environment: { A: '%h' }, volume: ['%h/data:/data'] }));
  if (!('resolved' in p)) throw new Error(p.refused);
  const text = p.resolved.content.toString();
  t.match(text, /^Description=100%%$/m);
  t.match(text, /^Environment=A=%%h$/m);
  t.match(text, /^Volume=%h\/data:\/data$/m);
});

t.test("quadlet: a leading '-' where podman takes a name, a lone ';' word and a trailing backslash are refused", async (t) => {
  t.match(refusal(quadlet.container({ name: 'w', image: '--help' })), /parameter 'image' = "--help": starts with "-", which podman would read as an option/);
  t.match(refusal(quadlet.volume({ name: 'v', volumeName: '-x' })), /parameter 'volumeName' = "-x"/);
  t.match(refusal(quadlet.container({ name: 'w', image: 'img', exec: ['a', ';', 'b'] })), /parameter 'exec.1' = ";": has ';' as a word of its own/);
  t.match(refusal(quadlet.container({ name: 'w', image: 'img', exec: "a ';' b" })), /parameter 'exec' = .*has ';' as a word of its own/);
  t.equal(refusal(quadlet.container({ name: 'w', image: 'img', exec: 'sh -c "a; b"' })), undefined, 'a ; inside a word is an ordinary character');
  t.match(refusal(quadlet.container({ name: 'w', image: 'img', exec: 'sleep 1 \\\\' })), /parameter 'exec' = .*quadlet reads as a line continuation \(even when escaped\)/);
  t.match(refusal(quadlet.container({ name: 'w', image: 'img', extra: { Container: { PodmanArgs: '--x ;' } } })), /parameter 'extra.Container.PodmanArgs'/);
  t.equal(refusal(quadlet.container({ name: 'w', image: 'img', extra: { Service: { ExecStartPre: '/bin/a ; /bin/b' } } })), undefined, '[Service] is systemd syntax, where ; is the user\'s own');
});

t.test('fail2ban: log paths and addresses are written with % doubled; comments, stray % and CR are refused', async (t) => {
  const p = prepare<WantedJail>(fail2ban.jail({ name: 'j', logpath: ['/var/log/a%b.log', '/var/log/c.log'], ignoreip: ['10.0.0.1', 'x%y'] }));
  if (!('resolved' in p)) throw new Error(p.refused);
  t.match(p.resolved.content, /^logpath = \/var\/log\/a%%b\.log\n {10}\/var\/log\/c\.log$/m);
  t.match(p.resolved.content, /^ignoreip = 10\.0\.0\.1 x%%y$/m);
  t.match(refusal(fail2ban.jail({ name: 'j', logpath: '/var/log/x\rignoreip = 0.0.0.0/0' })), /parameter 'logpath' = "\/var\/log\/x\\rignoreip = 0.0.0.0\/0"/);
  t.match(refusal(fail2ban.jail({ name: 'j', logpath: '/var/log/my app.log' })), /parameter 'logpath' = .*has a space: fail2ban splits a log path at its last space/);
  t.match(refusal(fail2ban.action({ name: 'a', actionban: 'iptables -I x ; echo done' })), /parameter 'actionban' = .*has ';' after a blank.*start of a comment/);
  t.match(refusal(fail2ban.action({ name: 'a', actionban: 'one\n  # two' })), /parameter 'actionban' = .*a line starting with '#' or ';'/);
  t.match(refusal(fail2ban.filter({ name: 'f', failregex: ['^a <HOST>$', '#b <HOST>'] })), /parameter 'failregex.1' = "#b <HOST>"/);
  t.equal(refusal(fail2ban.filter({ name: 'f', failregex: '#b <HOST>' })), undefined, 'first on its key line, # is an ordinary character');
  t.match(refusal(fail2ban.filter({ name: 'f', failregex: '100% <HOST>' })), /parameter 'failregex' = .*neither '%%' nor '%\(name\)s'/);
  t.equal(refusal(fail2ban.filter({ name: 'f', failregex: '%(__prefix_line)s100%% <HOST>' })), undefined);
});
