// Helpers for the browser tests and the benchmark: launching Debian's
// Chromium through playwright-core, and writing zip files (stored or
// deflate, optionally ZIP64) to test the page's own zip reader.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.GUWAH_CHROMIUM || "/usr/bin/chromium";

/** Launches headless Chromium with a fresh profile and no background network; `options` are playwright context options (a phone viewport, say); `browser` is a BrowserContext. */
export async function launch(options = {}) {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's Chromium (apt-get install -y chromium)`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "guwah-chromium-"));
  // A fresh, empty --user-data-dir (playwright passes it for a persistent context).
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ...options,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  return { browser, profile, close: async () => { await browser.close(); fs.rmSync(profile, { recursive: true, force: true }); } };
}

/** Every file under `dir`, as paths relative to it with `/` separators. */
export function walk(dir, rel = "") {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out.sort();
}

/** Copies a folder. */
export function copyDir(from, to) {
  fs.cpSync(from, to, { recursive: true });
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Writes a zip of `dir` (under the top folder `top`) to `out`.
 * method: 0 stored, 8 deflate. zip64: every size and offset in ZIP64 extra
 * fields and a ZIP64 end of central directory, as large archives have.
 */
export function makeZip(dir, out, { top = "bag", method = 8, zip64 = false } = {}) {
  const parts = [];
  const central = [];
  let offset = 0;
  const files = walk(dir);
  for (const rel of files) {
    const data = fs.readFileSync(path.join(dir, rel));
    const comp = method === 8 ? zlib.deflateRawSync(data) : data;
    const name = Buffer.from(`${top}/${rel}`, "utf8");
    const crc = crc32(data);
    const x64 = Buffer.alloc(zip64 ? 4 + 24 : 0);
    if (zip64) {
      x64.writeUInt16LE(1, 0); x64.writeUInt16LE(24, 2);
      x64.writeBigUInt64LE(BigInt(data.length), 4);
      x64.writeBigUInt64LE(BigInt(comp.length), 12);
      x64.writeBigUInt64LE(BigInt(offset), 20);
    }
    const M = 0xffffffff;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(zip64 ? 45 : 20, 4); local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(method, 8); local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(zip64 ? M : comp.length, 18); local.writeUInt32LE(zip64 ? M : data.length, 22);
    local.writeUInt16LE(name.length, 26); local.writeUInt16LE(zip64 ? 20 : 0, 28);
    const lx = zip64 ? Buffer.concat([Buffer.from([1, 0, 16, 0]), x64.subarray(4, 20)]) : Buffer.alloc(0);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0); cen.writeUInt16LE(0x031e, 4); cen.writeUInt16LE(zip64 ? 45 : 20, 6);
    cen.writeUInt16LE(0x800, 8); cen.writeUInt16LE(method, 10); cen.writeUInt32LE(crc, 16);
    cen.writeUInt32LE(zip64 ? M : comp.length, 20); cen.writeUInt32LE(zip64 ? M : data.length, 24);
    cen.writeUInt16LE(name.length, 28); cen.writeUInt16LE(x64.length, 30);
    cen.writeUInt32LE(zip64 ? M : offset, 42);
    parts.push(local, name, lx, comp);
    central.push(cen, name, x64);
    offset += 30 + name.length + lx.length + comp.length;
  }
  const cd = Buffer.concat(central);
  const tail = [];
  if (zip64) {
    const z = Buffer.alloc(56);
    z.writeUInt32LE(0x06064b50, 0); z.writeBigUInt64LE(44n, 4); z.writeUInt16LE(45, 12); z.writeUInt16LE(45, 14);
    z.writeBigUInt64LE(BigInt(files.length), 24); z.writeBigUInt64LE(BigInt(files.length), 32);
    z.writeBigUInt64LE(BigInt(cd.length), 40); z.writeBigUInt64LE(BigInt(offset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0); loc.writeBigUInt64LE(BigInt(offset + cd.length), 8); loc.writeUInt32LE(1, 16);
    tail.push(z, loc);
  }
  const e = Buffer.alloc(22);
  e.writeUInt32LE(0x06054b50, 0);
  e.writeUInt16LE(zip64 ? 0xffff : files.length, 8); e.writeUInt16LE(zip64 ? 0xffff : files.length, 10);
  e.writeUInt32LE(zip64 ? 0xffffffff : cd.length, 12); e.writeUInt32LE(zip64 ? 0xffffffff : offset, 16);
  tail.push(e);
  fs.writeFileSync(out, Buffer.concat([...parts, cd, ...tail]));
}

/** Opens verify.html in a new page; returns the page and the list of URLs it requested. */
export async function openPage(browser, url) {
  const page = await browser.newPage();
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  return { page, requests, errors };
}

/**
 * Gives the page the policy inputs (as `verify-bundle --trust`, `--witness`,
 * `--min-witnesses`, `--tsa-root`, `--disclosure`: `vkey` may hold several
 * keys, one per line; the files are paths), uploads a folder
 * (webkitdirectory input) or a zip, and waits for the result.
 */
export async function check(page, what, { vkey = "", witnesses = "", minWitnesses = "", tsaRoots = [], disclosures = [], timeout = 600_000 } = {}) {
  await page.evaluate(() => { window.guwahResult = undefined; document.getElementById("more").open = true; });
  await page.fill("#vkeys", vkey);
  await page.fill("#witnessKeys", witnesses);
  await page.fill("#minWitnesses", String(minWitnesses));
  await page.setInputFiles("#tsaRoots", tsaRoots);
  await page.setInputFiles("#disclosures", disclosures);
  if (what.endsWith(".zip")) await page.setInputFiles("#zipInput", what);
  else await page.setInputFiles("#dirInput", what);
  await page.waitForFunction(() => window.guwahResult !== undefined, null, { timeout, polling: 50 });
  return page.evaluate(() => ({
    result: window.guwahResult,
    stats: window.guwahLastRun,
    verdict: document.getElementById("verdict").dataset.verdict,
    verdictText: document.getElementById("verdict").textContent,
    failures: [...document.querySelectorAll("#failures li.failure")].map((li) => li.textContent),
    rows: [...document.querySelectorAll("#items tbody tr")].map((tr) => ({ ok: tr.dataset.ok, text: tr.textContent })),
  }));
}

/**
 * CPU seconds (user + system) used so far by the Chromium started with
 * `profile` and all its child processes (Linux /proc; clock ticks of 1/100 s).
 */
export function chromiumCpuSeconds(profile) {
  const procs = new Map();
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      procs.set(pid, { ppid: f[1], ticks: Number(f[11]) + Number(f[12]), root: cmd.includes(profile) && !cmd.includes("--type=") });
    } catch { /* gone */ }
  }
  const inTree = (pid, depth = 0) => {
    const p = procs.get(pid);
    if (!p || depth > 10) return false;
    return p.root || inTree(p.ppid, depth + 1);
  };
  let ticks = 0;
  for (const [pid, p] of procs) if (inTree(pid)) ticks += p.ticks;
  return ticks / 100;
}
