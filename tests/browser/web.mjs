// The team server's pages in headless Debian Chromium, the whole path a
// team walks: a collector on a phone, in Uyghur, submits a file while the
// connection is cut and then a reload interrupts another; a reviewer in
// Chinese finds items by Uyghur and Chinese words, sees one verified and
// annotates it; a viewer's page of a sensitive item; every page in every
// language screenshotted and checked by axe-core.
//
// Run by `cargo test -p guwah --test web`, which builds the vault and
// starts `guwah serve`, with:
//   GUWAH_URL        the server
//   GUWAH_PASSWORD   every account's password (admin, coord, reviewer,
//                    collector, viewer)
//   GUWAH_ITEMS      JSON: {"testimony": id, "photo": id}
//   GUWAH_ARTEFACTS  where the screenshots go
// Prints one JSON summary; exits 1 with the reason on the first failure.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { launch } from "./lib.mjs";

const URL_ = process.env.GUWAH_URL;
const PASSWORD = process.env.GUWAH_PASSWORD;
const ITEMS = JSON.parse(process.env.GUWAH_ITEMS || "{}");
const ART = process.env.GUWAH_ARTEFACTS;
if (!URL_ || !PASSWORD || !ART) throw new Error("run by `cargo test -p guwah --test web`");
fs.mkdirSync(ART, { recursive: true });
const AXE = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const LANGS = ["en", "fr", "ug", "zh-Hans"];
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const summary = { screenshots: 0, axePages: 0, uploads: [] };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, f, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function signIn(page, name) {
  await page.goto(`${URL_}/login`);
  await page.fill("#name", name);
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/login")), page.click("form.card button[type=submit]")]);
}

async function signOut(page) {
  await Promise.all([page.waitForURL("**/login"), page.click("form.who button")]);
}

async function switchTo(page, lang) {
  await page.selectOption("#lang-select", lang);
  await Promise.all([page.waitForLoadState("load"), page.click("form.switch button")]);
  await until(`the page in ${lang}`, async () => (await page.getAttribute("html", "lang")) === lang);
}

async function htmlDir(page) {
  return [await page.getAttribute("html", "lang"), await page.getAttribute("html", "dir")];
}

// axe-core on the page as it stands; serious or critical violations fail.
async function axe(page, what) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    [],
    `${what}: accessibility violations`,
  );
  summary.axePages++;
}

async function shoot(page, name) {
  await page.screenshot({ path: path.join(ART, `${name}.png`), fullPage: true });
  summary.screenshots++;
}

// Pick `file` on the upload page and send it; `during` runs once the first
// chunk has arrived at the server.
async function startUpload(page, file, note, during, streamAbove) {
  await page.goto(`${URL_}/upload`);
  if (streamAbove) await streamHashAbove(page, streamAbove);
  await page.setInputFiles("#files", file);
  await page.fill("#u-note", note);
  await page.fill("#u-source", "Signal");
  let patched = 0;
  const onResponse = (r) => {
    if (r.request().method() === "PATCH" && r.status() === 204) patched++;
  };
  page.on("response", onResponse);
  await page.click("#upload button[type=submit]");
  await until("the first chunk", () => patched >= 1);
  await during();
  page.off("response", onResponse);
}

// Files larger than `bytes` are hashed by the page's own streaming
// SHA-256 rather than WebCrypto (64 MiB by default).
async function streamHashAbove(page, bytes) {
  await page.evaluate((n) => { document.getElementById("upload").dataset.streamAbove = String(n); }, bytes);
}

const sha256 = (b) => crypto.createHash("sha256").update(b).digest("hex");

const ctx = await launch(PHONE);
try {
  const page = await ctx.browser.newPage();
  const requests = [];
  page.on("request", (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));

  // 1. A collector on a phone switches to Uyghur and signs in.
  await page.goto(`${URL_}/login`);
  await switchTo(page, "ug");
  assert.deepEqual(await htmlDir(page), ["ug", "rtl"]);
  await signIn(page, "collector");
  assert.deepEqual(await htmlDir(page), ["ug", "rtl"], "the account keeps Uyghur");

  // 2. A 20 MiB video, the connection cut after the first chunk.
  const video = crypto.randomBytes(20 << 20);
  const videoFile = { name: "men-outside-the-flat.mp4", mimeType: "video/mp4", buffer: video };
  await startUpload(page, videoFile, "ئۆي ئالدىدىكى كىشىلەر lager", async () => {
    await ctx.browser.setOffline(true);
    await page.waitForSelector("#upload-status li[data-state=resuming]", { timeout: 30000 });
    await sleep(1500);
    await ctx.browser.setOffline(false);
  });
  await page.waitForSelector("#upload-status li[data-state=done]", { timeout: 120000 });
  const videoSha = sha256(video);
  summary.uploads.push({ name: videoFile.name, sha256: videoSha, cut: true });
  await shoot(page, "phone-ug-upload-done");

  // 3. Another file, hashed by the page's streaming SHA-256, the page
  // reloaded mid-way: picking it again resumes.
  const photo = crypto.randomBytes(12 << 20);
  const photoFile = { name: "badge-on-video-call.png", mimeType: "image/png", buffer: photo };
  await startUpload(page, photoFile, "ساقچى بەلگىسى", async () => {
    await page.reload();
  }, 1 << 20);
  const before = requests.length;
  await streamHashAbove(page, 1 << 20);
  await page.setInputFiles("#files", photoFile);
  await page.click("#upload button[type=submit]");
  await page.waitForSelector("#upload-status li[data-state=done]", { timeout: 120000 });
  const after = requests.slice(before);
  assert.ok(after.some((r) => r.startsWith("HEAD /api/uploads/")), `resumed by HEAD: ${after}`);
  assert.ok(!after.includes("POST /api/uploads"), `no second upload was created: ${after}`);
  summary.uploads.push({ name: photoFile.name, sha256: sha256(photo), reloaded: true, streamed: true });

  // 4. The collector finds the video by a Uyghur word of its note; it is verified.
  await page.goto(`${URL_}/items?text=${encodeURIComponent("كىشىلەر")}`);
  const link = page.locator("table.items a", { hasText: "men-outside-the-flat.mp4" });
  await link.click();
  await page.waitForSelector(".verdict.ok");
  assert.ok((await page.textContent("code.hash")).includes(videoSha), "the page shows the hash the phone computed");
  await signOut(page);

  // 5. A reviewer, in Chinese, finds the testimony by a Chinese and by a Uyghur word.
  await signIn(page, "reviewer");
  await switchTo(page, "zh-Hans");
  for (const word of ["集中营", "لاگېر"]) {
    await page.goto(`${URL_}/items?text=${encodeURIComponent(word)}`);
    const ids = await page.$$eval("table.items a", (as) => as.map((a) => a.getAttribute("href")));
    assert.deepEqual(ids, [`/items/${ITEMS.testimony}`], `search for ${word}`);
  }
  await page.click("table.items a");
  await page.waitForSelector(".verdict.ok");
  await page.fill("#note", "证词与照片吻合 — the testimony matches the photo");
  await Promise.all([page.waitForURL("**/items/*?noted=*"), page.click("#notes button[type=submit]")]);
  await page.waitForSelector("#notes .done");
  assert.ok((await page.textContent(".timeline")).includes("证词与照片吻合"), "the note is in the custody timeline");
  // The preview of the photo is a re-encoded image the page shows.
  await page.goto(`${URL_}/items/${ITEMS.photo}?preview=1`);
  const size = await page.$eval("img.preview", (img) => img.decode().then(() => [img.naturalWidth, img.naturalHeight]));
  assert.ok(size[0] > 0 && size[0] <= 800 && size[1] <= 800, `preview ${size}`);
  await signOut(page);

  // 6. A viewer sees the testimony's page without its sensitive fields.
  await signIn(page, "viewer");
  await page.goto(`${URL_}/items/${ITEMS.testimony}`);
  const viewerText = await page.textContent("main");
  assert.ok(!viewerText.includes("Aynur"), "the source is withheld from a viewer");
  assert.equal(await page.locator("a[href$='/original']").count(), 0, "no download for a viewer");
  await signOut(page);

  // 7. Every page, every language: a screenshot and axe-core.
  const pagesOf = {
    admin: ["/audit", "/users", "/settings"],
    coord: ["/items", `/items/${ITEMS.testimony}?preview=1`, `/items/${ITEMS.photo}?preview=1`, "/upload", "/settings", "/no-such-page"],
    viewer: ["/items", `/items/${ITEMS.testimony}`],
  };
  for (const lang of LANGS) {
    await page.goto(`${URL_}/login`);
    await switchTo(page, lang);
    await shoot(page, `${lang}-login`);
    await axe(page, `${lang} /login`);
    for (const [who, paths] of Object.entries(pagesOf)) {
      await signIn(page, who);
      await switchTo(page, lang);
      for (const p of paths) {
        await page.goto(`${URL_}${p}`);
        const [l, d] = await htmlDir(page);
        assert.equal(l, lang, `${p} in ${lang}`);
        assert.equal(d, lang === "ug" ? "rtl" : "ltr");
        const name = `${lang}-${who}${p.replace(/[^a-z0-9]+/gi, "-").slice(0, 40)}`;
        await shoot(page, name);
        await axe(page, `${lang} ${who} ${p}`);
      }
      await signOut(page);
    }
  }
  process.stdout.write(JSON.stringify(summary) + "\n");
} catch (e) {
  process.stderr.write(`web.mjs: ${e.stack || e}\n`);
  process.exitCode = 1;
} finally {
  await ctx.close();
}
