import { role, type Secret, type Step } from '../../lib/index.ts';
import { file, firewalld, mount, quadlet, type PullPolicy } from '../../modules/index.ts';

/** A media library on NFS, mounted on the host and read-only in Plex under /data/<name>. */
export interface MediaLibrary {
  readonly name: string;
  /** `nas.home.arpa:/export/movies`. */
  readonly nfs: string;
  /** Default ['ro', 'nfsvers=4.2', 'soft', 'timeo=150']. */
  readonly options?: readonly string[];
}

export interface PlexOptions {
  /** Default PLEX_IMAGE. */
  readonly image?: string;
  readonly pull?: PullPolicy;
  /** Plex's database and metadata. Default '/srv/plex'. */
  readonly configDir?: string;
  /** Mounted under `mediaRoot`/<name> on the host. */
  readonly media?: readonly MediaLibrary[];
  /** Default '/mnt/media'. */
  readonly mediaRoot?: string;
  /** From https://plex.tv/claim, valid 4 minutes: needed at the first start only. */
  readonly claimToken?: Secret;
  /** Default 'UTC'. */
  readonly timezone?: string;
}

export const PLEX_IMAGE = 'docker.io/plexinc/pms-docker:1.41.5.9522-a96edc606';

/**
 * Plex Media Server on 32400 (its apps find it there, not behind Traefik), media libraries on NFS
 * mounted by systemd on the host, /dev/dri for hardware transcoding when the host has it (quadlet's
 * `AddDevice=-` skips a missing device), and the claim token as a Podman secret. Containers read NFS
 * only with the SELinux boolean virt_use_nfs: give the hardening role `nfs: true`.
 */
export const plex = role('plex', (o: PlexOptions = {}): readonly Step[] => {
  const dir = o.configDir ?? '/srv/plex';
  const root = o.mediaRoot ?? '/mnt/media';
  const media = o.media ?? [];
  return [
    file({ path: dir, state: 'directory', mode: '0750' }),
    ...(media.length > 0 ? [file({ path: root, state: 'directory', mode: '0755' })] : []),
    ...media.map((m) => mount({ where: `${root}/${m.name}`, what: m.nfs, type: 'nfs', options: m.options ?? ['ro', 'nfsvers=4.2', 'soft', 'timeo=150'] })),
    ...(o.claimToken ? [quadlet.secret({ name: 'plex-claim', value: o.claimToken })] : []),
    quadlet.container({
      name: 'plex', containerName: 'plex', image: o.image ?? PLEX_IMAGE,
      ...(o.pull !== undefined ? { pull: o.pull } : {}),
      publishPort: ['32400:32400'],
      volume: [`${dir}:/config:Z`, ...media.map((m) => `${root}/${m.name}:/data/${m.name}:ro`)],
      environment: { TZ: o.timezone ?? 'UTC' },
      ...(o.claimToken ? { secret: ['plex-claim,type=env,target=PLEX_CLAIM'] } : {}),
      restart: 'always',
      autoUpdate: 'registry',
      extra: { Container: { AddDevice: '-/dev/dri' } },
    }),
    firewalld.port({ port: 32400, protocol: 'tcp' }),
  ];
});
