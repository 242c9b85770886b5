import { execFileSync } from 'node:child_process';
import t from 'tap';
import { batchScript, parseBatchOutput } from '../../lib/run/probe-batch.ts';
import { sh, trusted } from '../../lib/shell/quote.ts';

const runLocally = (script: string) => execFileSync('sh', ['-c', script], { encoding: 'utf8' });

t.test('a batch keeps each probe’s stdout, stderr and exit code apart, byte for byte', async (t) => {
  const scripts = [
    trusted('printf "two lines\\n\\n"'),
    trusted('echo oops >&2; exit 3'),
    sh`printf %s ${"it's ünïcode, no newline"}`,
    trusted('exit 0'),
    trusted('exit 5 # a comment at the end must not swallow the subshell'),
  ];
  const results = parseBatchOutput(runLocally(batchScript(scripts).text), scripts.length);
  t.same(results, [
    { code: 0, stdout: 'two lines\n\n', stderr: '' },
    { code: 3, stdout: '', stderr: 'oops\n' },
    { code: 0, stdout: "it's ünïcode, no newline", stderr: '' },
    { code: 0, stdout: '', stderr: '' },
    { code: 5, stdout: '', stderr: '' },
  ]);
});

t.test('a probe that calls exit does not end the batch, and cannot read stdin', async (t) => {
  const scripts = [trusted('exit 1'), trusted('cat; echo after')];
  const results = parseBatchOutput(runLocally(batchScript(scripts).text), 2);
  t.equal(results?.[1]?.stdout, 'after\n');
});

t.test('output that is not a complete batch is refused rather than misread', async (t) => {
  t.equal(parseBatchOutput('@hf 0 0\n@hf-sizes 0 0\n\n', 2), undefined, 'fewer scripts than sent');
  t.equal(parseBatchOutput('@hf 1 0\n@hf-sizes 0 0\n\n', 1), undefined, 'out of order');
  t.equal(parseBatchOutput('@hf 0 \n@hf-sizes 0 0\n\n', 1), undefined, 'no exit code (its file was never written)');
  t.equal(parseBatchOutput('@hf 0 0\n@hf-sizes 3 0\naGk=\n', 1), undefined, 'outputs cut short');
  t.equal(parseBatchOutput('@hf 0 0\n@hf-sizes 2\naGk=\n', 1), undefined, 'a size missing');
  t.same(parseBatchOutput('@hf 0 0\n@hf-sizes 2 0\naGk=\n', 1), [{ code: 0, stdout: 'hi', stderr: '' }], 'and the same, whole, is read');
  t.equal(parseBatchOutput('', 1), undefined);
});
