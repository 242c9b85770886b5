// The public types use Buffer and node:stream: a project whose tsconfig sets "types": [] still gets them.
/// <reference types="node" preserve="true" />
// The public API of `hostform`: what playbooks, roles and inventories import.
export { playbook, role, flushHandlers, type Playbook, type PlaybookSpec, type RoleCall, type Step, type FlushHandlers } from './playbook.ts';
export { inventory } from './inventory/define.ts';
export { loadInventory } from './inventory/load.ts';
export type { InventorySource, HostEntry, GroupEntry, Platform, Vars } from './inventory/types.ts';
export type { Facts } from './facts/types.ts';
export type { Task, TaskOptions, HostView, ModuleDefinition, Backend, Change, ChangePreview, Probe, PlanContext, ApplyContext, Capabilities } from './module/types.ts';
export { defineModule, type ModuleCall } from './module/define.ts';
export { Skip } from './module/skip.ts';
export { effect, PathResource, PlannedState, ResourceKind, type Effect, type PathState } from './module/resources.ts';
export { sh, argv, quote, trusted, join, ShellScript } from './shell/quote.ts';
export { renderTemplate, type Template } from './template.ts';
export { textDiff, fieldDiff } from './diff.ts';
export { runPlaybooks, type RunOptions } from './run/run.ts';
export type { RunReport, HostResult, TaskResult, TaskStatus, RunMode } from './run/results.ts';
export { EXIT } from './run/results.ts';
export { UsageError, PlaybookProblems, RemoteCommandError, type ErrorRecord, type ErrorKind, type SourceLocation } from './errors.ts';
export { secret, Secret, type ReadOptions } from './secret/secret.ts';
export { unsafeSecretText } from './secret/scope.ts';
export { HOSTFORM_ALERT_RULES } from './pull/alert-rules.ts';
export { renderTextfile, DEFAULT_TEXTFILE_DIR, type RunMetrics } from './pull/metrics.ts';
