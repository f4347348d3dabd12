// Typed examples of the whole public API of @edge-registry/client: every exported class, method,
// getter and option. Type-checked (never run) by tests/e2e/package.test.mjs with
// `tsc -p tsconfig.json` (strict) in a fresh project where the packed tarball is installed, so
// the declarations checked are the ones users get. `@ts-expect-error` lines must stay errors:
// they prove the declarations are not `any`.
import {
  ChangeRequestStream,
  Provider,
  QueryStream,
  RegisterStream,
  RegistryClient,
  RegistryStream,
  Validator,
} from "@edge-registry/client";
import type {
  ChangeRequest,
  ClientOptions,
  ConnectionStatus,
  Entry,
  EntryInput,
  HistoryPage,
  Op,
  ProvideOptions,
  QueryResult,
  RegisterUpdate,
  RegistrySnapshot,
  RequestOutcome,
  TxOp,
  ValidationRequest,
  Version,
} from "@edge-registry/client";

const controller = new AbortController();
const signal: AbortSignal = controller.signal;

/** The client: construction with every option, its getters and closing. */
export function client(): RegistryClient {
  const options: ClientOptions = { signal, transport: "auto", wait: "30s" };
  const client = new RegistryClient("http://127.0.0.1:8787/r/home", options);
  new RegistryClient("http://127.0.0.1:8787", { transport: "websocket" }).close();
  new RegistryClient("http://127.0.0.1:8787", { transport: "long-poll" }).free();
  new RegistryClient("http://127.0.0.1:8787");
  const transport: "connecting" | "websocket" | "long-poll" = client.transport;
  const closed: boolean = client.closed;
  const status: ConnectionStatus = client.status;
  const off: () => void = client.onStatus((next: ConnectionStatus) => {
    if (next === "offline" || next === "reconnecting") console.warn("registry:", next);
  });
  off();
  void transport, closed, status;
  // @ts-expect-error: the status is one of six names
  const wrong: "online" = client.status;
  void wrong;
  {
    using scoped = new RegistryClient("http://127.0.0.1:8787");
    void scoped;
  }
  // @ts-expect-error: the transport is one of three names
  new RegistryClient("http://127.0.0.1:8787", { transport: "carrier-pigeon" });
  // @ts-expect-error: the URL is a string
  new RegistryClient(8787);
  return client;
}

/** Registers: consume one (iteration, next/return, subscribe, request), or all of them. */
export async function consume(client: RegistryClient): Promise<void> {
  const stream: RegisterStream = client.consume("kitchen:lamp", { signal });
  const name: string = stream.name;
  for await (const update of stream) {
    const u: RegisterUpdate = update;
    const value: unknown = u.value;
    const metadata: Record<string, unknown> = u.metadata;
    const version: number | null = u.version;
    const removed: boolean = u.removed;
    const n: string = u.name;
    void value, metadata, version, removed, n, name;
    break;
  }
  const first: IteratorResult<RegisterUpdate, undefined> = await stream.next();
  if (!first.done) console.log(first.value.value);
  await stream.return();
  const unsubscribe: () => void = stream.subscribe((update: RegisterUpdate) => console.log(update.name));
  unsubscribe();
  const outcome: RequestOutcome = await stream.request(true, { signal });
  stream.close();
  stream.free();
  // @ts-expect-error: a register's name is a string
  client.consume(42);

  const all: RegistryStream = client.consumeAll({ signal });
  for await (const snapshot of all) {
    const s: RegistrySnapshot = snapshot;
    const lamp: { value: unknown; metadata?: Record<string, unknown> } | undefined = s.registers["kitchen:lamp"];
    const version: number | null = s.version;
    void lamp, version;
    break;
  }
  all.subscribe((snapshot: RegistrySnapshot) => console.log(snapshot.version))();
  const next: IteratorResult<RegistrySnapshot, undefined> = await all.next();
  await all.return();
  all.close();
  all.free();
  void next, outcome;

  const read: Record<string, { value: unknown; metadata?: Record<string, unknown> }> = await client.read(["a", "b"]);
  void read;
}

/** Change requests: asking for a change, and its outcome. */
export async function request(client: RegistryClient): Promise<void> {
  const outcome: RequestOutcome = await client.request("kitchen:lamp", true, { signal });
  const id: number = outcome.request;
  const name: string | undefined = outcome.name;
  const reason: string | undefined = outcome.reason;
  switch (outcome.status) {
    case "accepted":
    case "rejected":
    case "superseded":
    case "expired":
      break;
    default: {
      const never: never = outcome.status;
      void never;
    }
  }
  void id, name, reason;
  await client.request("kitchen:lamp", "off");
}

/** Providers: publishing, keeping alive, answering change requests. */
export async function provide(client: RegistryClient): Promise<void> {
  const options: ProvideOptions = { metadata: { room: "kitchen" }, ttl: "10s", signal };
  const lamp: Provider = client.provide("kitchen:lamp", false, options);
  client.provide("hall:lamp", 1);
  const name: string = lamp.name;
  await lamp.set(true);
  const requests: ChangeRequestStream = lamp.requests;
  for await (const req of requests) {
    const r: ChangeRequest = req;
    const value: unknown = r.value;
    const id: number | undefined = r.request;
    const n: string = r.name;
    void value, id, n;
    const accepted: RequestOutcome = await r.accept(true);
    const rejected: RequestOutcome = await r.reject("not a lamp state");
    await r.accept();
    await r.reject();
    void accepted, rejected;
    break;
  }
  const next: IteratorResult<ChangeRequest, undefined> = await requests.next();
  await requests.return();
  requests.subscribe((request: ChangeRequest) => void request.accept())();
  requests.free();
  lamp.close();
  lamp.free();
  void name, next;
  // @ts-expect-error: the TTL is a Go-style duration string
  client.provide("x", 1, { ttl: 10 });
}

/** Entries of the native API: read, write, delete, query and watch them. */
export async function entries(client: RegistryClient): Promise<void> {
  const input: EntryInput = { kind: "svc", data: { port: 80 }, meta: { owner: "ops" }, ttl: "1m", ifVersion: 0 };
  const written: Entry = await client.putEntry("app:web", input);
  await client.putEntry("app:db", { kind: "svc", data: null });
  const entry: Entry | null = await client.getEntry("app:web");
  if (entry) {
    const { id, kind, meta, data, ttl_ms, expires_at, version } = entry;
    const typed: [string, string, Record<string, unknown>, unknown, number | undefined, number | undefined, number] =
      [id, kind, meta, data, ttl_ms, expires_at, version];
    void typed;
  }
  const deleted: { version: number } = await client.deleteEntry("app:web", { ifVersion: written.version });
  await client.deleteEntry("app:db");
  const found: Entry[] = await client.find({ kind: "svc", "meta.owner": "ops", active: true, gone: null, port: 80 });
  const foundByList: Entry[] = await client.find(["kind=svc", "^meta.owner=op"]);
  const deps: { id: string; needs: { id: string; exists: boolean }[]; needed_by: string[] } = await client.dependencies("app:web");
  void deleted, found, foundByList, deps;
  // @ts-expect-error: an entry needs a kind
  await client.putEntry("app:x", { data: 1 });

  const watch: QueryStream = client.watch({ kind: "svc" }, { signal });
  client.watch(["kind=svc"]).close();
  for await (const item of watch) {
    const result: QueryResult = item;
    const version: number = result.version;
    const matching: Entry[] = result.entries;
    for (const op of result.ops ?? []) {
      const kind: "create" | "update" | "delete" = op.op;
      const after: Entry | null = op.entry;
      void kind, after, op.id;
    }
    void version, matching;
    break;
  }
  const next: IteratorResult<QueryResult, undefined> = await watch.next();
  await watch.return();
  watch.subscribe((result: QueryResult) => console.log(result.version))();
  watch.close();
  watch.free();
  void next;
}

/** Transactions and history: many changes in one version, versions, diffs, rollback. */
export async function history(client: RegistryClient): Promise<void> {
  const ops: TxOp[] = [
    { op: "create", id: "app:web", kind: "svc", meta: { depends_on: "db" }, data: {}, ttl: "1h", ifVersion: 0 },
    { op: "upsert", id: "app:db", kind: "svc", data: {} },
    { op: "update", id: "app:cache", data: { size: 1 } },
    { op: "delete", id: "app:old" },
  ];
  const tx: { version: number; changeset: Op[] } = await client.transaction(ops, { ifVersion: 7 });
  await client.transaction(ops);
  for (const op of tx.changeset) {
    const o: Op = op;
    const after: Entry | undefined = o.entry;
    const before: Entry | undefined = o.before;
    void after, before;
  }
  const page: HistoryPage = await client.history({ since: 1, before: 100, limit: 10 });
  await client.history();
  const next: number | null = page.next_before;
  const first: { version: number; parent: number; timestamp: number; actor: string; ops: number } | undefined = page.versions[0];
  void next, first, page.head, page.oldest;
  const version: Version = await client.version(3);
  const changes: Op[] = version.changeset;
  void changes, version.parent, version.timestamp, version.actor;
  const diff: { from: number; to: number; changeset: Op[] } = await client.diff(1, 5);
  const state: Entry[] = await client.stateAt(4);
  const rolledBack: { version: number; to: number; changeset: Op[] } = await client.rollback(3, { ifVersion: 9 });
  await client.rollback(2);
  void diff, state, rolledBack;
  // @ts-expect-error: a transaction op is one of four kinds
  await client.transaction([{ op: "merge", id: "x" }]);
}

/** Validators: taking part in transactions. */
export async function validate(client: RegistryClient): Promise<void> {
  const sync: Validator = client.validate({ kind: "svc" }, (req: ValidationRequest) => {
    const tx: number = req.tx;
    const name: string = req.validator;
    const deadline: number | undefined = req.deadline;
    for (const op of req.ops) {
      const before: Entry | null | undefined = op.before;
      const after: Entry | null = op.entry;
      void before, after, op.op, op.id;
    }
    void tx, name, deadline;
    return req.ops.length < 10 ? true : "too many changes";
  }, { signal });
  const async: Validator = client.validate(["kind=svc"], async () => false);
  client.validate({ kind: "svc" }, () => undefined).close();
  const id: string = sync.id;
  const ready: Promise<void> = sync.ready;
  await ready;
  sync.close();
  sync.free();
  {
    using scoped = client.validate({ kind: "job" }, () => true);
    void scoped;
  }
  async.close();
  void id;
  // @ts-expect-error: a validator answers with a boolean, a reason or nothing
  client.validate({ kind: "svc" }, () => 42);
}
