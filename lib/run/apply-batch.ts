import { writeFileAtomically } from '../connection/atomic-write.ts';
import type { Connection, ExecResult, RunOptions, WriteFileOptions } from '../connection/types.ts';
import type { ShellScript } from '../shell/quote.ts';
import { batchScript, parseBatchOutput, type ProbeRequest } from './probe-batch.ts';

/** What the changes of tasks applied together send to the host. */
export type ApplyChannel = Pick<Connection, 'run' | 'writeFile'>;

interface Queued {
  readonly script: ShellScript;
  readonly options: RunOptions;
  readonly resolve: (result: ExecResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Linux caps one argument at 128 KiB; a batch's script travels as one (its
 * standard input carries the commands' inputs), so a longer batch is split.
 */
const MAX_SCRIPT_BYTES = 96 * 1024;

/**
 * The commands of tasks applied together (independent tasks: host-run.ts),
 * sent in as few round trips as they allow. Every command asked for before
 * the event loop turns goes to the host in one script per `become` setting,
 * in the order asked, each in its own subshell with its own standard input,
 * output and exit code (probe-batch.ts batchScript). A task awaits its
 * commands one by one, so its own commands keep their order; the tasks
 * concerned neither read nor write what the others do, so how their commands
 * interleave cannot change what they do. A command that fails does not stop
 * the others of its batch: they belong to other tasks.
 */
export class ApplyBatcher implements ApplyChannel {
  readonly #connection: Connection;
  readonly #loginIsRoot: boolean;
  #queue: Queued[] = [];
  #scheduled = false;
  /** Batches go one after the other: a command asked for while one travels waits for the next. */
  #sending: Promise<void> = Promise.resolve();
  /** Probes to run after the commands of the first batch (follow); undefined once that batch went. */
  #following: readonly ProbeRequest[] | undefined;
  #followed: ExecResult[] | undefined;
  /** A batch's output was not the batch's: no output of it says anything of the host. */
  #garbled = false;

  constructor(connection: Connection, loginIsRoot: boolean) {
    this.#connection = connection;
    this.#loginIsRoot = loginIsRoot;
  }

  run(script: ShellScript, options: RunOptions = {}): Promise<ExecResult> {
    if (options.scriptOnStdin) return this.#connection.run(script, options);
    return new Promise((resolve, reject) => {
      this.#queue.push({ script, options, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        const queue = this.#queue;
        this.#queue = [];
        this.#sending = this.#sending.then(() => this.#send(queue));
      });
    });
  }

  /**
   * Run these read-only probes at the end of the first batch, after its
   * commands, in the same round trip: when that batch was the only one the
   * changes needed, their outputs (`followed`) say what the host is after
   * them, and the tasks they probe need no round trip of their own. They
   * ride only where nothing else would have to: the batch's commands and
   * the probes all run as the same user, fit one script, and the probes
   * have no standard input of their own.
   */
  follow(requests: readonly ProbeRequest[]): void {
    this.#following = requests.length > 0 ? requests : undefined;
  }

  /** The outputs of the probes given to `follow`, in order, once they ran; undefined when they did not ride. */
  get followed(): readonly ExecResult[] | undefined {
    return this.#garbled ? undefined : this.#followed;
  }

  writeFile(path: string, content: Buffer | string, options: WriteFileOptions = {}): Promise<void> {
    const transport = { hostName: this.#connection.hostName, loginUser: this.#connection.loginUser, loginIsRoot: this.#loginIsRoot, run: this.run.bind(this) };
    return writeFileAtomically(transport, path, content, options);
  }

  async #send(sent: readonly Queued[]): Promise<void> {
    const queue = [...sent, ...this.#followers(sent)];
    for (const become of [false, true]) {
      for (const chunk of chunks(queue.filter((q) => (q.options.become ?? false) === become))) await this.#sendChunk(chunk, become);
    }
  }

  /** The probes given to `follow`, as commands to send after `queue`, when they can ride with it (once only). */
  #followers(queue: readonly Queued[]): Queued[] {
    const requests = this.#following;
    this.#following = undefined;
    if (!requests || queue.length === 0) return [];
    const become = queue[0]?.options.become ?? false;
    const bytes = [...queue.map((q) => q.script), ...requests.map((r) => r.script)].reduce((sum, s) => sum + Buffer.byteLength(s.text), 0);
    if (bytes > MAX_SCRIPT_BYTES || queue.some((q) => (q.options.become ?? false) !== become) || requests.some((r) => r.become !== become || r.stdin !== undefined)) return [];
    // They fit one script, so they travel in one chunk: all resolved, in order, or all rejected (nothing kept).
    const outputs: ExecResult[] = [];
    return requests.map((r, i) => ({
      script: r.script,
      options: { become },
      resolve: (result: ExecResult) => {
        outputs[i] = result;
        if (i === requests.length - 1) this.#followed = outputs;
      },
      reject: () => undefined,
    }));
  }

  async #sendChunk(chunk: readonly Queued[], become: boolean): Promise<void> {
    const only = chunk.length === 1 ? chunk[0] : undefined;
    if (only) return this.#connection.run(only.script, only.options).then(only.resolve, only.reject);
    const inputs = chunk.map((q) => (q.options.stdin === undefined ? undefined : Buffer.from(q.options.stdin)));
    const script = batchScript(
      chunk.map((q) => q.script),
      inputs.map((i) => i?.length),
    );
    try {
      const result = await this.#connection.run(script, { become, stdin: Buffer.concat(inputs.flatMap((i) => (i ? [i] : []))) });
      // Output that is not the batch's (sudo refused, the input arrived cut short): each command gets the batch's result, and fails with its words.
      const ours = parseBatchOutput(result.stdout, chunk.length);
      if (!ours) this.#garbled = true;
      const parsed = ours ?? chunk.map(() => ({ ...result, code: result.code === 0 ? 1 : result.code }));
      chunk.forEach((q, i) => q.resolve(parsed[i] as ExecResult));
    } catch (error) {
      for (const q of chunk) q.reject(error);
    }
  }
}

/** Consecutive commands whose scripts together stay under the argument limit. */
function chunks(queue: readonly Queued[]): Queued[][] {
  const out: Queued[][] = [];
  let size = 0;
  for (const q of queue) {
    const bytes = Buffer.byteLength(q.script.text);
    const last = out.at(-1);
    if (last && size + bytes <= MAX_SCRIPT_BYTES) {
      last.push(q);
      size += bytes;
    } else {
      out.push([q]);
      size = bytes;
    }
  }
  return out;
}
