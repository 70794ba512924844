// Runs the client against a real pocketramp: builds ./cmd/pocketramp, serves it on a temporary
// data dir (SQLite) with free ports, takes the credentials it prints, and drives the documented
// flow. POCKETRAMP_BIN may name an already built binary.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { PocketRamp, BusinessError, ValidationError, verifyWebhook, verifyStandardWebhook, WebhookVerificationError, formEncode } from "../dist/index.js";

const repo = resolve(import.meta.dirname, "../../..");
const wallet = "0x52908400098527886E0F7030069857D2E4169EE7";
let proc, dir, base, key, secret, client;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "pocketramp-ts-"));
  let bin = process.env.POCKETRAMP_BIN;
  if (!bin) {
    bin = join(dir, "pocketramp");
    execFileSync("go", ["build", "-o", bin, "./cmd/pocketramp"], { cwd: repo, stdio: "inherit" });
  }
  proc = spawn(bin, ["serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data-dir", join(dir, "data")], {
    env: { ...process.env, POCKETRAMP_DATABASE_URL: "", POCKETRAMP_PRICE_SOURCES: "sandbox" },
    stdio: ["ignore", "pipe", "ignore"],
  });
  const lines = createInterface({ input: proc.stdout });
  await new Promise((ok, fail) => {
    proc.once("exit", (code) => fail(new Error(`pocketramp exited with ${code}`)));
    lines.on("line", (line) => {
      key ??= line.match(/api_key:\s+(\S+)/)?.[1];
      secret ??= line.match(/api_secret:\s+(\S+)/)?.[1];
      base ??= line.match(/(http:\/\/127\.0\.0\.1:\d+)\/api\/authenticate/)?.[1];
      if (key && secret && base) ok();
    });
  });
  lines.on("line", () => {}); // keep draining stdout
  client = new PocketRamp(base, key, secret);
});

after(() => {
  proc?.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
});

async function verifiedCustomer(email) {
  const u = await client.registerUser({ name: "Lucía", last_name: "García", email, country_code: "ESP", password: "123456" });
  await client.call("post", "/sandbox/customers/{user_id}/kyc", { path: { user_id: u.data.id }, body: { status: "valid", level: "reinforced" } });
  return u.data.id;
}

test("login is cached and renewed when the server refuses the token", async () => {
  const t1 = await client.getToken();
  assert.equal(await client.getToken(), t1);
  client["token"] = { value: "tok_forged", expiresAt: Date.now() + 3600_000 }; // as if revoked
  const assets = await client.call("get", "/available-assets");
  assert.ok(assets.data.some((a) => a.symbol === "USDC" && a.chain === "polygon"));
  assert.notEqual(await client.getToken(), "tok_forged");
});

test("typed errors: business and validation", async () => {
  await assert.rejects(client.checkKyc(999999), (e) => e instanceof BusinessError && e.code === "user_not_found" && e.httpStatus === 200);
  await assert.rejects(client.registerUser({ name: "x" }), (e) => e instanceof ValidationError && e.httpStatus === 422 && e.fields.email?.length === 1);
  await assert.rejects(
    client.createPayment({ user_id: 999999, fiat_symbol: "EUR", fiat_amount: 20, coin_symbol: "USDC", coin_chain: "polygon", wallet }),
    (e) => e instanceof BusinessError && e.code === "user_not_found",
  );
});

test("buy by transfer and through the gateway, answers as documented", async () => {
  const uid = await verifiedCustomer("ts-buyer@example.com");
  const p = await client.createPayment({ user_id: uid, external_id: "ts-1", fiat_symbol: "EUR", fiat_amount: 120, coin_symbol: "USDC", coin_chain: "polygon", wallet });
  assert.equal(p.status, "sucess"); // sic, CryptoPocket's documented literal for a transfer
  assert.equal(p.message, "payment_created");
  assert.equal(typeof p.data.concept, "number");
  const g = await client.createGuidedPayment({ user_id: uid, coin_symbol: "USDC", coin_chain: "polygon", fiat_amount: 100, payment_type: "card", external_id: "ts-g" });
  assert.equal(g.status, "success");
  assert.equal(g.data.external_id, "ts-g");
  const got = await client.getPayment(p.data.payment_id);
  assert.equal(got.data.status, "started");
  assert.equal(got.data.fiat_amount, 12000);
  assert.equal(got.data.user_id, String(uid));
});

test("webhook deliveries verify with both schemes; a tampered body does not", async () => {
  const received = [];
  const srv = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ body: Buffer.concat(chunks), headers: req.headers });
      res.end("ok");
    });
  });
  await new Promise((ok) => srv.listen(0, "127.0.0.1", ok));
  try {
    const url = `http://127.0.0.1:${srv.address().port}/hooks`;
    assert.equal((await client.subscribeToWebhook("PAY_IN", url)).data, "subscription_created");
    const uid = await verifiedCustomer("ts-hooks@example.com");
    const p = await client.createPayment({ user_id: uid, fiat_symbol: "EUR", fiat_amount: 50, coin_symbol: "USDC", coin_chain: "polygon", wallet });
    await client.call("post", "/sandbox/payments/{payment_id}/pay", { path: { payment_id: p.data.payment_id }, body: {} });
    const deadline = Date.now() + 60_000;
    while (!received.some((r) => JSON.parse(r.body).type === "PAY_IN") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const hook = received.find((r) => JSON.parse(r.body).type === "PAY_IN");
    assert.ok(hook, "no PAY_IN delivery");
    const whsec = (await client.listWebhooks()).data.signing_secret;
    verifyWebhook(hook.body, hook.headers, key, secret);
    verifyStandardWebhook(hook.body, hook.headers, whsec);
    const tampered = Buffer.from(hook.body.toString().replace('"PAY_IN"', '"COINS_SENT"'));
    assert.throws(() => verifyWebhook(tampered, hook.headers, key, secret), (e) => e instanceof WebhookVerificationError && e.reason === "signature");
    assert.throws(() => verifyStandardWebhook(tampered, hook.headers, whsec), (e) => e instanceof WebhookVerificationError && e.reason === "signature");
    assert.throws(() => verifyWebhook(hook.body, hook.headers, key, secret, Date.now() + 10 * 60_000), (e) => e.reason === "timestamp");
  } finally {
    srv.close();
  }
});

test("form encoding nests the Laravel way", () => {
  assert.equal(formEncode({ a: { b: 1 }, c: [1, 2], d: "x y" }), "a%5Bb%5D=1&c%5B%5D=1&c%5B%5D=2&d=x+y");
});
