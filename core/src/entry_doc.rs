//! An entry as one JSON text, the layout a host stores it in: `[id, kind, meta, data, ttl_ms,
//! expires_at, version]`. Loading a registry joins many of them into one JSON array (one text
//! per page crosses from the host's storage) and parses it here, in one pass, with no field
//! names to match.

use crate::entry::{Entry, Meta};
use serde_json::Value;

/// The stored shape of one entry.
type Doc = (String, String, Meta, Value, Option<u64>, Option<u64>, u64);

/// The stored text of `e`.
///
/// ```
/// use registry_core::{entry_doc, Entry};
/// let e = Entry { id: "a:b".into(), kind: "register".into(), meta: Default::default(),
///     data: 7.into(), ttl_ms: None, expires_at: None, version: 3 };
/// assert_eq!(entry_doc::to_doc(&e), r#"["a:b","register",{},7,null,null,3]"#);
/// ```
pub fn to_doc(e: &Entry) -> String {
    let doc = (
        &e.id,
        &e.kind,
        &e.meta,
        &e.data,
        e.ttl_ms,
        e.expires_at,
        e.version,
    );
    // Strings, JSON values and integers always serialize.
    serde_json::to_string(&doc).expect("an entry serializes")
}

/// The entries of a JSON array of stored texts (`[doc, doc, ...]`).
pub fn parse_docs(array: &str) -> Result<Vec<Entry>, serde_json::Error> {
    let mut out = Vec::new();
    parse_docs_into(array.as_bytes(), &mut out)?;
    Ok(out)
}

/// Appends the entries of a JSON array of stored texts, given as its UTF-8 bytes (as a host
/// reads a page of them), to `out`, each built as its doc is parsed (no intermediate vector
/// per page: loading reads many pages into one). Invalid UTF-8 is an error.
pub fn parse_docs_into(array: &[u8], out: &mut Vec<Entry>) -> Result<(), serde_json::Error> {
    use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};

    struct Docs<'a>(&'a mut Vec<Entry>);
    impl<'de> Visitor<'de> for Docs<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of entry docs")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some((id, kind, meta, data, ttl_ms, expires_at, version)) =
                seq.next_element::<Doc>()?
            {
                self.0.push(Entry {
                    id,
                    kind,
                    meta,
                    data,
                    ttl_ms,
                    expires_at,
                    version,
                });
            }
            Ok(())
        }
    }
    impl<'de> DeserializeSeed<'de> for Docs<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }

    let mut de = serde_json::Deserializer::from_slice(array);
    Docs(out).deserialize(&mut de)?;
    de.end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(id: &str, ttl: Option<u64>) -> Entry {
        Entry {
            id: id.into(),
            kind: "config.net".into(),
            meta: json!({"unit": "°C", "n": [1, 2.5]})
                .as_object()
                .unwrap()
                .clone(),
            data: json!({"deep": {"x": null, "q": "\"quoted\"\n"}}),
            ttl_ms: ttl,
            expires_at: ttl.map(|t| t + 1_000),
            version: 42,
        }
    }

    #[test]
    fn docs_joined_in_an_array_parse_back_to_the_same_entries() {
        let entries = vec![entry("a:1", Some(5_000)), entry("b:\"odd\" id", None)];
        let joined = format!(
            "[{}]",
            entries.iter().map(to_doc).collect::<Vec<_>>().join(",")
        );
        assert_eq!(parse_docs(&joined).unwrap(), entries);
        assert_eq!(parse_docs("[]").unwrap(), vec![]);
    }

    #[test]
    fn a_malformed_doc_is_an_error() {
        assert!(parse_docs(r#"[["a","register",{},1,null,null]]"#).is_err());
        assert!(parse_docs(r#"[["a","register",[],1,null,null,1]]"#).is_err());
        let mut out = Vec::new();
        assert!(parse_docs_into(b"[[\"a\",\"register\",{},1,null,null,1]]", &mut out).is_ok());
        assert!(parse_docs_into(b"[[\"\xff\",\"register\",{},1,null,null,1]]", &mut out).is_err());
        assert!(parse_docs_into(b"[] trailing", &mut out).is_err());
    }
}
