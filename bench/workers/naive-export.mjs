// The export a user would write in a few lines of Node.js, for the side-by-side section: submit
// the async job, poll it at its Retry-After, download the datafile in one request with the whole
// body in memory, write it to a file. Usage: node naive-export.mjs API_BASE ORG PATH OUT_FILE,
// with PCE_API_KEY and PCE_API_SECRET set.
import { writeFile } from 'node:fs/promises';

const [apiBase, org, path, outFile] = process.argv.slice(2);
const auth = `Basic ${Buffer.from(`${process.env.PCE_API_KEY}:${process.env.PCE_API_SECRET}`).toString('base64')}`;
const headers = { authorization: auth, accept: 'application/json' };

const submitted = await fetch(`${apiBase}/orgs/${org}${path}`, {
  headers: { ...headers, prefer: 'respond-async' },
});
if (submitted.status !== 202) throw new Error(`submit answered ${submitted.status}`);
const job = submitted.headers.get('location');
let wait = Number(submitted.headers.get('retry-after') ?? 1);
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  const polled = await fetch(`${apiBase}${job}`, { headers });
  const status = await polled.json();
  if (status.status === 'done') {
    const datafile = await fetch(`${apiBase}${status.result.href}`, { headers });
    const body = Buffer.from(await datafile.arrayBuffer());
    await writeFile(outFile, body);
    process.stdout.write(`${JSON.stringify({ bytes: body.length })}\n`);
    break;
  }
  if (status.status === 'failed') throw new Error('the job failed');
  wait = Number(polled.headers.get('retry-after') ?? 1);
}
