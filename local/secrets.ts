import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FaultOptions, FaultPlan, matches, type Pattern } from './faults';

/** An armed Secrets Manager failure: `ThrottlingException` (400) or `InternalServiceError` (500), or another code. */
interface SecretsFault {
  readonly code: string;
  /** @default 400 for ThrottlingException, 500 otherwise */
  readonly status?: number;
  readonly message?: string;
}

class SecretsFaults extends FaultPlan<{ readonly secretId: string }, SecretsFault> {
  /** Fails the next GetSecretValue calls (times) for the selected secret ids. */
  inject(selector: { readonly secretId?: Pattern }, fault: SecretsFault, options?: FaultOptions): void {
    this.add((request) => matches(request.secretId, selector.secretId), fault, options);
  }
}

const FAULT_MESSAGES: Readonly<Record<string, string>> = {
  ThrottlingException: 'Rate exceeded',
  InternalServiceError: 'An error occurred on the server side.',
};

export interface LocalSecrets {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  readonly endpoint: string;
  /** Stores a secret string under a name and returns the name. */
  put(name: string, secretString: string): string;
  delete(name: string): void;
  /** Throttling and server errors a test arms, answered in the service's JSON error shape. */
  readonly faults: SecretsFaults;
  close(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

/**
 * A stand-in for AWS Secrets Manager that speaks its JSON protocol for GetSecretValue, the
 * only call the workflow makes. Secrets are held in memory only.
 */
export async function startLocalSecrets(): Promise<LocalSecrets> {
  const secrets = new Map<string, { value: string; versionId: string; created: number }>();
  const faults = new SecretsFaults();

  const server: Server = createServer((req, res) => {
    readBody(req).then(
      (body) => respond(req, res, body),
      () => sendError(res, 400, 'InvalidRequestException', 'The request body could not be read.'),
    );
  });

  function respond(req: IncomingMessage, res: ServerResponse, body: string): void {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
      sendError(
        res,
        400,
        'InvalidAction',
        `This stand-in only implements GetSecretValue, not ${target || req.method}.`,
      );
      return;
    }
    let secretId: unknown;
    try {
      secretId = (JSON.parse(body) as { SecretId?: unknown }).SecretId;
    } catch {
      sendError(res, 400, 'SerializationException', 'The request body is not JSON.');
      return;
    }
    const name = typeof secretId === 'string' ? nameOf(secretId) : '';
    const fault = faults.take({ secretId: typeof secretId === 'string' ? secretId : '' });
    if (fault) {
      const status = fault.status ?? (fault.code === 'ThrottlingException' ? 400 : 500);
      sendError(res, status, fault.code, fault.message ?? FAULT_MESSAGES[fault.code] ?? fault.code);
      return;
    }
    const secret = secrets.get(name);
    if (!secret) {
      sendError(res, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(
      JSON.stringify({
        ARN: arnOf(name),
        Name: name,
        SecretString: secret.value,
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.created / 1000,
      }),
    );
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    put(name, secretString) {
      secrets.set(name, { value: secretString, versionId: randomUUID(), created: Date.now() });
      return name;
    },
    delete(name) {
      secrets.delete(name);
    },
    faults,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Accepts a plain name or an ARN (`arn:aws:secretsmanager:…:secret:name-AbCdEf` or without suffix). */
function nameOf(secretId: string): string {
  const match = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)$/.exec(secretId);
  return match?.[1] ?? secretId;
}

function arnOf(name: string): string {
  return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}`;
}

/** The AWS JSON 1.1 error shape: `__type` and `message`, with the type and a request id in headers. */
function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-errortype': type,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(JSON.stringify({ __type: type, message }));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 65_536) throw new Error('request too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
