// node shoot.mjs REPORT.html TOP.png PICTURE.png [CHROMIUM]
// Opens the report in headless Chromium (Debian's, driven by playwright-core) and writes
// two screenshots: the top of the page (outcome, next steps, charter) and the section
// with the picture of the path. Fails when the picture is not drawn.
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

const [report, topPng, picturePng, exe = "/usr/bin/chromium"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: exe,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 2400 } });
  await page.goto(pathToFileURL(report).href);
  await page.screenshot({ path: topPng });
  const svg = page.locator(".picture svg");
  if ((await svg.count()) !== 1) throw new Error("the report has no picture of the path");
  const box = await page.locator("#picture").boundingBox();
  const fig = await svg.boundingBox();
  // Page coordinates (nothing is scrolled). From the section's heading down to the end of the picture, at most 3200 px tall.
  const y = box.y;
  const height = Math.min(fig.y + fig.height - y + 40, 3200);
  await page.screenshot({ path: picturePng, fullPage: true,
                          clip: { x: 0, y, width: 1200, height } });
  console.log(`picture ${Math.round(fig.width)}x${Math.round(fig.height)} px`);
} finally {
  await browser.close();
}
