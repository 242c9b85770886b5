import t from 'tap';
import { parsePlayArgs } from '../../lib/cli/args.ts';
import { UsageError } from '../../lib/errors.ts';
import { batchesOf, exceedsFailLimit, parseSerial, stopMessage } from '../../lib/run/serial.ts';

const ten = Array.from({ length: 10 }, (_, i) => `h${i + 1}`);

t.test('--serial 3 splits ten hosts into batches of 3, 3, 3 and 1, in inventory order', async (t) => {
  t.same(batchesOf(ten, parseSerial('3')), [
    ['h1', 'h2', 'h3'],
    ['h4', 'h5', 'h6'],
    ['h7', 'h8', 'h9'],
    ['h10'],
  ]);
});

t.test('--serial N% is a share of all hosts, rounded down, and at least one host', async (t) => {
  t.same(batchesOf(ten, parseSerial('25%')).map((b) => b.length), [2, 2, 2, 2, 2], '25% of 10 is 2');
  t.same(batchesOf(['a', 'b', 'c'], parseSerial('10%')).map((b) => b.length), [1, 1, 1], '10% of 3 is still 1');
  t.same(batchesOf(ten, parseSerial('100%')), [ten]);
});

t.test('without --serial every host is in one batch', async (t) => {
  t.same(batchesOf(ten, undefined), [ten]);
  t.same(batchesOf([], parseSerial('3')), []);
});

t.test('a batch stops the rollout when more than the allowed percentage of it failed', async (t) => {
  t.ok(exceedsFailLimit(1, 3, 0), 'any failure with the default 0');
  t.notOk(exceedsFailLimit(0, 3, 0), 'no failure');
  t.notOk(exceedsFailLimit(1, 3, 34), '33% is not more than 34%');
  t.ok(exceedsFailLimit(2, 3, 34), '67% is');
  t.notOk(exceedsFailLimit(3, 3, 100), '100% allowed never stops');
});

t.test('bad --serial and --max-fail-percentage values are usage errors that say what is expected', async (t) => {
  for (const bad of ['0', '-1', 'three', '101%', '1.5']) t.throws(() => parseSerial(bad), /--serial must be a number of hosts \(at least 1\) or a percentage/, bad);
  t.throws(() => parsePlayArgs(['site.ts', '--serial', '2', '--max-fail-percentage', '120']), /--max-fail-percentage must be a percentage from 0 to 100/);
  t.throws(() => parsePlayArgs(['site.ts', '--max-fail-percentage', '10']), /needs --serial/);
  t.throws(() => parsePlayArgs(['site.ts', '--serial', 'x']), UsageError);
});

t.test('play takes --serial, --max-fail-percentage, --connection local with a --limit, and an absolute --textfile-dir', async (t) => {
  const args = parsePlayArgs(['site.ts', '--serial', '30%', '--max-fail-percentage', '50', '--connection', 'local', '--limit', 'nas', '--textfile-dir', '/var/lib/node_exporter/textfile_collector']);
  t.same(args.serial, { percent: 30 });
  t.equal(args.maxFailPercentage, 50);
  t.equal(args.connectionLocal, true);
  t.equal(args.textfileDir, '/var/lib/node_exporter/textfile_collector');
  t.throws(() => parsePlayArgs(['site.ts', '--connection', 'local']), /name it with --limit HOST/);
  t.throws(() => parsePlayArgs(['site.ts', '--connection', 'ssh']), /--connection takes only 'local'/);
  t.throws(() => parsePlayArgs(['site.ts', '--textfile-dir', 'metrics']), /--textfile-dir must be an absolute path/);
});

t.test('the stop message names the batch, the hosts that failed, the limit and the hosts not run', async (t) => {
  t.equal(
    stopMessage(2, 4, ['h5'], 3, 0, ['h7', 'h8', 'h9', 'h10']),
    'rollout stopped after batch 2 of 4: 1 of 3 hosts failed (h5), more than --max-fail-percentage 0; not run: h7, h8, h9, h10',
  );
});
