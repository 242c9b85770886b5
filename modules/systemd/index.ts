/** systemd: unit files, drop-ins, services and timers, in the system manager or a user's. */
export { unit, type UnitParams } from './unit.ts';
export { dropIn, type DropInParams } from './drop-in.ts';
export { service, type ServiceParams } from './service.ts';
export { timer, type TimerParams, type TimerService } from './timer.ts';
export type { UnitSections, UnitSection, UnitValue } from './sections.ts';
export type { ScopeParam } from './scope-param.ts';
