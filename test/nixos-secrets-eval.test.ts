import t from 'tap';
import type { HostView, Task } from '../lib/module/types.ts';
import { moduleBlocks, renderModule } from '../lib/nixos/module-file.ts';
import { isNixosRenderer } from '../lib/nixos/renderer.ts';
import { inSecretScope } from '../lib/secret/scope.ts';
import { secret } from '../lib/secret/secret.ts';
import { file, user } from '../modules/index.ts';
import { evaluateModuleText } from './support/nixos-eval.ts';

// The NixOS rendering of tasks that carry secrets, evaluated as a whole
// NixOS system by the vendored nixos-eval kit (test/support/nixos-eval) (real NixOS modules, fake
// packages): the options evaluate, the paths are where hostform writes the
// secrets out of band, and the canary is in no rendered option, unit text or
// file of the evaluation, nor in the module file itself.

const CANARY = 'hfEVALCANARY3m8t';
const host = { name: 'nix', groups: ['all'], vars: {}, facts: { platform: 'nixos' } } as unknown as HostView;

function fragment(task: Task) {
  const backend = task.module.backends.nixos;
  if (!isNixosRenderer(backend)) throw new Error(`${task.module.name} has no renderer`);
  return backend.render(task.module.resolve(task.params, host), host);
}

t.test('nixos: a play with a secret file and a password hash evaluates, names only their paths, and no rendered file holds the secret', async (t) => {
  process.env['HF_EVAL_TOKEN'] = CANARY;
  t.teardown(() => delete process.env['HF_EVAL_TOKEN']);
  const text = await inSecretScope(async () => {
    const tasks: Task[] = [
      user({ name: 'app', system: true }),
      file({ path: '/etc/app/token', content: secret.env('HF_EVAL_TOKEN'), owner: 'app', group: 'app', mode: '0400' }),
      user({ name: 'alice', passwordHash: `$6$salt$${CANARY}` }),
      file({ path: '/etc/app/app.conf', template: () => 'token_file = /etc/app/token\n' }),
    ];
    return renderModule('secrets', moduleBlocks(tasks.map((task, i) => ({ name: `task ${i}`, fragment: fragment(task) }))));
  });
  t.notMatch(text, CANARY, 'the module file holds no secret');
  const values = [
    'systemd.units."hostform-secret-etc-app-token.service".text',
    'systemd.units."hostform-secret-user-alice-password-hash.service".text',
    'systemd.tmpfiles.rules',
    'systemd.tmpfiles.settings',
    'users.users.alice.hashedPasswordFile',
    'users.users.alice.hashedPassword',
    'environment.etc."app/app.conf".source.fakeArgs',
  ];
  const out = await evaluateModuleText(text, { values });
  t.notMatch(JSON.stringify(out), CANARY, 'no evaluated value holds the secret');
  t.equal(out.values['users.users.alice.hashedPasswordFile'], '/var/lib/hostform/secrets/user-alice-password-hash');
  t.equal(out.values['users.users.alice.hashedPassword'], null);
  t.match(String(out.values['systemd.units."hostform-secret-etc-app-token.service".text']), /ExecStart=\S*\/bin\/test -s \/var\/lib\/hostform\/secrets\/etc-app-token/);
  t.match(out.values['systemd.tmpfiles.rules'], ['L+ /etc/app/token - - - - /var/lib/hostform/secrets/etc-app-token']);
  t.match(out.values['systemd.tmpfiles.settings'], { 'hostform-secrets': { '/var/lib/hostform/secrets': { d: { mode: '0711', user: 'root', group: 'root' } } } });
});
