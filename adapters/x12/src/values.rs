//! X12 data element types: decimals (R), implied-decimal numbers (N2), dates (DT), integers.
//! Parsing never panics and says what it expected.

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Longest numeric text we parse (rust_decimal holds 28 digits).
const MAX_NUMBER_LEN: usize = 30;

/// An X12 `R` (decimal) value: optional sign, digits, optional point (`"12.5"`, `"-3"`, `".5"`).
///
/// One pass over the bytes; the scale is kept as written (`"12.50"` stays `12.50`), exactly as
/// `Decimal::from_str` would, which the tests check value by value.
pub fn decimal(text: &str) -> Result<Decimal, String> {
    let t = trim(text);
    (t.len() <= MAX_NUMBER_LEN)
        .then(|| gateway_model::parse_plain_decimal(t))
        .flatten()
        .ok_or_else(|| format!("{text:?} is not a decimal number"))
}

/// An X12 `N2` value: an integer with two implied decimals (`"5635800"` → `56358.00`).
pub fn implied2(text: &str) -> Result<Decimal, String> {
    let t = trim(text);
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || t.len() > MAX_NUMBER_LEN || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!(
            "{text:?} is not a number with two implied decimals (digits only, such as 5635800)"
        ));
    }
    let n: i128 = t
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number"))?;
    Decimal::try_from_i128_with_scale(n, 2).map_err(|_| format!("{text:?} is too large"))
}

/// Writes `d` as an `N2` value (two implied decimals), refusing values with more than two
/// decimals rather than rounding money.
pub fn to_implied2(d: Decimal) -> Option<String> {
    let scaled = d.checked_mul(Decimal::ONE_HUNDRED)?;
    if scaled.fract() != Decimal::ZERO {
        return None;
    }
    Some(gateway_model::decimal_text(scaled.trunc().normalize(), '.'))
}

/// Writes `d` as an `R` value without needless trailing zeros.
pub fn to_decimal(d: Decimal) -> String {
    gateway_model::decimal_text(d.normalize(), '.')
}

/// An X12 date: `CCYYMMDD`, or `YYMMDD` in older versions (years below 50 are 20xx).
/// `text.trim()`, without the Unicode whitespace scan for the usual value that starts and ends
/// with a visible ASCII character (elements come trimmed of ASCII blanks already).
fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// The value of a run of ASCII digits (the caller checked them; at most nine, so it fits).
fn digits(s: &str) -> u32 {
    s.bytes().fold(0u32, |n, b| {
        n.saturating_mul(10)
            .saturating_add(u32::from(b.saturating_sub(b'0')))
    })
}

pub fn date(text: &str) -> Result<NaiveDate, String> {
    let t = trim(text);
    let bad = || format!("{text:?} is not a date (CCYYMMDD)");
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // All ASCII digits from here, so every slice below is on a character boundary.
    let (y, rest) = match t.len() {
        8 => (t.get(..4).map(digits), t.get(4..)),
        6 => {
            let yy = t.get(..2).map(digits);
            (
                yy.map(|y| if y < 50 { 2000 + y } else { 1900 + y }),
                t.get(2..),
            )
        }
        _ => return Err(bad()),
    };
    let y = y.and_then(|y| i32::try_from(y).ok());
    let rest = rest.unwrap_or_default();
    let m = rest.get(..2).map(digits);
    let d = rest.get(2..4).map(digits);
    match (y, m, d) {
        (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y, m, d).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// Writes a date as `CCYYMMDD`.
pub fn to_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    // Digit by digit: chrono's formatter costs over a thousand instructions a date.
    match u32::try_from(d.year()) {
        Ok(year) if year <= 9999 => {
            let number = year * 10_000 + d.month() * 100 + d.day();
            let mut digits = [b'0'; 8];
            let mut rest = number;
            for slot in digits.iter_mut().rev() {
                *slot = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
            digits.iter().map(|&b| char::from(b)).collect()
        }
        _ => d.format("%Y%m%d").to_string(),
    }
}

/// A non-negative whole number (line numbers, days, counts).
pub fn whole(text: &str) -> Result<u32, String> {
    let t = trim(text);
    if t.is_empty() || t.len() > 9 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not a whole number"));
    }
    // At most nine checked digits: the value fits, without `parse` checking them again.
    Ok(digits(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        for (y, m, d) in [
            (2026, 3, 15),
            (1, 1, 1),
            (999, 12, 31),
            (9999, 12, 31),
            (10000, 1, 1),
            (-5, 6, 7),
            (0, 2, 29),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(to_date(date), date.format("%Y%m%d").to_string(), "{date}");
        }
    }

    #[test]
    fn decimals() {
        assert_eq!(decimal("12.5").unwrap().to_string(), "12.5");
        assert_eq!(decimal("-3").unwrap().to_string(), "-3");
        assert_eq!(decimal(".5").unwrap().to_string(), "0.5");
        for bad in ["", "-", "1.2.3", "1e5", "abc", ".", "+1", "1-", " - 1"] {
            assert!(decimal(bad).is_err(), "{bad}");
        }
    }

    /// The one-pass parser gives what `Decimal::from_str` gives, scale and sign included.
    #[test]
    fn decimals_match_rust_decimal_parse() {
        let cases = [
            "0",
            "-0",
            "0.00",
            "-0.0",
            "1",
            "1.",
            "-1.",
            ".5",
            "-.5",
            "12.50",
            "007.100",
            "123456789012345678901234567",
            "1234567890123456789012345678",
            "0.1234567890123456789012345678",
            "-99999999999999999999.99",
            "  4.25 ",
            "79228162514264337593543950335",
            "7922816251426433759354395033.5",
        ];
        // More digits than a decimal holds: `Decimal::from_str` rounds, and the model refuses
        // what it cannot hold exactly (money is never rounded).
        assert!(decimal(".12345678901234567890123456789").is_err());
        for c in cases {
            let ours = decimal(c);
            let theirs = c.trim().parse::<Decimal>();
            match (ours, theirs) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "{c}");
                    assert_eq!(a.to_string(), b.to_string(), "{c}");
                    assert_eq!(a.scale(), b.scale(), "{c}");
                }
                (Err(_), Err(_)) => {}
                (a, b) => panic!("{c}: ours {a:?}, rust_decimal {b:?}"),
            }
        }
    }

    /// Whole numbers read as `str::parse` reads the checked digits.
    #[test]
    fn whole_numbers_match_parse() {
        for ok in ["0", "7", "000123", "10", "999999999", " 42 ", "4294967"] {
            assert_eq!(whole(ok).ok(), ok.trim().parse::<u32>().ok(), "{ok}");
        }
        for bad in ["", " ", "-1", "+1", "1.0", "1234567890", "12a", "\u{664}"] {
            assert!(whole(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn implied_two_decimals() {
        assert_eq!(implied2("5635800").unwrap().to_string(), "56358.00");
        assert_eq!(implied2("0").unwrap().to_string(), "0.00");
        assert_eq!(implied2("-150").unwrap().to_string(), "-1.50");
        assert!(implied2("12.5").is_err());
        assert_eq!(
            to_implied2(decimal("56358.00").unwrap()).as_deref(),
            Some("5635800")
        );
        assert_eq!(to_implied2(decimal("1.005").unwrap()), None);
    }

    #[test]
    fn dates() {
        assert_eq!(date("20111031").unwrap().to_string(), "2011-10-31");
        assert_eq!(date("971107").unwrap().to_string(), "1997-11-07");
        assert_eq!(date("030619").unwrap().to_string(), "2003-06-19");
        for bad in [
            "20111331",
            "2011103",
            "abcdefgh",
            "",
            "20110230",
            "+2011031",
            "２０１１１０３１",
        ] {
            assert!(date(bad).is_err(), "{bad}");
        }
        // Whitespace around a value, ASCII or not, is trimmed as `str::trim` trims it.
        for padded in [" 20111031", "20111031\t", "\u{a0}20111031\u{3000}"] {
            assert_eq!(date(padded).ok(), date("20111031").ok(), "{padded:?}");
        }
    }

    #[test]
    fn eight_digit_dates_read_as_chrono_reads_them() {
        let mut d = NaiveDate::from_ymd_opt(1999, 12, 25).unwrap();
        for _ in 0..400 {
            let text = d.format("%Y%m%d").to_string();
            assert_eq!(date(&text).ok(), Some(d), "{text}");
            d = d + chrono::Days::new(37);
        }
    }
}
