// Times a run's page of `dotnet flow ui` in Chromium, as a user sees it: from navigation until the graph and the
// first rows of the timeline are drawn. Run by bench.sh with the Node.js and playwright-core that the
// Microsoft.Playwright package brings (the browser tests restore it), and Debian's Chromium.
//   node bench/ui-page.js PLAYWRIGHT_PACKAGE_DIR CHROMIUM URL REPS
const [packageDir, chromiumPath, url, reps] = process.argv.slice(2);
const { chromium } = require(packageDir);
(async () => {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  const times = [];
  for (let i = 0; i < Number(reps); i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const start = Date.now();
    await page.goto(url);
    await page.locator('#graph').waitFor({ timeout: 60000 });
    await page.locator('#timeline .row').first().waitFor({ timeout: 60000 });
    times.push(Date.now() - start);
    await context.close();
  }
  await browser.close();
  times.sort((a, b) => a - b);
  console.log(`${times[Math.floor((times.length - 1) / 2)]} ${times[0]} ${times[times.length - 1]} ${times.length}`);
})().catch(e => { console.error(e.message); process.exit(1); });
