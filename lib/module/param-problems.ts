/**
 * Parameter values a module refuses when it resolves a task, for rules a
 * JSON Schema cannot say well ("ends in a backslash, which systemd reads as
 * a line continuation"). Thrown from `resolve`, they stop the run before
 * any change and exit 64, named like schema errors:
 *
 *   parameter 'service.environment.GREETING' = "hi\\": ends in a backslash, ...
 */
export interface ParamProblem {
  /** Dotted path of the parameter: `service.environment.GREETING`, `exec.2`. */
  readonly parameter: string;
  readonly value: string;
  readonly reason: string;
}

/** A value as shown in a message: JSON, so control characters are visible; long ones cut. */
function show(value: string): string {
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Throw one Error naming every problem found, or return when there is none. */
export function assertNoParamProblems(problems: readonly ParamProblem[]): void {
  if (problems.length === 0) return;
  throw new Error(problems.map((p) => `parameter '${p.parameter}' = ${show(p.value)}: ${p.reason}`).join('; '));
}

/**
 * Check each string of a value tree (a string, an array of them, a record
 * of them, numbers and booleans left alone) with `check`, naming each by
 * its path under `parameter`.
 */
export function problemsIn(parameter: string, value: unknown, check: (value: string) => string | undefined): ParamProblem[] {
  if (typeof value === 'string') {
    const reason = check(value);
    return reason === undefined ? [] : [{ parameter, value, reason }];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => problemsIn(`${parameter}.${i}`, v, check));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => problemsIn(`${parameter}.${k}`, v, check));
  }
  return [];
}
