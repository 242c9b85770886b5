import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { SiteImage } from './images.ts';

/** A layer blob: the digest of the gzipped tar (the blob's name) and of the plain tar (the config's diff_id). */
export interface PackedLayer {
  readonly digest: string;
  readonly diffId: string;
  readonly size: number;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Record<string, string>;
}

const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';
const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

const sha256 = (data: Buffer | string): string => 'sha256:' + createHash('sha256').update(data).digest('hex');

function hashing(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

/** Tars a layer directory (names sorted, numeric owners, no atime/ctime) into the layout's blobs, gzipped. */
export async function packLayer(dir: string, layout: string): Promise<PackedLayer> {
  const blobs = path.join(layout, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const tmp = path.join(blobs, `.tmp-${path.basename(dir)}-${process.pid}`);
  const tar = spawn('tar', ['--create', '--sort=name', '--numeric-owner', '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '--directory', dir, '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => tar.once('close', resolve));
  const plain = createHash('sha256');
  const gzipped = createHash('sha256');
  await pipeline(tar.stdout, hashing(plain), zlib.createGzip({ level: 6 }), hashing(gzipped), fs.createWriteStream(tmp));
  const code = await exited;
  if (code !== 0) throw new Error(`tar of ${dir} exited with ${code}: ${stderr.trim()}`);
  const digest = 'sha256:' + gzipped.digest('hex');
  fs.renameSync(tmp, path.join(blobs, digest.slice(7)));
  return { digest, diffId: 'sha256:' + plain.digest('hex'), size: fs.statSync(path.join(blobs, digest.slice(7))).size };
}

function writeBlob(layout: string, mediaType: string, json: unknown): Descriptor {
  const data = Buffer.from(JSON.stringify(json));
  const digest = sha256(data);
  fs.writeFileSync(path.join(layout, 'blobs', 'sha256', digest.slice(7)), data);
  return { mediaType, digest, size: data.length };
}

/** The image configuration of an image: upstream's entrypoint, arguments, user, ports and volumes. */
export function imageConfig(image: SiteImage, layers: readonly PackedLayer[], labels: Record<string, string>, created: string): object {
  const env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...Object.entries(image.env ?? {}).map(([k, v]) => `${k}=${v}`)];
  return {
    created,
    architecture: 'amd64',
    os: 'linux',
    config: {
      User: image.user,
      Env: env,
      Entrypoint: image.entrypoint,
      ...(image.cmd.length ? { Cmd: image.cmd } : {}),
      ...(image.workdir ? { WorkingDir: image.workdir } : {}),
      ...(image.ports.length ? { ExposedPorts: Object.fromEntries(image.ports.map((p) => [`${p}/tcp`, {}])) } : {}),
      ...(image.volumes.length ? { Volumes: Object.fromEntries(image.volumes.map((v) => [v, {}])) } : {}),
      Labels: labels,
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created, created_by: 'hostform test/hosts/site-images/build.ts' })),
  };
}

/** Writes an image's config and manifest into the layout and returns the manifest's descriptor, named ref. */
export function writeImage(layout: string, ref: string, config: object, layers: readonly PackedLayer[]): Descriptor {
  const configDescriptor = writeBlob(layout, CONFIG_TYPE, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    config: configDescriptor,
    layers: layers.map((l) => ({ mediaType: LAYER_TYPE, digest: l.digest, size: l.size })),
  };
  return { ...writeBlob(layout, MANIFEST_TYPE, manifest), annotations: { 'org.opencontainers.image.ref.name': ref } };
}

export function writeIndex(layout: string, manifests: readonly Descriptor[]): void {
  fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
}
