/**
 * BuildKit's progress, as the engine streams it during a `version=2` build: each
 * `{"id":"moby.buildkit.trace","aux":"<base64>"}` line carries a protobuf `StatusResponse`
 * (BuildKit's api/services/control/control.proto). Decoded with protobufjs from a schema of just
 * the fields used here, and folded into steps (Dockerfile instructions) with their state and output.
 */
import protobuf from 'protobufjs';
import type { BuildStep } from '../model/build-step.js';
import { LastLines } from '../text/last-lines.js';

/**
 * The subset of control.proto read here; field numbers are BuildKit's, and fields not declared
 * (such as the per-layer `statuses`, 2) are skipped by the decoder. Timestamp is declared locally
 * with google.protobuf.Timestamp's wire layout, so no well-known-type import is needed.
 */
const STATUS_PROTO = `
syntax = "proto3";
package moby.buildkit.v1;

message Timestamp {
  int64 seconds = 1;
  int32 nanos = 2;
}

message StatusResponse {
  repeated Vertex vertexes = 1;
  repeated VertexLog logs = 3;
}

message Vertex {
  string digest = 1;
  repeated string inputs = 2;
  string name = 3;
  bool cached = 4;
  Timestamp started = 5;
  Timestamp completed = 6;
  string error = 7;
}

message VertexLog {
  string vertex = 1;
  Timestamp timestamp = 2;
  int64 stream = 3;
  bytes msg = 4;
}
`;

interface Timestamp {
  seconds?: number;
  nanos?: number;
}

export interface StatusResponse {
  vertexes?: { digest: string; name?: string; cached?: boolean; started?: Timestamp; completed?: Timestamp; error?: string }[];
  logs?: { vertex: string; stream?: number; msg?: Uint8Array }[];
}

let statusType: protobuf.Type | undefined;

export function decodeStatus(base64: string): StatusResponse {
  statusType ??= protobuf.parse(STATUS_PROTO).root.lookupType('moby.buildkit.v1.StatusResponse');
  return statusType.toObject(statusType.decode(Buffer.from(base64, 'base64')), { longs: Number, defaults: false }) as StatusResponse;
}

interface StepState {
  name: string;
  started: boolean;
  finished: boolean;
  lines: LastLines;
  partial: string;
}

/**
 * Folds status messages into step events and output lines. Each step is reported once when it
 * starts and once when it ends (cached, done, failed); its output is kept per step, so a failure
 * can show what the failing step printed.
 */
export class BuildkitProgress {
  private readonly steps = new Map<string, StepState>();
  /** Steps that reported an error; some are not fatal (a cache to import that does not exist yet). */
  private readonly failed: { step: StepState; error: string }[] = [];

  constructor(
    private readonly onStep: (step: BuildStep) => void,
    private readonly onLine: (line: string) => void,
  ) {}

  add(status: StatusResponse): void {
    for (const v of status.vertexes ?? []) {
      const step = this.step(v.digest, v.name);
      if (v.started && !step.started && !v.cached) {
        step.started = true;
        this.onStep({ name: step.name, state: 'started' });
      }
      if (v.completed && !step.finished) {
        step.finished = true;
        this.flush(step);
        const seconds = v.started ? toSeconds(v.completed) - toSeconds(v.started) : undefined;
        if (v.error) {
          this.failed.push({ step, error: v.error });
          this.onStep({ name: step.name, state: 'failed', seconds, error: v.error });
        } else this.onStep({ name: step.name, state: v.cached ? 'cached' : 'done', ...(v.cached ? {} : { seconds }) });
      }
    }
    for (const log of status.logs ?? []) {
      const step = this.step(log.vertex);
      const text = step.partial + Buffer.from(log.msg ?? []).toString('utf8');
      const parts = text.split(/\r?\n/);
      step.partial = parts.pop() ?? '';
      for (const line of parts) this.line(step, line);
    }
  }

  /** The step whose error ended the build (`buildError`), with the last lines it printed. */
  failure(buildError: string): { step: string; error: string; lines: string[] } | undefined {
    const fatal = this.failed.find((f) => buildError.includes(f.error) || f.error.includes(buildError)) ?? this.failed.at(-1);
    if (!fatal) return undefined;
    const { step, error } = fatal;
    this.flush(step);
    return { step: step.name, error, lines: step.lines.lines() };
  }

  private step(digest: string, name?: string): StepState {
    let s = this.steps.get(digest);
    if (!s) {
      s = { name: name ?? digest, started: false, finished: false, lines: new LastLines(), partial: '' };
      this.steps.set(digest, s);
    } else if (name) s.name = name;
    return s;
  }

  private flush(step: StepState): void {
    if (step.partial) this.line(step, step.partial);
    step.partial = '';
  }

  private line(step: StepState, line: string): void {
    step.lines.push(line);
    this.onLine(line);
  }
}

function toSeconds(t: Timestamp): number {
  return (t.seconds ?? 0) + (t.nanos ?? 0) / 1e9;
}
