// pocketramp partner API client: the request and answer types are generated from
// openapi/openapi.yaml (src/schema.d.ts, `npm run generate`); this file is the thin hand-written
// layer: login and token refresh, typed errors, and webhook signature verification for both
// schemes pocketramp signs with.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { components, paths } from "./schema.js";

export type { components, operations, paths, webhooks } from "./schema.js";
export type Schemas = components["schemas"];

type Method = "get" | "post";
type JsonOf<T> = T extends { content: { "application/json": infer B } } ? B : never;
/** The request body of an operation (the JSON shape; forms carry the same fields). */
export type RequestBody<O> = O extends { requestBody: infer R } ? JsonOf<R> : O extends { requestBody?: infer R } ? JsonOf<R> : never;
/** The success answer of an operation (the 200 answer without the business-error member). */
export type Answer<O> = O extends { responses: { 200: infer R } } ? Exclude<JsonOf<R>, Schemas["BusinessError"]> : never;
type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? Q : never;
type PathOf<O> = O extends { parameters: { path?: infer Q } } ? Q : never;

/** Any failure the API reports. */
export class PocketRampError extends Error {
  constructor(message: string, readonly httpStatus: number, readonly requestId: string | null) {
    super(message);
    this.name = "PocketRampError";
  }
}

/** A business error: `{"status":"error","error":code}` (HTTP 200 unless the contract says otherwise). */
export class BusinessError extends PocketRampError {
  constructor(readonly code: string, message: string | undefined, readonly data: unknown, httpStatus: number, requestId: string | null) {
    super(message ? `${code}: ${message}` : code, httpStatus, requestId);
    this.name = "BusinessError";
  }
}

/** A request validation error (HTTP 422): one or more messages per field. */
export class ValidationError extends PocketRampError {
  constructor(message: string, readonly fields: Record<string, string[]>, httpStatus: number, requestId: string | null) {
    super(message, httpStatus, requestId);
    this.name = "ValidationError";
  }
}

export interface ClientOptions {
  fetch?: typeof fetch;
  /** Renew the token this long before it expires (default 30 s). */
  refreshMarginMs?: number;
}

export interface CallOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  path?: Record<string, string | number>;
  /** Send the body form-encoded (as the documentation shows the webhook subscription calls). */
  form?: boolean;
  idempotencyKey?: string;
}

/** The client of one integration. */
export class PocketRamp {
  private token: { value: string; expiresAt: number } | null = null;
  private login: Promise<string> | null = null;
  private readonly fetch: typeof fetch;
  private readonly margin: number;

  /** baseUrl is the server's address without /api, e.g. http://127.0.0.1:8080. */
  constructor(readonly baseUrl: string, private readonly apiKey: string, private readonly apiSecret: string, opts: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.margin = opts.refreshMarginMs ?? 30_000;
  }

  /** Logs in (POST /api/authenticate) and caches the token. */
  async authenticate(): Promise<Answer<paths["/authenticate"]["post"]>["data"]> {
    const r = (await this.send("post", "/authenticate", { body: { api_key: this.apiKey, api_secret: this.apiSecret } }, null)) as Answer<
      paths["/authenticate"]["post"]
    >;
    this.token = { value: r.data.token, expiresAt: Date.parse(r.data.expires_at) };
    return r.data;
  }

  /** The cached token, logging in when there is none or it is about to expire. */
  async getToken(): Promise<string> {
    if (this.token && this.token.expiresAt - this.margin > Date.now()) return this.token.value;
    this.login ??= this.authenticate().then((d) => d.token).finally(() => (this.login = null));
    return this.login;
  }

  /** Forgets the cached token (the next call logs in again). */
  forgetToken(): void {
    this.token = null;
  }

  /**
   * Calls any operation of the API by path and method, typed from the OpenAPI document. A token
   * the server no longer accepts (expired early, revoked) is renewed once and the call retried.
   */
  async call<P extends keyof paths, M extends Method & keyof paths[P]>(
    method: M,
    path: P,
    opts: Omit<CallOptions, "body" | "query" | "path"> & { body?: RequestBody<paths[P][M]>; query?: QueryOf<paths[P][M]>; path?: PathOf<paths[P][M]> } = {},
  ): Promise<Answer<paths[P][M]>> {
    const token = await this.getToken();
    try {
      return (await this.send(method, path as string, opts as CallOptions, token)) as Answer<paths[P][M]>;
    } catch (e) {
      if (e instanceof BusinessError && e.code === "authorization_incorrect") {
        this.forgetToken();
        return (await this.send(method, path as string, opts as CallOptions, await this.getToken())) as Answer<paths[P][M]>;
      }
      throw e;
    }
  }

  private async send(method: Method, path: string, opts: CallOptions, token: string | null): Promise<unknown> {
    let p = path;
    for (const [k, v] of Object.entries(opts.path ?? {})) p = p.replace(`{${k}}`, encodeURIComponent(String(v)));
    const url = new URL(this.baseUrl + "/api" + p);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { Accept: "application/json" };
    if (token) headers.auth = token;
    if (opts.idempotencyKey) headers["Idempotency-Key"] = opts.idempotencyKey;
    let body: string | undefined;
    if (opts.body !== undefined) {
      if (opts.form) {
        headers["Content-Type"] = "application/x-www-form-urlencoded";
        body = formEncode(opts.body as Record<string, unknown>);
      } else {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(opts.body);
      }
    } else if (method === "post") {
      headers["Content-Type"] = "application/json";
      body = "{}";
    }
    const res = await this.fetch(url, { method: method.toUpperCase(), headers, body });
    const requestId = res.headers.get("X-Request-Id");
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PocketRampError(`HTTP ${res.status}: ${text.slice(0, 200)}`, res.status, requestId);
    }
    if (json && (json.status === "error" || typeof json.error === "string")) {
      throw new BusinessError(json.error, json.message, json.data, res.status, requestId);
    }
    if (res.status === 422 && json && json.errors) {
      throw new ValidationError(json.message, json.errors, res.status, requestId);
    }
    if (res.status >= 400) throw new PocketRampError(`HTTP ${res.status}: ${text.slice(0, 200)}`, res.status, requestId);
    return json;
  }

  // The documented calls, named as CryptoPocket names them.
  registerUser(body: RequestBody<paths["/registerUser"]["post"]>) {
    return this.call("post", "/registerUser", { body });
  }
  checkKyc(userId: number) {
    return this.call("get", "/kyc/check", { query: { user_id: userId } as any });
  }
  findCustomer(query: QueryOf<paths["/customers/find"]["get"]>) {
    return this.call("get", "/customers/find", { query });
  }
  getQuote(query: QueryOf<paths["/quote"]["get"]>) {
    return this.call("get", "/quote", { query });
  }
  createPayment(body: RequestBody<paths["/createPayment"]["post"]>, idempotencyKey?: string) {
    return this.call("post", "/createPayment", { body, idempotencyKey });
  }
  createGuidedPayment(body: RequestBody<paths["/createGuidedPayment"]["post"]>, idempotencyKey?: string) {
    return this.call("post", "/createGuidedPayment", { body, idempotencyKey });
  }
  getPayment(paymentId: string) {
    return this.call("get", "/payment/{payment_id}", { path: { payment_id: paymentId } as any });
  }
  createRampoff(body: RequestBody<paths["/createRampoff"]["post"]>, idempotencyKey?: string) {
    return this.call("post", "/createRampoff", { body, idempotencyKey });
  }
  getRampoff(id: string) {
    return this.call("get", "/getRampoff", { query: { id } as any });
  }
  listWebhooks() {
    return this.call("get", "/webhooks");
  }
  /** Form-encoded, as CryptoPocket documents the call. */
  subscribeToWebhook(type: string, url: string) {
    return this.call("post", "/subscribeToWebhook", { body: { type, url } as any, form: true });
  }
  /** Form-encoded, as CryptoPocket documents the call. */
  updateWebhookSubscription(type: string, url: string) {
    return this.call("post", "/updateWebhookSubscription", { body: { type, url } as any, form: true });
  }
}

/** Form-encodes fields, nesting objects and arrays the Laravel way (a[b]=1, a[]=1). */
export function formEncode(fields: Record<string, unknown>): string {
  const out = new URLSearchParams();
  const add = (key: string, v: unknown) => {
    if (v === undefined || v === null) return;
    if (Array.isArray(v)) v.forEach((c) => add(key + "[]", c));
    else if (typeof v === "object") for (const [k, c] of Object.entries(v as object)) add(`${key}[${k}]`, c);
    else out.append(key, String(v));
  };
  for (const [k, v] of Object.entries(fields)) add(k, v);
  return out.toString();
}

/** How far a webhook's timestamp may be from the receiver's clock, either way (5 minutes). */
export const WEBHOOK_TOLERANCE_MS = 5 * 60_000;

/** A delivery that fails verification; reason is missing_header, api_key, timestamp or signature. */
export class WebhookVerificationError extends Error {
  constructor(readonly reason: "missing_header" | "api_key" | "timestamp" | "signature" | "secret") {
    super(`pocketramp: webhook ${reason.replace("_", " ")} check failed`);
    this.name = "WebhookVerificationError";
  }
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(h: HeaderBag, name: string): string {
  if (typeof (h as Headers).get === "function") return (h as Headers).get(name) ?? "";
  const bag = h as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? undefined : bag[key];
  return (Array.isArray(v) ? v[0] : v) ?? "";
}

function checkTimestamp(ts: string, now: number) {
  if (!/^\d+$/.test(ts.trim()) || Math.abs(now - Number(ts.trim()) * 1000) > WEBHOOK_TOLERANCE_MS) {
    throw new WebhookVerificationError("timestamp");
  }
}

function bytes(body: string | Uint8Array): Buffer {
  return typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Verifies a delivery signed with CryptoPocket's scheme: X-API-Key is apiKey, X-Timestamp is
 * within 5 minutes, and X-Signature is the hex HMAC-SHA256 keyed with apiSecret of the exact body
 * bytes followed by the timestamp. Throws WebhookVerificationError.
 */
export function verifyWebhook(body: string | Uint8Array, headers: HeaderBag, apiKey: string, apiSecret: string, now = Date.now()): void {
  const ts = header(headers, "X-Timestamp"), sig = header(headers, "X-Signature");
  if (!ts || !sig) throw new WebhookVerificationError("missing_header");
  if (apiKey && !equal(Buffer.from(header(headers, "X-API-Key")), Buffer.from(apiKey))) throw new WebhookVerificationError("api_key");
  checkTimestamp(ts, now);
  const want = createHmac("sha256", apiSecret).update(bytes(body)).update(ts).digest();
  if (!/^[0-9a-fA-F]+$/.test(sig.trim()) || !equal(Buffer.from(sig.trim(), "hex"), want)) throw new WebhookVerificationError("signature");
}

/**
 * Verifies a delivery signed with the Standard Webhooks scheme: webhook-signature holds
 * "v1,<base64 HMAC-SHA256 of id.timestamp.body>" keyed with the base64 part of the whsec_
 * secret (GET /api/webhooks shows it). Throws WebhookVerificationError.
 */
export function verifyStandardWebhook(body: string | Uint8Array, headers: HeaderBag, secret: string, now = Date.now()): void {
  const id = header(headers, "webhook-id"), ts = header(headers, "webhook-timestamp"), sigs = header(headers, "webhook-signature");
  if (!id || !ts || !sigs) throw new WebhookVerificationError("missing_header");
  checkTimestamp(ts, now);
  const b64 = secret.replace(/^whsec_/, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new WebhookVerificationError("secret");
  const want = createHmac("sha256", Buffer.from(b64, "base64")).update(`${id}.${ts}.`).update(bytes(body)).digest();
  for (const s of sigs.split(/\s+/)) {
    const [version, sig] = s.split(",", 2);
    if (version === "v1" && sig && equal(Buffer.from(sig, "base64"), want)) return;
  }
  throw new WebhookVerificationError("signature");
}
