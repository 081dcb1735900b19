// End-to-end tests of verify.html in headless Debian Chromium.
//
// Run by `cargo test -p guwah --test browser`, which builds a vault and
// exports packages with the real `guwah` binary, then runs
// `node --test verify.test.mjs` with:
//   GUWAH_FIXTURES  a folder with verify.html, bag/ (a package folder),
//                   bag.zip (the same items exported as a zip), vkey.txt
//                   (the log key) and other-vkey.txt (another log's key)
//   GUWAH_BIN       the guwah binary (for `guwah verifier serve`)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { pathToFileURL } from "node:url";
import { launch, openPage, check, makeZip, walk, copyDir } from "./lib.mjs";

const FIX = process.env.GUWAH_FIXTURES;
if (!FIX) throw new Error("GUWAH_FIXTURES is not set: run `cargo test -p guwah --test browser`");
const VKEY = fs.readFileSync(path.join(FIX, "vkey.txt"), "utf8").trim();
const OTHER_VKEY = fs.readFileSync(path.join(FIX, "other-vkey.txt"), "utf8").trim();
const PAGE = pathToFileURL(path.join(FIX, "verify.html")).href;
const GOOD = path.join(FIX, "bag");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "guwah-browser-"));

let ctx;
let page;
let requests;
let errors;

before(async () => {
  ctx = await launch();
  ({ page, requests, errors } = await openPage(ctx.browser, PAGE));
});
after(async () => {
  await ctx?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// The payload file to tamper with: the largest one.
function biggestPayload(dir) {
  return walk(dir).filter((p) => p.startsWith("data/"))
    .map((p) => ({ p, n: fs.statSync(path.join(dir, p)).size }))
    .sort((a, b) => b.n - a.n)[0].p;
}
// An item file (package v2: every tag file of one item, packed).
function anItemFile(dir) {
  return walk(dir).find((p) => /^guwah\/items\/[0-9a-f]{64}\.txt$/.test(p));
}

function tampered(name, mutate) {
  const dir = path.join(tmp, name);
  copyDir(GOOD, dir);
  const rel = mutate(dir);
  return { dir, rel };
}

function flipPayloadByte(dir) {
  const rel = biggestPayload(dir);
  const f = path.join(dir, rel);
  const b = fs.readFileSync(f);
  const at = Math.floor(b.length / 2);
  b[at] ^= 0x01;
  fs.writeFileSync(f, b);
  return rel;
}

// Alters an item's receipt inside its item file, keeping every length, and
// returns how a failure names it ("<item file>#receipt.tlog-proof").
function alterReceipt(dir) {
  const rel = anItemFile(dir);
  const f = path.join(dir, rel);
  const text = fs.readFileSync(f, "latin1"); // one char per byte: offsets are byte offsets
  const tag = "part receipt.tlog-proof ";
  const head = text.indexOf("\n" + tag) + 1;
  assert.ok(head > 0, "the item file has a receipt part");
  const start = text.indexOf("\n", head) + 1;
  const len = Number(text.slice(head + tag.length, start - 1));
  const lines = text.slice(start, start + len).split("\n");
  // Line 3 is the first hash of the inclusion proof (or the checkpoint's
  // origin if the proof is empty): change one base64 character of it.
  const i = lines.findIndex((l, n) => n >= 2 && /^[A-Za-z0-9+/]{43}=$/.test(l));
  assert.ok(i >= 0, "the receipt has a proof hash line");
  const l = lines[i];
  lines[i] = (l[0] === "A" ? "B" : "A") + l.slice(1);
  fs.writeFileSync(f, text.slice(0, start) + lines.join("\n") + text.slice(start + len), "latin1");
  return rel + "#receipt.tlog-proof";
}

function assertFailsNaming(r, rel) {
  assert.equal(r.verdict, "failed", `verdict for a package with ${rel} altered`);
  assert.match(r.verdictText, /FAILED/);
  assert.ok(
    r.failures.some((f) => f.startsWith(rel + ":")),
    `a failure names ${rel}; got:\n${r.failures.join("\n")}`,
  );
  assert.ok(r.result.report.items.some((i) => !i.ok), "an item is marked as failed");
}

test("a valid package folder, without a confirmed key: consistent but untrusted", async () => {
  const r = await check(page, GOOD);
  assert.equal(r.verdict, "untrusted", JSON.stringify(r.failures));
  assert.match(r.verdictText, /KEY YOU DID NOT CONFIRM/);
  assert.deepEqual(r.failures, []);
  assert.equal(r.result.report.log_key, VKEY);
  assert.equal(r.result.report.log_key_trusted, false);
});

test("a valid package folder, with the log key pasted: VALID", async () => {
  const r = await check(page, GOOD, { vkey: VKEY });
  assert.equal(r.verdict, "valid", JSON.stringify(r.failures));
  assert.match(r.verdictText, /VALID/);
  assert.ok(r.rows.length >= 2);
  assert.ok(r.rows.every((row) => row.ok === "true"));
  assert.equal(r.result.report.log_key_trusted, true);
});

test("the exported .zip, with the key: VALID", async () => {
  const r = await check(page, path.join(FIX, "bag.zip"), { vkey: VKEY });
  assert.equal(r.verdict, "valid", JSON.stringify(r.failures));
});

test("a deflate ZIP64 zip of the package: VALID", async () => {
  const z = path.join(tmp, "deflate64.zip");
  makeZip(GOOD, z, { method: 8, zip64: true });
  const r = await check(page, z, { vkey: VKEY });
  assert.equal(r.verdict, "valid", JSON.stringify(r.failures));
});

test("another log's key: not valid", async () => {
  const r = await check(page, GOOD, { vkey: OTHER_VKEY });
  assert.notEqual(r.verdict, "valid");
});

test("a pasted key that is not a key is refused, naming it", async () => {
  const r = await check(page, GOOD, { vkey: "not a key" });
  assert.match(r.result.policy_error, /^log key "not a key": not a log key/);
  assert.equal(r.result.report, null);
  assert.equal(r.verdict, "error");
  assert.match(await page.textContent("#keyErrors"), /could not be read: log key "not a key"/);
});

test("one payload byte flipped (folder): FAILED, naming the file", async () => {
  const { dir, rel } = tampered("flipped", flipPayloadByte);
  assertFailsNaming(await check(page, dir, { vkey: VKEY }), rel);
});

test("one payload byte flipped (deflate zip): FAILED, naming the file", async () => {
  const { dir, rel } = tampered("flipped-zip", flipPayloadByte);
  const z = path.join(tmp, "flipped.zip");
  makeZip(dir, z, { method: 8 });
  assertFailsNaming(await check(page, z, { vkey: VKEY }), rel);
});

test("a receipt altered (folder): FAILED, naming the receipt", async () => {
  const { dir, rel } = tampered("receipt", alterReceipt);
  assertFailsNaming(await check(page, dir, { vkey: VKEY }), rel);
});

test("a receipt altered (stored ZIP64 zip): FAILED, naming the receipt", async () => {
  const { dir, rel } = tampered("receipt-zip", alterReceipt);
  const z = path.join(tmp, "receipt.zip");
  makeZip(dir, z, { method: 0, zip64: true });
  assertFailsNaming(await check(page, z, { vkey: VKEY }), rel);
});

test("streaming only (no WebCrypto), in workers and on the page itself", async () => {
  const { dir, rel } = tampered("flipped-stream", flipPayloadByte);
  const z = path.join(tmp, "flipped-stream.zip");
  makeZip(dir, z, { method: 8, zip64: true });
  try {
    await page.evaluate(() => { window.guwahNoSubtle = true; });
    assert.equal((await check(page, GOOD, { vkey: VKEY })).verdict, "valid");
    assertFailsNaming(await check(page, z, { vkey: VKEY }), rel);
    await page.evaluate(() => { window.guwahNoWorkers = true; });
    assert.equal((await check(page, path.join(FIX, "bag.zip"), { vkey: VKEY })).verdict, "valid");
    assertFailsNaming(await check(page, dir, { vkey: VKEY }), rel);
  } finally {
    await page.evaluate(() => { window.guwahNoSubtle = false; window.guwahNoWorkers = false; });
  }
});

test("not a bag: a clear error", async () => {
  const d = path.join(tmp, "notabag");
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, "hello.txt"), "hello");
  const r = await check(page, d);
  assert.equal(r.verdict, "error");
  assert.match(r.verdictText, /bagit\.txt/);
});

test("French", async () => {
  await page.selectOption("#lang", "fr");
  const r = await check(page, GOOD, { vkey: VKEY });
  assert.equal(r.verdict, "valid");
  assert.match(r.verdictText, /VALIDE/);
  assert.equal(await page.getAttribute("html", "lang"), "fr");
  await page.selectOption("#lang", "en");
});

test("the page made no network request and threw no error", () => {
  const outside = requests.filter((u) => !u.startsWith("file:") && !u.startsWith("blob:") && !u.startsWith("data:"));
  assert.deepEqual(outside, []);
  assert.deepEqual(errors, []);
});

test("served by `guwah verifier serve`: same page, CSP header, VALID", { skip: !process.env.GUWAH_BIN }, async () => {
  const srv = spawn(process.env.GUWAH_BIN, ["verifier", "serve", "--addr", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error("server did not start: " + out)), 20_000);
      srv.stdout.on("data", (d) => {
        out += d;
        const m = out.match(/http:\/\/[0-9.:]+\//);
        if (m) { clearTimeout(timer); resolve(m[0]); }
      });
      srv.on("exit", (c) => reject(new Error("server exited " + c)));
    });
    const p = await ctx.browser.newPage();
    const resp = await p.goto(url);
    assert.equal(resp.status(), 200);
    assert.match(resp.headers()["content-type"], /^text\/html/);
    assert.match(resp.headers()["content-security-policy"], /default-src 'none'/);
    const r = await check(p, GOOD, { vkey: VKEY });
    assert.equal(r.verdict, "valid", JSON.stringify(r.failures));
    await p.close();
  } finally {
    srv.kill();
  }
});
