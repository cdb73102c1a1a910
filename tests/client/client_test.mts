// The seed's Kazoo create and what a client does next, through a TypeScript client generated from docs/openapi.json
// (openapi-typescript's types, openapi-fetch's client), type-checked by tsc before it runs: a document whose types
// do not fit these calls fails at compile time, an answer that does not fit them fails a step.
//
// Run by tests/client/run.sh, which generates `schema.d.ts` beside this file and starts the server.
import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type NewKazoo = components["schemas"]["NewKazooPbxConnectionProfile"];

const client = createClient<paths>({
  baseUrl: process.env.PBX_URL,
  headers: { Authorization: `Bearer ${process.env.PBX_TOKEN}` },
});
const steps: [string, boolean][] = [];

function step(name: string, ok: boolean, detail: unknown): void {
  steps.push([name, ok]);
  console.log(ok ? "ok    " : "FAILED", name, ok ? "" : JSON.stringify(detail));
}

const customer = await client.POST("/api/v1.0/customers", { body: { name: "TypeScript client customer" } });
step("create a customer: 201", customer.response.status === 201, customer.error);
const customerId = customer.data?.data.id ?? "";

// The seed's Kazoo request.
const kazoo: NewKazoo = {
  _type: "KazooPbxConnectionProfile",
  name: "Clients ~.pbx.kazoo.name.~ Pbx",
  hostRest: "https://rest.example.com",
  hostWebsocket: "wss://ws.example.com",
  accountId: `acct-${randomUUID()}`,
  apiKey: "ABCDEF",
};
const created = await client.POST("/api/v1.0/customers/{customer_id}/pbxs", {
  params: { path: { customer_id: customerId }, header: { "accept-charges": "true" } },
  body: kazoo,
});
step("create the seed's Kazoo profile: 201", created.response.status === 201, created.error);
const profile = created.data?.data;
step("the answer echoes the secret once", profile !== undefined && "apiKey" in profile && profile.apiKey === "ABCDEF",
  profile);
const pbxId = profile?.id ?? "";

const read = await client.GET("/api/v1.0/customers/{customer_id}/pbxs/{pbx_id}", {
  params: { path: { customer_id: customerId, pbx_id: pbxId } },
});
const shown = read.data?.data;
step("get: 200 with its ETag", read.response.status === 200 && read.response.headers.get("etag") === '"1"', read.error);
step("a get shows no secret", shown !== undefined && !("apiKey" in shown) && shown._type === "KazooPbxConnectionProfile",
  shown);
step("a get shows the connection status", typeof shown?.connection?.state === "string", shown?.connection);

const renamed = await client.PATCH("/api/v1.0/customers/{customer_id}/pbxs/{pbx_id}", {
  params: { path: { customer_id: customerId, pbx_id: pbxId }, header: { "If-Match": '"1"' } },
  body: [{ op: "replace", path: "/name", value: "Renamed from TypeScript" }],
  headers: { "Content-Type": "application/json-patch+json" },
});
step("patch: renamed, 200", renamed.response.status === 200 && renamed.data?.data.name === "Renamed from TypeScript",
  renamed.error);

const listed = await client.GET("/api/v1.0/customers/{customer_id}/pbxs", {
  params: { path: { customer_id: customerId } },
});
step("list: the profile", listed.data?.data.length === 1 && listed.data.data[0]?.id === pbxId, listed.error);

const missing = await client.GET("/api/v1.0/customers/{customer_id}/pbxs/{pbx_id}", {
  params: { path: { customer_id: customerId, pbx_id: randomUUID() } },
});
step("an unknown profile: 404 with the error envelope", missing.response.status === 404 && missing.error !== undefined,
  missing.error);

const failed = steps.filter(([, ok]) => !ok).length;
console.log(`typescript client: ${steps.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
