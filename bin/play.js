#!/usr/bin/env node
// `play`: hostform from its sources or from dist/ (see load-cli.js), the user's playbook through tsx.
import { loadCli } from './load-cli.js';

const { play } = await loadCli('main');
process.exitCode = await play(process.argv.slice(2));
