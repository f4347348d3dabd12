// End-to-end: oversized bodies and numbers at the ends of their range, over real HTTP against
// the worker in workerd. An oversized body is 413 JSON every time, however it is sent (a large
// Content-Length, streamed; a chunked stream), and never a 500.
//
// Not tested: a Content-Length larger than the body that follows (a lying header). Locally the
// request first passes wrangler's and miniflare's own proxy workers, which forward the body as a
// stream: the answer is held until the body ends, and a body that ends short makes them answer
// their own 500 ("Network connection lost") before the worker's 413 can pass.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker, http } from "./worker.mjs";

const worker = new Worker();
before(() => worker.start());
after(() => worker.dispose());

const MiB = 1 << 20;
let n = 0;
/** A registry of its own for each test (its path prefix). */
const fresh = () => `/r/limits${process.pid}-${++n}`;

/**
 * Sends one HTTP/1.1 request over a raw socket: `head` (request line and headers, without the
 * blank line), then `bodyBytes` bytes of body in 64 KiB chunks (`chunked`: as chunked transfer
 * coding), stopping as soon as a response starts. Resolves with the parsed response, or
 * rejects when the connection ends without a complete one or after `ms`.
 */
function rawRequest(head, bodyBytes, { chunked = false, ms = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = connect(worker.port, "127.0.0.1");
    const timer = setTimeout(() => finish(new Error(`no complete response in ${ms} ms; got ${received}`)), ms);
    let received = Buffer.alloc(0);
    let answered = false;
    let done = false;
    const finish = (err, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      err ? reject(err) : resolve(value);
    };
    const parse = () => {
      const end = received.indexOf("\r\n\r\n");
      if (end < 0) return null;
      const lines = received.subarray(0, end).toString("latin1").split("\r\n");
      const status = Number(lines[0].split(" ")[1]);
      const headers = Object.fromEntries(lines.slice(1).map((l) => {
        const i = l.indexOf(":");
        return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()];
      }));
      const body = received.subarray(end + 4);
      const length = Number(headers["content-length"]);
      if (Number.isFinite(length) && body.length < length) return null;
      if (!Number.isFinite(length) && headers["transfer-encoding"] === "chunked") {
        if (!body.toString("latin1").endsWith("0\r\n\r\n")) return null;
        return { status, headers, text: dechunk(body) };
      }
      return { status, headers, text: body.subarray(0, length).toString() };
    };
    socket.on("data", (d) => {
      answered = true;
      received = Buffer.concat([received, d]);
      const r = parse();
      if (r) finish(null, r);
    });
    socket.on("error", (e) => finish(new Error(`no complete response: ${e.message}; got ${received}`)));
    socket.on("close", () => finish(new Error(`connection closed; got ${JSON.stringify(received.toString())}`)));
    socket.on("connect", async () => {
      socket.write(`${head}\r\nhost: 127.0.0.1\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, "x");
      let sent = 0;
      try {
        while (sent < bodyBytes && !answered && !done) {
          const piece = chunk.subarray(0, Math.min(chunk.length, bodyBytes - sent));
          const data = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]) : piece;
          sent += piece.length;
          if (!socket.write(data)) await new Promise((r) => socket.once("drain", r));
        }
        if (chunked && !answered && !done) socket.write("0\r\n\r\n");
      } catch {}
    });
  });
}

/** The payload of a chunked HTTP body. */
function dechunk(body) {
  let out = "";
  let rest = body.toString();
  for (;;) {
    const i = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, i), 16);
    if (!size) return out;
    out += rest.slice(i + 2, i + 2 + size);
    rest = rest.slice(i + 4 + size);
  }
}

/** Asserts a 413 answered with the JSON error body. */
function assert413(r, what) {
  assert.equal(r.status, 413, `${what}: ${r.status} ${r.text}`);
  assert.equal(JSON.parse(r.text).error.code, "too_large", what);
}

describe("oversized bodies", () => {
  test("an 8 MiB PUT /provider is 413 JSON, 20 times out of 20", async () => {
    const body = JSON.stringify({ registers: { big: { value: "x".repeat(8 * MiB) } } });
    const path = fresh();
    for (let i = 0; i < 20; i++) {
      const r = await http("PUT", `${worker.url}${path}/provider`, body);
      assert.equal(r.status, 413, `attempt ${i + 1}: ${r.status} ${r.text}`);
      assert.equal(r.json.error.code, "too_large");
    }
    // Positive control: the same registry still takes a normal write.
    assert.equal((await http("PUT", `${worker.url}${path}/provider`, { registers: { a: { value: 1 } } })).status, 204);
  });

  test("a 100 MiB Content-Length is 413 JSON, 5 times out of 5", async () => {
    const head = `PUT ${fresh()}/provider HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: ${100 * MiB}\r\nconnection: close`;
    // Streamed: sending stops as soon as the answer starts.
    for (let i = 0; i < 5; i++) assert413(await rawRequest(head, 100 * MiB), `attempt ${i + 1}`);
  });

  test("a chunked body over the limit is 413 JSON", async () => {
    const head = `PUT ${fresh()}/provider HTTP/1.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close`;
    for (let i = 0; i < 5; i++) assert413(await rawRequest(head, 8 * MiB, { chunked: true }), `chunked, attempt ${i + 1}`);
  });
});

describe("numbers at the ends of their range", () => {
  test("a wait at the top of the duration range holds (capped), it does not answer at once", async () => {
    const path = fresh();
    let version = (await http("PUT", `${worker.url}${path}/provider`, { registers: { t: { value: 1 } } })).version;
    for (const wait of ["2562047h47m16.854775807s", "9223372036854775807ns"]) {
      const started = Date.now();
      const poll = http("GET", `${worker.url}${path}/consumer?name=t&wait=${wait}&since=${version}`);
      let early = false;
      poll.then(() => (early = Date.now() - started < 1000));
      await sleep(1000);
      assert.equal(early, false, `wait=${wait} answered at once`);
      const put = await http("PUT", `${worker.url}${path}/provider`, { registers: { t: { value: wait } } });
      assert.equal(put.status, 204);
      version = put.version;
      const r = await poll;
      assert.equal(r.status, 200);
      assert.equal(r.json.registers.t.value, wait, "woken by the write");
    }
    const r = await http("GET", `${worker.url}${path}/consumer?wait=2562047h47m16.854775808s`);
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /out of range/);
  });

  test("a TTL past what the platform's alarm accepts is 400 on every route; the registry keeps answering", async () => {
    const path = fresh();
    // 2200000h is past 2189 (the alarm refused it and every request answered 500 from then on);
    // the top of Go's range used to be stored with the 10 s default instead.
    for (const ttl of ["2200000h", "2562047h47m16.854775807s"]) {
      const reg = await http("PUT", `${worker.url}${path}/provider`, { registers: { far: { value: 1, ttl } } });
      assert.equal(reg.status, 400, `${ttl}: ${reg.text}`);
      assert.equal(reg.json.error.code, "invalid_ttl");
      const put = await http("PUT", `${worker.url}${path}/v1/entries/far`, { kind: "k", data: 1, ttl });
      assert.equal(put.status, 400, `${ttl}: ${put.text}`);
      const tx = await http("POST", `${worker.url}${path}/v1/tx`, { ops: [{ op: "create", id: "far", kind: "k", data: 1, ttl }] });
      assert.equal(tx.status, 400, `${ttl}: ${tx.text}`);
    }
    // Positive control: a long TTL inside the bound sets an alarm the platform accepts.
    const ok = await http("PUT", `${worker.url}${path}/provider`, { registers: { far: { value: 1, ttl: "80000h" } } });
    assert.equal(ok.status, 204, ok.text);
    const health = await http("GET", `${worker.url}${path}/v1/health`);
    assert.equal(health.status, 200, health.text);
    assert.equal(health.json.entries, 1);
  });

  test("limit and since past what a wasm usize or u64 holds are 400 or answered, never wrapped", async () => {
    const path = fresh();
    await http("PUT", `${worker.url}${path}/v1/entries/a`, { kind: "k", data: 1 });
    for (const [query, status] of [
      ["limit=4294967297", 400],
      ["limit=18446744073709551615", 400],
      ["since=18446744073709551615", 200],
      ["since=18446744073709551616", 400],
    ]) {
      const r = await http("GET", `${worker.url}${path}/v1/versions?${query}`);
      assert.equal(r.status, status, `${query}: ${r.text}`);
      if (status === 200) assert.deepEqual(r.json.versions, []);
    }
    // Positive control: limit=1 lists one version.
    assert.equal((await http("GET", `${worker.url}${path}/v1/versions?limit=1`)).json.versions.length, 1);
  });
});
