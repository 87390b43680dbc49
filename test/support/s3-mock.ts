import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

/** An S3 client with test credentials, and the mock that answers its every command in the process. */
export function mockedS3() {
  const s3 = new S3Client({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
  });
  return { s3, s3Mock: mockClient(s3) };
}
