/**
 * Builds the site images, or reuses the cached build: `npx tsx test/hosts/site-images/prepare.ts`.
 * Prints each image with its digest and the build's time; exits non-zero with the reason when it fails.
 */
import { ensureSiteImages, siteImagesDir, siteImagesKey } from './build.ts';

const started = Date.now();
try {
  const { build, built } = await ensureSiteImages((line) => console.log(`[site-images] ${line}`));
  for (const [id, image] of Object.entries(build.images)) console.log(`[site-images] ${id.padEnd(14)} ${image.ref} ${image.digest.slice(0, 19)}`);
  const mb = Object.values(build.layers).reduce((a, b) => a + b, 0) / 1e6;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`[site-images] ${build.key} ${built ? 'built' : 'reused'} in ${seconds} s: ${mb.toFixed(0)} MB of layers (${build.dir})`);
} catch (err) {
  console.error(`[site-images] could not prepare the site images ${siteImagesKey()} under ${siteImagesDir()}:`);
  console.error((err as Error).message);
  process.exit(1);
}
