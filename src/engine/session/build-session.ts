/**
 * The BuildKit session of one build, as the docker CLI opens it (moby/buildkit session/session.go):
 * `POST /session` upgraded to h2c, after which the daemon is the gRPC client on that connection and
 * this process the server. It serves Health (the daemon checks it every second on 20.10, every five
 * on 26.1, and drops a session that misses one), Auth (registry credentials for every registry the
 * build pulls from), Secrets, SSH (agent forwarding) and FileSync (the context and the Dockerfile,
 * file-sync.ts). A session is opened before its build, with everything it serves known, and closed
 * with the build (or when the build is cancelled).
 */

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type * as Grpc from '@grpc/grpc-js';
import { isHelmetError } from '../../errors.js';
import { registryOfHost } from '../../names/docker-hub.js';
import type { SessionOptions } from '../engine-client.js';
import { DIFF_COPY_PATH, diffCopyHandler } from './file-sync.js';
import { METHODS, type MethodSpec, SERVING } from './session-protocol.js';

/** docker-modem's `dial`, the part used here (dockerode's `docker.modem`). */
export interface Modem {
  dial(options: Record<string, unknown>, callback: (error: Error | null, socket?: Duplex) => void): void;
}

/** Metadata key naming the agent a ForwardAgent stream is for (moby/buildkit session/sshforward). */
const SSH_ID_KEY = 'buildkit.ssh.id';
const DEFAULT_SSH_ID = 'default';
/** Header lines and bytes a FileSync request may carry (its patterns are header lines). */
const MAX_HEADER_PAIRS = 65536;
const MAX_HEADER_LIST_BYTES = 16 * 1024 * 1024;

export class BuildSession {
  private closed = false;

  private constructor(
    /** The id the build names in `session=`. */
    readonly id: string,
    private readonly socket: Duplex,
    private readonly server: Grpc.Server,
    /** Connections to local SSH agents, one per forwarded stream. */
    private readonly agents: Set<Socket>,
  ) {}

  /**
   * Open a session on the engine behind `modem`. Resolves once the daemon has switched the connection
   * to HTTP/2 (101): from then on it finds the session by its id, so the build can be started.
   */
  static async open(modem: Modem, options: SessionOptions, name: string, signal?: AbortSignal): Promise<BuildSession> {
    // Loaded here: a run that builds nothing with BuildKit never loads gRPC.
    const loaded = await import('@grpc/grpc-js');
    // CommonJS: under Node its exports are the namespace; in the esbuild bundle they sit on `default`.
    const grpc: typeof Grpc = typeof loaded.Server === 'function' ? loaded : (loaded as unknown as { default: typeof Grpc }).default;
    const id = randomUUID();
    const server = new grpc.Server();
    // FileSync's filters come as gRPC metadata, one header per .dockerignore line: Node's http2
    // refuses more than 128 header lines by default, which a long .dockerignore exceeds.
    const http2Options = (server as unknown as { commonServerOptions?: Record<string, unknown> }).commonServerOptions;
    if (http2Options) {
      http2Options.maxHeaderListPairs = MAX_HEADER_PAIRS;
      http2Options.settings = { ...(http2Options.settings as object | undefined), maxHeaderListSize: MAX_HEADER_LIST_BYTES };
    }
    const agents = new Set<Socket>();
    const methods = serve(grpc, server, options, agents);
    const socket = await new Promise<Duplex>((resolve, reject) => {
      modem.dial(
        {
          path: '/session',
          method: 'POST',
          hijack: true,
          // No body: Content-Length 0 (docker-modem would otherwise send a chunked one).
          file: Buffer.alloc(0),
          headers: {
            Upgrade: 'h2c',
            'Content-Type': 'application/octet-stream',
            'X-Docker-Expose-Session-Uuid': id,
            'X-Docker-Expose-Session-Name': name,
            'X-Docker-Expose-Session-Sharedkey': options.sharedKey,
            // One header line per method (an array is sent as repeated lines).
            'X-Docker-Expose-Session-Grpc-Method': methods,
          },
          statusCodes: { 101: true, 400: 'bad parameter', 500: 'server error' },
          ...(signal ? { abortSignal: signal } : {}),
        },
        (error, socket) => (error || !socket ? reject(error ?? new Error('the engine did not open a session')) : resolve(socket)),
      );
    });
    const session = new BuildSession(id, socket, server, agents);
    // Health checks and credential requests come over this connection: it must not end the process's
    // wait for them, but a failure on it ends only the session (the build reports its own error).
    socket.on('error', () => session.close());
    // A TLS connection to the engine negotiated no ALPN protocol (it began as HTTP/1.1 and was
    // upgraded): Node's http2 server would take it for an HTTP/1.1 client and close it.
    if ((socket as { alpnProtocol?: string | false }).alpnProtocol === false) (socket as { alpnProtocol?: string }).alpnProtocol = 'h2';
    server.createConnectionInjector(grpc.ServerCredentials.createInsecure()).injectConnection(socket);
    return session;
  }

  /** Close the session: the connection, the gRPC server and every forwarded agent connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const agent of this.agents) agent.destroy();
    this.agents.clear();
    this.server.forceShutdown();
    this.socket.destroy();
  }
}

/** Registers one unary method on the session's server. */
type Unary = <Req, Res>(spec: MethodSpec<Req, Res>, answer: (request: Req, call: Grpc.ServerUnaryCall<Req, Res>) => Promise<Res>) => void;

/** Register the session's methods on `server`; returns their paths (the methods the daemon is told of). */
function serve(grpc: typeof Grpc, server: Grpc.Server, options: SessionOptions, agentConnections: Set<Socket>): string[] {
  const paths: string[] = [];
  function unary<Req, Res>(spec: MethodSpec<Req, Res>, answer: (request: Req, call: Grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): void {
    const handler: Grpc.handleUnaryCall<Req, Res> = (call, callback) => {
      answer(call.request, call).then(
        (response) => callback(null, response),
        (e: unknown) => callback(grpcError(grpc, e)),
      );
    };
    server.register(spec.path, handler, spec.encode, spec.decode, 'unary');
    paths.push(spec.path);
  }

  unary(METHODS.healthCheck, async () => ({ status: SERVING }));
  if (options.localDirs) {
    // Packets are encoded and decoded by the handler: the codecs pass bytes through.
    const bytes = (b: Buffer) => b;
    server.register(DIFF_COPY_PATH, diffCopyHandler(grpc, options.localDirs, options.onContextSent), bytes, bytes, 'bidi');
    paths.push(DIFF_COPY_PATH);
  }
  // Only Credentials: FetchToken and GetTokenAuthority are left unregistered, so the daemon gets
  // UNIMPLEMENTED and fetches tokens itself with the credentials it was given.
  unary(METHODS.credentials, async ({ Host }) => {
    const auth = await options.credentials?.(registryOfHost(Host));
    if (!auth) return {};
    // An identity token goes as the secret with no user name (the docker CLI's auth provider does so).
    if (auth.identitytoken) return { Username: '', Secret: auth.identitytoken };
    return { Username: auth.username ?? '', Secret: auth.password ?? '' };
  });
  if (options.secrets?.length) serveSecrets(grpc, options.secrets, unary);
  if (options.ssh?.length) paths.push(serveAgents(grpc, server, options.ssh, agentConnections, unary));
  return paths;
}

/** Secrets.GetSecret: each secret's value from its environment variable or file, read when the build asks. */
function serveSecrets(grpc: typeof Grpc, given: NonNullable<SessionOptions['secrets']>, unary: Unary): void {
  const secrets = new Map(given.map((s) => [s.id, s]));
  unary(METHODS.getSecret, async ({ ID }) => {
    const secret = secrets.get(ID);
    if (!secret) throw new SessionFault(grpc.status.NOT_FOUND, `secret ${ID} not found`);
    if ('env' in secret) {
      const value = process.env[secret.env];
      if (value === undefined) throw new SessionFault(grpc.status.NOT_FOUND, `secret ${ID}: environment variable ${secret.env} is not set`);
      return { data: Buffer.from(value, 'utf8') };
    }
    try {
      return { data: readFileSync(secret.file) };
    } catch (e) {
      // The path only: never anything read.
      throw new SessionFault(grpc.status.NOT_FOUND, `secret ${ID}: cannot read ${secret.file} (${(e as { code?: string }).code ?? 'error'})`);
    }
  });
}

/** SSH.CheckAgent and SSH.ForwardAgent: one connection to the agent's socket per stream the daemon opens. Returns the stream's path. */
function serveAgents(grpc: typeof Grpc, server: Grpc.Server, given: NonNullable<SessionOptions['ssh']>, connections: Set<Socket>, unary: Unary): string {
  const agents = new Map(given.map((a) => [a.id, a.socket]));
  unary(METHODS.checkAgent, async ({ ID }) => {
    if (!agents.has(ID || DEFAULT_SSH_ID)) throw new SessionFault(grpc.status.NOT_FOUND, `no SSH agent with id ${ID || DEFAULT_SSH_ID} was given (--ssh)`);
    return {};
  });
  const forward: Grpc.handleBidiStreamingCall<{ data: Buffer }, { data: Buffer }> = (call) => {
    const id = String(call.metadata.get(SSH_ID_KEY)[0] ?? DEFAULT_SSH_ID);
    const socket = agents.get(id);
    if (!socket) {
      call.emit('error', { code: grpc.status.NOT_FOUND, details: `no SSH agent with id ${id}` });
      return;
    }
    const agent = connect(socket);
    connections.add(agent);
    agent.once('close', () => connections.delete(agent));
    call.on('data', (m: { data: Buffer }) => agent.write(m.data));
    call.on('end', () => agent.end());
    call.on('error', () => agent.destroy());
    call.on('cancelled', () => agent.destroy());
    agent.on('data', (data: Buffer) => call.write({ data }));
    agent.on('end', () => call.end());
    agent.on('error', (e) => call.emit('error', { code: grpc.status.UNAVAILABLE, details: `SSH agent ${id}: ${(e as { code?: string }).code ?? 'error'}` }));
  };
  server.register(METHODS.forwardAgent.path, forward, METHODS.forwardAgent.encode, METHODS.forwardAgent.decode, 'bidi');
  return METHODS.forwardAgent.path;
}

/** A gRPC status answered to the daemon. */
class SessionFault extends Error {
  constructor(
    readonly grpcCode: number,
    message: string,
  ) {
    super(message);
  }
}

function grpcError(grpc: typeof Grpc, e: unknown): Grpc.ServerErrorResponse {
  if (e instanceof SessionFault) return Object.assign(new Error(e.message), { code: e.grpcCode, details: e.message });
  // A typed failure of our own (a credential helper that failed) says what failed and never a secret;
  // anything else is said without its detail, which might hold one.
  const details = isHelmetError(e) ? e.message : 'helmet-build could not answer';
  return Object.assign(new Error(details), { code: grpc.status.UNAVAILABLE, details });
}
