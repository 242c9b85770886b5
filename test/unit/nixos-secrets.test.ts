import t from 'tap';
import type { HostView, PlanContext, Task } from '../../lib/module/types.ts';
import { PlannedState } from '../../lib/module/resources.ts';
import { blockBackend, type BlockParams } from '../../lib/nixos/backends.ts';
import { isNixosRenderer } from '../../lib/nixos/renderer.ts';
import { planUploads, parseUploads, uploadProbes } from '../../lib/nixos/secrets.ts';
import { renderNix } from '../../lib/nixos/value.ts';
import { preparePlay } from '../../lib/run/prepare.ts';
import { playbook } from '../../lib/playbook.ts';
import { inSecretScope } from '../../lib/secret/scope.ts';
import { secret } from '../../lib/secret/secret.ts';
import { file, user } from '../../modules/index.ts';

const CANARY = 'hfNIXCANARY5k2w';
const host = { name: 'nix', groups: ['all'], vars: {}, facts: { platform: 'nixos' } } as unknown as HostView;
const context: PlanContext = { host, checkMode: true, planned: new PlannedState() };

/** What a task renders on NixOS: the fragment and what is written out of band. */
function rendering(task: Task) {
  const backend = task.module.backends.nixos;
  if (!isNixosRenderer(backend)) throw new Error('no renderer');
  const resolved = task.module.resolve(task.params, host);
  return { fragment: backend.render(resolved, host), uploads: backend.uploads?.(resolved, host) ?? [] };
}

t.test('nixos: a secret file goes to /var/lib/hostform/secrets out of band; the module renders its directory, a link and a unit, never the bytes', async (t) => {
  process.env['HF_NIX_SECRET'] = CANARY;
  t.teardown(() => delete process.env['HF_NIX_SECRET']);
  await inSecretScope(async () => {
    const { fragment, uploads } = rendering(file({ path: '/etc/app/token', content: secret.env('HF_NIX_SECRET'), owner: 'app', group: 'app', mode: '0440' }));
    t.same(uploads, [{ path: '/var/lib/hostform/secrets/etc-app-token', content: Buffer.from(CANARY), mode: '0440', owner: 'app', group: 'app' }]);
    const text = renderNix(fragment);
    t.notMatch(text, CANARY);
    t.match(text, /"L\+ \/etc\/app\/token - - - - \/var\/lib\/hostform\/secrets\/etc-app-token"/);
    t.match(text, /hostform-secret-etc-app-token = \{[^]*ExecStart = "\$\{pkgs\.coreutils\}\/bin\/test -s \/var\/lib\/hostform\/secrets\/etc-app-token";[^]*RemainAfterExit = true;/);
    t.match(text, /"\/var\/lib\/hostform\/secrets" = \{\s*d = \{\s*group = "root";\s*mode = "0711";\s*user = "root";/);
    t.same(rendering(file({ path: '/etc/motd', content: 'hi\n' })).uploads, [], 'a plain file uploads nothing');
  });
});

t.test("nixos: a user's password hash, a Secret or text, is written out of band and named by hashedPasswordFile; a hash kept by agenix is named as it is", async (t) => {
  const hash = `$6$salt$${CANARY}`;
  process.env['HF_NIX_HASH'] = hash;
  t.teardown(() => delete process.env['HF_NIX_HASH']);
  await inSecretScope(async () => {
    for (const passwordHash of [secret.env('HF_NIX_HASH'), hash]) {
      const { fragment, uploads } = rendering(user({ name: 'alice', passwordHash }));
      t.same(uploads.map((u) => [u.path, u.content.toString(), u.mode, u.owner]), [['/var/lib/hostform/secrets/user-alice-password-hash', hash, '0400', 'root']]);
      t.notMatch(renderNix(fragment), CANARY);
      t.match(renderNix(fragment), /hashedPasswordFile = "\/var\/lib\/hostform\/secrets\/user-alice-password-hash";/);
    }
    const agenix = rendering(user({ name: 'bob', passwordHash: secret.onHost('/run/agenix/bob-hash') }));
    t.same(agenix.uploads, []);
    t.match(renderNix(agenix.fragment), /hashedPasswordFile = "\/run\/agenix\/bob-hash";/);
  });
});

t.test('nixos: the task that carries a secret writes it as root before the switch, and plans by hash, mode and owner only', async (t) => {
  process.env['HF_NIX_SECRET'] = CANARY;
  t.teardown(() => delete process.env['HF_NIX_SECRET']);
  await inSecretScope(async () => {
    const play = playbook({ name: 'p', hosts: 'all', tasks: [file({ path: '/etc/app/token', content: secret.env('HF_NIX_SECRET') }), file({ path: '/etc/motd', content: 'hi\n' })] });
    const { play: prepared, problems } = preparePlay(play, host, {});
    t.same(problems, []);
    const [secretBlock, plainBlock, switchTask] = prepared.steps as unknown as { become: boolean; resolved: BlockParams & { moduleText?: string } }[];
    t.equal(secretBlock?.become, true, 'secrets are root files');
    t.equal(plainBlock?.become, false);
    t.notMatch(switchTask?.resolved.moduleText ?? '', CANARY, 'the module the switch writes holds no secret');
    const params = secretBlock?.resolved as BlockParams;
    t.same(Object.keys(uploadProbes(params.uploads)), ['upload0']);
    const sha = (await import('node:crypto')).createHash('sha256').update(CANARY).digest('hex');
    const observed = (stdout: string) => parseUploads(params.uploads, { upload0: { code: 0, stdout, stderr: '' } });
    const absent = planUploads(params.uploads, observed('absent\n'));
    t.match(absent[0]?.summary, /^upload secret \/var\/lib\/hostform\/secrets\/etc-app-token \(secret, mode 0600, root:root\), out of the Nix store$/);
    t.equal(absent[0]?.diff, `~ content (secret: not shown), new sha256 ${sha}`);
    t.same(planUploads(params.uploads, observed(`600 root root\n${sha}\n`)), [], 'the same hash, mode and owner: nothing to do');
    t.match(planUploads(params.uploads, observed(`644 root root\n${sha}\n`))[0]?.summary, /update secret .* \(mode 0644 → 0600\)/);
    t.match(planUploads(params.uploads, observed(`600 root root\n${'0'.repeat(64)}\n`))[0]?.summary, /update secret .* \(secret: content not shown\)/);
    const plan = blockBackend.plan(params, { block: params.text, uploads: observed('absent\n') }, context);
    t.same(plan.map((c) => c.action), [{ do: 'upload', index: 0 }], 'an unchanged block with a missing secret: the upload alone');
    t.notMatch(JSON.stringify(plan), CANARY);
  });
});
