#!/usr/bin/env node
// Registers tsx so playbooks and hostform itself load as TypeScript, then runs `play`.
import { register } from 'tsx/esm/api';

register();
const { play } = await import('../lib/cli/main.ts');
process.exitCode = await play(process.argv.slice(2));
