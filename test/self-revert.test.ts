import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { armSelfRevert, confirmSelfRevert, disarmSelfRevert, selfRevertState } from '../lib/shell/self-revert.ts';
import { sh } from '../lib/shell/quote.ts';
import { hosts, type TestHost } from './hosts/index.ts';

// The host-side half of confirm-or-revert, on a real systemd: an armed change
// puts itself back after its deadline unless disarmed, with no connection needed.
const [h] = (await hosts.up(1, 'el9')) as [TestHost];
t.teardown(() => hosts.down());

async function root(script: string): Promise<string> {
  const r = await h.exec(script, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

t.test('self-revert: an armed change that nobody confirms is put back by the host after the deadline', async (t) => {
  await root(`echo new > /etc/hf-setting && ${armSelfRevert('setting', sh`echo old > /etc/hf-setting`, 5).text}`);
  t.equal(await root(selfRevertState('setting').text), 'armed\n');
  t.equal(await root('cat /etc/hf-setting'), 'new\n', 'the change holds while the timer waits');
  await sleep(8000);
  t.equal(await root('cat /etc/hf-setting'), 'old\n', 'the host put it back by itself');
  t.equal(await root(selfRevertState('setting').text), 'idle\n');
  t.equal(await root('ls -A /var/lib/hostform/revert'), '', 'the undo script removed itself');
  t.equal(await root('stat -c %a /var/lib/hostform/revert'), '700\n', 'undo scripts are root-only');
});

t.test('self-revert: a confirmed change is kept', async (t) => {
  await root(`echo new > /etc/hf-kept && ${armSelfRevert('kept', sh`echo old > /etc/hf-kept`, 5).text}`);
  await root(disarmSelfRevert('kept').text);
  await sleep(8000);
  t.equal(await root('cat /etc/hf-kept'), 'new\n');
  t.equal(await root(selfRevertState('kept').text), 'idle\n');
});

t.test('self-revert: arming again replaces the earlier timer of the same id', async (t) => {
  await root(armSelfRevert('twice', sh`echo first >> /etc/hf-twice`, 5).text);
  await root(armSelfRevert('twice', sh`echo second >> /etc/hf-twice`, 5).text);
  await sleep(8000);
  t.equal(await root('cat /etc/hf-twice'), 'second\n', 'only the last undo ran');
});

t.test('self-revert: confirming says kept before the deadline and reverted after it, and never keeps a change that was put back', async (t) => {
  await root(`echo new > /etc/hf-confirm && ${armSelfRevert('confirm', sh`echo old > /etc/hf-confirm`, 5).text}`);
  t.equal(await root(confirmSelfRevert('confirm').text), 'kept\n');
  await sleep(7000);
  t.equal(await root('cat /etc/hf-confirm'), 'new\n', 'the confirmed change stays');
  t.equal(await root('ls -A /var/lib/hostform/revert'), '', 'nothing is left armed');

  await root(`echo new > /etc/hf-late && ${armSelfRevert('late', sh`echo old > /etc/hf-late`, 5).text}`);
  await sleep(8000);
  t.equal(await root(confirmSelfRevert('late').text), 'reverted\n', 'a confirmation after the deadline is too late');
  t.equal(await root('cat /etc/hf-late'), 'old\n');

  await root(`echo new > /etc/hf-failed && ${armSelfRevert('failed', sh`echo old > /etc/hf-failed; exit 3`, 5).text}`);
  await sleep(8000);
  t.equal(await root(confirmSelfRevert('failed').text), 'reverted\n', 'an undo that failed part way is not a kept change');
});

t.test('self-revert: ids and deadlines are checked', async (t) => {
  t.throws(() => armSelfRevert('a b', sh`true`, 30), /lower-case letters, digits and -/);
  t.throws(() => armSelfRevert('ok', sh`true`, 1), /at least 5/);
});
