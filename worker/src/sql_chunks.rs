//! Text values larger than a Durable Object SQLite row may hold (2 MB per string or row),
//! written in pieces of at most [`PIECE_BYTES`] and read back whole.
//!
//! A value keeps its first piece in its own table's column (`versions.body`,
//! `checkpoints.state`, `request_records.body`), so a value written whole by an older build is
//! simply a value of one piece; the following pieces are rows of the `pieces` table, keyed by
//! the owning table, the owner's integer key and a sequence number from 1.

use std::collections::HashMap;

use registry_core::StoreError;
use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue};

/// The largest piece of a value, in UTF-8 bytes: a quarter of the platform's row bound, so a
/// piece fits a row even counted as UTF-16 and with its key columns.
pub const PIECE_BYTES: usize = 512 << 10;

/// The `pieces` table (created with the rest of the schema).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pieces (
  owner TEXT NOT NULL,
  key INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  piece TEXT NOT NULL,
  PRIMARY KEY (owner, key, seq)
);
";

/// One SQL statement with its bindings, run in the commit's transaction.
pub type Statement = (&'static str, Vec<SqlStorageValue>);

/// A table whose text column may continue in `pieces`.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    /// `versions.body` (a version with its changeset).
    Versions,
    /// `checkpoints.state` (the full state at a version).
    Checkpoints,
    /// `request_records.body` (a delivered or finished change request).
    Records,
}

impl Owner {
    fn name(self) -> &'static str {
        match self {
            Owner::Versions => "versions",
            Owner::Checkpoints => "checkpoints",
            Owner::Records => "request_records",
        }
    }
}

/// Splits `text` into pieces of at most `max` bytes, cut at character boundaries; always at
/// least one piece (the empty text is one empty piece). `max` must be at least 4.
pub fn split(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::with_capacity(text.len() / max + 1);
    let mut rest = text;
    while rest.len() > max {
        let mut end = max;
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (head, tail) = rest.split_at(end);
        out.push(head);
        rest = tail;
    }
    out.push(rest);
    out
}

/// Statements writing `text` as the value of `owner`'s row `key`: `insert` (whose bindings are
/// `before`, then the first piece, then `after`) and one row of `pieces` per further piece.
/// Pieces left by an earlier value under the same key are deleted first.
pub fn write(
    owner: Owner,
    key: u64,
    text: &str,
    insert: &'static str,
    before: Vec<SqlStorageValue>,
    after: Vec<SqlStorageValue>,
    out: &mut Vec<Statement>,
) {
    let pieces = split(text, PIECE_BYTES);
    out.push((
        "DELETE FROM pieces WHERE owner = ? AND key = ?",
        vec![owner.name().into(), int(key)],
    ));
    let mut bindings = before;
    bindings.push(pieces[0].into());
    bindings.extend(after);
    out.push((insert, bindings));
    for (seq, piece) in pieces.iter().enumerate().skip(1) {
        out.push((
            "INSERT INTO pieces (owner, key, seq, piece) VALUES (?, ?, ?, ?)",
            vec![
                owner.name().into(),
                int(key),
                int(seq as u64),
                (*piece).into(),
            ],
        ));
    }
}

/// The statement deleting the further pieces of `owner`'s rows with keys in `from ..= to`.
pub fn delete(owner: Owner, from: u64, to: u64) -> Statement {
    (
        "DELETE FROM pieces WHERE owner = ? AND key >= ? AND key <= ?",
        vec![owner.name().into(), int(from), int(to)],
    )
}

/// A row of an owning table: its key and first piece.
#[derive(Deserialize)]
pub struct Head {
    /// The owner's key (version or request id).
    pub key: f64,
    /// The first piece of the value.
    pub text: String,
}

#[derive(Deserialize)]
struct PieceRow {
    key: f64,
    piece: String,
}

/// Completes each row's value with its further pieces (keys between the smallest and the
/// largest of `heads`) and parses it as JSON, in the order of `heads`.
pub fn read_whole<T: serde::de::DeserializeOwned>(
    sql: &SqlStorage,
    owner: Owner,
    heads: Vec<Head>,
) -> Result<Vec<T>, StoreError> {
    let (Some(lo), Some(hi)) = (
        heads.iter().map(|h| h.key as u64).min(),
        heads.iter().map(|h| h.key as u64).max(),
    ) else {
        return Ok(Vec::new());
    };
    let rows: Vec<PieceRow> = sql
        .exec(
            "SELECT key, piece FROM pieces WHERE owner = ? AND key >= ? AND key <= ?
             ORDER BY key, seq",
            vec![owner.name().into(), int(lo), int(hi)],
        )
        .and_then(|c| c.to_array())
        .map_err(err)?;
    let mut rest: HashMap<u64, Vec<String>> = HashMap::new();
    for r in rows {
        rest.entry(r.key as u64).or_default().push(r.piece);
    }
    heads
        .into_iter()
        .map(|h| {
            let mut text = h.text;
            for piece in rest.remove(&(h.key as u64)).unwrap_or_default() {
                text.push_str(&piece);
            }
            serde_json::from_str(&text).map_err(err)
        })
        .collect()
}

/// A storage error from anything displayable.
pub fn err(e: impl std::fmt::Display) -> StoreError {
    // Logged here in full (a JS error's text and stack), kept as the error's detail, and never
    // shown to a client (see `ApiError::detail`).
    let text = e.to_string();
    worker::console_error!("storage failed: {text}");
    StoreError(text)
}

/// An integer binding.
pub fn int(v: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(v as i64)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn pieces_are_bounded_cut_at_characters_and_join_back() {
        let text = "aé€😀".repeat(1000);
        for max in [4, 5, 7, 64, 4096] {
            let pieces = split(&text, max);
            assert!(pieces.iter().all(|p| p.len() <= max && !p.is_empty()));
            assert_eq!(pieces.concat(), text);
        }
        assert_eq!(split("", 8), vec![""]);
        assert_eq!(split("abcdefgh", 8), vec!["abcdefgh"]);
        assert_eq!(split("abcdefghi", 8), vec!["abcdefgh", "i"]);
    }
}
