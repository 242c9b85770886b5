import t from 'tap';
import { PathResource, PlannedState } from '../../lib/module/resources.ts';
import type { HostView, PlanContext } from '../../lib/module/types.ts';
import { trusted } from '../../lib/shell/quote.ts';
import { ENV_FROM_STDIN } from '../../lib/shell/env-input.ts';
import { command, planCommand } from '../../modules/command.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: {} } as unknown as HostView;
const context = (planned = new PlannedState()): PlanContext => ({ host, checkMode: true, planned });
const resolved = { script: trusted('restic init'), display: 'restic init' };

t.test('command: an unguarded command plans a run that check mode cannot be sure of', async (t) => {
  const [change] = planCommand(resolved, {}, context());
  t.equal(change?.summary, 'run: restic init');
  t.match(change?.uncertain, /no creates\/unless guard/);
});

t.test('command: creates skips the command when the path exists or an earlier task makes it', async (t) => {
  const guarded = { ...resolved, creates: '/srv/repo/config' };
  t.same(planCommand(guarded, { createsExists: true }, context()), []);
  t.equal(planCommand(guarded, { createsExists: false }, context())[0]?.uncertain, undefined);
  const planned = new PlannedState();
  planned.record([{ kind: PathResource, id: '/srv/repo/config', value: { type: 'file' } }]);
  t.same(planCommand(guarded, { createsExists: false }, context(planned)), []);
});

t.test('command: unless skips the command when its check exits 0', async (t) => {
  const guarded = { ...resolved, unless: trusted('test -d /srv/repo') };
  t.same(planCommand(guarded, { unlessCode: 0 }, context()), []);
  t.equal(planCommand(guarded, { unlessCode: 1 }, context()).length, 1);
});

t.test('command: argv and chdir become one safely quoted script, and env values travel on its standard input, never in it', async (t) => {
  const task = command({ argv: ['echo', "it's"], env: { A: 'b c', B: "it's\nthere" }, chdir: '/tmp', unless: { shell: 'test -e /x' }, stdin: 'input\n' });
  const r = task.module.resolve(task.params, host) as { script: { text: string }; unless: { text: string }; stdin: string; unlessStdin: string };
  t.equal(r.script.text, `${ENV_FROM_STDIN.text} && cd /tmp && echo 'it'\\''s'`);
  t.equal(r.unless.text, `${ENV_FROM_STDIN.text} && cd /tmp && sh -c -- 'test -e /x'`);
  const exports = `export A='b c'\nexport B='it'\\''s\nthere'\n`;
  t.equal(r.unlessStdin, `${Buffer.byteLength(exports)}\n${exports}`, 'the guard reads the environment alone');
  t.equal(r.stdin, `${r.unlessStdin}input\n`, 'the command reads the environment, then its own input');
  t.notMatch(r.script.text, /b c|there/, 'no value is in the script');
});

const resolveOf = (task: ReturnType<typeof command>) => () => task.module.resolve(task.params, host) as { script: { text: string } };

t.test('command: a program starting with a dash is refused, since sh would read it as its own option', async (t) => {
  t.throws(resolveOf(command({ argv: ['-x'] })), /parameter 'argv\.0' = "-x" starts with '-', so sh would read it as an option/);
  t.throws(resolveOf(command({ argv: ['true'], unless: ['--help'] })), /parameter 'unless\.0' = "--help" starts with '-'/);
  t.equal(resolveOf(command({ argv: ['./-x', '-y'] }))().script.text, './-x -y', 'a path to it, and dashes in later words, are fine');
});

t.test('command: a program that looks like NAME=value is refused, without showing the value', async (t) => {
  const refused = resolveOf(command({ argv: ['TOKEN=s3cret', 'curl', 'https://example.org'] }));
  t.throws(refused, /parameter 'argv\.0' = "TOKEN=\.\.\.": sh would read it as a variable assignment and run the next word instead; set variables with env: \{ TOKEN: \.\.\. \}/);
  t.notMatch((t.throws(refused) as Error).message, /s3cret/);
  t.equal(resolveOf(command({ argv: ['/opt/a=b/run'] }))().script.text, '/opt/a=b/run', 'an = inside a path is not an assignment');
});

t.test('command: a shell script starting with a dash is run as the script, not read as an option of sh', async (t) => {
  t.equal(resolveOf(command({ shell: '-x; echo hi' }))().script.text, `sh -c -- '-x; echo hi'`);
});
