"""What a PCE SDK's get_collection does (illumio-py's, for one): submit the async job, poll it,
download the datafile in one gzip request and parse the whole body into objects in memory.
Python's standard library only. Usage: python3 sdk-like-export.py API_BASE ORG PATH, with
PCE_API_KEY and PCE_API_SECRET set. Prints {"objects": N}."""

import base64
import gzip
import json
import os
import sys
import time
import urllib.request

api_base, org, path = sys.argv[1:4]
token = base64.b64encode(f"{os.environ['PCE_API_KEY']}:{os.environ['PCE_API_SECRET']}".encode()).decode()
headers = {"Authorization": f"Basic {token}", "Accept": "application/json", "Accept-Encoding": "gzip"}


def get(url, extra=None):
    request = urllib.request.Request(url, headers={**headers, **(extra or {})})
    return urllib.request.urlopen(request)


with get(f"{api_base}/orgs/{org}{path}", {"Prefer": "respond-async"}) as submitted:
    job = submitted.headers["Location"]
    wait = float(submitted.headers.get("Retry-After", "1"))
while True:
    time.sleep(wait)
    with get(f"{api_base}{job}") as polled:
        status = json.loads(polled.read())
        wait = float(polled.headers.get("Retry-After", "1"))
    if status["status"] == "done":
        break
    if status["status"] == "failed":
        raise SystemExit("the job failed")
with get(f"{api_base}{status['result']['href']}") as datafile:
    body = datafile.read()
    if datafile.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
objects = json.loads(body)
print(json.dumps({"objects": len(objects)}))
