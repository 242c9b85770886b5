#!/usr/bin/env node
// Registers tsx so playbooks and hostform itself load as TypeScript, then runs `hostform <command>`.
import { register } from 'tsx/esm/api';

register();
const { hostform } = await import('../lib/cli/hostform.ts');
const io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTty: Boolean(process.stdout.isTTY) && process.env.CI !== 'true',
};
process.exitCode = await hostform(process.argv.slice(2), io);
