// The portal at / in a real headless browser, by keyboard and mouse as a reseller would: a development token that
// finds the README's customer and profile, a customer, a Kazoo profile through the 402 handshake (Enter in its dialog
// cancels: Cancel has the focus in every dialog, and a charge's names the profile), a 3CX profile after a field error, a Teams profile (then its instance again: 409),
// a profile's connection tested before it is saved and checked after (against a fake Kazoo on loopback),
// enabling one (402 again), renaming, a change made elsewhere meanwhile (a reload offered, nothing done blind),
// deleting; then the page at 360 px wide; then an account of the enterprise tier, picked from the accounts list, and a
// customer and a profile made under it; then a webhook created, disabled (a ping refused), enabled, pinged, its
// deliveries read, deleted.
// Each step leaves a screenshot.
// Usage: node portal.cjs <base URL> <screenshot folder> [README screenshot path]
const { chromium } = require("playwright-core");
const path = require("path");

const steps = [];

async function main() {
  const [base, folder, readmeShot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  // The browser logs every 4xx answer as a console error: those are the API's expected answers (402, 400), not
  // faults of the page; anything else logged as an error is.
  let offline = false; // while the test cuts the API off, the browser's failed loads are the test's own
  page.on("console", (message) => {
    if (offline && /^Failed to load resource: net::ERR_FAILED/.test(message.text())) return;
    if (message.type() === "error" && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) {
      errors.push(message.text());
    }
  });
  const shot = async (name) => {
    await page.screenshot({ path: path.join(folder, `portal-${String(steps.length + 1).padStart(2, "0")}-${name}.png`), fullPage: true });
    steps.push(name);
    console.log(`portal: ${name}`);
  };
  const notice = async (text) => {
    await page.locator("#notice", { hasText: text }).waitFor({ timeout: 10000 });
  };
  // Waits for the confirmation dialog, checks its title, that its text names `names` (the profile a charge is
  // for), and that Cancel has the focus (Enter must never accept a charge or a delete).
  const dialogShown = async (title, names) => {
    const dialog = page.locator("#confirm");
    await dialog.waitFor({ state: "visible", timeout: 10000 });
    const shown = await page.locator("#confirm-title").innerText();
    if (!shown.includes(title)) throw new Error(`the dialog says "${shown}", not "${title}"`);
    const text = await page.locator("#confirm-text").innerText();
    if (names && !text.includes(names)) throw new Error(`the dialog's text "${text}" does not name "${names}"`);
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    if (focused !== "confirm-no") throw new Error(`the dialog's focus is on "${focused}", not on Cancel`);
  };
  // Answers the confirmation dialog with `Yes` after checking it.
  const confirm = async (title, names) => {
    await dialogShown(title, names);
    await shot(`dialog-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`);
    await page.locator("#confirm-yes").click();
  };

  try {
    // Signing in: the development token button exists on this loopback server.
    await page.goto(`${base}/`);
    await page.getByRole("button", { name: "Use a development token" }).click();
    await notice("Signed in as the development reseller");
    const token = await page.evaluate(() => sessionStorage.getItem("pbx.token"));
    const stored = await page.evaluate(() => JSON.stringify(localStorage));
    if (!token || stored.includes(token)) throw new Error("the token must be in sessionStorage only");
    await shot("signed-in");

    // The README's curl walk ran before (run.sh) with a token of the development reseller: what it made is here.
    await page.getByRole("link", { name: "Acme", exact: true }).click();
    await page.locator("#profile-rows tr", { hasText: "Clients ~.pbx.kazoo.name.~ Pbx" }).waitFor({ timeout: 10000 });
    await shot("readme-walk");
    await page.getByRole("link", { name: "← All customers" }).click();

    // A customer, with the keyboard.
    await page.getByText("New customer").click();
    const cf = page.locator("#customer-form");
    // Its fields in the order of the document's schema (Name first, not alphabetical), and no hint shows the
    // backticks of the document's CommonMark: a code span reads as code.
    const firstLabel = (await cf.locator(".field label").first().innerText()).trim();
    if (firstLabel !== "Name") throw new Error(`the customer form starts with "${firstLabel}", not Name`);
    // Labels in words, from the document's titles where a name would read like a developer's.
    if ((await cf.getByLabel("Sync ACD agents with the PBX (optional)").count()) !== 1) throw new Error("the ACD field is labelled by its name");
    const ticked = (await page.locator(".hint").allInnerTexts()).filter((hint) => hint.includes("`"));
    if (ticked.length) throw new Error(`hints show backticks: ${ticked.join(" | ")}`);
    // A hint is the description's first sentence, written for people: not the characters the API refuses beyond
    // its pattern, not a value's wire form.
    const hints = await cf.locator(".hint").allTextContents();
    const technical = hints.filter((hint) => /Unicode|BMP|U\+|then 1–40 letters/.test(hint));
    if (!hints.length || technical.length) throw new Error(`hints for developers: ${technical.join(" | ")}`);
    await cf.getByLabel("Name", { exact: true }).fill("Acme Telecom");
    await cf.getByLabel("Reference (optional)").fill("ACC-42");
    await cf.getByLabel("Country code (optional)").fill("FR");
    await cf.getByLabel("Country code (optional)").press("Enter");
    await page.locator("#customer-title", { hasText: "Acme Telecom" }).waitFor();
    // The options left alone keep their defaults: the e-mail checkboxes start checked, as the API's default.
    const createdPath = await page.evaluate(() => location.hash.slice(1));
    const customer = await (await fetch(`${base}/api/v1.0${createdPath}`, { headers: { Authorization: `Bearer ${token}` } })).json();
    if (customer.data.sendNewUserEmail !== true || customer.data.sendConnectWelcomeEmail !== true || customer.data.trialDuration !== 0) {
      throw new Error(`the portal changed a default: ${JSON.stringify(customer.data)}`);
    }
    await shot("customer-created");

    // A Kazoo profile: the API asks to accept the charge, the page asks the user, then repeats the request.
    await page.getByText("New PBX profile").click();
    const pf = page.locator("#profile-form");
    await pf.getByLabel("PBX type").selectOption({ label: "Kazoo" });
    // The name's placeholder is an example a person would write, not the seed's untranslated template.
    const placeholder = await pf.getByLabel("Name", { exact: true }).getAttribute("placeholder");
    if (placeholder !== "e.g. Main office") throw new Error(`the Kazoo name's placeholder reads "${placeholder}"`);
    await pf.getByLabel("Name", { exact: true }).fill("Main office");
    await pf.getByLabel("Host REST").fill("https://rest.kazoo.example.com");
    await pf.getByLabel("Host websocket").fill("wss://ws.kazoo.example.com");
    await pf.getByLabel("Account ID").fill(`acct-${Date.now()}`);
    const apiKey = pf.getByLabel("API key");
    if ((await apiKey.getAttribute("type")) !== "password") throw new Error("the API key must be a password field");
    await apiKey.fill("super-secret-key");
    await page.getByRole("button", { name: "Create profile" }).click();
    // Enter in the charge dialog cancels: nothing is created.
    await dialogShown("Accept the charge?", "“Main office” of Acme Telecom");
    await page.keyboard.press("Enter");
    await notice("Nothing was changed: the charge was not accepted.");
    await apiKey.fill("super-secret-key");
    await page.getByRole("button", { name: "Create profile" }).click();
    await confirm("Accept the charge?", "the Kazoo profile “Main office” of Acme Telecom");
    await notice("Profile Main office created");
    if ((await page.content()).includes("super-secret-key")) throw new Error("a secret is shown back");
    await shot("kazoo-created");
    // Its name opens its details (what it was created with, never its secret) and closes them again.
    const mainName = page.getByRole("button", { name: "Main office", exact: true });
    await mainName.click();
    const details = page.locator("#profile-rows tr.details");
    await details.locator("dd", { hasText: "https://rest.kazoo.example.com" }).waitFor({ timeout: 5000 });
    await details.locator("dt", { hasText: "Account ID" }).waitFor();
    // Its terms are the form's labels (the document's titles), not the names in words.
    await details.locator("dt", { hasText: "Monitor sub-accounts" }).waitFor();
    if ((await details.innerText()).includes("super-secret-key") || (await mainName.getAttribute("aria-expanded")) !== "true") {
      throw new Error("the details show a secret, or do not say they are open");
    }
    await shot("kazoo-details");
    await mainName.click();
    if ((await details.count()) !== 0) throw new Error("the details stay open");

    // A 3CX profile: archiving without a frequency is a field error shown next to the field; then corrected.
    await pf.getByLabel("PBX type").selectOption({ label: "3CX" });
    const frequencyHint = pf.locator(".hint", { hasText: "How often recordings are archived" });
    await frequencyHint.waitFor();
    const frequencyText = await frequencyHint.textContent();
    if (!frequencyText.includes("hours:minutes:seconds") || frequencyText.includes(".NET")) {
      throw new Error(`the archive frequency's hint reads "${frequencyText}"`);
    }
    await pf.getByLabel("Name", { exact: true }).fill("Branch");
    await pf.getByLabel("Licence key").fill(`LIC-${Date.now()}`);
    await pf.getByLabel("Username").fill("admin");
    await pf.getByLabel("Password").fill("pa55word");
    await pf.getByLabel("Enable recording archive (optional)").check();
    // A field error comes before the charge (the 402 is the last check): no dialog yet.
    await page.getByRole("button", { name: "Create profile" }).click();
    const fieldError = page.locator("#pbx-recordingArchiveFrequency-error");
    await fieldError.waitFor({ state: "visible", timeout: 10000 });
    const invalid = await pf.getByLabel("Recording archive frequency (optional)").getAttribute("aria-invalid");
    if (invalid !== "true") throw new Error("the field in error is not marked invalid");
    await shot("field-error");
    await pf.getByLabel("Recording archive frequency (optional)").fill("00:20:00");
    await pf.getByLabel("Password").fill("pa55word");
    await page.getByRole("button", { name: "Create profile" }).click();
    await confirm("Accept the charge?");
    await notice("Profile Branch created");
    await page.locator("#profile-rows tr", { hasText: "Branch" }).waitFor();
    await shot("three-cx-created");

    // A Microsoft Teams profile: its form comes from the OpenAPI document like the others.
    await pf.getByLabel("PBX type").selectOption({ label: "Microsoft Teams" });
    await pf.getByLabel("Name", { exact: true }).fill("Teams");
    const entraTenant = crypto.randomUUID();
    await pf.getByLabel("Microsoft tenant ID").fill(entraTenant.toUpperCase());
    await page.getByRole("button", { name: "Create profile" }).click();
    await confirm("Accept the charge?");
    await notice("Profile Teams created");
    await page.locator("#profile-rows tr", { hasText: "Microsoft Teams" }).waitFor();
    await shot("teams-created");

    // The same Entra tenant again, in lower case: 409 before any charge, and the message names the instance (its
    // field found in the OpenAPI document) and whose it is.
    await pf.getByLabel("PBX type").selectOption({ label: "Microsoft Teams" });
    await pf.getByLabel("Name", { exact: true }).fill("Teams again");
    await pf.getByLabel("Microsoft tenant ID").fill(entraTenant);
    await page.getByRole("button", { name: "Create profile" }).click();
    await notice(`The PBX instance ${entraTenant} is already attached to this customer`);
    // Next to the field too, marked, with the focus on it.
    const tenantField = pf.getByLabel("Microsoft tenant ID");
    if ((await tenantField.getAttribute("aria-invalid")) !== "true") throw new Error("the taken instance's field is not marked");
    const besideField = await page.locator(`#${await tenantField.getAttribute("id")}-error`).innerText();
    if (!besideField.includes("already attached")) throw new Error(`the 409 beside the field reads "${besideField}"`);
    await shot("instance-taken");

    // Connection checks against the fake Kazoo: the new profile's form tested before it is saved (a wrong key, then
    // the right one), then the saved profile checked by its row's Check now. Another type's form first takes the
    // 409's banner away: it was about the Teams form.
    await pf.getByLabel("PBX type").selectOption({ label: "Kazoo" });
    if ((await page.locator("#notice").getAttribute("class")) === "error") throw new Error("the Teams form's error stays on the Kazoo form");
    await pf.getByLabel("Name", { exact: true }).fill("Checked office");
    await pf.getByLabel("Host REST").fill(process.env.FAKE_KAZOO_REST);
    await pf.getByLabel("Host websocket").fill(process.env.FAKE_KAZOO_WS);
    await pf.getByLabel("Account ID").fill("acct1");
    await pf.getByLabel("API key").fill("not-the-key");
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.locator("#test-result", { hasText: "Connection fails. The PBX refused the credentials." }).waitFor({ timeout: 15000 });
    await shot("test-connection-fails");
    await pf.getByLabel("API key").fill(process.env.FAKE_KAZOO_KEY);
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.locator("#test-result", { hasText: "Connection works." }).waitFor({ timeout: 15000 });
    await shot("test-connection-works");
    await page.getByRole("button", { name: "Create profile" }).click();
    await confirm("Accept the charge?");
    await notice("Profile Checked office created");
    const checkedRow = page.locator("#profile-rows tr", { hasText: "Checked office" });
    // Checked by the service at once: the badge turns from Checking to Connected without a reload.
    await checkedRow.locator('.badge[data-state="connected"]').waitFor({ timeout: 15000 });
    await page.getByRole("button", { name: "Check the connection of Checked office" }).click();
    await notice("Checked office: connected.");
    const mainBadge = page.locator("#profile-rows tr", { hasText: "Main office" }).locator(".badge");
    await mainBadge.and(page.locator('[data-state="failed"]')).waitFor({ timeout: 15000 });
    if (!/DnsFailure/.test(await mainBadge.getAttribute("title"))) throw new Error("the reason is not on the badge");
    if ((await page.content()).includes(process.env.FAKE_KAZOO_KEY)) throw new Error("a secret is shown back");
    await shot("connection-checked");

    // Enable the Kazoo profile (chargeable too), rename it, delete the 3CX one.
    await page.getByRole("button", { name: "Enable Main office" }).click();
    await confirm("Accept the charge?", "the profile “Main office” of Acme Telecom");
    await notice("Main office enabled");
    await page.locator("#profile-rows tr", { hasText: "Main office" }).locator("td:nth-child(4)", { hasText: /^Yes$/ })
      .waitFor({ timeout: 10000 });
    await shot("enabled");
    await page.getByRole("button", { name: "Rename Main office" }).click();
    await page.locator("#rename").waitFor({ state: "visible" });
    const renameFocus = await page.evaluate(() => document.activeElement && document.activeElement.id);
    if (renameFocus !== "rename-name") throw new Error(`the rename dialog's focus is on "${renameFocus}", not on the name`);
    await page.getByLabel("New name").fill("Head office");
    await page.getByLabel("New name").press("Enter");
    await notice("Renamed to Head office");

    // Someone else renames Branch through the API while the page still shows it: Delete offers a reload instead.
    const customerPath = await page.evaluate(() => location.hash.slice(1));
    const pbxId = await page.locator("#profile-rows tr", { hasText: "Branch" }).getAttribute("data-profile");
    const elsewhere = await fetch(`${base}/api/v1.0${customerPath}/pbxs/${pbxId}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json-patch+json" },
      body: JSON.stringify([{ op: "replace", path: "/name", value: "Branch (renamed elsewhere)" }]),
    });
    if (elsewhere.status !== 200) throw new Error(`the change made elsewhere answered ${elsewhere.status}`);
    await page.getByRole("button", { name: "Delete Branch" }).click();
    await confirm("Delete Branch?");
    await confirm("This profile has changed");
    await page.locator("#profile-rows tr", { hasText: "Branch (renamed elsewhere)" }).waitFor({ timeout: 10000 });
    await page.getByRole("button", { name: "Delete Branch (renamed elsewhere)" }).click();
    await confirm("Delete Branch (renamed elsewhere)?");
    await notice("Branch (renamed elsewhere) deleted");
    const rows = await page.locator("#profile-rows tr").allInnerTexts();
    if (rows.length !== 3 || !rows[0].includes("Head office") || !rows[1].includes("Teams") || !rows[2].includes("Checked office")) {
      throw new Error(`profiles left: ${rows}`);
    }
    await shot("deleted");
    // The README's picture: the enabled Kazoo profile opened to its details, beside the form of a new profile.
    const headOffice = page.getByRole("button", { name: "Head office", exact: true });
    await headOffice.click();
    await page.locator("#profile-rows tr.details dt", { hasText: "Account ID" }).waitFor({ timeout: 5000 });
    await shot("details-for-readme");
    if (readmeShot) await page.screenshot({ path: readmeShot, fullPage: true });
    await headOffice.click();

    // The customers list with a search, then the same at 360 px wide: nothing wider than the screen.
    await page.getByRole("link", { name: "← All customers" }).click();
    await page.getByLabel("Search by name or reference").fill("acc-42");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("link", { name: "Acme Telecom" }).waitFor();
    // Dates as ISO 8601, not in the browser's numeric locale (is 12/6 June or December?).
    const created = await page.locator("#customer-rows tr", { hasText: "Acme Telecom" }).locator("td").last().innerText();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(created.trim())) throw new Error(`a date shown as "${created}"`);
    await shot("search");
    // The server unreachable for a moment: the red banner says so, and goes once the list loads again.
    offline = true;
    await page.route("**/api/v1.0/customers?**", (request) => request.abort());
    await page.getByRole("button", { name: "Search" }).click();
    await notice("The server could not be reached");
    await page.unroute("**/api/v1.0/customers?**");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("link", { name: "Acme Telecom" }).waitFor();
    await page.waitForFunction(() => !document.getElementById("notice").textContent.includes("could not be reached"), null, { timeout: 5000 });
    offline = false;
    await page.setViewportSize({ width: 360, height: 740 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) throw new Error(`the page is ${overflow}px wider than a 360 px screen`);
    // No column is dropped to fit: the customer's country is still there, under its heading.
    const country = page.locator("#customer-rows tr", { hasText: "Acme Telecom" }).locator('td[data-label="Country"]');
    if (!(await country.isVisible()) || (await country.innerText()).trim() !== "FR") throw new Error("at 360 px a customer's country is not shown");
    await shot("narrow");

    // The enterprise tier: once the tenant has an account, the portal lists its accounts first; picking one manages
    // that account's customers and profiles through the account prefix.
    await page.setViewportSize({ width: 1100, height: 900 });
    const made = await fetch(`${base}/api/v1.0/accounts`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Brand North", countryCode: "CA", timezone: "America/Toronto" }),
    });
    if (made.status !== 201) throw new Error(`creating an account answered ${made.status}`);
    const account = (await made.json()).data.id;
    await page.goto(`${base}/?signed-in-again`); // a new load of the page, in the same tab (same session token)
    await page.getByRole("link", { name: "Brand North" }).click();
    await page.locator("#account-name", { hasText: "Brand North" }).waitFor();
    await shot("account-chosen");
    await page.locator("#new-customer").evaluate((details) => { details.open = true; });
    await cf.getByLabel("Name", { exact: true }).fill("North Customer");
    await cf.getByLabel("Name", { exact: true }).press("Enter");
    await page.locator("#customer-title", { hasText: "North Customer" }).waitFor();
    const facts = await page.locator("#customer-facts").innerText();
    if (!facts.includes("CA") || !facts.includes("America/Toronto")) throw new Error(`not the account's country: ${facts}`);
    const hash = await page.evaluate(() => location.hash);
    if (!hash.startsWith(`#/accounts/${account}/customers/`)) throw new Error(`the page is not under the account: ${hash}`);
    await page.locator("#new-profile").evaluate((details) => { details.open = true; });
    await pf.getByLabel("PBX type").selectOption({ label: "Microsoft Teams" });
    await pf.getByLabel("Name", { exact: true }).fill("North Teams");
    await pf.getByLabel("Microsoft tenant ID").fill(crypto.randomUUID());
    await page.getByRole("button", { name: "Create profile" }).click();
    await confirm("Accept the charge?");
    await notice("Profile North Teams created");
    await page.locator("#profile-rows tr", { hasText: "North Teams" }).waitFor();
    await shot("account-profile-created");

    // A customer with its licence counts and its first profile, in one create (the charge asked first).
    await page.getByRole("link", { name: "← All customers" }).click();
    await page.locator("#new-customer").evaluate((details) => { details.open = true; });
    await cf.getByLabel("Name", { exact: true }).fill("With Teams");
    await cf.getByLabel("Features agent (optional)").fill("5");
    await page.locator("#first-profile").evaluate((details) => { details.open = true; });
    // Its fields are labelled as the profile form's are (the document's titles).
    await cf.getByLabel("First profile's PBX type").selectOption({ label: "3CX" });
    if ((await page.locator("#first-profile").getByLabel("Licence key").count()) !== 1) throw new Error("the first profile's licence field is not labelled by its title");
    await cf.getByLabel("First profile's PBX type").selectOption({ label: "Microsoft Teams" });
    await cf.getByLabel("Name", { exact: true }).last().fill("First Teams");
    await cf.getByLabel("Microsoft tenant ID").fill(crypto.randomUUID());
    await page.getByRole("button", { name: "Create customer" }).click();
    await confirm("Accept the charge?", "the first profile “First Teams” of the customer");
    await page.locator("#customer-title", { hasText: "With Teams" }).waitFor();
    await page.locator("#profile-rows tr", { hasText: "First Teams" }).waitFor();
    const withTeams = await page.evaluate(() => location.hash.slice(1));
    const madeWithTeams = await (await fetch(`${base}/api/v1.0${withTeams}`, { headers: { Authorization: `Bearer ${token}` } })).json();
    if (JSON.stringify(madeWithTeams.data.features) !== JSON.stringify({ agent: 5, device: 0 }) || madeWithTeams.data.pbxConnectionProfiles.length !== 1) {
      throw new Error(`not the customer the form described: ${JSON.stringify(madeWithTeams.data)}`);
    }
    await shot("customer-with-first-profile");
    const headers = { Authorization: `Bearer ${token}` };
    const under = await (await fetch(`${base}/api/v1.0/accounts/${account}/customers`, { headers })).json();
    const own = await (await fetch(`${base}/api/v1.0/customers?pageSize=1000`, { headers })).json();
    if (!under.data.some((c) => c.name === "North Customer")) throw new Error("the customer is not the account's");
    if (own.data.some((c) => c.name === "North Customer")) throw new Error("the customer is the tenant's own");
    await page.getByRole("link", { name: "All accounts" }).click();
    await page.locator("#account-rows", { hasText: "Brand North" }).waitFor();
    await shot("accounts");

    // Webhooks: one created for one event type (its secret shown once), disabled, pinged, its deliveries read
    // (the ping among them, retried, refreshed), deleted.
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.locator("#webhooks-title").waitFor();
    await page.locator("#webhook-name").fill("CRM");
    await page.locator("#webhook-url").fill("https://crm.example.com/hooks");
    await page.getByLabel("pbx.enabled").check();
    await page.getByRole("button", { name: "Create webhook" }).click();
    await notice("Webhook CRM created.");
    await page.locator("#webhook-rows tr", { hasText: "CRM" }).waitFor();
    // The secret in a panel of its own, which the next action does not take away.
    const secretValue = page.locator("#secret-value");
    const secret = await secretValue.innerText();
    if (!secret.startsWith("whsec_")) throw new Error(`the secret panel shows "${secret}"`);
    await shot("webhook-created");
    const hooks = await (await fetch(`${base}/api/v1.0/webhooks`, { headers })).json();
    if (JSON.stringify(hooks.data.map((w) => w.events)) !== JSON.stringify([["pbx.enabled"]]) || "secret" in hooks.data[0]) {
      throw new Error(`not the webhook the form described: ${JSON.stringify(hooks.data)}`);
    }
    await page.locator("#webhook-rows tr", { hasText: "CRM" }).getByRole("button", { name: "Disable" }).click();
    await notice("CRM disabled.");
    if (!(await page.locator("#secret-panel").isVisible()) || (await secretValue.innerText()) !== secret) {
      throw new Error("the secret is gone after the next action");
    }
    await page.getByRole("button", { name: "Copy" }).click();
    await page.locator("#secret-copied", { hasText: /Copied|Selected/ }).waitFor({ timeout: 5000 });
    await page.getByRole("button", { name: "I have saved it" }).click();
    if (await page.locator("#secret-panel").isVisible()) throw new Error("the secret panel stays after it was saved");
    // A disabled webhook is not pinged (409): enabled again first.
    await page.locator("#webhook-rows tr", { hasText: "CRM" }).getByRole("button", { name: "Ping" }).click();
    await notice("enable it before a test delivery");
    await page.locator("#webhook-rows tr", { hasText: "CRM" }).getByRole("button", { name: "Enable" }).click();
    await notice("CRM enabled.");
    await page.locator("#webhook-rows tr", { hasText: "CRM" }).getByRole("button", { name: "Ping" }).click();
    await notice("A test delivery is on its way");
    for (let tries = 0; ; tries += 1) {
      await page.locator("#webhook-rows tr", { hasText: "CRM" }).getByRole("button", { name: "Deliveries" }).click();
      await page.locator("#deliveries").waitFor();
      if ((await page.locator("#delivery-rows tr", { hasText: "webhook.ping" }).count()) > 0) break;
      if (tries === 50) throw new Error("the ping is not in the deliveries");
      await page.waitForTimeout(200);
    }
    // A failure reads as a sentence; a retry counts as the ping's second attempt, which Refresh shows.
    const pingRow = page.locator("#delivery-rows tr", { hasText: "webhook.ping" });
    await pingRow.locator("td", { hasText: "The receiver's host name does not resolve." }).waitFor({ timeout: 5000 });
    await pingRow.getByRole("button", { name: "Retry" }).click();
    await notice("Sent again");
    for (let tries = 0; ; tries += 1) {
      await page.getByRole("button", { name: "Refresh" }).click();
      if ((await pingRow.locator('td[data-label="Attempts"]').innerText()) === "2") break;
      if (tries === 50) throw new Error("the retried ping's attempts do not count up");
      await page.waitForTimeout(200);
    }
    // Each delivery says when it was last tried, in UTC.
    const tried = await pingRow.locator('td[data-label="Last attempt"]').innerText();
    if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/.test(tried.trim())) throw new Error(`a delivery's time shown as "${tried}"`);
    await shot("webhook-deliveries");
    // At 400 px every row keeps every column, each under its heading: the webhook's name and state, the
    // deliveries, nothing scrolling sideways.
    await page.setViewportSize({ width: 400, height: 800 });
    const hookRow = page.locator("#webhook-rows tr", { hasText: "CRM" });
    for (const [label, text] of [["Name", "CRM"], ["Enabled", "Yes"]]) {
      const cell = hookRow.locator(`td[data-label="${label}"]`);
      if (!(await cell.isVisible()) || (await cell.innerText()).trim() !== text) throw new Error(`at 400 px the webhook's ${label} is not shown`);
    }
    if (!(await pingRow.locator('td[data-label="Attempts"]').isVisible())) throw new Error("at 400 px a delivery's attempts are not shown");
    const sideways = await page.evaluate(() => [...document.querySelectorAll(".table-wrap")]
      .filter((wrap) => wrap.offsetParent !== null).map((wrap) => wrap.scrollWidth - wrap.clientWidth).filter((extra) => extra > 1));
    if (sideways.length) throw new Error(`at 400 px a table scrolls sideways by ${sideways.join(", ")} px`);
    const tooWide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (tooWide > 0) throw new Error(`the page is ${tooWide}px wider than a 400 px screen`);
    await shot("webhooks-400px");
    await page.setViewportSize({ width: 1100, height: 900 });
    const deleteHook = page.locator("#webhook-rows tr", { hasText: "CRM" }).getByRole("button", { name: "Delete CRM" });
    if (!(await deleteHook.getAttribute("class") || "").includes("danger")) throw new Error("a webhook's Delete is not marked dangerous");
    await deleteHook.click();
    await confirm("Delete the webhook?");
    await notice("CRM deleted.");
    // Its delivery log closed with it, and the empty list says so.
    if (await page.locator("#deliveries").isVisible()) throw new Error("a deleted webhook's deliveries stay open");
    await page.locator("#webhook-rows", { hasText: "No webhook yet" }).waitFor({ timeout: 10000 });
    await shot("webhook-deleted");
    if (errors.length) throw new Error(`the page logged errors: ${errors.join("; ")}`);
    console.log(`portal: ${steps.length} steps passed`);
  } catch (error) {
    await page.screenshot({ path: path.join(folder, "portal-failure.png"), fullPage: true }).catch(() => {});
    throw error;
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
