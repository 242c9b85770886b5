import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { play, type Io } from '../../lib/cli/main.ts';

/** Run the `play` CLI in-process and capture what it prints. */
export async function runPlay(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTty: false };
  const code = await play(args, io);
  return { code, stdout, stderr };
}

/** Write a playbook file (.mts, so it loads as ESM outside a package) that imports hostform from this checkout, wherever the file lives. */
export async function writePlaybook(dir: string, name: string, body: string): Promise<string> {
  const lib = new URL('../../lib/index.ts', import.meta.url).pathname;
  const modules = new URL('../../modules/index.ts', import.meta.url).pathname;
  const path = join(dir, `${name}.mts`);
  await writeFile(path, `import { playbook, role, flushHandlers } from ${JSON.stringify(lib)};\nimport { file, command } from ${JSON.stringify(modules)};\n${body}\n`);
  return path;
}
