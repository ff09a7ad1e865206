//! Dates as canonical JSON carries them, read strictly.
//!
//! CANONICAL.md fixes the form `"YYYY-MM-DD"`. chrono's own reader answered a sender's
//! timestamp with "trailing input" and a 30 February with "input is out of range", naming
//! neither the form wanted nor the fault, and took `"2026-3-5"`. These fields take only the
//! documented form, and say which form is wanted when refusing.

use chrono::NaiveDate;
use serde::Deserializer;
use serde::de::{self, Visitor};

/// The form, for every refusal.
const THE_FORM: &str = "expected a date \"YYYY-MM-DD\" such as \"2026-03-15\"";

/// Reads `text` if it has the canonical form and names a day of the calendar.
pub fn parse_canonical_date(text: &str) -> Result<NaiveDate, String> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if !shaped {
        let hint = if b.len() > 10 && b.get(10).is_some_and(|c| matches!(c, b'T' | b't' | b' ')) {
            ": a timestamp; give the date part only (the sender's local date)"
        } else {
            ""
        };
        return Err(format!("{text:?}: {THE_FORM}{hint}"));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        format!(
            "{text:?} is not a day of the calendar (month 01-12, a day the month has): {THE_FORM}"
        )
    })
}

struct OptionalCanonicalDate;

impl<'de> Visitor<'de> for OptionalCanonicalDate {
    type Value = Option<NaiveDate>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(THE_FORM)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse_canonical_date(v).map(Some).map_err(E::custom)
    }
}

/// `deserialize_with` for a date field of the canonical model (all are optional: `null` or
/// absent is none).
pub(crate) fn optional_date<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<NaiveDate>, D::Error> {
    d.deserialize_option(OptionalCanonicalDate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_form_is_read_and_a_refusal_names_it() {
        assert_eq!(
            parse_canonical_date("2026-03-15"),
            Ok(NaiveDate::from_ymd_opt(2026, 3, 15).unwrap_or_default())
        );
        for text in [
            "2026-3-5",
            "20260315",
            "2026/03/15",
            "15.03.2026",
            " 2026-03-15",
            "",
            "2026-03-15T23:30:00-05:00",
        ] {
            let err = parse_canonical_date(text).err().unwrap_or_default();
            assert!(err.contains("\"YYYY-MM-DD\""), "{text:?}: {err}");
        }
        assert!(
            parse_canonical_date("2026-03-15T23:30:00-05:00")
                .err()
                .unwrap_or_default()
                .contains("a timestamp; give the date part only")
        );
        for text in ["2026-02-30", "2026-13-01", "2026-00-10"] {
            let err = parse_canonical_date(text).err().unwrap_or_default();
            assert!(
                err.contains("not a day of the calendar") && err.contains("\"YYYY-MM-DD\""),
                "{text}: {err}"
            );
        }
    }
}
