export { group } from './group.ts';
export type { GroupParams, UserParams } from './params.ts';
export { GroupResource, UserResource, type PlannedGroup, type PlannedUser } from './resources.ts';
export { user } from './user.ts';
