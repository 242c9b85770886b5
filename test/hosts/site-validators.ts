import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import YAML from 'yaml';
import { cacheDir } from './config.ts';

/**
 * Checks of the configuration the site's roles render, with the real tools where they exist:
 * - promtool and amtool from Debian trixie (the versions the site images run, 2.53.3 and 0.28.1), unpacked
 *   under the harness cache by install-deps.sh;
 * - Traefik v3's published JSON schemas (test/fixtures/traefik-schemas, from SchemaStore), with ajv,
 *   because the test hosts run a stand-in for Traefik.
 */

export interface CheckResult {
  readonly ok: boolean;
  /** The command run, for messages. */
  readonly command: string;
  /** Its stdout and stderr together: what promtool or amtool said. */
  readonly output: string;
}

export const toolPath = (tool: 'promtool' | 'amtool'): string => path.join(cacheDir(), 'tools', 'trixie', 'usr', 'bin', tool);

function runTool(tool: 'promtool' | 'amtool', args: readonly string[], cwd: string): Promise<CheckResult> {
  const bin = toolPath(tool);
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run bash test/hosts/install-deps.sh`);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ ok: code === 0, command: `${tool} ${args.join(' ')}`, output: output.trim() }));
  });
}

/**
 * Writes files (relative path → content) into a fresh private directory, runs fn there, removes it. A
 * rendered prometheus.yml names its rule files by path; giving them here with the same relative paths
 * lets promtool follow them.
 */
async function inScratch<T>(files: Readonly<Record<string, string>>, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hostform-site-check-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      if (path.isAbsolute(name) || name.split('/').includes('..')) throw new Error(`${name}: give files by a relative path below the scratch directory`);
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), content);
    }
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `promtool check config`: the configuration and every rule file it names (which must be among files). */
export function checkPrometheusConfig(files: Readonly<Record<string, string>>, main = 'prometheus.yml'): Promise<CheckResult> {
  return inScratch(files, (dir) => runTool('promtool', ['check', 'config', main], dir));
}

/** `promtool check rules` on each rule file given. */
export function checkPrometheusRules(files: Readonly<Record<string, string>>): Promise<CheckResult> {
  return inScratch(files, (dir) => runTool('promtool', ['check', 'rules', ...Object.keys(files)], dir));
}

/** `amtool check-config`: the Alertmanager configuration, with any files it names (templates, password files). */
export function checkAlertmanagerConfig(files: Readonly<Record<string, string>>, main = 'alertmanager.yml'): Promise<CheckResult> {
  return inScratch(files, (dir) => runTool('amtool', ['check-config', main], dir));
}

const SCHEMAS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'traefik-schemas');
const SCHEMA_FILES = { static: 'traefik-v3.json', dynamic: 'traefik-v3-file-provider.json' } as const;
const compiled = new Map<keyof typeof SCHEMA_FILES, ValidateFunction>();

function traefikSchema(kind: keyof typeof SCHEMA_FILES): ValidateFunction {
  let validate = compiled.get(kind);
  if (!validate) {
    // Both compile in strict mode; allErrors so that one run reports every problem.
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, SCHEMA_FILES[kind]), 'utf8')) as object);
    compiled.set(kind, validate);
  }
  return validate;
}

export interface SchemaResult {
  readonly ok: boolean;
  /** One line per problem: the JSON pointer of the value and what the schema says. */
  readonly errors: readonly string[];
}

const describeError = (e: ErrorObject): string =>
  `${e.instancePath || '/'}: ${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})` : ''}`;

/**
 * Validates rendered Traefik v3 YAML against the published schema: 'static' for traefik.yml, 'dynamic' for
 * a file-provider file. A YAML syntax error is reported as one error.
 */
export function validateTraefikConfig(kind: 'static' | 'dynamic', yamlText: string): SchemaResult {
  const doc = YAML.parseDocument(yamlText);
  if (doc.errors.length > 0) return { ok: false, errors: doc.errors.map((e) => `YAML: ${e.message}`) };
  const validate = traefikSchema(kind);
  const ok = validate(doc.toJS() ?? {});
  return { ok, errors: ok ? [] : (validate.errors ?? []).map(describeError) };
}
