// Roles shipped with hostform: typed compositions of modules.
export { sshHardening, type SshHardeningOptions } from './ssh-hardening.ts';
