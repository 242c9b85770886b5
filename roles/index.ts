// The public types use Buffer and node:stream: a project whose tsconfig sets "types": [] still gets them.
/// <reference types="node" preserve="true" />
// Roles shipped with hostform: typed compositions of modules.
export { sshHardening, type SshHardeningOptions } from './ssh-hardening.ts';
export { base, BASE_PACKAGES, type BaseOptions, type AdminUser } from './base.ts';
export { monitoring, monitoringHandlers, MONITORING_IMAGES, type MonitoringOptions, type ScrapeJob } from './monitoring.ts';
export { reverseProxy, reverseProxyHandlers, type ReverseProxyOptions, type Route } from './reverse-proxy.ts';
export { homeAssistant, type HomeAssistantOptions } from './home-assistant.ts';
export { backup, type BackupOptions } from './backup.ts';
export { pull, type PullOptions } from './pull/index.ts';
