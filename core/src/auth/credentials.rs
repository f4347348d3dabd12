//! Where a request carries its token, and how tokens are compared.
//!
//! - `Authorization: Bearer <token>` (any client that can set a header);
//! - `Authorization: Basic base64(user:token)`: HTTP Basic with the token as the password and
//!   any user name, so reg clients work with a URL like `http://x:TOKEN@host/`;
//! - browsers' WebSocket: the subprotocol `bearer.<token>` offered next to [`WS_PROTOCOL`]
//!   (`new WebSocket(url, ["registry", "bearer." + token])`), on `/v1/ws` only;
//! - browsers' `EventSource`: the query parameter `access_token`, on `GET /v1/watch` only.
//!
//! See `docs/security.md` and the decision in `docs/decisions.md`.

use super::action::Action;

/// The subprotocol a browser offers (with `bearer.<token>`) and the server selects.
pub const WS_PROTOCOL: &str = "registry";
/// Prefix of the subprotocol that carries the token.
pub const WS_TOKEN_PREFIX: &str = "bearer.";
/// The query parameter that carries the token of an `EventSource`.
pub const ACCESS_TOKEN_PARAM: &str = "access_token";
/// Longest token (configured or presented). Every comparison covers this many bytes.
pub const MAX_TOKEN_LEN: usize = 256;

/// Is this a valid token text? 1–[`MAX_TOKEN_LEN`] characters of `A-Z a-z 0-9 - . _ ~`, so that
/// it is the same verbatim in a header, a URL (query or user info) and a WebSocket subprotocol.
pub fn is_token_text(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// A token padded with zeros to [`MAX_TOKEN_LEN`] bytes: the form in which tokens are compared.
///
/// Comparing two of them ([`PaddedToken::ct_eq`]) always reads all [`MAX_TOKEN_LEN`] bytes of
/// both and ORs their XORs into one accumulator with no branch and no early exit, so the time
/// taken does not depend on where (or whether) the tokens differ, nor on either token's length.
/// Zero padding cannot make two different tokens equal: token texts never contain a zero byte,
/// so a shorter token differs from a longer one at the first byte past its end.
#[derive(Clone)]
pub struct PaddedToken {
    bytes: [u8; MAX_TOKEN_LEN],
}

impl PaddedToken {
    /// Pads a valid token text; `None` when [`is_token_text`] is false.
    pub fn new(token: &str) -> Option<PaddedToken> {
        if !is_token_text(token) {
            return None;
        }
        let mut bytes = [0u8; MAX_TOKEN_LEN];
        bytes[..token.len()].copy_from_slice(token.as_bytes());
        Some(PaddedToken { bytes })
    }

    /// Constant-time equality (see the type's documentation).
    pub fn ct_eq(&self, other: &PaddedToken) -> bool {
        let mut diff = 0u8;
        for i in 0..MAX_TOKEN_LEN {
            diff |= self.bytes[i] ^ other.bytes[i];
        }
        // Keeps the optimizer from turning the loop into an early-exit comparison.
        std::hint::black_box(diff) == 0
    }
}

impl std::fmt::Debug for PaddedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaddedToken(…)")
    }
}

/// Where the request's credentials may be: the raw header values and query string.
#[derive(Debug, Clone, Copy, Default)]
pub struct CredentialSources<'a> {
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The `Sec-WebSocket-Protocol` header (a comma-separated list).
    pub websocket_protocol: Option<&'a str>,
    /// The raw query string (without `?`).
    pub query: &'a str,
}

impl CredentialSources<'_> {
    /// The token presented for `action`, if any: the `Authorization` header first (Bearer, or
    /// Basic's password); else, for [`Action::Socket`], a `bearer.` subprotocol; else, for
    /// [`Action::Watch`], the `access_token` parameter. A malformed header yields `None`.
    pub fn token(&self, action: Action) -> Option<String> {
        if let Some(header) = self.authorization {
            return token_from_authorization(header);
        }
        match action {
            Action::Socket => self.websocket_protocol.and_then(token_from_ws_protocol),
            Action::Watch => token_from_query(self.query),
            _ => None,
        }
    }
}

/// The token of an `Authorization` header: `Bearer <token>`, or `Basic <base64(user:token)>`
/// (the password; the user name is ignored). Schemes are case-insensitive.
pub fn token_from_authorization(header: &str) -> Option<String> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = String::from_utf8(base64_decode(rest)?).ok()?;
        let (_user, password) = decoded.split_once(':')?;
        return Some(password.to_string());
    }
    None
}

/// The token of a `Sec-WebSocket-Protocol` header: the first `bearer.<token>` entry.
pub fn token_from_ws_protocol(header: &str) -> Option<String> {
    header
        .split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix(WS_TOKEN_PREFIX))
        .map(str::to_string)
}

/// The subprotocol to select in the `101` answer when the client offered [`WS_PROTOCOL`]
/// (browsers fail a connection that offered subprotocols and got none back). The token's own
/// entry is never echoed.
pub fn ws_protocol_reply(header: Option<&str>) -> Option<&'static str> {
    header?
        .split(',')
        .map(str::trim)
        .any(|p| p == WS_PROTOCOL)
        .then_some(WS_PROTOCOL)
}

/// The `access_token` query parameter, percent-decoded.
pub fn token_from_query(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == ACCESS_TOKEN_PARAM)
            .then(|| crate::api::query::percent_decode(v, true).ok())
            .flatten()
    })
}

/// Decodes standard base64 (`A-Z a-z 0-9 + /`; `=` padding optional, but when present it must
/// complete the last group of four). `None` on anything else.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let body = text.trim_end_matches('=');
    let padding = text.len() - body.len();
    if padding > 2 || (padding > 0 && !text.len().is_multiple_of(4)) || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.as_bytes().chunks(4) {
        let mut acc = 0u32;
        for &c in chunk {
            acc = (acc << 6) | value(c)?;
        }
        // A chunk of n characters carries n*6 bits: n-1 whole bytes (3 for a full chunk).
        let bits = chunk.len() * 6;
        acc <<= 24 - bits;
        for k in 0..chunk.len() - 1 {
            out.push((acc >> (16 - 8 * k)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_and_password: &str) -> String {
        // Encoder for tests only (the core never encodes).
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes = user_and_password.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let mut acc = 0u32;
            for (i, b) in chunk.iter().enumerate() {
                acc |= u32::from(*b) << (16 - 8 * i);
            }
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(acc >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        format!("Basic {out}")
    }

    #[test]
    fn base64_known_vectors() {
        for (text, plain) in [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
            ("Zm9vYg", "foob"),
            ("eDpzM2NyM3QtcGk=", "x:s3cr3t-pi"),
        ] {
            assert_eq!(base64_decode(text).unwrap(), plain.as_bytes(), "{text}");
        }
        assert_eq!(basic("x:s3cr3t-pi"), "Basic eDpzM2NyM3QtcGk=");
        for bad in ["Z", "Zm9v!", "Zg===", "Z===", "Zm 9v", "Zm8==", "Zg="] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn bearer_and_basic() {
        assert_eq!(
            token_from_authorization("Bearer abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            token_from_authorization("bearer  abc ").as_deref(),
            Some("abc")
        );
        assert_eq!(
            token_from_authorization(&basic("x:s3cr3t-pi")).as_deref(),
            Some("s3cr3t-pi")
        );
        // Any user name, including none; a colon in the password stays in it.
        assert_eq!(token_from_authorization(&basic(":t")).as_deref(), Some("t"));
        assert_eq!(
            token_from_authorization(&basic("user:a:b")).as_deref(),
            Some("a:b")
        );
        assert_eq!(token_from_authorization(&basic("no-colon")), None);
        assert_eq!(token_from_authorization("Basic !!!"), None);
        assert_eq!(token_from_authorization("Token abc"), None);
        assert_eq!(token_from_authorization("Bearer"), None);
        assert_eq!(token_from_authorization(""), None);
    }

    #[test]
    fn websocket_protocol_and_query() {
        let offered = "registry, bearer.s3cr3t-panel";
        assert_eq!(
            token_from_ws_protocol(offered).as_deref(),
            Some("s3cr3t-panel")
        );
        assert_eq!(token_from_ws_protocol("registry"), None);
        assert_eq!(ws_protocol_reply(Some(offered)), Some("registry"));
        assert_eq!(ws_protocol_reply(Some("bearer.x")), None);
        assert_eq!(ws_protocol_reply(None), None);
        assert_eq!(
            token_from_query("since=3&access_token=a%2Db&name=x").as_deref(),
            Some("a-b")
        );
        assert_eq!(token_from_query("xaccess_token=a"), None);
        assert_eq!(token_from_query(""), None);
    }

    #[test]
    fn sources_by_action() {
        let src = CredentialSources {
            authorization: None,
            websocket_protocol: Some("registry, bearer.ws"),
            query: "access_token=q",
        };
        assert_eq!(src.token(Action::Socket).as_deref(), Some("ws"));
        assert_eq!(src.token(Action::Watch).as_deref(), Some("q"));
        // Elsewhere neither is accepted: tokens in URLs stay confined to EventSource.
        assert_eq!(src.token(Action::EntryRead), None);
        assert_eq!(src.token(Action::RegisterRead), None);
        // The header wins, even when malformed (no silent fallback to another source).
        let with_header = CredentialSources {
            authorization: Some("Bearer h"),
            ..src
        };
        assert_eq!(with_header.token(Action::Watch).as_deref(), Some("h"));
        let bad_header = CredentialSources {
            authorization: Some("Nonsense"),
            ..src
        };
        assert_eq!(bad_header.token(Action::Watch), None);
    }

    #[test]
    fn token_text_and_constant_time_equality() {
        assert!(is_token_text("s3cr3t-ops_~."));
        for bad in ["", "a b", "a/b", "a=b", "tök", "a\0b"] {
            assert!(!is_token_text(bad), "{bad:?}");
        }
        assert!(is_token_text(&"a".repeat(MAX_TOKEN_LEN)));
        assert!(!is_token_text(&"a".repeat(MAX_TOKEN_LEN + 1)));
        let t = |s: &str| PaddedToken::new(s).unwrap();
        assert!(t("s3cr3t-pi").ct_eq(&t("s3cr3t-pi")));
        // Same length, one byte different: first, middle, last.
        assert!(!t("s3cr3t-pi").ct_eq(&t("x3cr3t-pi")));
        assert!(!t("s3cr3t-pi").ct_eq(&t("s3cr4t-pi")));
        assert!(!t("s3cr3t-pi").ct_eq(&t("s3cr3t-pj")));
        // A prefix, and a longer token: padding never makes them equal.
        assert!(!t("s3cr3t-pi").ct_eq(&t("s3cr3t-p")));
        assert!(!t("s3cr3t-pi").ct_eq(&t("s3cr3t-pi-")));
        let long = "z".repeat(MAX_TOKEN_LEN);
        assert!(t(&long).ct_eq(&t(&long)));
        assert!(PaddedToken::new("a b").is_none());
        assert_eq!(format!("{:?}", t("secret")), "PaddedToken(…)");
    }
}
