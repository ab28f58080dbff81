#!/usr/bin/env node
// Builds the HTML report with Allure 3's library, as `allure generate` does, and also evaluates the
// quality gate of allurerc.mjs, so the report shows the gate and the build fails when the gate does
// (`allure generate` does neither; only `allure run` does). Strips the analytics script tags of Allure's
// pages, and refuses a page that still carries one.
//   node bin/allure-report.mjs <results dir> <output dir> <history file> [report name]
// Exit code: 0, 3 when the quality gate failed (the report is built anyway), 1 on any other error.
// Last line on stdout, JSON: {"gateFailures": [the test results that failed the gate, "name [param=value]..."],
// "removedAnalyticsTags": how many analytics tags were stripped}.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import {
  AllureReport, filterFailedQualityGateResults, readConfig, stringifyQualityGateResults,
} from "@allurereport/core";

// Allure 3.18's quality gate calls Iterator.prototype.toArray (Node.js 22+); Node.js 20 lacks it.
const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
if (!iteratorPrototype.toArray) {
  Object.defineProperty(iteratorPrototype, "toArray", { value() { return Array.from(this); }, configurable: true });
}

// Allure's pages embed Google Analytics: its loader and the inline script that calls gtag(
const ANALYTICS_TAGS = [
  /<script[^>]*\bsrc="https:\/\/www\.googletagmanager\.com\/[^"]*"[^>]*>\s*<\/script>\s*/gi,
  /<script[^>]*>(?:(?!<\/script>).)*?\bgtag\((?:(?!<\/script>).)*<\/script>\s*/gis,
];

const [results, output, historyPath, name] = process.argv.slice(2);
if (!results || !output || !historyPath) {
  console.error("usage: node bin/allure-report.mjs <results dir> <output dir> <history file> [report name]");
  process.exit(1);
}
const config = await readConfig(process.cwd(), undefined, { output, historyPath, ...(name ? { name } : {}) });
const report = new AllureReport(config);
await report.start();
await report.readDirectory(results);
let failed = [], gateFailures = [];
if (report.hasQualityGate) {
  const trs = await report.store.allTestResults({ includeRetries: false });
  const { results: gate } = await report.validate({ trs });
  report.realtimeDispatcher.sendQualityGateResults(gate);
  failed = filterFailedQualityGateResults(gate);
  if (failed.length) {
    console.error(stringifyQualityGateResults(gate));
  }
  const byId = new Map(trs.map((tr) => [tr.id, tr]));
  gateFailures = [...new Set(failed.flatMap((rule) => rule.testResults ?? []))]
    .map((id) => byId.get(id)).filter(Boolean)
    .map((tr) => tr.name + (tr.parameters ?? []).map((p) => ` [${p.name}=${p.value}]`).join(""));
}
await report.done();
let removedAnalyticsTags = 0;
for (const page of (await readdir(output, { recursive: true })).filter((file) => file.endsWith(".html"))) {
  let html = await readFile(join(output, page), "utf8");
  for (const pattern of ANALYTICS_TAGS) {
    html = html.replace(pattern, () => { removedAnalyticsTags += 1; return ""; });
  }
  if (html.includes("googletagmanager") || html.includes("gtag(")) {
    console.error(`${join(output, page)} still carries an analytics tag after stripping; update ANALYTICS_TAGS`);
    process.exit(1);
  }
  await writeFile(join(output, page), html, "utf8");
}
console.log(JSON.stringify({ gateFailures, removedAnalyticsTags }));
process.exit(failed.length ? 3 : 0);
