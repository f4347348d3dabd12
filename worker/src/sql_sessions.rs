//! Stream sessions (the subscriptions of each open WebSocket) in the object's SQLite
//! database, so that no size limit of a socket attachment can lose them: a session's JSON is
//! stored in parts under [`crate::sql_chunks::PIECE_BYTES`] (a row may hold at most 2 MB), replaced atomically.

use registry_core::stream::{ConnId, SessionState};
use registry_core::StoreError;
use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue};

/// The table, created on open.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
  conn INTEGER NOT NULL,
  part INTEGER NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (conn, part)
);
";

/// The statements that replace (or, with `None`, forget) the saved session of `conn`.
pub fn save_statements(
    conn: ConnId,
    state: Option<&SessionState>,
) -> Result<Vec<(&'static str, Vec<SqlStorageValue>)>, StoreError> {
    let id = SqlStorageValue::Integer(conn as i64);
    let mut out = vec![("DELETE FROM sessions WHERE conn = ?", vec![id.clone()])];
    if let Some(state) = state {
        let text = serde_json::to_string(state).map_err(crate::sql_chunks::err)?;
        let pieces = crate::sql_chunks::split(&text, crate::sql_chunks::PIECE_BYTES);
        for (i, part) in pieces.into_iter().enumerate() {
            out.push((
                "INSERT INTO sessions (conn, part, text) VALUES (?, ?, ?)",
                vec![
                    id.clone(),
                    SqlStorageValue::Integer(i as i64),
                    SqlStorageValue::from(part.to_string()),
                ],
            ));
        }
    }
    Ok(out)
}

/// Every saved session, its parts joined in order.
pub fn load(sql: &SqlStorage) -> Result<Vec<(ConnId, SessionState)>, StoreError> {
    #[derive(Deserialize)]
    struct Row {
        conn: f64,
        text: String,
    }
    let rows: Vec<Row> = sql
        .exec("SELECT conn, text FROM sessions ORDER BY conn, part", None)
        .and_then(|c| c.to_array())
        .map_err(crate::sql_chunks::err)?;
    let mut out: Vec<(ConnId, String)> = Vec::new();
    for r in rows {
        let conn = r.conn as ConnId;
        match out.last_mut() {
            Some((c, text)) if *c == conn => text.push_str(&r.text),
            _ => out.push((conn, r.text)),
        }
    }
    out.into_iter()
        .map(|(conn, text)| {
            serde_json::from_str(&text)
                .map(|state| (conn, state))
                .map_err(|e| StoreError(format!("session {conn}: {e}")))
        })
        .collect()
}
