//! Decimals as text, read and written the way the canonical JSON does, without the generic
//! machinery.
//!
//! Codecs read and write tens of decimals per document. `Decimal::to_string` spends most of
//! its time in the generic formatter (about 800 instructions per value in the CSV encoder's
//! profile), and `Decimal::from_str` handles forms (`+`, `_`, rounding of long fractions) that
//! plain numbers never have. These do the common case directly and give exactly what the
//! standard forms give: same digits, same scale (`12.50` stays `12.50`), same sign.

use rust_decimal::Decimal;

/// Reads `[-]digits[.digits]` (also `.5` and `5.`) as `Decimal::from_str` would, scale and
/// sign included; `None` for any other form, so a caller can refuse it or hand it to
/// `from_str`, and for a value a decimal cannot hold exactly (beyond 96 bits or 28 decimals):
/// never rounded.
pub fn parse_plain_decimal(text: &str) -> Option<Decimal> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if digits.len() <= SHORT_LEN {
        parse_short(negative, digits.as_bytes())
    } else {
        parse_long(text, negative, digits)
    }
}

/// True when `text` is written as [`parse_plain_decimal`] reads it (`[-]digits[.digits]`, a
/// digit somewhere), whether or not a decimal holds its value: so a reader that got `None`
/// can tell "not a number" from "more digits than a decimal holds exactly".
pub fn is_plain_decimal_form(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    unsigned.bytes().any(|b| b.is_ascii_digit())
        && unsigned.bytes().filter(|b| *b == b'.').count() <= 1
        && unsigned.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// Longest unsigned text [`parse_short`] takes: at most 19 digits, which a `u64` always holds.
const SHORT_LEN: usize = 19;

/// [`parse_plain_decimal`] for the common case of at most [`SHORT_LEN`] bytes after the sign
/// (every quantity and amount in practice): the mantissa cannot overflow, so the loop counts
/// neither digits nor scale, and the scale is the number of bytes after the point.
fn parse_short(negative: bool, digits: &[u8]) -> Option<Decimal> {
    let mut mantissa: u64 = 0;
    let mut point = None;
    for (at, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => mantissa = mantissa * 10 + u64::from(b - b'0'),
            b'.' if point.is_none() => point = Some(at),
            _ => return None,
        }
    }
    if digits.len() == usize::from(point.is_some()) {
        // Empty or only `.`: no digits.
        return None;
    }
    let scale = point.map_or(0, |at| digits.len() - at - 1);
    // `from_str` gives a positive zero for `-0`, and so does `from_parts`.
    Some(Decimal::from_parts(
        mantissa as u32,
        (mantissa >> 32) as u32,
        0,
        negative,
        scale as u32,
    ))
}

/// [`parse_plain_decimal`] for longer texts: up to 19 digits still accumulate in a `u64`
/// (leading zeros, long fractions); more go to `from_str`. Cold: kept out of line, so the
/// short path does not pay for its registers.
#[cold]
fn parse_long(text: &str, negative: bool, digits: &str) -> Option<Decimal> {
    let mut mantissa: u64 = 0;
    let mut count: u32 = 0;
    let mut scale: u32 = 0;
    let mut seen_point = false;
    for b in digits.bytes() {
        match b {
            b'0'..=b'9' => {
                count = count.saturating_add(1);
                if count <= 19 {
                    mantissa = mantissa * 10 + u64::from(b - b'0');
                }
                scale = scale.saturating_add(u32::from(seen_point));
            }
            b'.' if !seen_point => seen_point = true,
            _ => return None,
        }
    }
    if count == 0 {
        return None;
    }
    if count > 19 || scale > 28 {
        // Exactly or not at all: `from_str` rounded what it could not hold (a quantity of
        // -0.000000000000000000000000000001 became 0, a price lost its last digit), and a
        // changed amount must be refused, not passed on.
        return Decimal::from_str_exact(text)
            .ok()
            .filter(|d| d.scale() == scale);
    }
    Some(Decimal::from_parts(
        mantissa as u32,
        (mantissa >> 32) as u32,
        0,
        negative,
        scale,
    ))
}

/// Appends `d` to `out` as `Decimal::to_string` would, with `separator` (`.` or `,`) as the
/// decimal point.
pub fn push_decimal(out: &mut String, d: Decimal, separator: char) {
    // Written backwards into `buf`: a 96-bit mantissa has at most 29 digits, the scale at most
    // 28, plus the separator (up to 4 bytes), a leading zero and the sign.
    let mut buf = [0u8; 64];
    let mut pos = buf.len();
    let mut put = |b: u8| {
        pos = pos.saturating_sub(1);
        if let Some(slot) = buf.get_mut(pos) {
            *slot = b;
        }
    };
    let mut wide = d.mantissa().unsigned_abs();
    let mut narrow = 0u64;
    let mut is_narrow = false;
    // The next digit, least significant first; money and quantities take the 64-bit path.
    let mut next_digit = || -> Option<u8> {
        if !is_narrow {
            match u64::try_from(wide) {
                Ok(n) => {
                    narrow = n;
                    is_narrow = true;
                }
                Err(_) => {
                    let digit = (wide % 10) as u8;
                    wide /= 10;
                    return Some(digit);
                }
            }
        }
        (narrow > 0).then(|| {
            let digit = (narrow % 10) as u8;
            narrow /= 10;
            digit
        })
    };
    let scale = d.scale();
    if scale > 0 {
        for _ in 0..scale {
            put(b'0' + next_digit().unwrap_or(0));
        }
        let mut sep = [0u8; 4];
        for &b in separator.encode_utf8(&mut sep).as_bytes().iter().rev() {
            put(b);
        }
    }
    match next_digit() {
        None => put(b'0'),
        Some(first) => {
            put(b'0' + first);
            while let Some(digit) = next_digit() {
                put(b'0' + digit);
            }
        }
    }
    if d.is_sign_negative() {
        put(b'-');
    }
    // Only ASCII digits, `-` and a whole UTF-8 separator were written.
    out.push_str(std::str::from_utf8(buf.get(pos..).unwrap_or_default()).unwrap_or_default());
}

/// `d` as text with `separator` as the decimal point; see [`push_decimal`].
pub fn decimal_text(d: Decimal, separator: char) -> String {
    let mut s = String::new();
    push_decimal(&mut s, d, separator);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn writes_what_display_writes_at_the_edges() {
        let cases = [
            Decimal::ZERO,
            Decimal::new(0, 2),
            -Decimal::new(0, 2),
            -Decimal::ZERO,
            Decimal::from_parts(0, 0, 0, true, 3),
            Decimal::new(5, 2),
            Decimal::new(-5, 2),
            Decimal::new(150, 2),
            Decimal::new(1, 28),
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(i64::MAX, 0),
            Decimal::new(i64::MIN, 3),
            Decimal::from_i128_with_scale(u64::MAX as i128 + 1, 5),
        ];
        for d in cases {
            assert_eq!(decimal_text(d, '.'), d.to_string(), "{d:?}");
        }
        assert_eq!(decimal_text(Decimal::new(-123456, 3), ','), "-123,456");
        assert_eq!(decimal_text(Decimal::new(7, 0), ','), "7");
    }

    /// The exact representation, so `1.5` and `1.50`, `0` and `-0` differ.
    fn repr(d: Option<Decimal>) -> Option<[u8; 16]> {
        d.map(|d| d.serialize())
    }

    /// What `from_str` reads when it reads `t` exactly (every digit, at the text's scale),
    /// else none: the reference for a reader that refuses what `from_str` would round.
    fn exactly(t: &str) -> Option<Decimal> {
        let scale = t.split_once('.').map_or(0, |(_, f)| f.len());
        t.parse::<Decimal>()
            .ok()
            .filter(|d| d.scale() as usize == scale)
    }

    #[test]
    fn reads_what_from_str_reads_at_the_edges() {
        for t in [
            "0",
            "-0",
            "-0.00",
            "12.50",
            ".5",
            "5.",
            "-.5",
            "007.100",
            "1.0000000000000000000000000000",
            "79228162514264337593543950335",
            "79228162514264337593543950336",
            "-79228162514264337593543950335",
            "123456789012345678901234567890123456789012345",
        ] {
            assert_eq!(repr(parse_plain_decimal(t)), repr(exactly(t)), "{t:?}");
        }
        for t in [
            "", "-", ".", "-.", "1.2.3", "+1", "1_000", "1e5", " 1", "1,5", "١",
        ] {
            assert_eq!(parse_plain_decimal(t), None, "{t:?}");
        }
        // What `from_str` rounds is refused: the value would change on the way.
        for t in [
            "0.00000000000000000000000000001",
            "-0.000000000000000000000000000001",
            "12.500000000000000000000000000009",
            "1.00000000000000000000000000000",
        ] {
            assert!(t.parse::<Decimal>().is_ok(), "{t:?}: from_str rounds it");
            assert_eq!(parse_plain_decimal(t), None, "{t:?}");
        }
    }

    /// The short path against the general one and `from_str`, around the length where they
    /// meet (19 bytes after the sign), including everything either refuses.
    #[test]
    fn short_path_reads_what_the_long_path_and_from_str_read() {
        let nineteen = "9".repeat(19);
        let twenty = "9".repeat(20);
        let cases = [
            "0".to_string(),
            "-0".into(),
            "00".into(),
            "-000.000".into(),
            "0.0".into(),
            "1".into(),
            "-1".into(),
            "1.50".into(),
            "-1.50".into(),
            "0001.5000".into(),
            ".5".into(),
            "-.5".into(),
            "5.".into(),
            "-5.".into(),
            ".".into(),
            "-.".into(),
            "".into(),
            "-".into(),
            "--1".into(),
            "1.2.3".into(),
            "..5".into(),
            "+1".into(),
            "1-".into(),
            " 1".into(),
            "1 ".into(),
            "1e3".into(),
            "1,5".into(),
            "é".into(),
            "1é".into(),
            "١".into(),
            "18446744073709551615".into(),
            nineteen.clone(),
            format!("-{nineteen}"),
            format!("{}.9", "9".repeat(17)),
            format!(".{}", "9".repeat(18)),
            format!("0.{}", "0".repeat(17)),
            format!("{}1", "0".repeat(18)),
            twenty.clone(),
            format!("-{twenty}"),
            format!("{nineteen}.5"),
            format!("-0.{}", "0".repeat(18)),
            format!("-{}.0", "0".repeat(18)),
            format!("0.{}", "1".repeat(19)),
            format!("{}1", "0".repeat(40)),
            "9".repeat(29),
            "9".repeat(30),
            format!("1.{}", "0".repeat(30)),
        ];
        for t in &cases {
            let (negative, digits) = match t.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, t.as_str()),
            };
            let ours = parse_plain_decimal(t);
            let long = parse_long(t, negative, digits);
            assert_eq!(repr(ours), repr(long), "{t:?} against the long path");
            if digits.len() <= SHORT_LEN {
                assert_eq!(
                    repr(parse_short(negative, digits.as_bytes())),
                    repr(long),
                    "{t:?} on the short path"
                );
            }
            // `from_str` reads `+1`, ` 1` and the like, which are not plain decimals.
            if t.bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
            {
                assert_eq!(repr(ours), repr(exactly(t)), "{t:?} against from_str");
            } else {
                assert_eq!(ours, None, "{t:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn reads_plain_numbers_as_from_str_does_when_exact(t in "-?[0-9]{0,32}(\\.[0-9]{0,32})?") {
            let ours = parse_plain_decimal(&t);
            let theirs = exactly(&t);
            // The same value, scale and sign included, or both refuse (what `from_str` would
            // round, refused).
            prop_assert_eq!(repr(ours), repr(theirs));
        }

        #[test]
        fn writes_what_display_writes(lo: u32, mid: u32, hi: u32, negative: bool, scale in 0u32..=28) {
            let d = Decimal::from_parts(lo, mid, hi, negative, scale);
            prop_assert_eq!(decimal_text(d, '.'), d.to_string());
            prop_assert_eq!(decimal_text(d, ','), d.to_string().replace('.', ","));
        }

        #[test]
        fn writes_small_values_as_display_does(m: i64, scale in 0u32..=28) {
            let d = Decimal::new(m, scale);
            prop_assert_eq!(decimal_text(d, '.'), d.to_string());
        }
    }
}
