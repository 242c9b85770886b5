import { createHash } from 'node:crypto';
import t from 'tap';
import { secret } from '../lib/secret/secret.ts';
import { quadlet } from '../modules/quadlet/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

/**
 * Podman secrets on a real test host: created from a Secret, left alone
 * while the hash in their label matches, replaced when the value changes,
 * made from a file already on the host, and removed; check mode changes
 * nothing. The value is never in a report.
 */
let h: TestHost;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const label = async (name: string) => (await h.exec(`podman secret inspect --format '{{index .Spec.Labels "hostform.sha256"}}' ${name}`)).stdout.trim();
const value = async (name: string) => (await h.exec(`podman run --rm --secret ${name},type=env,target=V localhost/busybox:latest sh -c 'echo "$V"'`)).stdout.trim();

t.before(async () => {
  [h] = (await hosts.up(1, 'el9')) as [TestHost];
});
t.teardown(() => hosts.down());

t.test('quadlet.secret: created from a Secret, then left alone, then replaced when the value changes, by the hash in its label', async (t) => {
  process.env['HF_PODMAN_SECRET'] = 'podman-secret-one';
  const task = () => quadlet.secret({ name: 'hfdb', value: secret.env('HF_PODMAN_SECRET') });
  const check = await runTasks(h.inventoryEntry(), [task()], 'check');
  t.same(statuses(check), ['changed']);
  t.equal((await h.exec('podman secret exists hfdb')).code, 1, 'check mode created nothing');

  const created = await runTasks(h.inventoryEntry(), [task()], 'apply');
  t.same(statuses(created), ['changed'], errors(created));
  t.same(tasksOf(created)[0]?.changes.map((c) => c.summary), ['create Podman secret hfdb (secret: value not shown)']);
  t.equal(await label('hfdb'), sha('podman-secret-one'));
  t.equal(await value('hfdb'), 'podman-secret-one', 'a container reads the value');
  t.same(statuses(await runTasks(h.inventoryEntry(), [task()], 'apply')), ['ok'], 'the same value: nothing to do');

  process.env['HF_PODMAN_SECRET'] = 'podman-secret-two';
  const replaced = await runTasks(h.inventoryEntry(), [task()], 'apply');
  t.same(tasksOf(replaced)[0]?.changes.map((c) => c.summary), ['replace Podman secret hfdb (secret: value not shown)']);
  t.equal(await value('hfdb'), 'podman-secret-two');
  t.notMatch(JSON.stringify([check, created, replaced]), /podman-secret-(one|two)/, 'the value is in no report');
  delete process.env['HF_PODMAN_SECRET'];
});

t.test('quadlet.secret: made from a file already on the host, hashed there; and removed', async (t) => {
  await h.exec('umask 077; printf agenix-managed-value > /root/hf-agenix');
  const task = quadlet.secret({ name: 'hfagenix', value: secret.onHost('/root/hf-agenix') });
  t.same(statuses(await runTasks(h.inventoryEntry(), [task], 'apply')), ['changed']);
  t.equal(await label('hfagenix'), sha('agenix-managed-value'));
  t.equal(await value('hfagenix'), 'agenix-managed-value');
  t.same(statuses(await runTasks(h.inventoryEntry(), [task], 'apply')), ['ok']);
  const removed = await runTasks(h.inventoryEntry(), [quadlet.secret({ name: 'hfagenix', state: 'absent' })], 'apply');
  t.same(statuses(removed), ['changed']);
  t.equal((await h.exec('podman secret exists hfagenix')).code, 1);
});
