/**
 * The messages of the BuildKit session services helmet-build serves, as the daemon (the gRPC client)
 * sends and expects them: grpc.health.v1 (health.proto), moby.filesync.v1.Auth (session/auth/auth.proto),
 * moby.buildkit.secrets.v1 (session/secrets/secrets.proto) and moby.sshforward.v1
 * (session/sshforward/ssh.proto). Field numbers are BuildKit's (the same in v0.8 and v0.13); only
 * the messages of the methods served here are declared. Encoded with protobufjs from this schema.
 */
import protobuf from 'protobufjs';

const HEALTH_PROTO = `
syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse { int32 status = 1; }
`;

const AUTH_PROTO = `
syntax = "proto3";
package moby.filesync.v1;
message CredentialsRequest { string Host = 1; }
message CredentialsResponse { string Username = 1; string Secret = 2; }
`;

const SECRETS_PROTO = `
syntax = "proto3";
package moby.buildkit.secrets.v1;
message GetSecretRequest { string ID = 1; map<string, string> annotations = 2; }
message GetSecretResponse { bytes data = 1; }
`;

const SSH_PROTO = `
syntax = "proto3";
package moby.sshforward.v1;
message BytesMessage { bytes data = 1; }
message CheckAgentRequest { string ID = 1; }
message CheckAgentResponse {}
`;

/** grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING */
export const SERVING = 1;

/** One gRPC method: its path, whether each side streams, and the codecs of its messages. */
export interface MethodSpec<Req, Res> {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  decode: (bytes: Buffer) => Req;
  encode: (message: Res) => Buffer;
}

let root: protobuf.Root | undefined;

function type(name: string): protobuf.Type {
  if (!root) {
    root = new protobuf.Root();
    for (const source of [HEALTH_PROTO, AUTH_PROTO, SECRETS_PROTO, SSH_PROTO]) protobuf.parse(source, root, { keepCase: true });
  }
  return root.lookupType(name);
}

function method<Req, Res>(path: string, request: string, response: string, streams = false): MethodSpec<Req, Res> {
  return {
    path,
    requestStream: streams,
    responseStream: streams,
    decode: (bytes) => {
      const t = type(request);
      return t.toObject(t.decode(bytes), { defaults: true }) as Req;
    },
    encode: (message) => {
      const t = type(response);
      return Buffer.from(t.encode(t.fromObject(message as Record<string, unknown>)).finish());
    },
  };
}

export const METHODS = {
  healthCheck: method<{ service: string }, { status: number }>(
    '/grpc.health.v1.Health/Check',
    'grpc.health.v1.HealthCheckRequest',
    'grpc.health.v1.HealthCheckResponse',
  ),
  credentials: method<{ Host: string }, { Username?: string; Secret?: string }>(
    '/moby.filesync.v1.Auth/Credentials',
    'moby.filesync.v1.CredentialsRequest',
    'moby.filesync.v1.CredentialsResponse',
  ),
  getSecret: method<{ ID: string }, { data: Buffer }>(
    '/moby.buildkit.secrets.v1.Secrets/GetSecret',
    'moby.buildkit.secrets.v1.GetSecretRequest',
    'moby.buildkit.secrets.v1.GetSecretResponse',
  ),
  checkAgent: method<{ ID: string }, Record<string, never>>(
    '/moby.sshforward.v1.SSH/CheckAgent',
    'moby.sshforward.v1.CheckAgentRequest',
    'moby.sshforward.v1.CheckAgentResponse',
  ),
  forwardAgent: method<{ data: Buffer }, { data: Buffer }>(
    '/moby.sshforward.v1.SSH/ForwardAgent',
    'moby.sshforward.v1.BytesMessage',
    'moby.sshforward.v1.BytesMessage',
    true,
  ),
};
