import t from 'tap';
import { PathResource, PlannedState } from '../../lib/module/resources.ts';
import type { HostView, PlanContext } from '../../lib/module/types.ts';
import { trusted } from '../../lib/shell/quote.ts';
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

t.test('command: argv, env and chdir become one safely quoted script', async (t) => {
  const task = command({ argv: ['echo', "it's"], env: { A: 'b c' }, chdir: '/tmp', unless: { shell: 'test -e /x' } });
  const r = task.module.resolve(task.params, host) as { script: { text: string }; unless: { text: string } };
  t.equal(r.script.text, `cd /tmp && env 'A=b c' echo 'it'\\''s'`);
  t.equal(r.unless.text, `cd /tmp && env 'A=b c' sh -c 'test -e /x'`);
});
