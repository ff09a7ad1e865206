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
/// `from_str`. Values beyond 96 bits or 28 decimals go through `from_str` (its rounding rules).
pub fn parse_plain_decimal(text: &str) -> Option<Decimal> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    // Up to 19 digits accumulate in a u64 (the common case); longer numbers go to `from_str`.
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
        return text.parse::<Decimal>().ok();
    }
    // `from_str` gives a positive zero for `-0`.
    let negative = negative && mantissa != 0;
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
            "0.00000000000000000000000000001",
            "79228162514264337593543950335",
            "79228162514264337593543950336",
            "-79228162514264337593543950335",
            "123456789012345678901234567890123456789012345",
        ] {
            assert_eq!(
                repr(parse_plain_decimal(t)),
                repr(t.parse::<Decimal>().ok()),
                "{t:?}"
            );
        }
        for t in [
            "", "-", ".", "-.", "1.2.3", "+1", "1_000", "1e5", " 1", "1,5", "١",
        ] {
            assert_eq!(parse_plain_decimal(t), None, "{t:?}");
        }
    }

    proptest! {
        #[test]
        fn reads_plain_numbers_as_from_str_does(t in "-?[0-9]{0,32}(\\.[0-9]{0,32})?") {
            let ours = parse_plain_decimal(&t);
            let theirs = t.parse::<Decimal>().ok();
            // The same value, scale and sign included, or both refuse.
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
