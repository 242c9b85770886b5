import { boolean } from './boolean.ts';
import { fileContext } from './file-context.ts';
import { mode } from './mode.ts';
import { port } from './port.ts';

export type { BooleanParams } from './boolean.ts';
export type { FileContextParams, FileType } from './file-context.ts';
export type { ModeParams, SelinuxMode } from './mode.ts';
export type { PortParams, PortSpec, Protocol } from './port.ts';

/**
 * SELinux on el9 hosts: mode, booleans, file contexts and port types.
 *
 *   selinux.mode({ mode: 'enforcing' })
 *   selinux.boolean({ values: { httpd_can_network_connect: true } })
 *   selinux.fileContext({ target: '/srv/www(/.*)?', type: 'httpd_sys_content_t' })
 *   selinux.port({ ports: ['8443/tcp'], type: 'http_port_t' })
 */
export const selinux = { mode, boolean, fileContext, port };
