declare module 's3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: Array<{ name: string; configs: Array<string | Buffer> }>;
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    /** The filesystem store: where each object's bytes and metadata lie under the directory. */
    readonly store: {
      getResourcePath(bucket: string, key: string, resource: string): string;
      /** Writes the object's metadata (the headers S3 keeps, x-amz-meta-*) and its ETag beside it. */
      putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
    };
    configureBuckets(): Promise<void>;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
}
