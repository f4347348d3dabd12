//! Query-string and path decoding with the semantics of Go's `net/url` as reg uses it:
//! `name` repeatable, `names` comma-separated, `wait` a Go duration, plus our `since`.

use super::error::ApiError;
use crate::duration::{nanos_to_millis_ceil, parse_go_duration};

/// Percent-decodes a URL component (`+` means space when `plus_is_space`).
pub fn percent_decode(text: &str, plus_is_space: bool) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => out.push(b),
                    None => return Err(format!("bad percent-escape in {text:?}")),
                }
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} is not UTF-8 once decoded"))
}

/// The decoded `key=value` pairs of a query string, in order.
pub fn parse_pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let bad =
            |e: String| ApiError::new(400, "invalid_query", format!("invalid query string: {e}"));
        pairs.push((
            percent_decode(k, true).map_err(bad)?,
            percent_decode(v, true).map_err(bad)?,
        ));
    }
    Ok(pairs)
}

/// The parameters of a register API GET.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PollParams {
    /// Requested names; `None` = all registers.
    pub names: Option<Vec<String>>,
    /// How long to wait, in ms (≤ 0 = answer at once). Not yet capped.
    pub wait_ms: i64,
    /// Answer at once if something named changed after this version.
    pub since: Option<u64>,
}

/// Parses `name`, `names`, `wait` and `since` like reg does (first `wait`/`names` wins).
pub fn parse_poll_params(query: &str) -> Result<PollParams, ApiError> {
    let pairs = parse_pairs(query)?;
    let first = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let mut names: Option<Vec<String>> = None;
    for (k, v) in &pairs {
        if k == "name" {
            names.get_or_insert_with(Vec::new).push(v.clone());
        }
    }
    if let Some(list) = first("names").filter(|s| !s.is_empty()) {
        let v = names.get_or_insert_with(Vec::new);
        v.extend(list.split(',').map(str::to_string));
    }
    let wait_ms = match first("wait") {
        None | Some("") => 0,
        Some(w) => {
            let nanos = parse_go_duration(w).map_err(|e| ApiError::invalid_wait(&e.to_string()))?;
            nanos_to_millis_ceil(nanos)
        }
    };
    let since = match first("since") {
        None | Some("") => None,
        Some(s) => Some(s.parse::<u64>().map_err(|_| {
            ApiError::new(
                400,
                "invalid_since",
                format!("invalid since parameter: {s:?} is not a version number"),
            )
        })?),
    };
    Ok(PollParams {
        names,
        wait_ms,
        since,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(q: &str) -> Option<Vec<String>> {
        parse_poll_params(q).unwrap().names
    }

    #[test]
    fn names_follow_reg() {
        let v = |s: &[&str]| Some(s.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(names("name=temp"), v(&["temp"]));
        assert_eq!(names("name=temp&name=humidity"), v(&["temp", "humidity"]));
        assert_eq!(
            names("names=temp,humidity,pressure"),
            v(&["temp", "humidity", "pressure"])
        );
        assert_eq!(
            names("name=temp&names=humidity,pressure"),
            v(&["temp", "humidity", "pressure"])
        );
        assert_eq!(names("names=humidity&name=temp"), v(&["temp", "humidity"]));
        assert_eq!(names(""), None);
        assert_eq!(names("names="), None);
        assert_eq!(names("name="), v(&[""]));
        assert_eq!(names("names=a,,b"), v(&["a", "", "b"]));
        assert_eq!(names("name=a%2Cb&name=%C3%A9+x"), v(&["a,b", "é x"]));
    }

    #[test]
    fn wait_and_since() {
        assert_eq!(parse_poll_params("wait=5s").unwrap().wait_ms, 5000);
        assert_eq!(parse_poll_params("").unwrap().wait_ms, 0);
        assert_eq!(parse_poll_params("wait=-1s").unwrap().wait_ms, -1000);
        assert_eq!(parse_poll_params("wait=1s&wait=bad").unwrap().wait_ms, 1000);
        assert_eq!(
            parse_poll_params("wait=invalid").unwrap_err().code,
            "invalid_wait"
        );
        // The ends of the duration range: positive (capped later) or at once, never wrapped.
        for top in ["9223372036854775807ns", "2562047h47m16.854775807s"] {
            let wait = parse_poll_params(&format!("wait={top}")).unwrap().wait_ms;
            assert_eq!(wait, 9_223_372_036_855, "{top}");
        }
        let bottom = parse_poll_params("wait=-2562047h47m16.854775808s").unwrap();
        assert!(bottom.wait_ms < 0);
        assert_eq!(
            parse_poll_params("wait=2562047h47m16.854775808s")
                .unwrap_err()
                .code,
            "invalid_wait"
        );
        assert_eq!(parse_poll_params("since=7").unwrap().since, Some(7));
        assert_eq!(
            parse_poll_params("since=18446744073709551615")
                .unwrap()
                .since,
            Some(u64::MAX)
        );
        assert_eq!(
            parse_poll_params("since=18446744073709551616")
                .unwrap_err()
                .code,
            "invalid_since"
        );
        assert_eq!(
            parse_poll_params("since=-1").unwrap_err().code,
            "invalid_since"
        );
        assert_eq!(
            parse_poll_params("name=%zz").unwrap_err().code,
            "invalid_query"
        );
    }
}
