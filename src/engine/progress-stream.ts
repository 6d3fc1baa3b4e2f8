import type { Readable } from 'node:stream';

/** One JSON message of a build or push progress stream. */
export interface ProgressMessage {
  stream?: string;
  status?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  id?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  /** An object for image IDs and push results; a base64 protobuf string for BuildKit traces. */
  aux?: { ID?: string; Digest?: string; Tag?: string; Size?: number } | string;
}

/**
 * Read a progress stream to its end. The engine reports failures inside an HTTP-200 stream as
 * `error`/`errorDetail` messages, so every message is checked: the first error message is returned
 * as `error` (the stream itself ends normally), for the caller to turn into its own failure.
 */
export async function readProgress(stream: Readable, onMessage: (m: ProgressMessage) => void): Promise<{ error?: string }> {
  let error: string | undefined;
  let buffered = '';
  const handle = (line: string) => {
    const text = line.trim();
    if (!text) return;
    let message: ProgressMessage;
    try {
      message = JSON.parse(text) as ProgressMessage;
    } catch {
      message = { stream: text };
    }
    if ((message.error || message.errorDetail) && error === undefined) {
      error = message.errorDetail?.message || message.error || 'unknown engine error';
    }
    onMessage(message);
  };
  for await (const chunk of stream) {
    buffered += chunk.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      handle(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  }
  handle(buffered);
  return error === undefined ? {} : { error };
}
