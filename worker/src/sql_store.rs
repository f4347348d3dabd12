//! [`Store`] over the Durable Object's SQLite database. One [`Commit`] is written inside one
//! `transactionSync`, so a crash never leaves half of it. Versions, checkpoints and request
//! records may be larger than a row: they are written in pieces (`crate::sql_chunks`).

use crate::sql_chunks::{self, err, int, Head, Owner, Statement};
use registry_core::history::{Checkpoint, State, Version};
use registry_core::store::HistoryStore;
use registry_core::stream::{ConnId, SessionState};
use registry_core::{Commit, Entry, PendingRequest, RegistryMeta, Snapshot, Store, StoreError};
use serde::Deserialize;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use worker::{SqlStorage, SqlStorageValue, Storage};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS registry_meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  head INTEGER NOT NULL,
  last_delete INTEGER NOT NULL,
  next_request_id INTEGER NOT NULL,
  base INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS entries (
  id TEXT PRIMARY KEY,
  doc TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS versions (
  version INTEGER PRIMARY KEY,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
  version INTEGER PRIMARY KEY,
  state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  id INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS request_records (
  id INTEGER PRIMARY KEY,
  body TEXT NOT NULL
);
";

/// The SQLite store of one registry.
pub struct SqlStore {
    storage: Storage,
    sql: SqlStorage,
}

#[derive(Deserialize)]
struct MetaRow {
    head: f64,
    last_delete: f64,
    next_request_id: f64,
    base: f64,
}

#[derive(Deserialize)]
struct RequestRow {
    name: String,
    value: String,
    id: f64,
    created_at: f64,
    expires_at: f64,
}

/// Runs a query and deserializes its rows.
fn rows<T: serde::de::DeserializeOwned>(
    sql: &SqlStorage,
    query: &str,
    bindings: impl Into<Option<Vec<SqlStorageValue>>>,
) -> Result<Vec<T>, StoreError> {
    sql.exec(query, bindings)
        .and_then(|c| c.to_array())
        .map_err(err)
}

/// Entries read per page when loading: one JSON text per page crosses into wasm (instead of
/// every column of every row); a page over SQLite's 2 MB value bound is read again in pages
/// of `SMALL_ENTRY_PAGE` (16 entries of at most 64 KiB each stay under it).
const ENTRY_PAGE: f64 = 1000.0;
const SMALL_ENTRY_PAGE: f64 = 16.0;

/// The first page of entries (at most `?1`), in id order, as one JSON array of their `doc`s
/// (each written whole by [`entry_doc`], so SQLite only joins texts: no per-column work), with
/// the number of entries in all (`total`, so the load allocates once). The table is kept in id
/// order (`WITHOUT ROWID`), so the core gets the entries sorted. The text is cast to a BLOB: it
/// crosses into wasm as one copy of its UTF-8 bytes, where a JS string would be re-encoded
/// character by character.
const FIRST_ENTRY_PAGE_QUERY: &str =
    "SELECT count(*) AS n, max(id) AS last, (SELECT count(*) FROM entries) AS total,
    CAST('[' || group_concat(doc, ',') || ']' AS BLOB) AS text
FROM (SELECT id, doc FROM entries ORDER BY id LIMIT ?1)";
/// The page after id `?2`, as [`FIRST_ENTRY_PAGE_QUERY`] (without `total`). Two queries, not
/// `id > ''` for the first page (the empty string is a valid id) nor `?2 IS NULL OR id > ?2`
/// (which makes SQLite scan from the first entry for every page).
const NEXT_ENTRY_PAGE_QUERY: &str = "SELECT count(*) AS n, max(id) AS last, NULL AS total,
    CAST('[' || group_concat(doc, ',') || ']' AS BLOB) AS text
FROM (SELECT id, doc FROM entries WHERE id > ?2 ORDER BY id LIMIT ?1)";

/// An entry in the layout before `doc` existed: a column per field, `meta` and `data` as JSON
/// text. Read once, on open, to convert the table ([`SqlStore::convert_entries_to_docs`]).
#[derive(Deserialize)]
struct ColumnsRow {
    id: String,
    kind: String,
    meta: String,
    data: String,
    ttl_ms: Option<f64>,
    expires_at: Option<f64>,
    version: f64,
}

#[derive(Deserialize)]
struct EntryPage {
    n: f64,
    last: Option<String>,
    total: Option<f64>,
    text: Option<Bytes>,
}

/// A BLOB column's bytes (an `ArrayBuffer` copied into wasm once).
struct Bytes(Vec<u8>);

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a BLOB")
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

/// The `doc` column of an entry ([`registry_core::entry_doc`]).
fn entry_doc(e: &Entry) -> SqlStorageValue {
    SqlStorageValue::from(registry_core::entry_doc::to_doc(e))
}

/// Every entry, a page at a time (see [`ENTRY_PAGE`]).
fn load_entries(sql: &SqlStorage) -> Result<Vec<Entry>, StoreError> {
    let mut entries = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = entry_page(sql, after.as_deref(), ENTRY_PAGE)
            .or_else(|_| entry_page(sql, after.as_deref(), SMALL_ENTRY_PAGE))?;
        let Some(page) = page else { break };
        if let Some(total) = page.total {
            entries.reserve_exact(total as usize);
        }
        registry_core::entry_doc::parse_docs_into(&page.text, &mut entries).map_err(err)?;
        after = Some(page.last);
    }
    Ok(entries)
}

/// One page of entries as read: the last id, the count of all entries (first page only) and
/// the page's JSON text as bytes.
struct Page {
    last: String,
    total: Option<f64>,
    text: Vec<u8>,
}

/// The page after id `after` (from the first without), or None past the last entry.
fn entry_page(
    sql: &SqlStorage,
    after: Option<&str>,
    limit: f64,
) -> Result<Option<Page>, StoreError> {
    let pages: Vec<EntryPage> = match after {
        None => rows(sql, FIRST_ENTRY_PAGE_QUERY, vec![limit.into()])?,
        Some(id) => rows(sql, NEXT_ENTRY_PAGE_QUERY, vec![limit.into(), id.into()])?,
    };
    match pages.into_iter().next() {
        Some(EntryPage {
            n,
            last: Some(last),
            total,
            text: Some(Bytes(text)),
        }) if n > 0.0 => Ok(Some(Page { last, total, text })),
        _ => Ok(None),
    }
}

/// Runs a query selecting `key` and `text` (the first piece of a value of `owner`) and parses
/// each value read whole.
fn json_values<T: serde::de::DeserializeOwned>(
    sql: &SqlStorage,
    owner: Owner,
    query: &str,
    bindings: impl Into<Option<Vec<SqlStorageValue>>>,
) -> Result<Vec<T>, StoreError> {
    let heads: Vec<Head> = rows(sql, query, bindings)?;
    sql_chunks::read_whole(sql, owner, heads)
}

fn json_text(v: &impl serde::Serialize) -> Result<SqlStorageValue, StoreError> {
    serde_json::to_string(v)
        .map(SqlStorageValue::from)
        .map_err(err)
}

impl SqlStore {
    /// Opens the store, creating the tables on first use.
    pub fn open(storage: Storage) -> Result<Self, StoreError> {
        let sql = storage.sql();
        sql.exec(SCHEMA, None).map_err(err)?;
        sql.exec(crate::sql_sessions::SCHEMA, None).map_err(err)?;
        sql.exec(sql_chunks::SCHEMA, None).map_err(err)?;
        // Databases created before history existed lack `registry_meta.base`.
        #[derive(Deserialize)]
        struct Column {
            name: String,
        }
        let columns: Vec<Column> = rows(&sql, "PRAGMA table_info(registry_meta)", None)?;
        if !columns.iter().any(|c| c.name == "base") {
            sql.exec(
                "ALTER TABLE registry_meta ADD COLUMN base INTEGER NOT NULL DEFAULT 0",
                None,
            )
            .map_err(err)?;
        }
        let store = SqlStore { storage, sql };
        // Databases created before entries were stored whole have a column per field.
        let columns: Vec<Column> = rows(&store.sql, "PRAGMA table_info(entries)", None)?;
        if !columns.iter().any(|c| c.name == "doc") {
            store.convert_entries_to_docs()?;
        }
        Ok(store)
    }

    /// Rewrites an `entries` table of the old layout ([`ColumnsRow`]) as `doc`s, in one
    /// transaction (a crash during it leaves the old table), each doc written by [`entry_doc`]
    /// as every later write is.
    fn convert_entries_to_docs(&self) -> Result<(), StoreError> {
        let old: Vec<ColumnsRow> = rows(
            &self.sql,
            "SELECT id, kind, meta, data, ttl_ms, expires_at, version FROM entries",
            None,
        )?;
        let mut statements: Vec<Statement> = Vec::with_capacity(old.len() + 3);
        statements.push((
            "CREATE TABLE entries_doc (id TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID",
            vec![],
        ));
        for row in old {
            let e = Entry {
                meta: serde_json::from_str(&row.meta).map_err(err)?,
                data: serde_json::from_str(&row.data).map_err(err)?,
                id: row.id,
                kind: row.kind,
                ttl_ms: row.ttl_ms.map(|v| v as u64),
                expires_at: row.expires_at.map(|v| v as u64),
                version: row.version as u64,
            };
            statements.push((
                "INSERT INTO entries_doc (id, doc) VALUES (?, ?)",
                vec![e.id.as_str().into(), entry_doc(&e)],
            ));
        }
        statements.push(("DROP TABLE entries", vec![]));
        statements.push(("ALTER TABLE entries_doc RENAME TO entries", vec![]));
        self.transaction(statements)
    }

    fn statements(commit: &Commit) -> Result<Vec<Statement>, StoreError> {
        let mut out = vec![(
            "INSERT INTO registry_meta (id, head, last_delete, next_request_id, base) VALUES (1, ?, ?, ?, ?)
             ON CONFLICT(id) DO UPDATE SET head = excluded.head, last_delete = excluded.last_delete,
             next_request_id = excluded.next_request_id, base = excluded.base",
            vec![
                int(commit.meta.head),
                int(commit.meta.last_delete),
                int(commit.meta.next_request_id),
                int(commit.meta.base),
            ],
        )];
        if let Some(v) = &commit.version {
            let text = serde_json::to_string(v).map_err(err)?;
            sql_chunks::write(
                Owner::Versions,
                v.version,
                &text,
                "INSERT INTO versions (version, body) VALUES (?, ?)",
                vec![int(v.version)],
                vec![],
                &mut out,
            );
        }
        if let Some(c) = &commit.checkpoint {
            let entries: Vec<&Entry> = c.state.values().collect();
            let text = serde_json::to_string(&entries).map_err(err)?;
            sql_chunks::write(
                Owner::Checkpoints,
                c.version,
                &text,
                "INSERT OR REPLACE INTO checkpoints (version, state) VALUES (?, ?)",
                vec![int(c.version)],
                vec![],
                &mut out,
            );
        }
        if commit.fold {
            out.push((
                "DELETE FROM versions WHERE version <= ?",
                vec![int(commit.meta.base)],
            ));
            out.push(sql_chunks::delete(Owner::Versions, 0, commit.meta.base));
            out.push((
                "DELETE FROM checkpoints WHERE version < ?",
                vec![int(commit.meta.base)],
            ));
            if commit.meta.base > 0 {
                out.push(sql_chunks::delete(
                    Owner::Checkpoints,
                    0,
                    commit.meta.base - 1,
                ));
            }
        }
        for id in &commit.delete_entries {
            out.push(("DELETE FROM entries WHERE id = ?", vec![id.as_str().into()]));
        }
        for e in &commit.put_entries {
            out.push((
                "INSERT OR REPLACE INTO entries (id, doc) VALUES (?, ?)",
                vec![e.id.as_str().into(), entry_doc(e)],
            ));
        }
        for name in &commit.delete_requests {
            out.push((
                "DELETE FROM requests WHERE name = ?",
                vec![name.as_str().into()],
            ));
        }
        for id in &commit.delete_records {
            out.push(("DELETE FROM request_records WHERE id = ?", vec![int(*id)]));
            out.push(sql_chunks::delete(Owner::Records, *id, *id));
        }
        for r in &commit.put_records {
            let text = serde_json::to_string(r).map_err(err)?;
            sql_chunks::write(
                Owner::Records,
                r.id,
                &text,
                "INSERT OR REPLACE INTO request_records (id, body) VALUES (?, ?)",
                vec![int(r.id)],
                vec![],
                &mut out,
            );
        }
        for r in &commit.put_requests {
            out.push((
                "INSERT OR REPLACE INTO requests (name, value, id, created_at, expires_at)
                 VALUES (?, ?, ?, ?, ?)",
                vec![
                    r.name.as_str().into(),
                    json_text(&r.value)?,
                    int(r.id),
                    int(r.created_at),
                    int(r.expires_at),
                ],
            ));
        }
        Ok(out)
    }
}

impl SqlStore {
    fn checkpoint(&self, query: &str, v: u64) -> Result<Option<Checkpoint>, StoreError> {
        let found: Vec<Head> = rows(&self.sql, query, vec![int(v)])?;
        let Some(version) = found.first().map(|h| h.key as u64) else {
            return Ok(None);
        };
        let entries: Vec<Vec<Entry>> =
            sql_chunks::read_whole(&self.sql, Owner::Checkpoints, found)?;
        let state: State = entries
            .into_iter()
            .flatten()
            .map(|e| (e.id.clone(), e))
            .collect();
        Ok(Some(Checkpoint { version, state }))
    }

    fn version_rows(
        &self,
        query: &str,
        bindings: Vec<SqlStorageValue>,
    ) -> Result<Vec<Version>, StoreError> {
        json_values(&self.sql, Owner::Versions, query, bindings)
    }
}

impl HistoryStore for SqlStore {
    fn versions(&self, from: u64, to: u64) -> Result<Vec<Version>, StoreError> {
        self.version_rows(
            "SELECT version AS key, body AS text FROM versions WHERE version >= ? AND version <= ?
             ORDER BY version",
            vec![int(from), int(to)],
        )
    }

    fn versions_desc(&self, at_or_below: u64, limit: usize) -> Result<Vec<Version>, StoreError> {
        self.version_rows(
            "SELECT version AS key, body AS text FROM versions WHERE version <= ?
             ORDER BY version DESC LIMIT ?",
            vec![int(at_or_below.min(i64::MAX as u64)), int(limit as u64)],
        )
    }

    fn checkpoint_at_or_below(&self, v: u64) -> Result<Option<Checkpoint>, StoreError> {
        self.checkpoint(
            "SELECT version AS key, state AS text FROM checkpoints WHERE version <= ?
             ORDER BY version DESC LIMIT 1",
            v,
        )
    }

    fn checkpoint_at_or_above(&self, v: u64) -> Result<Option<Checkpoint>, StoreError> {
        self.checkpoint(
            "SELECT version AS key, state AS text FROM checkpoints WHERE version >= ?
             ORDER BY version LIMIT 1",
            v,
        )
    }

    fn checkpoint_version_at_or_below(&self, v: u64) -> Result<Option<u64>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            version: f64,
        }
        let found: Vec<Row> = rows(
            &self.sql,
            "SELECT version FROM checkpoints WHERE version <= ? ORDER BY version DESC LIMIT 1",
            vec![int(v)],
        )?;
        Ok(found.first().map(|r| r.version as u64))
    }
}

impl Store for SqlStore {
    fn load(&self) -> Result<Snapshot, StoreError> {
        let metas: Vec<MetaRow> = rows(
            &self.sql,
            "SELECT head, last_delete, next_request_id, base FROM registry_meta WHERE id = 1",
            None,
        )?;
        let meta = metas
            .first()
            .map(|m| RegistryMeta {
                head: m.head as u64,
                last_delete: m.last_delete as u64,
                next_request_id: m.next_request_id as u64,
                base: m.base as u64,
            })
            .unwrap_or_default();
        let entries = load_entries(&self.sql)?;
        let request_rows: Vec<RequestRow> = rows(
            &self.sql,
            "SELECT name, value, id, created_at, expires_at FROM requests",
            None,
        )?;
        let mut requests = Vec::with_capacity(request_rows.len());
        for r in request_rows {
            requests.push(PendingRequest {
                value: serde_json::from_str(&r.value).map_err(err)?,
                name: r.name,
                id: r.id as u64,
                created_at: r.created_at as u64,
                expires_at: r.expires_at as u64,
            });
        }
        let records = json_values(
            &self.sql,
            Owner::Records,
            "SELECT id AS key, body AS text FROM request_records ORDER BY id",
            None,
        )?;
        Ok(Snapshot {
            meta,
            entries,
            requests,
            records,
        })
    }

    fn commit(&mut self, commit: &Commit) -> Result<(), StoreError> {
        self.transaction(Self::statements(commit)?)
    }

    fn save_session(
        &mut self,
        conn: ConnId,
        state: Option<&SessionState>,
    ) -> Result<(), StoreError> {
        self.transaction(crate::sql_sessions::save_statements(conn, state)?)
    }

    fn load_sessions(&self) -> Result<Vec<(ConnId, SessionState)>, StoreError> {
        crate::sql_sessions::load(&self.sql)
    }
}

impl SqlStore {
    /// Runs statements in one `transactionSync`: all of them are durable, or none.
    fn transaction(&self, statements: Vec<Statement>) -> Result<(), StoreError> {
        let sql = self.sql.clone();
        // transactionSync rolls every statement back if the callback throws.
        let body = Closure::once_into_js(move || -> Result<JsValue, JsValue> {
            for (query, bindings) in statements {
                sql.exec(query, bindings).map_err(JsValue::from)?;
            }
            Ok(JsValue::UNDEFINED)
        });
        let raw: &JsValue = self.storage.as_raw().as_ref();
        let transaction_sync = js_sys::Reflect::get(raw, &JsValue::from_str("transactionSync"))
            .map_err(|e| err(format!("{e:?}")))?
            .dyn_into::<js_sys::Function>()
            .map_err(|_| err("storage.transactionSync is not available"))?;
        transaction_sync
            .call1(raw, &body)
            .map(|_| ())
            .map_err(|e| err(format!("{e:?}")))
    }
}
