// The reseller portal: plain JavaScript over the public API (/api/v1.0). The forms are built from the OpenAPI
// document the server publishes (/api/openapi.json): fields, required ones, lengths and hints come from there.
// A tenant with accounts (the enterprise tier) first picks one; the customer pages then work through the account
// prefix (/api/v1.0/accounts/{id}/customers…), unchanged otherwise.
"use strict";

const API = "/api/v1.0";
const PAGE_SIZE = 20;
const TOKEN_KEY = "pbx.token";
const state = { token: sessionStorage.getItem(TOKEN_KEY), spec: null, page: 0, filter: "", customer: null, account: null };

// The routes of the chosen account (`/accounts/{id}`), or none: prefixed to customer and profile paths, both in the
// API and in the page's own links.
const scope = () => (state.account ? `/accounts/${state.account.id}` : "");
const $ = (id) => document.getElementById(id);

// ---- talking to the API ---------------------------------------------------------------------------------------

async function api(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { Authorization: `Bearer ${state.token}`, ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    const tenantRoute = path.startsWith("/customers") || path.startsWith("/pbxs");
    response = await fetch(API + (tenantRoute ? scope() : "") + path, init);
  } catch (error) {
    state.unreachable = true;
    return { status: 0, headers: new Headers(), json: { message: `The server could not be reached (${error.message}).` } };
  }
  // The server answers again: the notice that said it could not be reached is out of date.
  if (state.unreachable) {
    state.unreachable = false;
    if ($("notice").className === "error" && $("notice").textContent.startsWith("The server could not be reached")) notify("");
  }
  let json = null;
  try {
    json = await response.json();
  } catch (_) {
    json = { message: `The server answered ${response.status}.` };
  }
  if (response.status === 401) signOut(`The token was refused: ${json.message}`);
  return { status: response.status, headers: response.headers, json };
}

// The charges handshake: a 402 asks the user, and with their consent the same request goes again with
// `accept-charges: true` (and the same Idempotency-Key, so that it cannot create twice). `subject` names what the
// charge is for (the profile), which the API's message does not.
async function withCharges(method, path, options = {}, subject = "") {
  let answer = await api(method, path, options);
  if (answer.status === 402) {
    // The API's first sentence says what is charged; the rest is meant for scripts (which header to send).
    const what = answer.json.message.split(". ")[0].replace(/\.$/, "");
    const accepted = await ask("Accept the charge?", `${what}${subject ? `: ${subject}` : ""}. Accept the charge and go on?`);
    if (!accepted) {
      notify("Nothing was changed: the charge was not accepted.");
      return null;
    }
    const headers = { ...(options.headers || {}), "accept-charges": "true" };
    answer = await api(method, path, { ...options, headers });
  }
  return answer;
}

// ---- small helpers --------------------------------------------------------------------------------------------

// A table's body filled with `rows`, each cell labelled with its column's heading: on a narrow screen the rows are
// cards, each cell its heading then its value (app.css), so that no column is lost and nothing scrolls sideways.
function fillRows(id, rows) {
  const body = $(id);
  const headings = [...body.closest("table").querySelectorAll("thead th")].map((th) => th.textContent);
  for (const row of rows) {
    // A cell across the columns (an empty list's sentence) has no heading of its own.
    [...row.children].filter((cell) => !cell.hasAttribute("colspan"))
      .forEach((cell, index) => cell.setAttribute("data-label", headings[index] || ""));
  }
  body.replaceChildren(...rows);
}

// An API time (RFC 3339, UTC) as people read it everywhere: `2026-12-07 14:03:05 UTC`.
function utc(time) {
  return time ? `${time.slice(0, 19).replace("T", " ")} UTC` : "";
}

// A description of the OpenAPI document (CommonMark) as text: its `code spans` as code, never with their backticks.
function prose(text) {
  return text.split("`").map((part, index) => (index % 2 ? el("code", { text: part }) : part)).filter((part) => part !== "");
}

// What a form shows of a field's description: its first sentence, written for people; the sentences after it (the
// characters refused beyond the pattern, the exact wire format) are for the API reference.
function summary(text) {
  return text.split(/(?<=\.)\s+(?=[A-Z`])/)[0];
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (value === true) node.setAttribute(name, "");
    else if (value !== false && value !== undefined && value !== null) node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

// A notice stays on screen until the next navigation, unless it announces that navigation.
function notify(message, kind = "info", { keep = false } = {}) {
  state.keepNotice = keep;
  const notice = $("notice");
  notice.className = kind;
  notice.textContent = message;
  notice.setAttribute("role", kind === "error" ? "alert" : "status");
}

function ask(title, text) {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.showModal();
  // Cancel has the focus: Enter never accepts a charge or a delete by itself.
  $("confirm-no").focus();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true }));
}

function show(section) {
  for (const id of ["sign-in", "accounts", "customers", "customer", "webhooks"]) $(id).hidden = id !== section;
  $("site-nav").hidden = section === "sign-in";
  $("account-bar").hidden = !state.account || section === "sign-in" || section === "accounts";
  if (state.account) $("account-name").textContent = state.account.name;
  $("sign-out").hidden = section === "sign-in";
}

function label(name) {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  const fixed = words.replace(/\bapi\b/g, "API").replace(/\bid\b/g, "ID").replace(/\brest\b/g, "REST");
  return fixed.charAt(0).toUpperCase() + fixed.slice(1);
}

// ---- forms from the OpenAPI document --------------------------------------------------------------------------

async function spec() {
  if (!state.spec) state.spec = await (await fetch("/api/openapi.json")).json();
  return state.spec;
}

function schema(document, ref) {
  return document.components.schemas[ref.split("/").pop()];
}

// The fields of an object schema, `_type` aside: what kind of input, whether required, length, hint. An object
// of counts (a customer's `features`) becomes one number input per count, named `features.agent`…; a profile (a
// customer's first `pbxConnectionProfile`) has a part of the form of its own (see `setUpFirstProfile`).
function fieldsOf(objectSchema, document) {
  const required = new Set(objectSchema.required || []);
  const counts = ([name, property]) => {
    const ref = (property.oneOf || []).find((item) => item.$ref);
    const target = ref && document ? schema(document, ref.$ref) : null;
    if (!target || target.discriminator || !target.properties) return [];
    return Object.entries(target.properties).map(([part, sub]) => ({
      name: `${name}.${part}`, title: label(`${name} ${part}`), required: false, kind: "number",
      hint: summary(sub.description || ""), min: sub.minimum, max: sub.maximum,
    }));
  };
  return Object.entries(objectSchema.properties)
    .filter(([name, property]) => name !== "_type" && ![].concat(property.type || []).includes("object"))
    .flatMap((entry) => ((entry[1].oneOf || []).some((item) => item.$ref) ? counts(entry) : [entry]))
    .map((entry) => {
      if (!Array.isArray(entry)) return entry;
      const [name, property] = entry;
      const flag = (property.oneOf || []).some((item) => item.type === "boolean");
      return {
        name,
        // The document's title where it has one ("Licence key"), else the name in words.
        title: property.title || label(name),
        required: required.has(name),
        kind: flag ? "checkbox" : property.format === "password" ? "password" : "text",
        checked: flag && property.default === true,
        maxLength: property.maxLength,
        hint: property.description && !flag ? summary(property.description) : "",
        example: property.example ?? (property.examples || [])[0],
      };
    });
}

function renderFields(container, prefix, fields) {
  container.replaceChildren();
  for (const field of fields) {
    const id = `${prefix}-${field.name}`;
    const hintId = `${id}-hint`;
    const errorId = `${id}-error`;
    const input = el("input", {
      id, name: field.name, type: field.kind, required: field.required, maxlength: field.maxLength, checked: field.checked,
      min: field.min, max: field.max, "data-label": field.title,
      autocomplete: field.kind === "password" ? "new-password" : "off",
      placeholder: field.kind === "text" && field.example ? `e.g. ${field.example}` : undefined,
      "aria-describedby": `${field.hint ? hintId : ""} ${errorId}`.trim(),
      "data-field": field.name,
    });
    const text = field.title + (field.required ? "" : " (optional)");
    const wrapper = field.kind === "checkbox"
      ? el("div", { class: "field check" }, input, el("label", { for: id, text }))
      : el("div", { class: "field" }, el("label", { for: id, text }), input);
    if (field.hint) wrapper.append(el("p", { class: "hint", id: hintId }, ...prose(field.hint)));
    wrapper.append(el("p", { class: "error", id: errorId, "aria-live": "polite" }));
    container.append(wrapper);
  }
}

// The form's values; a name with a dot (`features.agent`, `pbxConnectionProfile.name`) goes into an object of that
// name, and a group of counts is sent whole (an empty count as 0) when one of them is filled.
function formValues(form) {
  const values = {};
  const numbers = {};
  const put = (name, value) => {
    const [outer, inner] = name.split(".");
    if (!inner) values[outer] = value;
    else (values[outer] = values[outer] || {})[inner] = value;
  };
  for (const input of form.querySelectorAll("[data-field]")) {
    if (input.type === "checkbox") put(input.name, input.checked);
    else if (input.type === "number") (numbers[input.name.split(".")[0]] = numbers[input.name.split(".")[0]] || []).push(input);
    else if (input.value.trim() !== "") put(input.name, input.value);
  }
  for (const inputs of Object.values(numbers)) {
    if (inputs.some((input) => input.value.trim() !== "")) {
      for (const input of inputs) put(input.name, input.value.trim() === "" ? 0 : Number(input.value));
    }
  }
  // A first profile's checkboxes alone (no type chosen) are not a profile.
  if (values.pbxConnectionProfile && !values.pbxConnectionProfile._type) delete values.pbxConnectionProfile;
  return values;
}

function clearErrors(form) {
  for (const error of form.querySelectorAll(".error")) error.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

// A 400's `errors` next to the fields they name; the rest (and the message) in the notice.
function showErrors(form, answer) {
  const loose = [];
  let first = null;
  for (const { field, message } of answer.json.errors || []) {
    const input = form.querySelector(`[data-field="${CSS.escape(field)}"]`);
    if (!input) {
      loose.push(`${field}: ${message}`);
      continue;
    }
    input.setAttribute("aria-invalid", "true");
    $(`${input.id}-error`).textContent = `${input.dataset.label || label(field)} ${message}.`;
    first = first || input;
  }
  notify([answer.json.message, ...loose].join(" "), "error");
  if (first) first.focus();
}

// ---- signing in -----------------------------------------------------------------------------------------------

function signOut(message, kind = "error") {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  show("sign-in");
  if (message) notify(message, kind);
}

function signIn(token) {
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  $("token").value = "";
  route();
}

async function setUpSignIn() {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim().replace(/^Bearer\s+/i, "");
    if (token) signIn(token);
  });
  $("sign-out").addEventListener("click", () => signOut("Signed out.", "info"));
  try {
    const config = await (await fetch("/portal/config.json")).json();
    $("dev-token").hidden = !config.devTokens;
  } catch (_) {
    $("dev-token").hidden = true;
  }
  $("dev-token").addEventListener("click", async () => {
    const response = await fetch("/portal/dev-token", { method: "POST" });
    const json = await response.json();
    if (response.ok) {
      notify(`Signed in as the development reseller ${json.data.tenantId}.`, "info", { keep: true });
      signIn(json.data.token);
    } else notify(json.message, "error");
  });
}

// ---- customers ------------------------------------------------------------------------------------------------

async function showCustomers() {
  show("customers");
  const query = new URLSearchParams({ pageIndex: state.page, pageSize: PAGE_SIZE });
  if (state.filter) query.set("filter", state.filter);
  const answer = await api("GET", `/customers?${query}`);
  if (answer.status !== 200) return notify(answer.json.message, "error");
  const rows = answer.json.data.map((customer) => el("tr", {},
    el("td", {}, el("a", { href: `#${scope()}/customers/${customer.id}`, text: customer.name })),
    el("td", { text: customer.reference || "" }),
    el("td", { text: customer.countryCode }),
    // The date as the API writes it (ISO 8601): "12/6/2026" reads as June in half the world.
    el("td", { text: customer.dateCreated.slice(0, 10) })));
  if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: 4, text: state.filter ? "No customer matches." : "No customer yet: create one below." })));
  fillRows("customer-rows", rows);
  $("customers-page").textContent = `Page ${state.page + 1}`;
  $("customers-prev").disabled = state.page === 0;
  $("customers-next").disabled = answer.json.data.length < PAGE_SIZE;
  const document = await spec();
  const form = $("customer-form");
  if (!form.childElementCount) {
    const fields = el("div");
    renderFields(fields, "customer", fieldsOf(document.components.schemas.NewCustomer, document));
    form.append(fields, await setUpFirstProfile(),
      el("div", { class: "actions" }, el("button", { type: "submit", text: "Create customer" })));
  }
}

// The customer form's optional first profile: a type to choose, then that type's fields, named
// `pbxConnectionProfile.<field>` as the API names their problems.
async function setUpFirstProfile() {
  const types = await profileTypes();
  const select = el("select", { id: "first-type", name: "pbxConnectionProfile._type", "data-field": "pbxConnectionProfile._type" },
    el("option", { value: "", text: "None" }), ...types.map((t) => el("option", { value: t.type, text: t.label })));
  const fields = el("div", { id: "first-fields" });
  select.addEventListener("change", () => {
    const type = types.find((t) => t.type === select.value);
    if (!type) return fields.replaceChildren();
    renderFields(fields, "first", type.fields.map((f) => ({ ...f, name: `pbxConnectionProfile.${f.name}` })));
  });
  return el("details", { id: "first-profile" }, el("summary", { text: "With a first PBX profile (optional)" }),
    el("label", { for: "first-type", text: "First profile's PBX type" }), select, fields);
}

async function createCustomer(event) {
  event.preventDefault();
  const form = event.target;
  clearErrors(form);
  const body = formValues(form);
  const first = body.pbxConnectionProfile;
  const subject = first ? `the first profile “${first.name}” of the customer “${body.name}”` : "";
  const answer = await withCharges("POST", "/customers", { body, headers: { "Idempotency-Key": crypto.randomUUID() } }, subject);
  if (!answer) return;
  if (answer.status === 201) {
    form.querySelector("#first-fields")?.replaceChildren();
    form.reset();
    notify(`Customer ${answer.json.data.name} created.`, "success", { keep: true });
    location.hash = `#${scope()}/customers/${answer.json.data.id}`;
  } else if (answer.status === 400) showErrors(form, answer);
  else notify(answer.json.message, "error");
}

// ---- one customer and its profiles ----------------------------------------------------------------------------

async function showCustomer(id) {
  show("customer");
  const customer = await api("GET", `/customers/${id}`);
  if (customer.status !== 200) return notify(customer.json.message, "error");
  state.customer = customer.json.data;
  $("all-customers").href = `#${scope()}/`;
  $("customer-title").textContent = state.customer.name;
  $("customer-facts").textContent = [state.customer.reference, state.customer.countryCode, state.customer.timezone]
    .filter(Boolean).join(" · ");
  await listProfiles();
  await setUpProfileForm();
}

async function listProfiles() {
  const id = state.customer.id;
  const list = await api("GET", `/customers/${id}/pbxs?pageSize=1000`);
  if (list.status !== 200) return notify(list.json.message, "error");
  const profiles = list.json.data; // summaries; a profile's version is read when it is acted on (see `current`)
  const types = await profileTypes();
  const rows = profiles.map((profile) => {
    const name = profile.name;
    const toggle = el("button", { type: "button", class: "secondary", text: profile.enabled ? "Disable" : "Enable",
      "aria-label": `${profile.enabled ? "Disable" : "Enable"} ${name}` });
    toggle.addEventListener("click", () => changeProfile(profile, [{ op: "replace", path: "/enabled", value: !profile.enabled }],
      profile.enabled ? `${name} disabled.` : `${name} enabled.`));
    const rename = el("button", { type: "button", class: "secondary", text: "Rename", "aria-label": `Rename ${name}` });
    rename.addEventListener("click", () => renameProfile(profile));
    const remove = el("button", { type: "button", class: "danger", text: "Delete", "aria-label": `Delete ${name}` });
    remove.addEventListener("click", () => deleteProfile(profile));
    const check = el("button", { type: "button", class: "secondary", text: "Check now", "aria-label": `Check the connection of ${name}` });
    check.addEventListener("click", () => checkProfile(profile, check));
    const open = el("button", { type: "button", class: "link", text: name, "aria-expanded": "false",
      "aria-controls": `profile-details-${profile.id}`, title: `Show the details of ${name}` });
    const row = el("tr", { "data-profile": profile.id },
      el("td", {}, open),
      el("td", { text: types.find((t) => t.type === profile._type)?.label || profile._type }),
      el("td", { text: profile.countryCode }),
      el("td", { text: profile.enabled ? "Yes" : "No" }),
      el("td", {}, badge(profile.connection)),
      el("td", { class: "row-actions" }, check, toggle, rename, remove));
    open.addEventListener("click", () => toggleDetails(profile, row, open));
    return row;
  });
  if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: 6, text: "No PBX profile yet: create one below." })));
  fillRows("profile-rows", rows);
  // A check the service runs by itself ends within 12 s: look again while one runs, and for 30 s while a profile
  // this page just created (its answer said `checking`) is not checked yet — until the service takes it up, the
  // list shows it `unknown`.
  clearTimeout(state.recheck);
  const awaited = state.awaitingCheck && Date.now() < state.awaitingCheck.until
    && profiles.some((p) => p.id === state.awaitingCheck.id && p.connection && !p.connection.checkedAt);
  if (awaited || profiles.some((p) => p.connection && p.connection.state === "checking")) state.recheck = setTimeout(() => { if (state.customer && state.customer.id === id) listProfiles(); }, 2000);
}

// A profile's details under its row (what a get shows: never its secrets), or closed again.
async function toggleDetails(profile, row, button) {
  const shown = $(`profile-details-${profile.id}`);
  if (shown) {
    shown.remove();
    button.setAttribute("aria-expanded", "false");
    return;
  }
  const answer = await api("GET", `/customers/${state.customer.id}/pbxs/${profile.id}`);
  if (answer.status !== 200) return notify(answer.json.message, "error");
  const { connection, name, ...fields } = answer.json.data;
  const type = (await profileTypes()).find((t) => t.type === fields._type);
  const shownValue = (value) => {
    if (typeof value === "boolean") return value ? "Yes" : "No";
    if (value && typeof value === "object") return Object.entries(value).map(([k, v]) => `${label(k).toLowerCase()} ${v}`).join(", ");
    return String(value);
  };
  // A field's name as the form labels it: the document's title where it has one ("Monitor sub-accounts").
  const termOf = (key) => {
    const field = type && type.fields.find((f) => f.name === key);
    return field ? field.title : label(key);
  };
  // What every profile has first, then its type's own fields in the document's order.
  const first = ["_type", "id", "tenantId", "countryCode", "enabled"];
  const keys = [...first.filter((key) => key in fields), ...Object.keys(fields).filter((key) => !first.includes(key))];
  const facts = keys.map((key) => key === "_type"
    ? ["PBX type", type ? type.label : fields[key]]
    : [termOf(key), shownValue(fields[key])]);
  if (connection) facts.push(["Connection", [connection.state, connection.reason, connection.message].filter(Boolean).join(" — ")]);
  const list = el("dl", { class: "facts" }, ...facts.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })]));
  row.after(el("tr", { id: `profile-details-${profile.id}`, class: "details" }, el("td", { colspan: 6 }, list)));
  button.setAttribute("aria-expanded", "true");
}

// A profile's connection state as a coloured badge, its reason and message on hover (and for screen readers).
function badge(connection) {
  if (!connection) return el("span", { text: "—" });
  const words = { unknown: "Unknown", checking: "Checking…", connected: "Connected", degraded: "Degraded", failed: "Failed" };
  const why = [connection.reason, connection.message].filter(Boolean).join(": ");
  const text = words[connection.state] || connection.state;
  const attributes = { class: `badge ${connection.state}`, text, "data-state": connection.state };
  if (why) Object.assign(attributes, { title: why, "aria-label": `${text}: ${why}` });
  return el("span", attributes);
}

async function checkProfile(profile, button) {
  button.disabled = true;
  button.textContent = "Checking…";
  const answer = await api("POST", `/customers/${state.customer.id}/pbxs/${profile.id}/check`);
  button.disabled = false;
  button.textContent = "Check now";
  if (answer.status !== 200) return notify(answer.json.message, "error");
  await listProfiles();
  const connection = answer.json.data.connection;
  const why = connection.message ? ` ${connection.message}` : "";
  notify(`${profile.name}: ${connection.state}.${why}`, connection.state === "connected" ? "success" : "error");
}

// Checks the new profile's form as it would be saved: nothing is stored.
async function testConnection() {
  const form = $("profile-form");
  clearErrors(form);
  const result = $("test-result");
  result.textContent = "Testing…";
  const body = { _type: $("pbx-type").value, ...formValues(form) };
  const answer = await api("POST", `/customers/${state.customer.id}/pbxs/check`, { body });
  if (answer.status === 400) {
    result.textContent = "";
    return showErrors(form, answer);
  }
  if (answer.status !== 200) {
    result.textContent = "";
    return notify(answer.json.message, "error");
  }
  const connection = answer.json.data.connection;
  const words = { connected: "Connection works.", unknown: "Cannot be tested by the service.", failed: "Connection fails.", degraded: "Connection works, with trouble." };
  result.replaceChildren(badge(connection), ` ${words[connection.state] || ""} ${connection.message || ""}`);
}

const CHANGED = ["This profile has changed", "It was changed since this page read it. Reload it to see the change, then try again?"];

// The version (ETag) of `profile` now, if it still is as the table shows it; otherwise the user is told and offered
// a reload, and the answer is null. A change made elsewhere after this read is refused with a 412 (`afterWrite`).
async function current(profile) {
  const answer = await api("GET", `/customers/${state.customer.id}/pbxs/${profile.id}`);
  if (answer.status === 404) {
    await listProfiles();
    notify(`${profile.name} was deleted meanwhile.`, "error");
    return null;
  }
  if (answer.status !== 200) {
    notify(answer.json.message, "error");
    return null;
  }
  const now = answer.json.data;
  if (["name", "_type", "countryCode", "enabled"].some((field) => now[field] !== profile[field])) {
    if (await ask(...CHANGED)) await listProfiles();
    return null;
  }
  return answer.headers.get("ETag");
}

async function afterWrite(answer, done) {
  if (!answer) return;
  if (answer.status === 200 || answer.status === 201) {
    await listProfiles(); // the table first: the notice announces a page that shows the change
    notify(done, "success");
  } else if (answer.status === 412) {
    if (await ask(...CHANGED)) await listProfiles();
  } else notify(answer.json.message, "error");
}

async function changeProfile(profile, operations, done) {
  const etag = await current(profile);
  if (!etag) return;
  const path = `/customers/${state.customer.id}/pbxs/${profile.id}`;
  const headers = { "If-Match": etag, "Content-Type": "application/json-patch+json" };
  const subject = `the profile “${profile.name}” of ${state.customer.name}`;
  await afterWrite(await withCharges("PATCH", path, { body: operations, headers }, subject), done);
}

async function renameProfile(profile) {
  const dialog = $("rename");
  $("rename-name").value = profile.name;
  dialog.returnValue = "";
  dialog.showModal();
  dialog.addEventListener("close", async () => {
    const name = $("rename-name").value.trim();
    if (dialog.returnValue === "yes" && name && name !== profile.name) {
      await changeProfile(profile, [{ op: "replace", path: "/name", value: name }], `Renamed to ${name}.`);
    }
  }, { once: true });
}

async function deleteProfile(profile) {
  if (!(await ask(`Delete ${profile.name}?`, "The profile and its stored secrets are deleted for good."))) return;
  const etag = await current(profile);
  if (!etag) return;
  const path = `/customers/${state.customer.id}/pbxs/${profile.id}`;
  await afterWrite(await api("DELETE", path, { headers: { "If-Match": etag } }), `${profile.name} deleted.`);
}

// The profile types the API takes, each with its form, from the OpenAPI document.
async function profileTypes() {
  const document = await spec();
  return document.components.schemas.NewPbxProfile.oneOf.map((ref) => {
    const objectSchema = schema(document, ref.$ref);
    const type = objectSchema.properties._type.enum[0];
    const label = (objectSchema.description || type).replace(/^A new /, "").replace(/ profile\.?$/, "");
    // The field naming the PBX instance is the one the document says is "unique across the system".
    const instanceField = Object.keys(objectSchema.properties)
      .find((name) => /unique across the system/.test(objectSchema.properties[name].description || ""));
    return { type, label, instanceField, fields: fieldsOf(objectSchema) };
  });
}

async function setUpProfileForm() {
  const types = await profileTypes();
  $("test-result").textContent = "";
  const select = $("pbx-type");
  if (!select.childElementCount) {
    select.append(...types.map((t) => el("option", { value: t.type, text: t.label })));
    select.addEventListener("change", async () => {
      // Another type's form: the problems of the one before (beside its fields, in the notice) are not this one's.
      if ($("notice").className === "error") notify("");
      renderFields($("profile-fields"), "pbx", (await profileTypes()).find((t) => t.type === select.value).fields);
    });
  }
  renderFields($("profile-fields"), "pbx", types.find((t) => t.type === select.value).fields);
}

async function createProfile(event) {
  event.preventDefault();
  const form = event.target;
  clearErrors(form);
  const body = { _type: $("pbx-type").value, ...formValues(form) };
  const headers = { "Idempotency-Key": crypto.randomUUID() };
  const type = $("pbx-type").selectedOptions[0]?.textContent || "PBX";
  const subject = `the ${type} profile “${body.name}” of ${state.customer.name}`;
  const answer = await withCharges("POST", `/customers/${state.customer.id}/pbxs`, { body, headers }, subject);
  if (!answer) return;
  if (answer.status === 201) {
    const made = answer.json.data;
    if (made.connection && made.connection.state === "checking") state.awaitingCheck = { id: made.id, until: Date.now() + 30000 };
    // The answer shows the secrets back: they are not displayed, and the form (password fields included) is cleared.
    form.reset();
    await setUpProfileForm();
    await listProfiles();
    notify(`Profile ${answer.json.data.name} created (not enabled yet).`, "success");
  } else if (answer.status === 400) showErrors(form, answer);
  else if (answer.status === 409) {
    const instance = body[(await profileTypes()).find((t) => t.type === body._type).instanceField];
    const lookup = await api("GET", `/pbxs?instanceId=${encodeURIComponent(instance)}`);
    const own = lookup.json.data && lookup.json.data.tenantId;
    const message = `The PBX instance ${instance} is already attached to ${own ? (own === state.customer.id ? "this customer" : `your customer ${own}`) : "another reseller's customer"}: a PBX instance belongs to one customer only.`;
    // Next to the field that names the instance, as a 400's problems are, and in the notice.
    const field = (await profileTypes()).find((t) => t.type === body._type).instanceField;
    const input = form.querySelector(`[data-field="${CSS.escape(field)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      $(`${input.id}-error`).textContent = message;
      input.focus();
    }
    notify(message, "error");
  } else notify(answer.json.message, "error");
}

// ---- accounts (the enterprise tier) ---------------------------------------------------------------------------

// The caller's accounts, when it has any (a reseller's token has none, or no `accounts:read` scope: 403).
async function showAccounts() {
  const answer = await api("GET", "/accounts?pageSize=1000");
  if (answer.status !== 200 || answer.json.data.length === 0) return false;
  show("accounts");
  const rows = answer.json.data.map((account) => el("tr", {},
    el("td", {}, el("a", { href: `#/accounts/${account.id}/`, text: account.name })),
    el("td", { text: account.reference || "" }),
    el("td", { text: account.countryCode }),
    el("td", { text: account.enabled ? "Yes" : "No" })));
  fillRows("account-rows", rows);
  return true;
}

// Acts as the account `id` from now on (its name read once), or as the caller itself with none.
async function useAccount(id) {
  if (!id) {
    state.account = null;
    return true;
  }
  if (state.account && state.account.id === id) return true;
  const answer = await api("GET", `/accounts/${id}`);
  if (answer.status !== 200) {
    notify(answer.json.message, "error");
    return false;
  }
  state.account = { id, name: answer.json.data.name };
  state.page = 0;
  return true;
}

// ---- webhooks ---------------------------------------------------------------------------------------------------

// The event types a webhook may take, from the document (`NewWebhook.events`).
async function webhookEventTypes() {
  const events = (await spec()).components.schemas.NewWebhook.properties.events;
  const array = events && (events.oneOf || []).find((s) => s.type === "array");
  return array ? array.items.enum : [];
}

async function showWebhooks() {
  show("webhooks");
  const answer = await api("GET", "/webhooks?pageSize=1000");
  if (answer.status !== 200) return notify(answer.json.message, "error");
  const rows = answer.json.data.map((webhook) => {
    const toggle = el("button", { type: "button", class: "secondary", text: webhook.enabled ? "Disable" : "Enable" });
    toggle.addEventListener("click", () => setWebhookEnabled(webhook, !webhook.enabled));
    const ping = el("button", { type: "button", class: "secondary", text: "Ping" });
    ping.addEventListener("click", () => pingWebhook(webhook));
    const log = el("button", { type: "button", class: "secondary", text: "Deliveries" });
    log.addEventListener("click", () => showDeliveries(webhook));
    const rotate = el("button", { type: "button", class: "secondary", text: "New secret" });
    rotate.addEventListener("click", () => rotateSecret(webhook));
    const remove = el("button", { type: "button", class: "danger", text: "Delete", "aria-label": `Delete ${webhook.name}` });
    remove.addEventListener("click", () => deleteWebhook(webhook));
    return el("tr", {},
      el("td", { text: webhook.name }), el("td", { text: webhook.url }), el("td", { text: webhook.enabled ? "Yes" : "No" }),
      el("td", { class: "actions" }, toggle, ping, log, rotate, remove));
  });
  if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: 4, text: "No webhook yet: create one below." })));
  fillRows("webhook-rows", rows);
  if (!$("webhook-events").querySelector("input")) {
    for (const type of await webhookEventTypes()) {
      const id = `event-${type.replace(/\W/g, "-")}`;
      $("webhook-events").append(el("label", { for: id }, el("input", { type: "checkbox", id, value: type }), ` ${type}`));
    }
  }
}

async function createWebhook(event) {
  event.preventDefault();
  const events = [...$("webhook-events").querySelectorAll("input:checked")].map((box) => box.value);
  const body = { name: $("webhook-name").value, url: $("webhook-url").value };
  if (events.length) body.events = events;
  const answer = await api("POST", "/webhooks", { body, headers: { "Idempotency-Key": crypto.randomUUID() } });
  if (answer.status !== 201) return notify(fieldErrors(answer), "error");
  $("webhook-form").reset();
  await showWebhooks();
  showSecret(`The signing secret of ${answer.json.data.name}`, answer.json.data.secret);
  notify(`Webhook ${answer.json.data.name} created.`, "success");
}

// A secret shown once, in a panel of its own that stays until the user says it is saved (the next notice does not
// replace it), with a button that copies it.
function showSecret(title, secret) {
  $("secret-title").textContent = `${title}, shown this once`;
  $("secret-value").textContent = secret;
  $("secret-copied").textContent = "";
  $("secret-panel").hidden = false;
  $("secret-copy").focus();
}

// The API's message, with each field's problem.
function fieldErrors(answer) {
  const fields = (answer.json.errors || []).map((e) => `${e.field}: ${e.message}`);
  return [answer.json.message, ...fields].join(" ");
}

async function setWebhookEnabled(webhook, enabled) {
  const answer = await api("PATCH", `/webhooks/${webhook.id}`, {
    body: [{ op: "replace", path: "/enabled", value: enabled }],
    headers: { "Content-Type": "application/json-patch+json" },
  });
  if (answer.status !== 200) return notify(answer.json.message, "error");
  await showWebhooks();
  notify(`${webhook.name} ${enabled ? "enabled" : "disabled"}.`);
}

async function pingWebhook(webhook) {
  const answer = await api("POST", `/webhooks/${webhook.id}/ping`);
  if (answer.status !== 202) return notify(answer.json.message, "error");
  notify(`A test delivery is on its way to ${webhook.name}; its outcome will be in its deliveries.`);
}

async function rotateSecret(webhook) {
  if (!(await ask("Replace the secret?", `${webhook.name} gets a new signing secret; the current one keeps signing beside it for 24 hours.`))) return;
  const answer = await api("POST", `/webhooks/${webhook.id}/secret`);
  if (answer.status !== 200) return notify(answer.json.message, "error");
  showSecret(`The new signing secret of ${webhook.name}`, answer.json.data.secret);
}

async function deleteWebhook(webhook) {
  if (!(await ask("Delete the webhook?", `${webhook.name} receives nothing more.`))) return;
  const answer = await api("DELETE", `/webhooks/${webhook.id}`);
  if (answer.status !== 200) return notify(answer.json.message, "error");
  // Its delivery log, if open, is of a webhook that is gone (a Retry there would answer Not Found).
  if (state.deliveriesOf === webhook.id) $("deliveries").hidden = true;
  await showWebhooks();
  notify(`${webhook.name} deleted.`);
}

async function showDeliveries(webhook) {
  const answer = await api("GET", `/webhooks/${webhook.id}/deliveries?pageSize=50`);
  if (answer.status !== 200) return notify(answer.json.message, "error");
  $("deliveries-title").textContent = `Deliveries to ${webhook.name}`;
  state.deliveriesOf = webhook.id;
  const rows = answer.json.data.map((delivery) => {
    const retry = el("button", { type: "button", class: "secondary", text: "Retry" });
    retry.addEventListener("click", async () => {
      const sent = await api("POST", `/webhooks/${webhook.id}/deliveries/${delivery.eventId}/retry`);
      notify(sent.status === 202 ? "Sent again; Refresh (above the deliveries) shows its outcome." : sent.json.message, sent.status === 202 ? "info" : "error");
    });
    const last = delivery.lastStatusCode ? String(delivery.lastStatusCode) : (delivery.lastError || "");
    return el("tr", {},
      el("td", { text: utc(delivery.lastAttemptAt) }),
      el("td", { text: delivery.eventId }), el("td", { text: delivery.type }), el("td", { text: delivery.status }),
      el("td", { text: String(delivery.attempts) }), el("td", { text: last }),
      // The entry of a disabling is no delivery: nothing to send again.
      el("td", {}, ...(delivery.type === "webhook.disabled" ? [] : [retry])));
  });
  fillRows("delivery-rows", rows);
  $("deliveries-empty").hidden = rows.length > 0;
  $("deliveries").hidden = false;
  $("deliveries-refresh").onclick = () => showDeliveries(webhook);
}

// ---- navigation -----------------------------------------------------------------------------------------------

async function route() {
  if (!state.keepNotice) notify("");
  state.keepNotice = false;
  if (!state.token) return show("sign-in");
  if (location.hash === "#/webhooks") {
    state.account = null;
    return showWebhooks();
  }
  const match = location.hash.match(/^#(?:\/accounts\/([0-9a-fA-F-]{36}))?\/(?:customers\/([0-9a-fA-F-]{36}))?$/);
  const [account, customer] = match ? [match[1], match[2]] : [undefined, undefined];
  if (!account && !customer && (await showAccounts())) {
    state.account = null;
    return;
  }
  if (!(await useAccount(account))) return;
  if (customer) showCustomer(customer);
  else showCustomers();
}

document.addEventListener("DOMContentLoaded", async () => {
  await setUpSignIn();
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    state.filter = $("filter").value.trim();
    state.page = 0;
    showCustomers();
  });
  $("customers-prev").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); showCustomers(); });
  $("customers-next").addEventListener("click", () => { state.page += 1; showCustomers(); });
  $("customer-form").addEventListener("submit", createCustomer);
  $("profile-form").addEventListener("submit", createProfile);
  $("test-connection").addEventListener("click", testConnection);
  $("webhook-form").addEventListener("submit", createWebhook);
  $("secret-copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("secret-value").textContent);
      $("secret-copied").textContent = "Copied.";
    } catch (_) {
      // No clipboard (an insecure origin, a refused permission): the secret is selected for a manual copy.
      getSelection().selectAllChildren($("secret-value"));
      $("secret-copied").textContent = "Selected: copy it with Ctrl+C.";
    }
  });
  $("secret-saved").addEventListener("click", () => {
    $("secret-panel").hidden = true;
    $("secret-value").textContent = "";
  });
  window.addEventListener("hashchange", route);
  route();
});
