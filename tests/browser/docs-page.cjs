// The docs page in a real headless browser: Swagger UI renders every operation, and "Try it out" on Create PBX
// with a token returns 201. Usage: node docs-page.cjs <base URL> <token> <customer id> <screenshot path>
const { chromium } = require("playwright-core");

async function main() {
  const [base, token, customer, screenshot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    await page.goto(`${base}/api/docs/`);
    await page.waitForSelector(".opblock", { timeout: 30000 });
    const operations = await page.locator(".opblock").count();
    if (operations < 13) throw new Error(`the page shows ${operations} operations, not 13`);
    console.log(`docs page: ${operations} operations rendered`);

    // Authorize with the bearer token.
    await page.click("button.authorize");
    await page.fill(".auth-container input", token);
    await page.click(".auth-btn-wrapper button.authorize");
    await page.click(".auth-btn-wrapper button.btn-done");

    // Create PBX: Try it out, the customer, accept the charge, the seed's body as the example, Execute.
    const create = page.locator("#operations-PBX_profiles-createPbx");
    await create.locator(".opblock-summary").click();
    await create.locator("button.try-out__btn").click();
    await create.locator('tr[data-param-name="customer_id"] input').fill(customer);
    await create.locator('tr[data-param-name="accept-charges"] input').fill("true");
    await create.locator("button.execute").click();
    const status = create.locator(".live-responses-table .response .response-col_status").first();
    await status.waitFor({ timeout: 30000 });
    const code = (await status.innerText()).trim();
    await status.scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshot, fullPage: false });
    if (!code.startsWith("201")) {
      const body = await create.locator(".live-responses-table .response-col_description pre").first().innerText();
      throw new Error(`Try it out answered ${code}: ${body}`);
    }
    console.log("docs page: Try it out on Create PBX answered 201");
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
