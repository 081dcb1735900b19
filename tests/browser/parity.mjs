// The browser half of "one verdict": every case of CASES (written by
// `cargo test -p guwah --test browser`, which also runs each through
// `guwah verify-bundle --json` with the same inputs) checked by verify.html
// in headless Chromium, with the same policy inputs given to the page:
//
//   node parity.mjs PAGE CASES OUT
//
// CASES is [{name, target, policy: {trusted: [vkey], witnesses: [vkey],
// min_witnesses: n | null, tsa_roots: [path], disclosures: [path]}}]; OUT
// gets {name: the page's result ({policy_error, report})}. The Rust side
// compares the reports.
import fs from "node:fs";
import { pathToFileURL } from "node:url";
import { launch, openPage, check } from "./lib.mjs";

const [page, casesFile, outFile] = process.argv.slice(2);
if (!outFile) throw new Error("usage: node parity.mjs PAGE CASES OUT");
const cases = JSON.parse(fs.readFileSync(casesFile, "utf8"));
const ctx = await launch();
const results = {};
try {
  const { page: p, errors } = await openPage(ctx.browser, pathToFileURL(page).href);
  for (const c of cases) {
    const r = await check(p, c.target, {
      vkey: c.policy.trusted.join("\n"),
      witnesses: c.policy.witnesses.join("\n"),
      minWitnesses: c.policy.min_witnesses ?? "",
      tsaRoots: c.policy.tsa_roots,
      disclosures: c.policy.disclosures,
    });
    results[c.name] = r.result;
    // What the page shows is what it computed.
    const shown = r.verdict;
    const computed = r.result.report ? r.result.report.verdict : "error";
    if (shown !== computed) throw new Error(`${c.name}: the page shows ${shown} for a ${computed} verdict`);
    console.log(`${c.name}: ${computed}`);
  }
  if (errors.length) throw new Error("the page threw: " + errors.join("; "));
} finally {
  await ctx.close();
}
fs.writeFileSync(outFile, JSON.stringify(results));
