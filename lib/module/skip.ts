/**
 * Thrown by a backend's parse or plan when the task does not apply to this
 * host as it is (SELinux disabled, a tool not installed and not required):
 * the task reports "skipped" with this note, in check mode and apply mode
 * alike, instead of failing.
 *
 *   if (!observed.enabled && !wanted.required) throw new Skip('SELinux disabled');
 */
export class Skip extends Error {
  override readonly name = 'Skip';
  readonly note: string;

  constructor(note: string) {
    super(note);
    this.note = note;
  }
}
