//! The check of the `duration` fuzz target: Go duration parsing, millisecond rounding and
//! formatting (`registry_core::duration`) against an independent exact computation in `i128`
//! nanoseconds. A value out of range must be an error, never a wrapped number.

use registry_core::duration::{format_go_duration, nanos_to_millis_ceil, parse_go_duration};

/// Nanoseconds per unit, as Go spells them.
const UNITS: &[(&str, i128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Anything beyond this is out of range whatever follows (and keeps `i128` far from overflow:
/// `CAP × 3.6e12` is below 2^107).
const CAP: i128 = 1 << 64;

/// `floor(0.<digits> × scale)`, exactly: the decimal fraction times the unit, by long
/// multiplication of its digits, keeping the integer part.
fn fraction_of(digits: &[u8], scale: i128) -> i128 {
    // Multiply the decimal number `digits` by `scale`, least significant digit first; the
    // integer part of the product divided by 10^len is the carry out of the last digit.
    let mut carry: i128 = 0;
    for d in digits.iter().rev() {
        carry = (i128::from(d - b'0') * scale + carry) / 10;
    }
    carry
}

/// Go's grammar read independently: `[+-]` then `0`, or one or more `<number><unit>` parts;
/// the exact signed nanoseconds (`None` for a syntax error), possibly out of `i64` range.
pub fn reference_nanos(text: &str) -> Option<i128> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let int_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let int = &rest[..int_end];
        rest = &rest[int_end..];
        let mut frac = "";
        if let Some(after) = rest.strip_prefix('.') {
            let end = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            frac = &after[..end];
            rest = &after[end..];
        }
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let (unit, scale) = UNITS
            .iter()
            .filter(|(u, _)| rest.starts_with(u))
            .max_by_key(|(u, _)| u.len())?;
        rest = &rest[unit.len()..];
        if rest.starts_with(|c: char| !c.is_ascii_digit() && c != '.') {
            return None; // e.g. "1mss": no unit is a prefix of a longer one
        }
        let mut int_value: i128 = 0;
        for d in int.bytes() {
            int_value = (int_value * 10 + i128::from(d - b'0')).min(CAP);
        }
        total = (total + int_value * scale + fraction_of(frac.as_bytes(), *scale)).min(CAP);
    }
    Some(if negative { -total } else { total })
}

/// `ceil(nanos / 10^6)` for positive nanoseconds, truncation towards zero otherwise: what
/// `nanos_to_millis_ceil` promises, exactly.
fn reference_millis(nanos: i128) -> i128 {
    if nanos <= 0 {
        nanos / 1_000_000
    } else {
        (nanos + 999_999) / 1_000_000
    }
}

/// Runs the check on one input; panics on a violation.
///
/// The text parses exactly when the reference grammar accepts it and the value fits an `i64`
/// (out of range is an error), to the same nanoseconds; its milliseconds are the exact ceiling;
/// and milliseconds formatted (from the input's first eight bytes and from the parsed value)
/// parse back to exactly the same amount.
pub fn check(data: &[u8]) {
    if data.len() >= 8 {
        let raw = u64::from_le_bytes(data[..8].try_into().expect("eight bytes"));
        round_trip(raw);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = parse_go_duration(text);
    let expected = reference_nanos(text).filter(|n| i64::try_from(*n).is_ok());
    match (&parsed, expected) {
        (Ok(n), Some(e)) => {
            // Go reads a fraction through a 64-bit float (`float64(f) * (unit / scale)`), so a
            // long fraction may land a float rounding away from the exact value — once per part
            // with a fraction (each `.`): Go is the reference, within that rounding.
            let fractions = text.bytes().filter(|b| *b == b'.').count() as i128;
            let tolerance = fractions.max(1) + e.abs() / (1_i128 << 50);
            let diff = (i128::from(*n) - e).abs();
            assert!(diff <= tolerance, "{text:?}: {n} ns, exactly {e}");
        }
        (Err(_), None) => {}
        (Ok(n), None) => panic!("{text:?}: accepted as {n} ns, but it is invalid or out of range"),
        (Err(e), Some(n)) => panic!("{text:?}: rejected ({e}), but it is {n} ns"),
    }
    if let Ok(nanos) = parsed {
        let ms = nanos_to_millis_ceil(nanos);
        assert_eq!(
            i128::from(ms),
            reference_millis(i128::from(nanos)),
            "{text:?}: {nanos} ns rounded to {ms} ms"
        );
        if let Ok(ms) = u64::try_from(ms) {
            round_trip(ms);
        }
    }
}

/// `format_go_duration(ms)` is Go syntax for exactly `ms` milliseconds (an error when that is
/// beyond the `i64` nanoseconds Go durations hold).
fn round_trip(ms: u64) {
    let text = format_go_duration(ms);
    let exact = i128::from(ms) * 1_000_000;
    assert_eq!(
        reference_nanos(&text),
        Some(exact.min(CAP)),
        "{ms} ms formatted as {text:?}"
    );
    match parse_go_duration(&text) {
        Ok(n) => assert_eq!(i128::from(n), exact, "{ms} ms → {text:?} → {n} ns"),
        Err(_) => assert!(
            i64::try_from(exact).is_err(),
            "{ms} ms → {text:?} is rejected"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_reads_go_syntax() {
        assert_eq!(reference_nanos("1h30m"), Some(5_400_000_000_000));
        assert_eq!(reference_nanos(".5s"), Some(500_000_000));
        assert_eq!(reference_nanos("-0"), Some(0));
        assert_eq!(reference_nanos("0.000000000002h"), Some(7));
        assert_eq!(reference_nanos("1.9999999999ns"), Some(1));
        assert_eq!(reference_nanos("3µs"), Some(3_000));
        for bad in ["", "5", "1d", "1 s", "-", ".s", "1s-", "1mss", "5S"] {
            assert_eq!(reference_nanos(bad), None, "{bad:?}");
        }
    }
}
