//! Cell values to model values, each failure saying what form was expected.

use chrono::{Datelike, NaiveDate};
use gateway_model::parse_plain_decimal;
use rust_decimal::Decimal;

/// Longest cell text quoted back in a message.
const SHOWN: usize = 40;

/// A cell that could not be read, with the form that was expected. Not retryable: the file
/// must be corrected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{found} is not {expected}")]
pub struct CellError {
    /// The cell as found, quoted and shortened.
    pub found: String,
    /// The expected form, in words with an example.
    pub expected: String,
}

impl CellError {
    pub fn new(found: &str, expected: impl Into<String>) -> Self {
        let mut shown: String = found.chars().take(SHOWN).collect();
        if found.chars().count() > SHOWN {
            shown.push('…');
        }
        CellError {
            found: format!("{shown:?}"),
            expected: expected.into(),
        }
    }
}

/// How numbers and dates are written in a file.
#[derive(Debug, Clone)]
pub struct ValueFormat {
    /// `'.'` or `','`.
    pub decimal_separator: char,
    /// chrono format string; ISO when `None`.
    pub date_format: Option<String>,
    /// The file is `;`-separated and the partner's profile does not say which decimal
    /// separator it writes (`decimal_separator` absent): a number with a comma and no point
    /// (`2,500`) is refused as ambiguous rather than read with the comma grouping thousands.
    /// Spreadsheets set to a European locale write `;` between cells because the comma is
    /// their decimal mark, so there `2,500` is two and a half far more often than 2500.
    /// Reading only: the writer writes no grouping.
    pub ambiguous_comma: bool,
}

impl Default for ValueFormat {
    fn default() -> Self {
        ValueFormat {
            decimal_separator: '.',
            date_format: None,
            ambiguous_comma: false,
        }
    }
}

impl ValueFormat {
    /// A decimal such as `1234.56` (or `1.234,56` with a comma separator). Thousands may be
    /// grouped in threes by one mark (the other separator, a space, an apostrophe), the first
    /// group not starting with `0`; anything else is refused rather than guessed: read with a
    /// point as separator, `10,00` would be a thousand and `0,125` 125, and a file that writes
    /// decimals with a comma is an invoice 100 times too large. Under
    /// [`ValueFormat::ambiguous_comma`] a comma without a point is refused too. No exponents
    /// (`1e3`): amounts are plain decimals in every format.
    pub fn decimal(&self, s: &str) -> Result<Decimal, CellError> {
        let t = s.trim();
        if self.ambiguous_comma && t.contains(',') && !t.contains('.') {
            return Err(CellError::new(
                s,
                "a number whose decimal separator is known: the file is `;`-separated, as \
                 spreadsheets write it where the comma is the decimal mark, and the partner's \
                 profile does not say whether its comma is a decimal comma or groups thousands; \
                 set decimal_separator = \",\" in its [csv] profile if it writes decimals with a \
                 comma (or \".\" if the comma groups thousands)",
            ));
        }
        let parsed = if self.decimal_separator == '.' {
            // Most cells: digits and a point, read in one pass.
            parse_plain_decimal(t).or_else(|| grouped_decimal(t, '.'))
        } else {
            grouped_decimal(t, self.decimal_separator)
        };
        parsed.ok_or_else(|| {
            let expected =
                if gateway_model::is_plain_decimal_form(t) && self.decimal_separator == '.' {
                    // Written right, but a decimal would round it: refused, never changed.
                    "a value a decimal holds exactly (at most 28 digits after the point and 28 or \
                 29 in all); this one would be rounded"
                } else if self.decimal_separator == ',' {
                    "a decimal number such as 1234,56, as this partner's profile says its files \
                 write decimals; a point may only group thousands in threes (1.234,56)"
                } else if t.contains(',') {
                    "a decimal number such as 1234.56; a comma may only group thousands in threes \
                 (1,234.56); if this partner writes decimals with a comma, set \
                 decimal_separator = \",\" in its [csv] profile"
                } else {
                    "a decimal number such as 1234.56"
                };
            CellError::new(s, expected)
        })
    }

    /// A date in the configured format, or ISO `YYYY-MM-DD`. A timestamp
    /// (`2026-03-15T10:00:00-07:00`) gives its own local date, as CANONICAL.md asks.
    pub fn date(&self, s: &str) -> Result<NaiveDate, CellError> {
        let t = s.trim();
        if let Some(f) = &self.date_format {
            let d = NaiveDate::parse_from_str(t, f)
                .map_err(|_| CellError::new(s, format!("a date in the form {f}")))?;
            // chrono's `%Y` takes a year of any length, so `05/03/26` would be the year 26.
            // No invoice or order is dated before the year 1000: the year was cut short.
            if f.contains("%Y") && d.year() < 1000 {
                return Err(CellError::new(
                    s,
                    format!(
                        "a date in the form {f}, whose %Y is a four-digit year (this one would \
                         be read as the year {:04}); if the partner writes two-digit years, set \
                         date_format = {:?} in its [csv] profile",
                        d.year(),
                        f.replace("%Y", "%y")
                    ),
                ));
            }
            return Ok(d);
        }
        iso_date(t).ok_or_else(|| CellError::new(s, "a date YYYY-MM-DD"))
    }

    /// Writes a date in the configured format.
    pub fn write_date(&self, d: NaiveDate) -> String {
        match &self.date_format {
            Some(f) => {
                use std::fmt::Write;
                let mut out = String::new();
                // A bad format string cannot fail here because it was used to read already;
                // if it was never used, fall back to ISO rather than panic.
                if write!(
                    out,
                    "{}",
                    d.format_with_items(chrono::format::StrftimeItems::new(f))
                )
                .is_err()
                {
                    return d.to_string();
                }
                out
            }
            None => d.to_string(),
        }
    }

    /// Writes a decimal with the configured separator and no grouping.
    pub fn write_decimal(&self, d: Decimal) -> String {
        gateway_model::decimal_text(d, self.decimal_separator)
    }
}

/// `YYYY-MM-DD`, or the date part of an ISO timestamp.
pub fn iso_date(t: &str) -> Option<NaiveDate> {
    let b = t.as_bytes();
    let rest = b.get(10..)?;
    if !(rest.is_empty() || rest.starts_with(b"T") || rest.starts_with(b" ")) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(r)?;
        digits.iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let year = i32::try_from(num(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)
}

/// A whole number ≥ 0 that fits in `u32` (line numbers, versions, days). `1.0` is accepted
/// because spreadsheets write whole numbers that way.
pub fn whole(s: &str) -> Result<u32, CellError> {
    let t = s.trim();
    let t = t.strip_suffix(".0").unwrap_or(t);
    t.parse::<u32>()
        .map_err(|_| CellError::new(s, "a whole number such as 3"))
}

/// `t` read with `separator` as the decimal mark, the integer part plain or grouped in threes
/// by one mark (the other separator, a space, an apostrophe, a no-break space), an optional
/// leading sign; `None` for anything else.
fn grouped_decimal(t: &str, separator: char) -> Option<Decimal> {
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, fraction) = match body.split_once(separator) {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(fraction.is_empty() || digits(fraction)) || (int.is_empty() && fraction.is_empty()) {
        return None;
    }
    let mut plain = String::with_capacity(body.len() + 2);
    if negative {
        plain.push('-');
    }
    if int.is_empty() || digits(int) {
        plain.push_str(if int.is_empty() { "0" } else { int });
    } else {
        let mark = int.chars().find(|c| !c.is_ascii_digit())?;
        let other = if separator == ',' { '.' } else { ',' };
        if !(mark == other || matches!(mark, ' ' | '\'' | '\u{a0}' | '\u{202f}')) {
            return None;
        }
        let mut groups = int.split(mark);
        let first = groups.next()?;
        // A first group of `0` (or `012`) never groups thousands: `0,125` is a decimal comma
        // (an eighth), which read as grouping would be 125.
        if !digits(first) || first.len() > 3 || first.starts_with('0') {
            return None;
        }
        plain.push_str(first);
        for group in groups {
            if group.len() != 3 || !digits(group) {
                return None;
            }
            plain.push_str(group);
        }
    }
    if !fraction.is_empty() {
        plain.push('.');
        plain.push_str(fraction);
    }
    parse_plain_decimal(&plain)
}

/// `true`/`false`, `yes`/`no`, `y`/`n`, `1`/`0`.
pub fn boolean(s: &str) -> Result<bool, CellError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Ok(true),
        "false" | "no" | "n" | "0" => Ok(false),
        _ => Err(CellError::new(s, "true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_with_either_separator() {
        let dot = ValueFormat::default();
        assert_eq!(dot.decimal("12.50").unwrap().to_string(), "12.50");
        assert_eq!(dot.decimal(" 1,234.5 ").unwrap().to_string(), "1234.5");
        assert!(dot.decimal("12,5x").is_err());
        let comma = ValueFormat {
            decimal_separator: ',',
            ..ValueFormat::default()
        };
        assert_eq!(comma.decimal("1.234,56").unwrap().to_string(), "1234.56");
        assert_eq!(comma.write_decimal(comma.decimal("3,5").unwrap()), "3,5");
    }

    /// A value a decimal cannot hold exactly is refused, not rounded: a quantity of
    /// -0.000000000000000000000000000001 was read as 0 and a price lost its last digit.
    #[test]
    fn a_value_a_decimal_would_round_is_refused_saying_so() {
        let dot = ValueFormat::default();
        for t in [
            "-0.000000000000000000000000000001",
            "12.500000000000000000000000000009",
            "99999999999999999999999999999999",
        ] {
            let err = dot
                .decimal(t)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("would be rounded"), "{t}: {err}");
        }
        assert_eq!(
            dot.decimal("0.0000000000000000000000000001")
                .map(|d| d.to_string()),
            Ok("0.0000000000000000000000000001".to_string())
        );
    }

    /// A comma or point that is not a thousands mark in threes is refused, never dropped: read
    /// as grouping, `10,00` would be 1000, an amount 100 times too large.
    #[test]
    fn separators_that_do_not_group_thousands_are_refused_not_dropped() {
        let dot = ValueFormat::default();
        for ok in [
            ("1,234", "1234"),
            ("1,234,567.89", "1234567.89"),
            ("-1,234.5", "-1234.5"),
            ("+12.5", "12.5"),
            ("1 234.50", "1234.50"),
            ("1'234", "1234"),
            (".5", "0.5"),
            ("12.", "12"),
        ] {
            assert_eq!(dot.decimal(ok.0).unwrap().to_string(), ok.1, "{}", ok.0);
        }
        for bad in [
            "10,00",
            "1,5",
            "12,50",
            "1,234,5",
            "1.234,56",
            "1_000",
            "1e3",
            "1E1",
            "1.5e-3",
            "1,,234",
            ",123",
            "1,234 567",
            "",
            "-",
            "1.2.3",
        ] {
            let err = dot.decimal(bad).expect_err(bad);
            assert!(err.expected.contains("1234.56"), "{bad}: {err}");
        }
        let err = dot.decimal("10,00").unwrap_err();
        assert!(err.expected.contains("decimal_separator"), "{err}");

        let comma = ValueFormat {
            decimal_separator: ',',
            ..ValueFormat::default()
        };
        assert_eq!(comma.decimal("1.234,56").unwrap().to_string(), "1234.56");
        assert_eq!(comma.decimal("10,00").unwrap().to_string(), "10.00");
        assert_eq!(comma.decimal("1 234,5").unwrap().to_string(), "1234.5");
        for bad in ["0.12", "1.5", "1,2,3", "1e3"] {
            assert!(comma.decimal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_iso_timestamp_and_configured() {
        let iso = ValueFormat::default();
        assert_eq!(iso.date("2026-03-15").unwrap().to_string(), "2026-03-15");
        assert_eq!(
            iso.date("2026-03-15T23:30:00-07:00").unwrap().to_string(),
            "2026-03-15"
        );
        let err = iso.date("15/03/2026").unwrap_err();
        assert!(err.expected.contains("YYYY-MM-DD"), "{err}");
        let dmy = ValueFormat {
            date_format: Some("%d/%m/%Y".into()),
            ..ValueFormat::default()
        };
        let d = dmy.date("28/01/2015").unwrap();
        assert_eq!(d.to_string(), "2015-01-28");
        assert_eq!(dmy.write_date(d), "28/01/2015");
    }

    /// `0,125` was read as 125 under the default decimal point: a first group of `0` can
    /// never group thousands, so it is refused like `10,00`, saying what to set.
    #[test]
    fn a_first_group_of_zero_is_refused_never_read_as_thousands() {
        let dot = ValueFormat::default();
        for bad in ["0,125", "-0,125", "0,125,000", "00,125", "012,345", "0 125"] {
            let err = dot.decimal(bad).expect_err(bad);
            assert!(err.expected.contains("1234.56"), "{bad}: {err}");
        }
        let err = dot.decimal("0,125").unwrap_err();
        assert!(err.expected.contains("decimal_separator = \",\""), "{err}");
        assert_eq!(dot.decimal("1,250").unwrap().to_string(), "1250");
        assert_eq!(dot.decimal("0.125").unwrap().to_string(), "0.125");
        let comma = ValueFormat {
            decimal_separator: ',',
            ..ValueFormat::default()
        };
        assert_eq!(comma.decimal("0,125").unwrap().to_string(), "0.125");
        assert!(comma.decimal("0.125").is_err());
    }

    /// In a `;`-separated file whose partner declared no decimal separator, `2,500` was read
    /// as 2500: there a comma with no point is refused as ambiguous, with what to set.
    #[test]
    fn a_comma_without_a_point_is_ambiguous_when_the_file_is_semicolon_separated() {
        let amb = ValueFormat {
            ambiguous_comma: true,
            ..ValueFormat::default()
        };
        for bad in ["2,500", "1,234,567", "10,00", "-0,5"] {
            let err = amb.decimal(bad).expect_err(bad);
            assert!(
                err.expected.contains("decimal_separator = \",\""),
                "{bad}: {err}"
            );
            assert!(err.expected.contains("`;`-separated"), "{bad}: {err}");
        }
        for (ok, value) in [("2.5", "2.5"), ("1,234.56", "1234.56"), ("1000", "1000")] {
            assert_eq!(amb.decimal(ok).unwrap().to_string(), value, "{ok}");
        }
    }

    /// `%Y` read `05/03/26` as the year 26: a year under 1000 is refused, suggesting `%y`.
    #[test]
    fn a_year_cut_short_under_percent_capital_y_is_refused() {
        let dmy = ValueFormat {
            date_format: Some("%d/%m/%Y".into()),
            ..ValueFormat::default()
        };
        for bad in ["05/03/26", "05/03/026", "5/3/0026"] {
            let err = dmy.date(bad).expect_err(bad);
            assert!(err.expected.contains("four-digit year"), "{bad}: {err}");
            assert!(err.expected.contains("\"%d/%m/%y\""), "{bad}: {err}");
        }
        assert_eq!(dmy.date("5/3/2026").unwrap().to_string(), "2026-03-05");
        let two = ValueFormat {
            date_format: Some("%d/%m/%y".into()),
            ..ValueFormat::default()
        };
        assert_eq!(two.date("05/03/26").unwrap().to_string(), "2026-03-05");
    }

    #[test]
    fn whole_numbers_and_booleans() {
        assert_eq!(whole("3").unwrap(), 3);
        assert_eq!(whole("3.0").unwrap(), 3);
        assert!(whole("-1").is_err());
        assert!(boolean("Yes").unwrap());
        assert!(boolean("maybe").is_err());
    }
}
