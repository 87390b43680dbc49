/**
 * The embedded S3-compatible server in a process of its own. Methods: `start({bucket})` →
 * {endpoint}, `stats()`. Its data directory is temporary and removed when the process exits.
 */
import { type LocalS3, startLocalS3 } from '../../local/s3';
import { serve } from '../lib/ipc';
import { cpuSeconds } from '../lib/process-stats';

let s3: LocalS3 | undefined;

serve(
  {
    async start(options: { bucket: string }) {
      s3 = await startLocalS3({ buckets: [options.bucket] });
      return { endpoint: s3.endpoint, directory: s3.directory };
    },
    async stats() {
      return { cpu: cpuSeconds(), rssBytes: process.memoryUsage.rss() };
    },
  },
  async () => {
    await s3?.close();
  },
);
