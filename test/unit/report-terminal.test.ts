import t from 'tap';
import { hostform } from '../../lib/cli/hostform.ts';
import { play, type Io } from '../../lib/cli/main.ts';
import { plainReporter } from '../../lib/report/plain.ts';
import { hostTitle } from '../../lib/report/progress.ts';
import { renderSummary, taskLine } from '../../lib/report/summary.ts';
import { printable, printableLine, terminalJson } from '../../lib/report/terminal.ts';
import type { RunReport, TaskResult } from '../../lib/run/results.ts';

// What a host (or a careless playbook) could print to forge output: clear the
// screen, go home, overwrite the line, set the window title, ring the bell,
// a C1 CSI (U+009B) that some terminals take for ESC [, DEL, a right-to-left
// override, and a line separator. (issue 17, item 6)
const HOSTILE = 'a\x1b[2J\x1b[H\rconverged\x1b]0;owned\x07\b\x9b31m\x7f\u202edesrever\u2028z';

/** Any control character but newline and tab; the painter's own colours are removed first. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const withoutColours = (text: string) => text.replace(/\x1b\[(?:0|1|31|32|33|36)m/g, '');

const failed: TaskResult = { name: `task ${HOSTILE}`, module: 'command', status: 'failed', changes: [], error: { kind: 'remote-command', shortMessage: `first ${HOSTILE}`, message: `first ${HOSTILE}\nsecond ${HOSTILE}` }, handler: false, durationMs: 1 };
const changed: TaskResult = {
  name: `file ${HOSTILE}`,
  module: 'file',
  status: 'changed',
  changes: [{ summary: `update ${HOSTILE}\nforged line`, diff: `--- /etc/x\n+++ /etc/x\n@@ -1 +1 @@\n-${HOSTILE}\n+clean` }],
  note: `note ${HOSTILE}`,
  handler: false,
  durationMs: 1,
};
const report: RunReport = {
  mode: 'check',
  playbooks: [`play ${HOSTILE}`],
  hosts: [
    { name: `web${HOSTILE}`, status: 'failed', tasks: [changed, failed], roundTrips: 2, durationMs: 10, error: { kind: 'internal', shortMessage: `host ${HOSTILE}`, message: `host ${HOSTILE}` } },
    { name: 'db', status: 'unreachable', tasks: [], roundTrips: 0, durationMs: 10, error: { kind: 'connection', shortMessage: `cannot connect: ${HOSTILE}`, message: `cannot connect: ${HOSTILE}` } },
  ],
  durationMs: 20,
  exitCode: 1,
};

t.test('printable shows every control character as an escape and keeps newlines, tabs and other text', async (t) => {
  t.equal(printable(HOSTILE), 'a\\x1b[2J\\x1b[H\\rconverged\\x1b]0;owned\\x07\\x08\\x9b31m\\x7f\\u202edesrever\\u2028z');
  t.equal(printable('tab\there\nnext line: é, 中, 🙂'), 'tab\there\nnext line: é, 中, 🙂');
  t.equal(printableLine('one\ntwo\r'), 'one\\ntwo\\r', 'on one line, a newline is escaped too');
});

t.test('the end-of-run summary, with and without colour, prints no control character from a report', async (t) => {
  for (const color of [false, true]) {
    const text = renderSummary(report, { showDiff: true, color });
    t.notMatch(withoutColours(text), RAW_CONTROL, `colour ${color}`);
    t.match(text, '-a\\x1b[2J\\x1b[H\\rconverged', 'the diff line shows the bytes, escaped');
    t.match(text, 'update a\\x1b[2J\\x1b[H\\rconverged\\x1b]0;owned\\x07\\x08\\x9b31m\\x7f\\u202edesrever\\u2028z\\nforged line', 'a summary stays on its line');
    t.notMatch(text, /^forged line/m);
    t.match(text, /^ {4}second a\\x1b/m, 'error lines are indented under their heading');
  }
});

t.test('task lines, plain progress and the terminal progress title print no control character', async (t) => {
  const lines: string[] = [];
  const observer = plainReporter((l) => lines.push(l), 'check', true);
  observer.taskEnd?.(`web${HOSTILE}`, changed);
  observer.taskEnd?.(`web${HOSTILE}`, failed);
  observer.hostEnd?.('db', report.hosts[1]!);
  t.equal(lines.length, 4);
  for (const line of [...lines, taskLine(`web${HOSTILE}`, failed, 'apply'), hostTitle(`web${HOSTILE}`, report.hosts[0]!, 'apply')]) {
    t.notMatch(line, RAW_CONTROL);
    t.notMatch(line, /\n/, 'one line');
  }
});

t.test('--json escapes what JSON.stringify leaves raw, and parses back to exactly the same report', async (t) => {
  const text = terminalJson(report);
  t.notMatch(text, RAW_CONTROL);
  t.same(JSON.parse(text), report);
  t.match(text, '\\u009b31m\\u007f\\u202edesrever\\u2028z');
});

t.test('error messages of play and hostform print no control character', async (t) => {
  let stderr = '';
  const io: Io = { stdout: () => undefined, stderr: (s) => void (stderr += s), isTty: true };
  t.equal(await play([`missing${HOSTILE}.ts`, '-i', 'x'], io), 64);
  t.match(stderr, 'error: playbook not found: missinga\\x1b[2J');
  t.equal(await hostform([`run${HOSTILE}`], io), 64);
  t.match(stderr, "error: unknown command 'runa\\x1b[2J");
  t.notMatch(stderr, RAW_CONTROL);
});

t.test('a host that failed outside any task (locked by another run) shows as failed on the terminal, not in sync', async (t) => {
  const message = 'nas is locked by another hostform run (/run/hostform/run.lock): ...\n  try: ...';
  const locked = { name: 'nas', status: 'failed' as const, tasks: [], roundTrips: 1, durationMs: 5, error: { kind: 'lock' as const, shortMessage: message.split('\n')[0] ?? '', message } };
  t.equal(hostTitle('nas', locked, 'apply'), 'nas: failed: nas is locked by another hostform run (/run/hostform/run.lock): ...');
});
