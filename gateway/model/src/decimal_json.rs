//! Decimals as canonical JSON carries them, read strictly.
//!
//! CANONICAL.md and the JSON Schema (`DecimalString`) fix the form: `^-?[0-9]+(\.[0-9]+)?$`.
//! `rust_decimal`'s own reader also takes `"1E3"`, `"+5"`, `".5"`, `"5."` and `"1_000"`, and
//! rounds fractions past 28 digits, so a sender's mistake passed as a number it did not write
//! (a spreadsheet's `1E3` for 1000, a `1_000` typo). These fields refuse anything but the
//! documented form, and any value a decimal cannot hold exactly, saying which form is wanted.

use rust_decimal::Decimal;
use serde::Deserializer;
use serde::de::{self, Visitor};

/// Why a text is not a canonical decimal, for the error at its JSON path.
const NOT_THE_FORM: &str = "expected a decimal string such as \"1505.00\": digits, with an optional leading \"-\" and one \".\" between digits (no exponent, \"+\", \"_\", spaces or thousands separators)";

/// Reads `text` if it has the canonical form and a decimal holds it exactly.
pub fn parse_canonical_decimal(text: &str) -> Result<Decimal, String> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(format!("{text:?}: {NOT_THE_FORM}"));
    }
    let scale = fraction.map_or(0, str::len);
    match crate::parse_plain_decimal(text) {
        Some(d) if d.scale() as usize == scale => Ok(d),
        _ => Err(format!(
            "{text:?} has more digits than a decimal holds exactly (at most 28 after the point and 28 or 29 in all)"
        )),
    }
}

struct CanonicalDecimal;

impl<'de> Visitor<'de> for CanonicalDecimal {
    type Value = Decimal;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(NOT_THE_FORM)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_canonical_decimal(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Err(E::custom(format!(
            "{v} is a JSON number; write it as a string (\"{v}\") so no precision is lost"
        )))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Err(E::custom(format!(
            "{v} is a JSON number; write it as a string (\"{v}\") so no precision is lost"
        )))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        // The digits sent may already be lost in `v` (a 40-digit number reads as
        // 1.2345678901234567e39): suggest the digits only when the number is short enough
        // to have kept them.
        if v.is_finite() && v.abs() < 1e15 {
            return Err(E::custom(format!(
                "{v} is a JSON number; write it as a string such as \"{v}\" so no precision is lost"
            )));
        }
        Err(E::custom(
            "a JSON number too long to keep its digits; write the digits meant as a string (\"1505.00\") so none is lost",
        ))
    }
}

struct OptionalCanonicalDecimal;

impl<'de> Visitor<'de> for OptionalCanonicalDecimal {
    type Value = Option<Decimal>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(NOT_THE_FORM)
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<Decimal>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<Decimal>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<Decimal>, D::Error> {
        d.deserialize_any(CanonicalDecimal).map(Some)
    }
}

/// `deserialize_with` for a decimal field of the canonical model (all are optional: `null` or
/// absent is none).
pub(crate) fn optional_decimal<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Decimal>, D::Error> {
    d.deserialize_option(OptionalCanonicalDecimal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_form_is_read() {
        for (text, value) in [
            ("1505.00", "1505.00"),
            ("-2.5", "-2.5"),
            ("0", "0"),
            ("00012.50", "12.50"),
            (
                "0.0000000000000000000000000001",
                "0.0000000000000000000000000001",
            ),
        ] {
            let d = parse_canonical_decimal(text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(d.to_string(), value, "{text}");
        }
        for text in [
            "1E3", "1e-2", "+5", ".5", "5.", "1_000", " 5", "5 ", "1,5", "1.000,50", "", "-",
            "-.5", "0x10", "NaN", "inf", "1..2", "١٢",
        ] {
            let err = parse_canonical_decimal(text).err();
            assert!(
                err.as_deref().is_some_and(|e| e.contains("no exponent")),
                "{text:?}: {err:?}"
            );
        }
    }

    /// A JSON number is refused, suggesting its digits only where the number kept them: a
    /// 40-digit number was answered with a suggestion of its rounded digits.
    #[test]
    fn a_json_number_is_refused_suggesting_only_digits_it_kept() {
        #[derive(serde::Deserialize, Debug)]
        struct One {
            #[serde(deserialize_with = "optional_decimal")]
            #[allow(dead_code)]
            v: Option<Decimal>,
        }
        let said = |json: &str| {
            serde_json::from_str::<One>(json)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(said(r#"{"v": 12.5}"#).contains(r#"such as "12.5""#));
        assert!(said(r#"{"v": 18446744073709551615}"#).contains(r#"("18446744073709551615")"#));
        let big = said(r#"{"v": 1234567890123456789012345678901234567890}"#);
        assert!(
            big.contains("too long to keep its digits") && !big.contains("12345678901234567"),
            "{big}"
        );
    }

    #[test]
    fn a_value_a_decimal_cannot_hold_exactly_is_refused_not_rounded() {
        for text in [
            "0.00000000000000000000000000001",
            "99999999999999999999999999999999",
        ] {
            let err = parse_canonical_decimal(text).err();
            assert!(
                err.as_deref().is_some_and(|e| e.contains("holds exactly")),
                "{text}: {err:?}"
            );
        }
    }
}
