export { command, type CommandLine, type CommandParams } from './command.ts';
export { file, type FileParams } from './file/index.ts';
export { group, user, GroupResource, UserResource, type GroupParams, type UserParams, type PlannedGroup, type PlannedUser } from './users/index.ts';
export { packages, repo, PackageResource, RepoResource, type PackagesParams, type RepoParams } from './packages/index.ts';
