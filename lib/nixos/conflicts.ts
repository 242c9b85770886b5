import { attrName, NixExpr, renderNix, type NixAttrs, type NixValue } from './value.ts';

/** A task's fragment, as the play's module will hold it. */
export interface RenderedTask {
  /** The task's name in reports: `monitoring : prometheus`. */
  readonly name: string;
  readonly module: string;
  readonly fragment: NixAttrs;
  /** Whether its definitions are to be checked against the other tasks' (NixosRenderer.checkConflicts). */
  readonly checked: boolean;
}

export interface Conflict {
  /** Index of the checked task in the list given, which the problem is reported on. */
  readonly task: number;
  /** The sentence, naming the option, both values and the other task. */
  readonly text: string;
}

/** One definition of one option: a value that is not an attribute set, with its priority (100, or 50 when forced). */
interface Leaf {
  readonly path: readonly string[];
  readonly value: NixValue;
  readonly priority: number;
}

/**
 * Where a checked task (nixos.options) defines an option that another task
 * of the play also defines at the same priority, with a different value or
 * the same text: NixOS would refuse two values ("conflicting definition
 * values"), or for a text option (`lines`: environment.etc texts,
 * extraConfig) silently join them into one text neither task asked for,
 * even two equal ones. Equal numbers and booleans merge. Lists are not
 * compared: NixOS concatenates them (allowedTCPPorts from several tasks). A
 * forced value ({ $force: ... }, lib.mkForce) wins over plain ones, so it
 * conflicts only with another forced one. hostform cannot read an option's
 * type before NixOS does, so a string option that merges equal values (a
 * user name) is reported too; the fix, setting it once, is harmless.
 * Found before anything changes, so the run stops naming both tasks, where
 * NixOS would only name the file.
 */
export function renderingConflicts(tasks: readonly RenderedTask[]): Conflict[] {
  const leaves = tasks.map((t) => leavesOf(t.fragment, [], 100));
  const conflicts: Conflict[] = [];
  tasks.forEach((task, i) => {
    if (!task.checked) return;
    for (const mine of leaves[i] ?? []) {
      tasks.forEach((other, j) => {
        // Two checked tasks are compared once, reported on the later one.
        if (j === i || (other.checked && j > i)) return;
        for (const theirs of leaves[j] ?? []) {
          if (!samePath(mine.path, theirs.path) || mine.priority !== theirs.priority || Array.isArray(mine.value) || Array.isArray(theirs.value)) continue;
          const option = mine.path.map(attrName).join('.');
          const same = renderNix(mine.value) === renderNix(theirs.value);
          // Equal numbers and booleans merge; equal texts are joined into one holding both, when the option is a text.
          if (same && typeof mine.value !== 'string') continue;
          conflicts.push({
            task: i,
            text: same
              ? `sets ${option} to ${shown(mine.value)}, which task '${other.name}' (${other.module}) sets too: NixOS joins two definitions of a text option (an environment.etc text, extraConfig) into one holding both. Set it in one task`
              : `sets ${option} to ${shown(mine.value)}, but task '${other.name}' (${other.module}) sets it to ${shown(theirs.value)}: ` +
                `NixOS would refuse the two definitions, or join them if the option is a text. Set it in one task, or make the one that must win { $force: ... }`,
          });
        }
      });
    }
  });
  return conflicts;
}

function leavesOf(value: NixValue, path: readonly string[], priority: number): Leaf[] {
  if (!isAttrs(value)) return [{ path, value, priority }];
  if (value['_type'] === 'override' && typeof value['priority'] === 'number') return leavesOf(value['content'] as NixValue, path, value['priority']);
  return Object.entries(value).flatMap(([name, child]) => (child === undefined ? [] : leavesOf(child, [...path, name], priority)));
}

function isAttrs(value: NixValue): value is NixAttrs {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof NixExpr);
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

function shown(value: NixValue): string {
  const text = renderNix(value).replace(/\s*\n\s*/g, ' ');
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
