// Uploads FILE to a `guwah serve` with tus-js-client (a tus client none of
// us wrote), cutting the connection in the middle of a chunk once CUT of
// the file has been sent, then resuming from where the server says it
// stands. Prints one JSON line: the upload URL, the offset the resume
// started from, the item the server sealed, and the file's SHA-256.
//
//   node upload.mjs URL TOKEN FILE [CUT]     (CUT: 0..1, default 0.4)
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import * as tus from "tus-js-client";

const [base, token, file, cutArg] = process.argv.slice(2);
if (!base || !token || !file) {
  console.error("usage: node upload.mjs URL TOKEN FILE [CUT]");
  process.exit(2);
}
const cut = cutArg === undefined ? 0.4 : Number(cutArg);
const bytes = readFileSync(file);
const sha256 = createHash("sha256").update(bytes).digest("hex");
const endpoint = new URL("/api/uploads", base).href;
const common = {
  endpoint,
  headers: { Authorization: `Bearer ${token}` },
  chunkSize: 1 << 20,
  retryDelays: null,
  metadata: { filename: basename(file), note: "sent with tus-js-client", sha256 },
};

function run(options) {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(bytes, {
      ...common,
      ...options,
      onError: (e) => reject(e),
      onSuccess: (payload) => resolve({ upload, payload }),
    });
    options.bind?.(upload, resolve);
    upload.start();
  });
}

// First attempt: aborted mid-chunk (the in-flight PATCH's socket is
// destroyed) once `cut` of the bytes are on their way.
let url = null;
await run({
  bind(upload, resolve) {
    upload.options.onProgress = (sent) => {
      if (sent >= cut * bytes.length && url === null) {
        url = upload.url;
        upload.abort().then(() => resolve({ aborted: true }));
      }
    };
  },
});
if (url === null) throw new Error("the upload finished before it could be cut");
await new Promise((r) => setTimeout(r, 300));

// Where the server stands after the cut.
const head = await fetch(url, {
  method: "HEAD",
  headers: { Authorization: `Bearer ${token}`, "Tus-Resumable": "1.0.0" },
});
const resumedFrom = Number(head.headers.get("upload-offset"));

// Resume: tus-js-client HEADs the upload and sends only what is missing.
let firstProgress = null;
const { payload } = await run({
  uploadUrl: url,
  onProgress: (sent) => {
    if (firstProgress === null) firstProgress = sent;
  },
});
const item = payload.lastResponse.getHeader("X-Guwah-Item");
console.log(JSON.stringify({ url, resumedFrom, firstProgress, item, sha256, size: bytes.length }));
