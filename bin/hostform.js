#!/usr/bin/env node
// `hostform <command>`: hostform from its sources or from dist/ (see load-cli.js), the user's playbook through tsx.
import { loadCli } from './load-cli.js';

const { hostform } = await loadCli('hostform');
const io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTty: Boolean(process.stdout.isTTY) && process.env.CI !== 'true',
};
process.exitCode = await hostform(process.argv.slice(2), io);
