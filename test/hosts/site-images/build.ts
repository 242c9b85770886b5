import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HARNESS_DIR, cacheDir, hostsDir } from '../config.ts';
import { removeDirSafely } from '../fsutil.ts';
import { withLock } from '../lock.ts';
import { run } from '../run.ts';
import { PYTHON_LAYER, SITE_IMAGES, SITE_IMAGE_IDS, imageRef } from './images.ts';
import type { LayerSpec, SiteImageId } from './images.ts';
import { imageConfig, packLayer, writeImage, writeIndex } from './oci.ts';
import type { Descriptor, PackedLayer } from './oci.ts';

/**
 * The site images (images.ts), built once and cached like the host image: under
 * cacheDir()/site-images/KEY, where KEY hashes every build input. What is cached is the storage of a
 * registry the images were pushed into; the site registry (site-registry.ts) serves it.
 */
export const SITE_DIR = path.join(HARNESS_DIR, 'site-images');
export const siteImagesDir = (): string => path.join(cacheDir(), 'site-images');

/** The base layer's packages: what every image shares (and upstream images carry too). */
const BASE_PACKAGES = ['ca-certificates', 'tzdata'];

export interface BuiltImage {
  readonly ref: string;
  readonly digest: string;
  /** For images of Debian's programs: the Debian version inside. */
  readonly debianVersion?: string;
}

export interface SiteImagesBuild {
  readonly key: string;
  readonly dir: string;
  /** The registry storage root (docker-registry's filesystem driver) holding every image. */
  readonly storage: string;
  readonly images: Readonly<Record<SiteImageId, BuiltImage>>;
  /** Layer name → compressed size in bytes, each stored once. */
  readonly layers: Readonly<Record<string, number>>;
}

function inputFiles(): string[] {
  const files = ['images.ts', 'build.ts', 'oci.ts', 'build-layers.sh', 'push-images.sh'];
  for (const dir of ['files', 'standins']) {
    for (const f of fs.readdirSync(path.join(SITE_DIR, dir), { withFileTypes: true })) if (f.isFile()) files.push(`${dir}/${f.name}`);
  }
  return files.sort();
}

export function siteImagesKey(): string {
  const hash = createHash('sha256');
  for (const input of inputFiles()) {
    hash.update(input + '\0');
    hash.update(fs.readFileSync(path.join(SITE_DIR, input)));
  }
  return hash.digest('hex').slice(0, 16);
}

const describe = (key: string): SiteImagesBuild =>
  JSON.parse(fs.readFileSync(path.join(siteImagesDir(), key, 'images.json'), 'utf8')) as SiteImagesBuild;

const isReady = (key: string): boolean => fs.existsSync(path.join(siteImagesDir(), key, 'ready'));

export interface EnsureSiteImagesResult {
  readonly build: SiteImagesBuild;
  readonly built: boolean;
  readonly seconds: number;
}

/**
 * Builds the site images unless the cache holds them for the current key; concurrent callers wait on a
 * lock and reuse the first one's result.
 */
export async function ensureSiteImages(log: (line: string) => void = () => {}): Promise<EnsureSiteImagesResult> {
  const started = Date.now();
  const key = siteImagesKey();
  if (isReady(key)) return { build: describe(key), built: false, seconds: 0 };
  fs.mkdirSync(siteImagesDir(), { recursive: true });
  return withLock(path.join(siteImagesDir(), 'build.lock'), async () => {
    if (isReady(key)) return { build: describe(key), built: false, seconds: (Date.now() - started) / 1000 };
    const tmp = path.join(siteImagesDir(), `${key}.building`);
    const logFile = path.join(siteImagesDir(), `${key}.build.log`);
    removeDirSafely(tmp);
    fs.mkdirSync(tmp, { recursive: true });
    log(`building the site images ${key} (log: ${logFile})`);
    try {
      const dir = path.join(siteImagesDir(), key);
      const build: SiteImagesBuild = { ...(await buildInto(tmp, logFile, log)), key, dir, storage: path.join(dir, 'registry') };
      fs.writeFileSync(path.join(tmp, 'images.json'), JSON.stringify(build, null, 2) + '\n');
      fs.writeFileSync(path.join(tmp, 'ready'), new Date().toISOString() + '\n');
      fs.renameSync(tmp, path.join(siteImagesDir(), key));
    } catch (err) {
      removeDirSafely(tmp);
      throw err;
    }
    removeOldBuilds(key);
    const seconds = (Date.now() - started) / 1000;
    log(`built the site images ${key} in ${seconds.toFixed(1)} s`);
    return { build: describe(key), built: true, seconds };
  });
}

/** Builds into dir and returns what images.json records; dir/registry is the storage to serve. */
async function buildInto(dir: string, logFile: string, log: (line: string) => void): Promise<Pick<SiteImagesBuild, 'images' | 'layers'>> {
  const spec = path.join(dir, 'spec');
  const out = path.join(dir, 'out');
  await writeSpec(spec);
  let t = Date.now();
  await runLogged(logFile, 'unshare', ['--mount', '--propagation', 'private', 'bash', path.join(SITE_DIR, 'build-layers.sh'), spec, out]);
  log(`layers built in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  const versions: Partial<Record<SiteImageId, string>> = {};
  for (const id of SITE_IMAGE_IDS) {
    const image = SITE_IMAGES[id];
    if (image.kind !== 'debian') continue;
    const version = fs.readFileSync(path.join(out, 'versions', id), 'utf8').trim();
    const upstream = version.replace(/^\d+:/, '').replace(/-[^-]+$/, '').replace(/\+.*$/, '');
    if (upstream !== image.tag.replace(/^v/, '')) {
      throw new Error(
        `${imageRef(id)}: Debian trixie's ${image.versionOf} is ${version}, not ${image.tag}. ` +
          `Change the tag in test/hosts/site-images/images.ts (and the role's default) to v${upstream}.`,
      );
    }
    versions[id] = version;
  }

  t = Date.now();
  const layout = path.join(dir, 'oci');
  const layerNames = ['base', 'python', ...SITE_IMAGE_IDS];
  const packed = new Map<string, PackedLayer>();
  // Two at a time: gzip is the slow part and the machine has two cores.
  const queue = [...layerNames];
  await Promise.all(
    [0, 1].map(async () => {
      for (let name = queue.shift(); name; name = queue.shift()) packed.set(name, await packLayer(path.join(out, 'layers', name), layout));
    }),
  );
  const created = new Date(0).toISOString();
  const manifests: Descriptor[] = [];
  for (const id of SITE_IMAGE_IDS) {
    const image = SITE_IMAGES[id];
    const chain = ['base', ...(image.layer.parent === 'python' ? ['python'] : []), id].map((n) => packed.get(n)!);
    const labels: Record<string, string> = {
      'org.opencontainers.image.title': image.name,
      'org.opencontainers.image.version': image.tag,
      'org.opencontainers.image.description': image.description,
      'org.opencontainers.image.source': 'hostform test/hosts/site-images',
      ...(image.kind === 'standin' ? { 'hostform-standin': image.standsInFor! } : { 'hostform-debian-package': `${image.versionOf}=${versions[id]}` }),
    };
    manifests.push(writeImage(layout, id, imageConfig(image, chain, labels, created), chain));
  }
  writeIndex(layout, manifests);
  log(`layers packed in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  t = Date.now();
  const storage = path.join(dir, 'registry');
  await runLogged(logFile, 'bash', [path.join(SITE_DIR, 'push-images.sh'), storage, String(await freeLoopbackPort()), layout,
    ...SITE_IMAGE_IDS.map((id) => `${id}=${imageRef(id)}`)]);
  log(`pushed into the registry storage in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  removeDirSafely(out);
  removeDirSafely(layout);
  removeDirSafely(spec);

  const images = Object.fromEntries(
    SITE_IMAGE_IDS.map((id, i) => [id, { ref: imageRef(id), digest: manifests[i]!.digest, ...(versions[id] ? { debianVersion: versions[id] } : {}) }]),
  ) as Record<SiteImageId, BuiltImage>;
  const layers = Object.fromEntries(layerNames.map((n) => [n, packed.get(n)!.size]));
  return { images, layers };
}

/** The spec build-layers.sh reads: one folder per layer, and their order. */
async function writeSpec(spec: string): Promise<void> {
  const layers: [string, string, LayerSpec][] = [
    ['base', '-', { packages: BASE_PACKAGES }],
    ['python', 'base', PYTHON_LAYER],
    ...SITE_IMAGE_IDS.map((id): [string, string, LayerSpec] => [id, SITE_IMAGES[id].layer.parent ?? 'base', SITE_IMAGES[id].layer]),
  ];
  fs.mkdirSync(spec, { recursive: true });
  fs.writeFileSync(path.join(spec, 'order'), layers.map(([name, parent]) => `${name} ${parent}\n`).join(''));
  for (const [name, , layer] of layers) {
    const dir = path.join(spec, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'packages'), layer.packages.join(' '));
    fs.writeFileSync(path.join(dir, 'setup.sh'), layer.setup ?? '');
    const versionOf = SITE_IMAGES[name as SiteImageId]?.versionOf;
    if (versionOf) fs.writeFileSync(path.join(dir, 'version-of'), versionOf);
    for (const [dest, source] of Object.entries(layer.files ?? {})) {
      const target = path.join(dir, 'files', dest);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(path.join(SITE_DIR, source), target);
      fs.chmodSync(target, /^\/usr\/local\/bin\/|^\/[^/]+\.sh$|^\/init$/.test(dest) ? 0o755 : 0o644);
    }
  }
  // Real Traefik makes a self-signed "TRAEFIK DEFAULT CERT" at start; the stand-in gets one made here.
  const certDir = path.join(spec, 'traefik', 'files', 'etc', 'traefik-standin');
  fs.mkdirSync(certDir, { recursive: true });
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650',
    '-subj', '/CN=TRAEFIK DEFAULT CERT', '-keyout', path.join(certDir, 'default.key'), '-out', path.join(certDir, 'default.crt')]);
}

function runLogged(logFile: string, cmd: string, args: readonly string[]): Promise<void> {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) return resolve();
      const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-25).join('\n');
      reject(new Error(`${path.basename(args.find((a) => a.endsWith('.sh')) ?? cmd)} failed (exit ${code}). Last lines of ${logFile}:\n${tail}\n` +
        'Check that test/hosts/install-deps.sh ran and that the Debian mirror is reachable.'));
    });
  });
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Older builds go once no registry serves one (the site registry runs from a build's storage). */
function removeOldBuilds(current: string): void {
  if (fs.existsSync(path.join(hostsDir(), 'hf-registry'))) return;
  for (const entry of fs.readdirSync(siteImagesDir())) {
    if (entry === current || entry === 'build.lock' || entry.startsWith(current + '.')) continue;
    removeDirSafely(path.join(siteImagesDir(), entry));
  }
}
