//! Pieces shared by the invoice and order mappings: numbers, dates, money, parties, payment
//! terms, taxes, extrinsics. Each parser names the element or attribute it read in its error.

use chrono::NaiveDate;
use gateway_model::{Address, Party, PartyId, PaymentTerms, Tax, Text};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::error::CxmlError;
use crate::reader::Node;

/// Parses a decimal as cXML writes it (`365`, `1505.0`, `-5.25`); no grouping, no exponent.
pub(crate) fn decimal(text: &str, location: impl FnOnce() -> String) -> Result<Decimal, CxmlError> {
    let t = text.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    // Plain `[-]digits[.digits]` only: no exponent, no grouping, no `_`.
    let parsed = gateway_model::parse_plain_decimal(t);
    parsed.ok_or_else(|| {
        CxmlError::invalid(
            location(),
            format!("{text:?} is not a decimal number (expected digits with an optional '.')"),
        )
    })
}

/// A decimal attribute, `None` when absent or blank.
pub(crate) fn attr_decimal(node: Node<'_>, name: &str) -> Result<Option<Decimal>, CxmlError> {
    node.attr_opt(name)
        .map(|v| decimal(v, || node.attr_location(name)))
        .transpose()
}

/// The date part of an ISO 8601 date or timestamp (`2009-05-01T11:45:51-07:00` → 2009-05-01:
/// the source's local date, as CANONICAL.md asks). Timestamps without a zone are accepted too.
pub(crate) fn date(value: &str, location: impl FnOnce() -> String) -> Result<NaiveDate, CxmlError> {
    let v = value.trim();
    let day = v.get(..10).unwrap_or(v);
    let ok_tail = v.len() == 10
        || v.as_bytes()
            .get(10)
            .is_some_and(|&b| b == b'T' || b == b' ');
    match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
        Ok(d) if ok_tail => Ok(d),
        _ => Err(CxmlError::invalid(
            location(),
            format!(
                "{value:?} is not an ISO 8601 date (expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ss±hh:mm)"
            ),
        )),
    }
}

pub(crate) fn attr_date(node: Node<'_>, name: &str) -> Result<Option<NaiveDate>, CxmlError> {
    node.attr_opt(name)
        .map(|v| date(v, || node.attr_location(name)))
        .transpose()
}

/// A whole-number attribute (`lineNumber`, `payInNumberOfDays`), `None` when absent or blank.
pub(crate) fn attr_u32(node: Node<'_>, name: &str) -> Result<Option<u32>, CxmlError> {
    node.attr_opt(name)
        .map(|v| {
            v.parse::<u32>().map_err(|_| {
                CxmlError::invalid(
                    node.attr_location(name),
                    format!("{v:?} is not a whole number"),
                )
            })
        })
        .transpose()
}

pub(crate) fn text_u32(node: Node<'_>) -> Result<Option<u32>, CxmlError> {
    node.text_opt()
        .map(|v| {
            v.parse::<u32>()
                .map_err(|_| node.invalid(format!("{v:?} is not a whole number")))
        })
        .transpose()
}

/// Money inside `parent` (`parent/Money`): amount (`None` for an empty `<Money/>`, which Coupa
/// sends for amounts it computes itself) and currency.
pub(crate) fn money_in(parent: Option<Node<'_>>) -> Result<Option<Money>, CxmlError> {
    let Some(m) = parent.and_then(|p| p.child("Money")) else {
        return Ok(None);
    };
    money(m)
}

/// An amount with its currency.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Money {
    pub amount: Decimal,
    pub currency: Option<Text>,
}

pub(crate) fn money(m: Node<'_>) -> Result<Option<Money>, CxmlError> {
    let Some(t) = m.text_opt() else {
        return Ok(None);
    };
    Ok(Some(Money {
        amount: decimal(t, || m.location())?,
        currency: m.attr_opt("currency").map(Text::from),
    }))
}

pub(crate) fn amount_in(parent: Option<Node<'_>>) -> Result<Option<Decimal>, CxmlError> {
    Ok(money_in(parent)?.map(|m| m.amount))
}

pub(crate) fn text_of(node: Node<'_>, child: &str) -> Option<Text> {
    node.child(child).and_then(|c| c.text_opt()).map(Text::from)
}

/// A party from a cXML `Contact` or `Address`: Name, PostalAddress (DeliverTo lines become the
/// contact, joined with new lines), Email, Phone, and `addressID` as an id in domain `addressID`.
pub(crate) fn party(node: Node<'_>) -> Party {
    let mut p = Party {
        name: text_of(node, "Name"),
        ..Party::default()
    };
    if let Some(id) = node.attr_opt("addressID") {
        p.ids.push(PartyId {
            domain: "addressID".into(),
            value: id.into(),
        });
    }
    if let Some(pa) = node.child("PostalAddress") {
        let deliver: Vec<&str> = pa
            .children_named("DeliverTo")
            .filter_map(|d| d.text_opt())
            .collect();
        if !deliver.is_empty() {
            p.contact = Some(deliver.join("\n").into());
        }
        let a = Address {
            lines: pa
                .children_named("Street")
                .filter_map(|s| s.text_opt())
                .map(Text::from)
                .collect(),
            city: text_of(pa, "City"),
            region: pa
                .child("State")
                .and_then(|s| s.text_opt().or_else(|| s.attr_opt("isoStateCode")))
                .map(Text::from),
            postal_code: text_of(pa, "PostalCode"),
            country: pa
                .child("Country")
                .and_then(|c| c.attr_opt("isoCountryCode").or_else(|| c.text_opt()))
                .map(Text::from),
        };
        if a != Address::default() {
            p.address = Some(a);
        }
    }
    p.email = text_of(node, "Email");
    p.phone = node.find("Phone/TelephoneNumber").and_then(|t| {
        // "+1 415 5550100": each present part once, written straight into one `Text`.
        let mut phone = Text::default();
        let country = t
            .child("CountryCode")
            .and_then(|c| c.text_opt())
            .map(|c| c.trim_start_matches('+'));
        let area = text_of(t, "AreaOrCityCode");
        let number = text_of(t, "Number");
        if let Some(c) = country {
            phone.push_str("+");
            phone.push_str(c);
        }
        for part in [area.as_deref(), number.as_deref()].into_iter().flatten() {
            if !phone.is_empty() {
                phone.push_str(" ");
            }
            phone.push_str(part);
        }
        (!phone.is_empty()).then_some(phone)
    });
    p
}

/// `IdReference@domain/identifier` children of `node`, appended to the party's ids.
pub(crate) fn id_references(node: Node<'_>, party: &mut Party) {
    for r in node.children_named("IdReference") {
        if let (Some(domain), Some(value)) = (r.attr_opt("domain"), r.attr_opt("identifier")) {
            party.ids.push(PartyId {
                domain: domain.into(),
                value: value.into(),
            });
        }
    }
}

/// Payment terms from `PaymentTerm` elements: a term without discount gives the net days; a
/// term with `Discount` gives the discount percent and days. `NetDueDays`, `DiscountDueDays`
/// (newer DTDs) win over `payInNumberOfDays`. A `description` Extrinsic carries the text.
pub(crate) fn payment_terms<'t>(
    terms: impl Iterator<Item = Node<'t>>,
) -> Result<Option<PaymentTerms>, CxmlError> {
    let mut out = PaymentTerms::default();
    let mut any = false;
    for t in terms {
        any = true;
        let days = attr_u32(t, "payInNumberOfDays")?;
        if let Some(d) = t.child("Discount") {
            out.discount_percent = match d.child("DiscountPercent") {
                Some(p) => attr_decimal(p, "percent")?,
                None => None,
            };
            out.discount_days = match d.child("DiscountDueDays") {
                Some(n) => text_u32(n)?,
                None => days,
            };
        } else if out.net_days.is_none() {
            out.net_days = days;
        }
        if let Some(n) = t.child("NetDueDays") {
            out.net_days = text_u32(n)?;
        }
        for e in t.children_named("Extrinsic") {
            if e.attr("name") == Some("description") {
                out.description = e.text_opt().map(Text::from);
            }
        }
    }
    // A PaymentTerm without anything the model holds (no days, e.g. its required attribute
    // missing) is no terms: writing `Some` of nothing would read back as `None`.
    Ok((any && out != PaymentTerms::default()).then_some(out))
}

/// `InvoiceDetailPaymentTerm@payInNumberofDays/percentageRate` (invoice-only form): rate 0 is
/// the net term, another rate is the discount.
pub(crate) fn invoice_payment_terms<'t>(
    terms: impl Iterator<Item = Node<'t>>,
) -> Result<Option<PaymentTerms>, CxmlError> {
    let mut out = PaymentTerms::default();
    let mut any = false;
    for t in terms {
        any = true;
        let days = attr_u32(t, "payInNumberofDays")?;
        match attr_decimal(t, "percentageRate")? {
            Some(r) if !r.is_zero() => {
                out.discount_percent = Some(r);
                out.discount_days = days;
            }
            _ => out.net_days = days,
        }
    }
    // A PaymentTerm without anything the model holds (no days, e.g. its required attribute
    // missing) is no terms: writing `Some` of nothing would read back as `None`.
    Ok((any && out != PaymentTerms::default()).then_some(out))
}

/// Taxes from a cXML `Tax`: one canonical tax per `TaxDetail` (amount, rate, category,
/// description, taxable amount); without details, one tax with the `Tax/Money` amount.
/// Returns the taxes and the `Tax/Money` total.
pub(crate) fn taxes(tax: Node<'_>) -> Result<Taxes, CxmlError> {
    Ok(taxes_with_purposes(tax)?.0)
}

/// Canonical taxes and the `Tax/Money` total.
pub(crate) type Taxes = (Vec<Tax>, Option<Decimal>);

/// As [`taxes`], plus the `TaxDetail@purpose` of each tax (`tax`, `shippingTax`,
/// `specialHandlingTax`, ...) as a JSON array when any is not plain `tax`; the model has no
/// field for it, so it travels in `extensions.cxml.tax_purposes`, index for index.
pub(crate) fn taxes_with_purposes(tax: Node<'_>) -> Result<(Taxes, Option<Value>), CxmlError> {
    let purposes: Vec<&str> = tax
        .children_named("TaxDetail")
        .map(|d| d.attr_opt("purpose").unwrap_or("tax"))
        .collect();
    let extra = purposes.iter().any(|p| *p != "tax").then(|| {
        Value::Array(
            purposes
                .iter()
                .map(|p| Value::String(p.to_string()))
                .collect(),
        )
    });
    Ok((tax_list(tax)?, extra))
}

fn tax_list(tax: Node<'_>) -> Result<Taxes, CxmlError> {
    let total = amount_in(Some(tax))?;
    let tax_desc = text_of(tax, "Description");
    let details: Vec<Node<'_>> = tax.children_named("TaxDetail").collect();
    let mut out = Vec::new();
    for d in &details {
        let mut t = Tax {
            amount: amount_in(d.child("TaxAmount"))?,
            rate: attr_decimal(*d, "percentageRate")?,
            category: d.attr_opt("category").map(Text::from),
            description: text_of(*d, "Description"),
            taxable_amount: amount_in(d.child("TaxableAmount"))?,
        };
        if t.description.is_none() && details.len() == 1 {
            t.description = tax_desc.clone();
        }
        out.push(t);
    }
    Ok((out, total))
}

/// `Extrinsic` children as a name → text object (later names of the same key win).
///
/// An Extrinsic that holds elements (Coupa's `CustomFields` carry `IdReference`s) keeps them as
/// an array of `{"element", "attributes", "text", "children"}` objects instead of its text.
pub(crate) fn extrinsics(node: Node<'_>) -> Map<String, Value> {
    let mut m = Map::new();
    for e in node.children_named("Extrinsic") {
        if let Some(name) = e.attr_opt("name") {
            let value = if e.children().next().is_some() {
                Value::Array(e.children().map(element_json).collect())
            } else {
                Value::String(e.text().to_string())
            };
            m.insert(name.to_string(), value);
        }
    }
    m
}

/// One element as JSON (name, attributes, text, children), for content the model has no
/// field for. Depth is bounded by the reader's depth limit.
pub(crate) fn element_json(n: Node<'_>) -> Value {
    let mut o = Map::new();
    o.insert("element".into(), Value::String(n.name().to_string()));
    let attrs: Map<String, Value> = n
        .attrs()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    if !attrs.is_empty() {
        o.insert("attributes".into(), Value::Object(attrs));
    }
    if let Some(t) = n.text_opt() {
        o.insert("text".into(), Value::String(t.to_string()));
    }
    let children: Vec<Value> = n.children().map(element_json).collect();
    if !children.is_empty() {
        o.insert("children".into(), Value::Array(children));
    }
    Value::Object(o)
}

/// Builds the `"cxml"` extension object of a document or line, leaving it out when empty.
#[derive(Debug, Default)]
pub(crate) struct Ext(pub Map<String, Value>);

impl Ext {
    pub fn put(&mut self, key: &str, value: Value) {
        let empty = match &value {
            Value::Null => true,
            Value::Object(m) => m.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::String(s) => s.is_empty(),
            _ => false,
        };
        if !empty {
            self.0.insert(key.to_string(), value);
        }
    }

    pub fn put_str(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.put(key, Value::String(v.to_string()));
        }
    }

    pub fn into_extensions(self) -> gateway_model::Extensions {
        let mut e = gateway_model::Extensions::new();
        if !self.0.is_empty() {
            e.insert("cxml".to_string(), Value::Object(self.0));
        }
        e
    }
}

/// `Comments` text (attachments and markup inside are dropped; their text is kept).
pub(crate) fn comments(node: Node<'_>) -> Option<Text> {
    node.child("Comments")
        .and_then(|c| c.text_opt())
        .map(Text::from)
}

/// quantity × unit price, when both are known and the product fits.
pub(crate) fn extended(q: Option<Decimal>, p: Option<Decimal>) -> Option<Decimal> {
    q?.checked_mul(p?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn here() -> String {
        "/x/@y".into()
    }

    #[test]
    fn dates_take_the_local_date_of_any_iso_form() {
        let want = NaiveDate::from_ymd_opt(2009, 5, 1).unwrap();
        for v in [
            "2009-05-01",
            "2009-05-01T11:45:51-07:00",
            "2009-05-01T23:59:59Z",
            "2009-05-01T10:00:00",
            " 2009-05-01 10:00 ",
        ] {
            assert_eq!(date(v, here).unwrap(), want, "{v}");
        }
        for v in [
            "invoice_date",
            "2009-5-1",
            "2009-05-01X",
            "01/05/2009",
            "2009-13-01",
            "ä",
        ] {
            let e = date(v, here).unwrap_err();
            assert_eq!(e.location(), "/x/@y", "{v}");
            assert!(e.to_string().contains("ISO 8601"), "{v}: {e}");
        }
    }

    #[test]
    fn decimals_are_plain_numbers_only() {
        assert_eq!(decimal("1505.0", here).unwrap(), Decimal::new(15050, 1));
        assert_eq!(decimal(" +5 ", here).unwrap(), Decimal::new(5, 0));
        assert_eq!(decimal("-0.50", here).unwrap(), Decimal::new(-50, 2));
        for v in ["1,505.00", "1e3", "", "12 EUR", "NaN"] {
            assert!(decimal(v, here).is_err(), "{v}");
        }
    }

    #[test]
    fn extended_amount_does_not_overflow() {
        assert_eq!(
            extended(Some(Decimal::new(3, 0)), Some(Decimal::new(1250, 2))),
            Some(Decimal::new(3750, 2))
        );
        assert_eq!(extended(Some(Decimal::MAX), Some(Decimal::MAX)), None);
        assert_eq!(extended(None, Some(Decimal::ONE)), None);
    }
}
