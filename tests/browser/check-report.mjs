// Opens one HTML report in headless Chromium and prints what a reader would notice, as JSON:
// console errors and uncaught exceptions, requests that left the report's own directory, and
// charts that did not display (an inline <svg> or <img> drawn at no size, or empty).
//
//   node check-report.mjs /path/to/report.html [/usr/bin/chromium]
//
// Exit 0 when the page was checked (whatever it found), 2 when it could not be checked.
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";
import { dirname } from "node:path";

const [report, executable = process.env.CHROMIUM || "/usr/bin/chromium"] = process.argv.slice(2);
if (!report) {
  console.error("usage: node check-report.mjs REPORT.html [CHROMIUM]");
  process.exit(2);
}
const page_url = pathToFileURL(report).href;
const own_dir = pathToFileURL(dirname(report)).href + "/";

// Flags as for any headless Chromium on a closed network: no sandbox (root in CI), no GPU,
// no background traffic to Google that would count as outside requests.
const browser = await chromium.launch({
  executablePath: executable,
  timeout: 30_000,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const found = { console_errors: [], outside_requests: [], charts: [], undisplayed_charts: [] };
try {
  const page = await browser.newPage();
  page.on("console", (m) => { if (m.type() === "error") found.console_errors.push(m.text()); });
  page.on("pageerror", (e) => found.console_errors.push(String(e)));
  page.on("request", (r) => { if (!r.url().startsWith(own_dir)) found.outside_requests.push(r.url()); });
  await page.goto(page_url, { waitUntil: "load", timeout: 30_000 });
  // Charts are inline <svg> (or <img>): each must have drawn something at a visible size.
  const charts = await page.evaluate(() => {
    const shown = (el) => {
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      return box.width > 0 && box.height > 0 && style.display !== "none" && style.visibility !== "hidden";
    };
    const svgs = Array.from(document.querySelectorAll("svg")).filter((s) => !s.parentElement.closest("svg"));
    return [
      ...svgs.map((s, i) => ({
        name: (s.querySelector("title, text")?.textContent || `svg #${i + 1}`).trim(),
        ok: shown(s) && s.querySelectorAll("path, rect, line, polyline, circle, text").length > 0,
      })),
      ...Array.from(document.images).map((img) => ({
        name: img.getAttribute("src"),
        ok: shown(img) && img.complete && img.naturalWidth > 0,
      })),
    ];
  });
  found.charts = charts.map((c) => c.name);
  found.undisplayed_charts = charts.filter((c) => !c.ok).map((c) => c.name);
} catch (e) {
  console.error(`cannot check ${report}: ${e.message}`);
  await browser.close();
  process.exit(2);
}
await browser.close();
console.log(JSON.stringify(found));
