//! Durations in Go's `time.ParseDuration` syntax (`"10s"`, `"1h30m"`, `".5s"`, `"-1s"`, `"0"`),
//! which is what reg clients send for `wait` and `ttl`.

use thiserror::Error;

/// Milliseconds since the Unix epoch (instants) or a span of milliseconds (durations).
pub type Millis = u64;

/// A duration string that is not valid Go duration syntax.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid duration {0:?}")]
pub struct DurationError(pub String);

/// Parses a Go duration string into signed nanoseconds.
///
/// Accepts exactly what Go accepts: an optional sign, then one or more `<number><unit>` parts with
/// units `ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`; a bare `0` is valid. Overflow is an error.
///
/// ```
/// use registry_core::duration::parse_go_duration;
/// assert_eq!(parse_go_duration("1h30m").unwrap(), 5_400_000_000_000);
/// assert_eq!(parse_go_duration(".5s").unwrap(), 500_000_000);
/// assert!(parse_go_duration("5").is_err());
/// ```
pub fn parse_go_duration(text: &str) -> Result<i64, DurationError> {
    let err = || DurationError(text.to_string());
    let mut rest = text;
    let mut negative = false;
    if let Some(r) = rest.strip_prefix('-') {
        negative = true;
        rest = r;
    } else if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    }
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(err());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        // Integer part.
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_digits, after_int) = rest.split_at(int_len);
        let mut frac_digits = "";
        let mut after_num = after_int;
        if let Some(after_dot) = after_int.strip_prefix('.') {
            let frac_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            frac_digits = &after_dot[..frac_len];
            after_num = &after_dot[frac_len..];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(err());
        }
        let unit_len = after_num
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map(|(i, _)| i)
            .unwrap_or(after_num.len());
        let (unit, next) = after_num.split_at(unit_len);
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(err()),
        };
        let mut int_value: u128 = 0;
        for d in int_digits.bytes() {
            int_value = int_value * 10 + u128::from(d - b'0');
            if int_value > i64::MAX as u128 {
                return Err(err());
            }
        }
        let mut part = int_value * scale;
        // Fraction: Go keeps up to the precision of the unit, truncating the rest.
        let mut frac_scale = scale;
        for d in frac_digits.bytes() {
            if frac_scale < 10 {
                break;
            }
            frac_scale /= 10;
            part += u128::from(d - b'0') * frac_scale;
        }
        total += part;
        if total > i64::MAX as u128 + u128::from(negative) {
            return Err(err());
        }
        rest = next;
    }
    let total = total as i128;
    Ok(if negative { -total } else { total } as i64)
}

/// Converts signed nanoseconds to whole milliseconds, rounding a positive fraction up so that a
/// tiny positive duration stays positive.
pub fn nanos_to_millis_ceil(nanos: i64) -> i64 {
    if nanos <= 0 {
        nanos / 1_000_000
    } else {
        (nanos + 999_999) / 1_000_000
    }
}

/// Formats milliseconds the way Go's `Duration.String()` does (`10s`, `1m30s`, `100ms`, `0s`).
pub fn format_go_duration(ms: Millis) -> String {
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let hours = ms / 3_600_000;
    let minutes = (ms / 60_000) % 60;
    let secs = (ms / 1000) % 60;
    let frac = ms % 1000;
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    if frac == 0 {
        out.push_str(&format!("{secs}s"));
    } else {
        let f = format!("{frac:03}");
        out.push_str(&format!("{secs}.{}s", f.trim_end_matches('0')));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_go_accepts() {
        let ok = [
            ("0", 0),
            ("5s", 5_000_000_000),
            ("-1s", -1_000_000_000),
            ("+2ms", 2_000_000),
            ("0.5s", 500_000_000),
            (".5s", 500_000_000),
            ("5.s", 5_000_000_000),
            ("1h30m", 5_400_000_000_000),
            ("1h30m500ms", 5_400_500_000_000),
            ("100ns", 100),
            ("3us", 3_000),
            ("3µs", 3_000),
            ("3μs", 3_000),
            ("1000h", 3_600_000_000_000_000),
            ("1.0000000001s", 1_000_000_000),
        ];
        for (text, nanos) in ok {
            assert_eq!(parse_go_duration(text), Ok(nanos), "{text}");
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for text in [
            "",
            "5",
            "5S",
            "1d",
            "1e3s",
            "invalid",
            "1 s",
            " 1s",
            "s",
            ".s",
            "-",
            "1s-",
            "--1s",
            "9999999999999999999h",
            "3000000h",
        ] {
            assert!(
                parse_go_duration(text).is_err(),
                "{text:?} should be rejected"
            );
        }
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go_duration(5_000), "5s");
        assert_eq!(format_go_duration(600_000), "10m0s");
        assert_eq!(format_go_duration(7_200_000), "2h0m0s");
        assert_eq!(format_go_duration(5_400_000), "1h30m0s");
        assert_eq!(format_go_duration(100), "100ms");
        assert_eq!(format_go_duration(1_500), "1.5s");
    }

    #[test]
    fn ceil_keeps_tiny_positive_durations_positive() {
        assert_eq!(nanos_to_millis_ceil(1), 1);
        assert_eq!(nanos_to_millis_ceil(0), 0);
        assert_eq!(nanos_to_millis_ceil(-5_000_000), -5);
        assert_eq!(nanos_to_millis_ceil(40_000_000), 40);
    }
}
