// The public types use Buffer and node:stream: a project whose tsconfig sets "types": [] still gets them.
/// <reference types="node" preserve="true" />
export { command, type CommandLine, type CommandParams } from './command.ts';
export { file, type FileParams } from './file/index.ts';
export { group, user, GroupResource, UserResource, type GroupParams, type UserParams, type PlannedGroup, type PlannedUser } from './users/index.ts';
export { packages, repo, PackageResource, RepoResource, type PackagesParams, type RepoParams } from './packages/index.ts';
export { unit, dropIn, service, timer, type UnitParams, type DropInParams, type ServiceParams, type TimerParams, type TimerService, type UnitSections, type ScopeParam } from './systemd/index.ts';
export { fail2ban, type JailParams as Fail2banJailParams, type FilterParams as Fail2banFilterParams, type ActionParams as Fail2banActionParams } from './fail2ban/index.ts';
export { sshd, type SshdConfigParams, type SshdOptions } from './sshd/index.ts';
export { quadlet, type ContainerParams, type NetworkParams, type VolumeParams, type PodParams, type PodmanSecretParams, type PullPolicy, type RawSection, type RawValue } from './quadlet/index.ts';
export { firewalld, type ZoneParams, type ServiceParams as FirewalldServiceParams, type PortParams, type RichRuleParams, type MasqueradeParams, type ForwardPortParams, type ForwardPort } from './firewalld/index.ts';
export { nixos, type NixosOptionsParams, type NixOptionSet, type NixOptionValue, type NixPackage, type NixForced } from './nixos/index.ts';
export { selinux, type BooleanParams, type FileContextParams, type FileType, type ModeParams, type SelinuxMode, type PortParams as SelinuxPortParams, type PortSpec, type Protocol } from './selinux/index.ts';
export { hostname, type HostnameParams } from './hostname/index.ts';
export { timezone, type TimezoneParams } from './timezone/index.ts';
export { sysctl, type SysctlParams } from './sysctl/index.ts';
export { systemdConfig, type SystemdComponent, type SystemdConfigParams, type SystemdConfigValue } from './systemd-config/index.ts';
export { sudoers, type SudoCommand, type SudoersParams, type SudoRule, type SudoTag } from './sudoers/index.ts';
export { mount, type MountParams, type MountState } from './mount/index.ts';
export { networkConnection, type IpMethod, type IpSettings, type NetworkConnectionParams } from './network/index.ts';
