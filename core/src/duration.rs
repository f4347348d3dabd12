//! Durations in Go's `time.ParseDuration` syntax (`"10s"`, `"1h30m"`, `".5s"`, `"-1s"`, `"0"`),
//! which is what reg clients send for `wait` and `ttl`.
//!
//! The whole range Go accepts parses to the same nanoseconds as in Go, from
//! `-2562047h47m16.854775808s` to `2562047h47m16.854775807s`; anything beyond is refused. No
//! arithmetic here can overflow, so a client number never wraps, also in release builds.

use thiserror::Error;

/// Milliseconds since the Unix epoch (instants) or a span of milliseconds (durations).
pub type Millis = u64;

/// The longest duration there is, as Go writes it (`i64::MAX` nanoseconds).
pub const MAX_DURATION_TEXT: &str = "2562047h47m16.854775807s";

/// The most negative duration there is, as Go writes it (`i64::MIN` nanoseconds).
pub const MIN_DURATION_TEXT: &str = "-2562047h47m16.854775808s";

/// How much of a refused duration an error message quotes (a client may send a long one).
const QUOTE_LIMIT: usize = 40;

/// Why a duration string was refused. Each message quotes the text (shortened if long).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DurationError {
    /// Not Go duration syntax, e.g. `"5"` … `"1e3s"`, `"1 s"`, `"s"`.
    #[error("invalid duration {0} (use a number and a unit, such as \"10s\" or \"1h30m\")")]
    Invalid(String),
    /// A number without a unit, e.g. `"5"`.
    #[error("missing unit in duration {0} (units: ns, us, ms, s, m, h)")]
    MissingUnit(String),
    /// A unit Go does not know, e.g. `"1d"`.
    #[error("unknown unit {unit} in duration {text} (units: ns, us, ms, s, m, h)")]
    UnknownUnit {
        /// The unit, quoted.
        unit: String,
        /// The whole duration, quoted.
        text: String,
    },
    /// Beyond what a signed 64-bit count of nanoseconds holds (as in Go).
    #[error(
        "duration {0} is out of range (a duration lies between {MIN_DURATION_TEXT} and \
         {MAX_DURATION_TEXT})"
    )]
    OutOfRange(String),
}

/// `text` in double quotes, cut after [`QUOTE_LIMIT`] characters.
fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
    }
}

/// 2^63: the magnitude of the most negative duration, one past the most positive.
const MAGNITUDE_LIMIT: u64 = 1 << 63;

/// Nanoseconds per unit, for the units Go knows.
fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Reads leading ASCII digits as an integer of at most 2^63. Returns the value, the rest and
/// whether any digit was read; `None` when the number is larger.
fn leading_int(s: &str) -> Option<(u64, &str, bool)> {
    let len = s.bytes().take_while(u8::is_ascii_digit).count();
    let mut value: u64 = 0;
    for d in s[..len].bytes() {
        value = value
            .checked_mul(10)?
            .checked_add(u64::from(d - b'0'))
            .filter(|v| *v <= MAGNITUDE_LIMIT)?;
    }
    Some((value, &s[len..], len > 0))
}

/// Reads the leading digits of a fraction as Go does: digits are kept while the numerator stays
/// within 2^63 and the rest only lose precision. Returns numerator, scale (10^kept digits),
/// the rest and whether any digit was read.
fn leading_fraction(s: &str) -> (u64, f64, &str, bool) {
    let len = s.bytes().take_while(u8::is_ascii_digit).count();
    let mut value: u64 = 0;
    let mut scale = 1.0_f64;
    for d in s[..len].bytes() {
        let next = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .filter(|v| *v <= MAGNITUDE_LIMIT);
        match next {
            Some(v) => {
                value = v;
                scale *= 10.0;
            }
            None => break,
        }
    }
    (value, scale, &s[len..], len > 0)
}

/// Parses a Go duration string into signed nanoseconds, exactly as Go's `time.ParseDuration`.
///
/// An optional sign, then one or more `<number><unit>` parts with units `ns`, `us`, `µs`, `μs`,
/// `ms`, `s`, `m`, `h`; a bare `0` is valid. A fraction finer than a nanosecond is truncated (as
/// in Go, through a 64-bit float). Beyond the range of `i64` nanoseconds is an error.
///
/// ```
/// use registry_core::duration::parse_go_duration;
/// assert_eq!(parse_go_duration("1h30m").unwrap(), 5_400_000_000_000);
/// assert_eq!(parse_go_duration(".5s").unwrap(), 500_000_000);
/// assert_eq!(parse_go_duration("2562047h47m16.854775807s").unwrap(), i64::MAX);
/// assert!(parse_go_duration("2562047h47m16.854775808s").is_err());
/// assert!(parse_go_duration("5").is_err());
/// ```
pub fn parse_go_duration(text: &str) -> Result<i64, DurationError> {
    let invalid = || DurationError::Invalid(quote(text));
    let out_of_range = || DurationError::OutOfRange(quote(text));
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    // The magnitude, at most 2^63 at every step.
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !rest.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid());
        }
        let (int, after_int, has_int) = leading_int(rest).ok_or_else(out_of_range)?;
        let (frac, scale, after_num, has_frac) = match after_int.strip_prefix('.') {
            Some(after_dot) => leading_fraction(after_dot),
            None => (0, 1.0, after_int, false),
        };
        if !has_int && !has_frac {
            return Err(invalid());
        }
        // The unit runs to the next digit or dot (both ASCII, so this is a char boundary).
        let unit_len = after_num
            .bytes()
            .position(|b| b == b'.' || b.is_ascii_digit())
            .unwrap_or(after_num.len());
        if unit_len == 0 {
            return Err(DurationError::MissingUnit(quote(text)));
        }
        let (unit, next) = after_num.split_at(unit_len);
        let per_unit = unit_nanos(unit).ok_or_else(|| DurationError::UnknownUnit {
            unit: quote(unit),
            text: quote(text),
        })?;
        if int > MAGNITUDE_LIMIT / per_unit {
            return Err(out_of_range());
        }
        let mut part = int * per_unit;
        if frac > 0 {
            // Go computes the fraction in float64, which is nanosecond-accurate here: the
            // product is below one unit, at most 3.6e12 ns, and the cast truncates like Go's.
            let fraction = (frac as f64 * (per_unit as f64 / scale)) as u64;
            part = part
                .checked_add(fraction)
                .filter(|p| *p <= MAGNITUDE_LIMIT)
                .ok_or_else(out_of_range)?;
        }
        total = total
            .checked_add(part)
            .filter(|t| *t <= MAGNITUDE_LIMIT)
            .ok_or_else(out_of_range)?;
        rest = next;
    }
    let signed = if negative {
        -i128::from(total)
    } else {
        i128::from(total)
    };
    i64::try_from(signed).map_err(|_| out_of_range())
}

/// Converts signed nanoseconds to whole milliseconds, rounding up (towards +∞) so that a tiny
/// positive duration stays positive. Never overflows: `i64::MAX` ns is 9,223,372,036,855 ms.
pub fn nanos_to_millis_ceil(nanos: i64) -> i64 {
    let whole = nanos / 1_000_000;
    if nanos % 1_000_000 > 0 {
        whole + 1
    } else {
        whole
    }
}

/// A positive duration in whole milliseconds (rounded up), or `None` for zero or less: what a
/// TTL or a wait is once parsed. The largest is 9,223,372,036,855 ms (about 292 years), so a
/// caller adding it to an instant must still check (or saturate) that sum.
///
/// ```
/// use registry_core::duration::{parse_go_duration, positive_millis};
/// assert_eq!(positive_millis(parse_go_duration("1ns").unwrap()), Some(1));
/// assert_eq!(positive_millis(parse_go_duration("-1s").unwrap()), None);
/// assert_eq!(positive_millis(i64::MAX), Some(9_223_372_036_855));
/// ```
pub fn positive_millis(nanos: i64) -> Option<Millis> {
    Millis::try_from(nanos_to_millis_ceil(nanos))
        .ok()
        .filter(|ms| *ms > 0)
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

    const NS: i64 = 1;
    const US: i64 = 1_000;
    const MS: i64 = 1_000_000;
    const S: i64 = 1_000_000_000;
    const M: i64 = 60 * S;
    const H: i64 = 60 * M;

    /// Go's own `parseDurationTests` (src/time/time_test.go).
    #[test]
    fn parses_go_test_table() {
        let table = [
            ("0", 0),
            ("5s", 5 * S),
            ("30s", 30 * S),
            ("1478s", 1478 * S),
            ("-5s", -5 * S),
            ("+5s", 5 * S),
            ("-0", 0),
            ("+0", 0),
            ("5.0s", 5 * S),
            ("5.6s", 5 * S + 600 * MS),
            ("5.s", 5 * S),
            (".5s", 500 * MS),
            ("1.0s", S),
            ("1.00s", S),
            ("1.004s", S + 4 * MS),
            ("1.0040s", S + 4 * MS),
            ("100.00100s", 100 * S + MS),
            ("10ns", 10 * NS),
            ("11us", 11 * US),
            ("12µs", 12 * US),
            ("12μs", 12 * US),
            ("13ms", 13 * MS),
            ("14s", 14 * S),
            ("15m", 15 * M),
            ("16h", 16 * H),
            ("3h30m", 3 * H + 30 * M),
            ("10.5s4m", 4 * M + 10 * S + 500 * MS),
            ("-2m3.4s", -(2 * M + 3 * S + 400 * MS)),
            (
                "1h2m3s4ms5us6ns",
                H + 2 * M + 3 * S + 4 * MS + 5 * US + 6 * NS,
            ),
            ("39h9m14.425s", 39 * H + 9 * M + 14 * S + 425 * MS),
            ("52763797000ns", 52763797000 * NS),
            ("0.3333333333333333333h", 20 * M),
            ("9007199254740993ns", (1 << 53) + 1),
            ("9223372036854775807ns", i64::MAX),
            ("9223372036854775.807us", i64::MAX),
            ("9223372036s854ms775us807ns", i64::MAX),
            ("-9223372036854775808ns", i64::MIN),
            ("-9223372036854775.808us", i64::MIN),
            ("-9223372036s854ms775us808ns", i64::MIN),
            ("-2562047h47m16.854775808s", i64::MIN),
            ("0.100000000000000000000h", 6 * M),
            ("0.830103483285477580700h", 49 * M + 48 * S + 372539827 * NS),
        ];
        for (text, nanos) in table {
            assert_eq!(parse_go_duration(text), Ok(nanos), "{text}");
        }
    }

    /// Go's own `parseDurationErrorTests`, plus malformed inputs Go refuses as well.
    #[test]
    fn refuses_what_go_refuses() {
        for text in [
            "",
            "3",
            "-",
            "s",
            ".",
            "-.",
            ".s",
            "+.s",
            "1d",
            "\u{85}\u{85}",
            "\u{FFFD}",
            "\u{FFFD} hello \u{FFFD} world",
            "9223372036854775810ns",
            "9223372036854775808ns",
            "-9223372036854775809ns",
            "9223372036854776us",
            "3000000h",
            "9223372036854775.808us",
            "9223372036854ms775us808ns",
            "5S",
            "1e3s",
            "1 s",
            " 1s",
            "1s-",
            "--1s",
            "+-1s",
            "9999999999999999999h",
            "99999999999999999999999ns",
        ] {
            assert!(
                parse_go_duration(text).is_err(),
                "{text:?} should be refused"
            );
        }
    }

    #[test]
    fn the_whole_range_parses_exactly() {
        assert_eq!(parse_go_duration(MAX_DURATION_TEXT), Ok(i64::MAX));
        assert_eq!(parse_go_duration(MIN_DURATION_TEXT), Ok(i64::MIN));
        assert_eq!(parse_go_duration("2562047h"), Ok(2562047 * H));
        assert_eq!(parse_go_duration("-2562047h"), Ok(-2562047 * H));
        // One nanosecond past either end.
        for text in [
            "2562047h47m16.854775808s",
            "-2562047h47m16.854775809s",
            "2562047h47m16.854775807s1ns",
            "2562048h",
        ] {
            assert!(
                matches!(parse_go_duration(text), Err(DurationError::OutOfRange(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let msg = |t: &str| parse_go_duration(t).unwrap_err().to_string();
        assert!(msg("5").contains("missing unit"), "{}", msg("5"));
        assert!(msg("1d").contains("unknown unit \"d\""), "{}", msg("1d"));
        assert!(
            msg("3000000h").contains("out of range"),
            "{}",
            msg("3000000h")
        );
        assert!(msg("3000000h").contains(MAX_DURATION_TEXT));
        assert!(msg("x").starts_with("invalid duration \"x\""));
        let long = "1".repeat(10_000);
        assert!(msg(&long).len() < 200, "a long input is not echoed whole");
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
        assert_eq!(nanos_to_millis_ceil(-5_000_001), -5);
        assert_eq!(nanos_to_millis_ceil(40_000_000), 40);
    }

    #[test]
    fn ceil_never_overflows() {
        assert_eq!(nanos_to_millis_ceil(i64::MAX), 9_223_372_036_855);
        assert_eq!(nanos_to_millis_ceil(i64::MIN), -9_223_372_036_854);
        assert_eq!(positive_millis(i64::MAX), Some(9_223_372_036_855));
        assert_eq!(positive_millis(i64::MIN), None);
        assert_eq!(positive_millis(0), None);
        assert_eq!(positive_millis(1), Some(1));
    }
}
