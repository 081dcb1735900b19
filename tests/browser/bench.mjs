// Throughput of the browser verifier (verify.html in headless Chromium), in
// MB/s of payload, on a package built with the real `guwah` binary.
//
//   node bench.mjs [--mb 500] [--files 5] [--runs 3] [--zip] [--stream] [--keep DIR] [--page verify.html]
//   node bench.mjs --bag DIR --vkey VKEY [--runs 3]     an existing package (say, guwah-bench --bundle's)
//
// GUWAH_BIN names the binary (default: target/release/guwah, then
// target/debug/guwah). Times the whole check as the page reports it: from
// reading the file list to the verdict (tag files, every payload digest,
// records, proofs, signatures). Target: >= 200 MB/s.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { execFileSync } from "node:child_process";
import { pathToFileURL, fileURLToPath } from "node:url";
import { launch, openPage, check, makeZip, chromiumCpuSeconds } from "./lib.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const MB = Number(opt("--mb", "500"));
const FILES = Number(opt("--files", "5"));
const RUNS = Number(opt("--runs", "3"));
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "..", "..");
const bin = process.env.GUWAH_BIN || ["release", "debug"].map((p) => path.join(root, "target", p, "guwah")).find((p) => fs.existsSync(p));
if (!bin) throw new Error("no guwah binary: cargo build --release -p guwah, or set GUWAH_BIN");

const work = opt("--keep", null) || fs.mkdtempSync(path.join(os.tmpdir(), "guwah-bench-"));
fs.mkdirSync(work, { recursive: true });
const env = { ...process.env, GUWAH_VAULT: path.join(work, "vault"), GUWAH_PASSPHRASE: "bench passphrase", NO_COLOR: "1" };
const g = (...a) => execFileSync(bin, a, { env, encoding: "utf8", maxBuffer: 1 << 26 });

const given = opt("--bag", null);
const bag = given ? path.resolve(given) : path.join(work, "bag");
if (!fs.existsSync(bag)) {
  g("init", "--origin", "example.org/bench");
  const inputs = [];
  const per = Math.floor((MB * 1e6) / FILES);
  for (let i = 0; i < FILES; i++) {
    const f = path.join(work, `video-${i}.mp4`);
    const fd = fs.openSync(f, "w");
    for (let left = per; left > 0; left -= 1 << 24) fs.writeSync(fd, crypto.randomBytes(Math.min(left, 1 << 24)));
    fs.closeSync(fd);
    inputs.push(f);
  }
  const added = JSON.parse(g("--json", "--quiet", "add", ...inputs));
  g("--quiet", "export", ...added.items.map((i) => i.id), "--out", bag);
  for (const f of inputs) fs.rmSync(f);
}
const vkey = opt("--vkey", null) || g("log", "key").trim();
// --page FILE: measure that verify.html instead of the one the binary writes.
// (--bag: the verify.html inside that package.)
const page = opt("--page", null) || (given ? path.join(bag, "verify.html") : path.join(work, "verify.html"));
if (!opt("--page", null) && !given) g("verifier", "write", "--out", page);
let target = bag;
if (args.includes("--zip")) {
  target = path.join(work, "bag-deflate.zip");
  if (!fs.existsSync(target)) makeZip(bag, target, { method: 8 });
}

const { browser, profile, close } = await launch();
try {
  const { page: p } = await openPage(browser, pathToFileURL(page).href);
  // --stream: wasm streaming only (no whole-file WebCrypto SHA-256).
  if (args.includes("--stream")) await p.evaluate(() => { window.guwahNoSubtle = true; });
  const results = [];
  const cpus = [];
  for (let i = 0; i < RUNS; i++) {
    const cpu0 = chromiumCpuSeconds(profile);
    const r = await check(p, target, { vkey });
    const cpu = chromiumCpuSeconds(profile) - cpu0;
    if (r.verdict !== "valid") throw new Error("bench package did not verify: " + JSON.stringify(r.failures));
    const mbs = r.stats.payloadBytes / 1e6 / (r.stats.ms / 1000);
    results.push(mbs);
    console.log(`run ${i + 1}: ${(r.stats.payloadBytes / 1e6).toFixed(0)} MB in ${(r.stats.ms / 1000).toFixed(2)} s = ${mbs.toFixed(0)} MB/s (tag files ${(r.stats.tagsMs / 1000).toFixed(2)} s, then payload until ${(r.stats.hashMs / 1000).toFixed(2)} s); Chromium used ${cpu.toFixed(2)} CPU-s = ${(r.stats.payloadBytes / 1e6 / cpu).toFixed(0)} MB per CPU-second`);
    cpus.push(r.stats.payloadBytes / 1e6 / cpu);
  }
  results.sort((a, b) => a - b);
  const median = results[Math.floor(results.length / 2)];
  cpus.sort((a, b) => a - b);
  const perCpu = cpus[Math.floor(cpus.length / 2)];
  console.log(`load average while measuring: ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} on ${os.cpus().length} cores`);
  console.log(`median: ${perCpu.toFixed(0)} MB per Chromium CPU-second: with ${os.cpus().length} idle cores, at most ~${(perCpu * os.cpus().length).toFixed(0)} MB/s`);
  const what = given ? given : `${FILES} file(s), ${MB} MB`;
  console.log(`median: ${median.toFixed(0)} MB/s of payload (${what}, ${args.includes("--zip") ? "deflate zip" : "folder"}${args.includes("--stream") ? ", streaming only" : ""}; target >= 200)`);
} finally {
  await close();
  if (!opt("--keep", null)) fs.rmSync(work, { recursive: true, force: true });
}
