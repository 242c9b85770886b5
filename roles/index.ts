// The public types use Buffer and node:stream: a project whose tsconfig sets "types": [] still gets them.
/// <reference types="node" preserve="true" />
// Roles shipped with hostform: typed compositions of modules. Each role's README.md beside it has an example.
// They import only the package's public entry points, lib/index.ts and modules/index.ts ('hostform' and
// 'hostform/modules'), by path: tap's TypeScript loader does not read tsconfig's paths. A role copied
// into your own project imports the same names from 'hostform' and 'hostform/modules'.
export { sshHardening, type SshHardeningOptions } from './ssh-hardening.ts';
export { base, BASE_PACKAGES, HARDENING_SYSCTL, JOURNALD, type BaseOptions, type AdminUser } from './base/index.ts';
export { hardening, CONTAINER_BOOLEANS, SSH_DEFAULTS, type BanOptions, type HardeningOptions } from './hardening/index.ts';
export { podman, network, SITE_NETWORKS, type PodmanOptions, type PodmanNetwork } from './podman/index.ts';
export {
  traefik,
  traefikHandlers,
  traefikRoutes,
  traefikScrape,
  traefikStatic,
  traefikDynamic,
  TRAEFIK_IMAGE,
  ACCESS_LOG,
  ADMIN_AUTH,
  LOGIN_JAIL,
  type TraefikOptions,
  type Route,
  type AcmeOptions,
} from './traefik/index.ts';
export {
  monitoring,
  monitoringHandlers,
  MONITORING_IMAGES,
  OWN_JOBS,
  TEXTFILE_DIR,
  BACKUP_METRICS,
  THRESHOLDS,
  siteRules,
  prometheusConfig,
  alertmanagerConfig,
  type MonitoringOptions,
  type ScrapeJob,
  type SmtpOptions,
  type AlertRule,
  type Thresholds,
  type Levels,
  type Severity,
} from './monitoring/index.ts';
export { homeassistant, homeassistant as homeAssistant, homeassistantHandlers, HOMEASSISTANT_IMAGE, type HomeAssistantOptions } from './homeassistant/index.ts';
export { app, appScrape, type AppOptions } from './app/index.ts';
export { plex, PLEX_IMAGE, type PlexOptions, type MediaLibrary } from './plex/index.ts';
export { backup, restore, RESTIC_IMAGE, SITE_PATHS, SITE_VOLUMES, RESTORED_MARKER, type BackupOptions, type BackupVolume } from './backup/index.ts';
export { reverseProxy, reverseProxyHandlers, type ReverseProxyOptions } from './reverse-proxy.ts';
export { pull, type PullOptions } from './pull/index.ts';
