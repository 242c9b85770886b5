// Builds the published package into dist/: JavaScript and .d.ts compiled from lib/, modules/ and
// roles/ (tsconfig.build.json), and every other file of those folders, which the code reads at run
// time beside itself (modules/selinux/read-store.py), and schema/, read by lib/inventory/validate.ts
// as ../../schema/. `npm pack` runs this through the prepack script.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const compiled = ['lib', 'modules', 'roles'];

// A source removed since the last build must not live on in the package.
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

for (const folder of compiled) {
  for (const path of readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })) {
    const from = join(root, folder, path);
    if (path.endsWith('.ts') || !statSync(from).isFile()) continue;
    cpSync(from, join(dist, folder, path));
  }
}
cpSync(join(root, 'schema'), join(dist, 'schema'), { recursive: true });
