import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/*
 * The S3 client the export's bodies go up with. The copy hashes every stored byte once (the
 * sha256 of the manifest); SigV4 would hash every part body a second time to sign it, about as
 * much CPU again as the copy's own digest. Object and part bodies are therefore sent as
 * UNSIGNED-PAYLOAD: the signature still covers the request and its headers, TLS protects the
 * body on the way, and S3 checks the checksum the SDK puts on every part: CRC64NVME, which the
 * copy asks for (copy.ts), else CRC32 (`requestChecksumCalculation` WHEN_SUPPORTED, the SDK's
 * default).
 */

const PAYLOAD_HASH_HEADER = 'x-amz-content-sha256';
const UNSIGNED_BODIES: ReadonlySet<string> = new Set(['PutObjectCommand', 'UploadPartCommand']);

export function createUploadClient(config: S3ClientConfig = {}): S3Client {
  const client = new S3Client(config);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers;
      if (
        headers !== undefined &&
        UNSIGNED_BODIES.has(context.commandName ?? '') &&
        !Object.keys(headers).some((name) => name.toLowerCase() === PAYLOAD_HASH_HEADER)
      ) {
        headers[PAYLOAD_HASH_HEADER] = 'UNSIGNED-PAYLOAD';
      }
      return next(args);
    },
    { step: 'build', name: 'unsignedUploadBodies', override: true },
  );
  return client;
}
