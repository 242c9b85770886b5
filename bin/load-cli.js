// How the bins find hostform's own code. A checkout of the repository has the TypeScript sources and
// runs them through tsx, so what is edited is what runs. The published package holds no sources, only
// dist/ (compiled by `npm pack`): it runs that with plain Node and registers tsx afterwards, for the
// user's own playbooks and inventories written in TypeScript.
import { existsSync } from 'node:fs';

/** The oldest Node.js hostform runs on: package.json's `engines` says the same (test/unit/fleet-pull.test.ts). */
export const NODE_MAJOR = 20;

/**
 * Said before anything else is loaded, so an old Node.js on a host (a pull from a timer) gets this
 * sentence in its journal rather than a syntax or loader error from deep inside a dependency.
 */
export function nodeTooOld(version = process.versions.node) {
  const major = Number(version.split('.')[0]);
  if (major >= NODE_MAJOR) return undefined;
  return (
    `hostform needs Node.js ${NODE_MAJOR} or later, and this is Node.js ${version} (${process.execPath}).\n` +
    `  try: on RHEL 9, dnf module enable -y nodejs:${NODE_MAJOR} && dnf install -y nodejs npm; on NixOS, the package nodejs_${NODE_MAJOR}; roles/pull installs it`
  );
}

/** Imports hostform's `lib/cli/<name>` module, from the sources when they are there, else from dist/. */
export async function loadCli(name) {
  const tooOld = nodeTooOld();
  if (tooOld) {
    process.stderr.write(`error: ${tooOld}\n`);
    process.exit(1);
  }
  const { register } = await import('tsx/esm/api');
  const source = new URL(`../lib/cli/${name}.ts`, import.meta.url);
  if (existsSync(source)) {
    register();
    return import(source.href);
  }
  // The package ships source maps: a task written in one of hostform's roles is shown at its roles/*.ts line.
  process.setSourceMapsEnabled(true);
  const compiled = (path) => import(new URL(`../dist/${path}.js`, import.meta.url).href);
  const cli = await compiled(`lib/cli/${name}`);
  // What a playbook imports from hostform is loaded before tsx is registered, so none of hostform's
  // code goes through tsx; the playbook's imports of it find these modules already loaded.
  await Promise.all(['lib/index', 'modules/index', 'roles/index'].map(compiled));
  register();
  return cli;
}
