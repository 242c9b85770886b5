/**
 * Builds the el9-like test image, or reuses the cached one: `npx tsx test/hosts/prepare.ts`.
 * Installs nothing (that is install-deps.sh); exits non-zero with the reason when the build fails.
 */
import { cacheDir } from './config.ts';
import { ensureImage, imageKey } from './image.ts';

const started = Date.now();
try {
  const { image, built } = await ensureImage((line) => console.log(`[hosts] ${line}`));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`[hosts] image ${image.key} ${built ? 'built' : 'reused'} in ${seconds} s (${image.dir})`);
} catch (err) {
  console.error(`[hosts] could not prepare the test-host image ${imageKey()} under ${cacheDir()}:`);
  console.error((err as Error).message);
  process.exit(1);
}
