//! Pieces shared by the invoice and order mappings: numbers, dates, money, parties, payment
//! terms, taxes, extrinsics. Each parser names the element or attribute it read in its error.

use chrono::NaiveDate;
use gateway_model::{Address, Party, PartyId, PaymentTerms, Tax, Text};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::error::CxmlError;
use crate::reader::Node;

/// Parses a decimal as cXML writes it (`365`, `1505.0`, `-5.25`); no grouping, no exponent.
pub(crate) fn decimal(text: &str, location: impl FnOnce() -> String) -> Result<Decimal, CxmlError> {
    let t = text.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    // Plain `[-]digits[.digits]` only: no exponent, no grouping, no `_`.
    let parsed = gateway_model::parse_plain_decimal(t);
    parsed.ok_or_else(|| {
        let message = if gateway_model::is_plain_decimal_form(t) {
            // Written right, but past what a decimal holds (96 bits: about 28 digits).
            format!(
                "{text:?} has more digits than an amount or quantity can hold (at most 28 \
                 significant digits)"
            )
        } else {
            format!("{text:?} is not a decimal number (expected digits with an optional '.')")
        };
        CxmlError::invalid(location(), message)
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
/// The postal address is the `PostalAddress`, else the one the writer carried in the
/// `Contact`'s Extrinsic for a party without a street ([`postal_of`]).
pub(crate) fn party(node: Node<'_>) -> Party {
    party_with(node, postal_of(node))
}

/// The element a party's postal address is read from: `node`'s `PostalAddress`, else its
/// Extrinsic [`crate::carried::POSTAL_ADDRESS_WITHOUT_STREET`] (a `Contact`'s: what the writer
/// carries for a party without a street), whose children are those of a `PostalAddress`.
pub(crate) fn postal_of(node: Node<'_>) -> Option<Node<'_>> {
    node.child("PostalAddress")
        .or_else(|| extrinsic_node(node, crate::carried::POSTAL_ADDRESS_WITHOUT_STREET))
}

/// The Extrinsic of `holder` named `name` (the last, as [`extrinsics`] keeps the last).
pub(crate) fn extrinsic_node<'t>(holder: Node<'t>, name: &str) -> Option<Node<'t>> {
    holder
        .children_named("Extrinsic")
        .filter(|e| e.attr("name") == Some(name))
        .last()
}

/// [`party`] with its postal address read from `postal` (a `PostalAddress`, or an Extrinsic
/// the writer carried one without street in; see [`postal_of`]).
pub(crate) fn party_with(node: Node<'_>, postal: Option<Node<'_>>) -> Party {
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
    if let Some(pa) = postal {
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

/// Which of the parties whose roles are `roles` (document order) fills a slot whose roles are
/// `preference`, most preferred first: the first party in the first of those roles present,
/// wherever it stands. `None` when no party has one of them.
pub(crate) fn preferred(roles: &[&str], preference: &[&str]) -> Option<usize> {
    preference
        .iter()
        .find_map(|want| roles.iter().position(|r| r == want))
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

/// Payment terms from `PaymentTerm` elements. The model holds one discount tier and the net
/// term; a source may list several tiers (3% in 10 days, 1% in 20, net 45) and other terms
/// (a `DiscountAmount` tier, a second net term). The model's are the *primary* terms:
/// - the discount tier: the first `PaymentTerm` whose `Discount` gives a percent
///   (`DiscountPercent`) and its days, in document order (the earliest tier, the one an
///   accounts-payable system takes as "the" discount). A `Discount` of an amount
///   (`DiscountAmount`) is never the model's: the model holds a percent;
/// - the net term: the first `PaymentTerm` without `Discount` that gives its days.
///
/// Where no term of a kind is whole (a percent without days, terms without days), the one
/// term of that kind is the model's, as read before (half a discount, a description alone);
/// several such and none is, nor is a term the model holds nothing of. Every other
/// `PaymentTerm` is kept by [`TermsRead::keep`].
///
/// From the model's terms: a term with `Discount` gives the discount percent and days
/// (`DiscountDueDays`, newer DTDs, wins over `payInNumberOfDays`); the net term its days
/// (`NetDueDays` wins). A `description` Extrinsic carries the text. Days the writer read from
/// that text (`carried::DAYS_FROM_DESCRIPTION`) are no net days.
pub(crate) fn payment_terms<'t>(
    terms: impl Iterator<Item = Node<'t>>,
) -> Result<TermsRead, CxmlError> {
    let read: Vec<TermRead<'t>> = terms.map(TermRead::of).collect::<Result<_, _>>()?;
    Ok(primary_terms(&read))
}

/// The terms read: the model's ([`TermsRead::terms`]) and the others, in document order, for
/// [`TermsRead::keep`].
#[derive(Debug, Default)]
pub(crate) struct TermsRead {
    pub terms: Option<PaymentTerms>,
    /// Each term read: the model's discount tier or net term (`"discount"`, `"net"`), or
    /// another one (element JSON); empty when every term is the model's.
    slots: Vec<Value>,
}

impl TermsRead {
    /// Nothing was read: no terms and nothing to keep.
    pub fn is_empty(&self) -> bool {
        self.terms.is_none() && self.slots.is_empty()
    }

    /// Puts the terms that are not the model's in `ext` (`payment_terms`), when there are
    /// some: the terms in document order, the others as element JSON, and the `PaymentTerm`s
    /// the writer writes for the model's `terms` (the document's terms once the carried
    /// Extrinsics are read too) as `"discount"` and `"net"`, in the place of the terms they
    /// were read from, so that what is written reads back as it was read. The writer puts
    /// each back in its place ([`crate::encode`]).
    pub fn keep(self, terms: Option<&PaymentTerms>, ext: &mut Ext) {
        if self.slots.is_empty() {
            return;
        }
        // What the writer writes as PaymentTerms for the model (`encode::order::payment_terms`).
        let writes_discount =
            terms.is_some_and(|t| t.discount_percent.is_some() && t.discount_days.is_some());
        let writes_net = terms.is_some_and(|t| {
            t.net_days.is_some()
                || t.description
                    .as_deref()
                    .and_then(crate::carried::net_days_of)
                    .is_some()
        });
        let from_net = self.slots.iter().any(|s| s.as_str() == Some(KEPT_NET_TERM));
        // A net term written from what another term gave (its NetDueDays, a description):
        // after the discount tier, else first.
        let net_after_discount = writes_net && !from_net && writes_discount;
        let mut kept = Vec::with_capacity(self.slots.len() + 1);
        if writes_net && !from_net && !writes_discount {
            kept.push(Value::from(KEPT_NET_TERM));
        }
        for slot in self.slots {
            match slot.as_str() {
                Some(KEPT_DISCOUNT_TERM) => {
                    if writes_discount {
                        kept.push(slot);
                        if net_after_discount {
                            kept.push(Value::from(KEPT_NET_TERM));
                        }
                    }
                }
                Some(KEPT_NET_TERM) => {
                    if writes_net {
                        kept.push(slot);
                    }
                }
                _ => kept.push(slot),
            }
        }
        ext.put("payment_terms", Value::Array(kept));
    }
}

/// The model's terms of `read` (see [`payment_terms`]) and the others.
fn primary_terms(read: &[TermRead<'_>]) -> TermsRead {
    let primary = |kind: TermKind| {
        let mut of_kind = read.iter().enumerate().filter(|(_, t)| t.kind == kind);
        of_kind
            .clone()
            .find(|(_, t)| t.whole)
            .map(|(i, _)| i)
            .or_else(|| match (of_kind.next(), of_kind.next()) {
                (Some((i, _)), None) => Some(i),
                _ => None,
            })
            // A term that gives the model nothing is kept whole instead (a misspelt
            // `payInNumberOfDays`): it is written back as it came.
            .filter(|&i| read.get(i).is_some_and(TermRead::gives))
    };
    let discount = primary(TermKind::Percent);
    let net = primary(TermKind::Net);
    let mut out = PaymentTerms::default();
    let mut slots = Vec::with_capacity(read.len());
    for (i, t) in read.iter().enumerate() {
        if Some(i) == discount {
            out.discount_percent = t.percent;
            out.discount_days = t.discount_days;
            slots.push(Value::from(KEPT_DISCOUNT_TERM));
        } else if Some(i) == net {
            if !t.derived {
                out.net_days = t.days;
            }
            slots.push(Value::from(KEPT_NET_TERM));
        } else {
            slots.push(t.source.element_json());
            continue;
        }
        if let Some(n) = t.net_due_days {
            out.net_days = Some(n);
        }
        if let Some(d) = t.description {
            out.description = Some(Text::from(d));
        }
    }
    // Only the model's terms: nothing to keep.
    if slots.iter().all(Value::is_string) {
        slots.clear();
    }
    TermsRead {
        // A PaymentTerm without anything the model holds (no days, e.g. its required
        // attribute misspelt) is no terms: writing `Some` of nothing would read back as `None`.
        terms: (out != PaymentTerms::default()).then_some(out),
        slots,
    }
}

/// In `extensions.cxml.payment_terms`, the place of the model's discount tier.
pub(crate) const KEPT_DISCOUNT_TERM: &str = "discount";
/// In `extensions.cxml.payment_terms`, the place of the model's net term.
pub(crate) const KEPT_NET_TERM: &str = "net";

/// The kinds of `PaymentTerm` (see [`payment_terms`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TermKind {
    /// A `Discount` of a percent (or of nothing: half a discount).
    Percent,
    /// A `Discount` of an amount only: never the model's.
    Amount,
    /// No `Discount`: the net term.
    Net,
}

/// One `PaymentTerm` (or `InvoiceDetailPaymentTerm`) as [`payment_terms`] reads it.
struct TermRead<'t> {
    source: TermSource<'t>,
    kind: TermKind,
    /// It gives all the model holds of its kind: percent and days, or days.
    whole: bool,
    /// `payInNumberOfDays`.
    days: Option<u32>,
    percent: Option<rust_decimal::Decimal>,
    discount_days: Option<u32>,
    net_due_days: Option<u32>,
    description: Option<&'t str>,
    /// Its days are the writer's, read from the description.
    derived: bool,
}

impl<'t> TermRead<'t> {
    /// Whether the model holds anything of this term, as one of its own.
    fn gives(&self) -> bool {
        let days = match self.kind {
            TermKind::Percent => self.percent.is_some() || self.discount_days.is_some(),
            TermKind::Net => self.days.is_some() && !self.derived,
            TermKind::Amount => false,
        };
        days || self.net_due_days.is_some() || self.description.is_some()
    }

    fn of(t: Node<'t>) -> Result<Self, CxmlError> {
        let days = attr_u32(t, "payInNumberOfDays")?;
        let description = t
            .children_named("Extrinsic")
            .filter(|e| e.attr("name") == Some("description"))
            .last()
            .and_then(|e| e.text_opt());
        let derived = crate::carried::days_from_description(
            t.children_named("Extrinsic")
                .map(|e| (e.attr("name").unwrap_or_default(), e.text())),
            description,
            days,
        );
        let net_due_days = match t.child("NetDueDays") {
            Some(n) => text_u32(n)?,
            None => None,
        };
        let mut read = TermRead {
            source: TermSource::PaymentTerm(t),
            kind: TermKind::Net,
            whole: days.is_some() || net_due_days.is_some(),
            days,
            percent: None,
            discount_days: None,
            net_due_days,
            description,
            derived,
        };
        if let Some(d) = t.child("Discount") {
            let percent = d.child("DiscountPercent");
            read.kind = if percent.is_none() && d.child("DiscountAmount").is_some() {
                TermKind::Amount
            } else {
                TermKind::Percent
            };
            read.percent = match percent {
                Some(p) => attr_decimal(p, "percent")?,
                None => None,
            };
            read.discount_days = match d.child("DiscountDueDays") {
                Some(n) => text_u32(n)?,
                None => days,
            };
            read.whole = read.percent.is_some() && read.discount_days.is_some();
        }
        Ok(read)
    }
}

/// What a term was read from: what is kept of it when it is not the model's.
enum TermSource<'t> {
    PaymentTerm(Node<'t>),
    /// An `InvoiceDetailPaymentTerm`: its `payInNumberofDays` and `percentageRate` (`None` for
    /// a net term), kept as the `PaymentTerm` that says the same (the writer writes
    /// `PaymentTerm`s, and cXML has either kind in an invoice, not both).
    Detail {
        days: Option<&'t str>,
        percent: Option<&'t str>,
    },
}

impl TermSource<'_> {
    fn element_json(&self) -> Value {
        match self {
            TermSource::PaymentTerm(n) => element_json(*n),
            TermSource::Detail { days, percent } => {
                let mut term = json!({"element": "PaymentTerm"});
                if let Some(d) = days {
                    term["attributes"] = json!({"payInNumberOfDays": d});
                }
                if let Some(p) = percent {
                    term["children"] = json!([{
                        "element": "Discount",
                        "children": [{"element": "DiscountPercent", "attributes": {"percent": p}}]
                    }]);
                }
                term
            }
        }
    }
}

/// `InvoiceDetailPaymentTerm@payInNumberofDays/percentageRate` (invoice-only form): rate 0 is
/// a net term, another rate a discount tier. The model's are chosen as of `PaymentTerm`s
/// ([`payment_terms`]: the first whole discount tier, the first net term with days); the
/// others go in `ext` as the `PaymentTerm`s that say the same, which the writer writes.
pub(crate) fn invoice_payment_terms<'t>(
    terms: impl Iterator<Item = Node<'t>>,
) -> Result<TermsRead, CxmlError> {
    let mut read = Vec::new();
    for t in terms {
        let days = attr_u32(t, "payInNumberofDays")?;
        let rate = attr_decimal(t, "percentageRate")?.filter(|r| !r.is_zero());
        read.push(TermRead {
            source: TermSource::Detail {
                days: t.attr_opt("payInNumberofDays"),
                percent: rate.and(t.attr_opt("percentageRate")),
            },
            kind: if rate.is_some() {
                TermKind::Percent
            } else {
                TermKind::Net
            },
            whole: days.is_some(),
            days,
            percent: rate,
            discount_days: days,
            net_due_days: None,
            description: None,
            derived: false,
        });
    }
    Ok(primary_terms(&read))
}

/// What a cXML `Tax` gives: one canonical tax per `TaxDetail` (amount, rate, category,
/// description, taxable amount), the `Tax/Money` total, and what the model has no field for,
/// which [`TaxRead::keep`] puts in `extensions.cxml`:
/// - `tax_purposes`: each `TaxDetail@purpose` (`tax`, `shippingTax`, ...), index for index,
///   when any is not plain `tax`;
/// - `tax_description`: the `Tax/Description` beside `TaxDetail`s when no canonical tax took
///   it (a lone `TaxDetail` without its own takes it; so does
///   [`TaxRead::plain_when_no_details`]). A `Tax` that ends without any tax (the invoice
///   summary's bare total) does not keep it yet: the golden samples of other formats that
///   embed the cXML invoice sample (`samples/email`) would change with it;
/// - `tax_detail_extra`: per `TaxDetail`, index for index (`null` where there is nothing),
///   the attributes and child elements the mapping does not read (`taxPointDate`,
///   `TaxLocation`, `TaxExemption`, ...) as `{"attributes", "children"}`, children in the
///   element JSON of [`element_json`].
#[derive(Debug, Default)]
pub(crate) struct TaxRead {
    pub taxes: Vec<Tax>,
    pub total: Option<Decimal>,
    /// How many `TaxDetail`s have no amount although the `Tax/Money` says what the tax bills:
    /// several without a `TaxAmount`, so which part is whose cannot be told
    /// ([`amounts_from_money`]). 0 when every detail has its amount.
    pub unsplit: usize,
    purposes: Option<Value>,
    description: Option<Text>,
    detail_extra: Option<Value>,
}

/// `TaxDetail` attributes and children the mapping reads; the rest is `tax_detail_extra`.
const TAX_DETAIL_ATTRS: [&str; 3] = ["purpose", "category", "percentageRate"];
const TAX_DETAIL_CHILDREN: [&str; 3] = ["TaxableAmount", "TaxAmount", "Description"];

impl TaxRead {
    /// Without `TaxDetail`s, the `Tax/Money` total as one tax carrying the `Tax/Description`
    /// (what orders and invoice lines do; the invoice summary keeps the total as `tax_total`).
    pub fn plain_when_no_details(&mut self) {
        if self.taxes.is_empty()
            && let Some(amount) = self.total
        {
            self.taxes.push(Tax {
                amount: Some(amount),
                description: self.description.take(),
                ..Default::default()
            });
        }
    }

    /// Puts what the model has no field for into `ext` (see the type's docs).
    pub fn keep(&mut self, ext: &mut Ext) {
        if let Some(p) = self.purposes.take() {
            ext.put("tax_purposes", p);
        }
        if !self.taxes.is_empty() {
            ext.put_str("tax_description", self.description.take().as_deref());
        }
        if let Some(d) = self.detail_extra.take() {
            ext.put("tax_detail_extra", d);
        }
    }
}

/// Reads a cXML `Tax` (see [`TaxRead`]).
pub(crate) fn read_tax(tax: Node<'_>) -> Result<TaxRead, CxmlError> {
    let total = amount_in(Some(tax))?;
    let mut description = text_of(tax, "Description");
    let details_count = tax.children_named("TaxDetail").count();
    let mut taxes = Vec::with_capacity(details_count);
    let mut purposes: Option<Vec<Value>> = None;
    let mut extra: Option<Vec<Value>> = None;
    for (i, d) in tax.children_named("TaxDetail").enumerate() {
        let mut t = Tax {
            amount: amount_in(d.child("TaxAmount"))?,
            rate: attr_decimal(d, "percentageRate")?,
            category: d.attr_opt("category").map(Text::from),
            description: text_of(d, "Description"),
            taxable_amount: amount_in(d.child("TaxableAmount"))?,
        };
        if t.description.is_none() && details_count == 1 {
            t.description = description.take();
        }
        taxes.push(t);
        let purpose = d.attr_opt("purpose").unwrap_or("tax");
        if purpose != "tax" || purposes.is_some() {
            // Earlier details were plain `tax`: filled in on the first other one.
            let p = purposes.get_or_insert_with(|| vec![Value::from("tax"); i]);
            p.push(Value::from(purpose));
        }
        if let Some(e) = unread(d, &TAX_DETAIL_ATTRS, &TAX_DETAIL_CHILDREN) {
            let e_list = extra.get_or_insert_with(|| vec![Value::Null; i]);
            e_list.push(e);
        } else if let Some(e_list) = extra.as_mut() {
            e_list.push(Value::Null);
        }
    }
    let unsplit = amounts_from_money(&mut taxes, total, tax)?;
    Ok(TaxRead {
        taxes,
        total,
        unsplit,
        purposes: purposes.map(Value::Array),
        description,
        detail_extra: extra.map(Value::Array),
    })
}

/// Gives the one `TaxDetail` of `tax` without a `TaxAmount` its amount: the `Tax/Money`
/// (`money`, the tax billed) less the other details' amounts, so a lone detail's is the Money
/// itself. A `<Tax><Money>19.00</Money><TaxDetail percentageRate="19">` with its
/// `TaxableAmount` but no `TaxAmount` was read as a tax of rate 19 and no amount, and Coupa
/// was sent the rate without the 19.00 billed. A remainder of the other sign than the Money
/// (the other details already bill more) is no amount of this one, and is left unknown.
///
/// Returns how many details are still without an amount while the Money gives one: several
/// details without a `TaxAmount` (which part of the Money is whose cannot be told), or the
/// one a remainder could not be given to. `Err` when the details' amounts add up past what a
/// decimal holds.
fn amounts_from_money(
    taxes: &mut [Tax],
    money: Option<Decimal>,
    tax: Node<'_>,
) -> Result<usize, CxmlError> {
    let missing = taxes.iter().filter(|t| t.amount.is_none()).count();
    let Some(money) = money else {
        return Ok(0);
    };
    if missing != 1 {
        return Ok(missing);
    }
    let rest = taxes
        .iter()
        .filter_map(|t| t.amount)
        .try_fold(Decimal::ZERO, Decimal::checked_add)
        .and_then(|others| money.checked_sub(others))
        .ok_or_else(|| {
            tax.invalid("the TaxDetails' amounts add up to more than an amount can hold")
        })?;
    if !rest.is_zero() && rest.is_sign_negative() != money.is_sign_negative() {
        return Ok(1);
    }
    if let Some(t) = taxes.iter_mut().find(|t| t.amount.is_none()) {
        t.amount = Some(rest);
    }
    Ok(0)
}

/// The attributes and child elements of `node` not named in `attrs` and `children`, as
/// `{"attributes": {..}, "children": [element JSON, ..]}`; `None` (nothing allocated) when all
/// were read.
pub(crate) fn unread(node: Node<'_>, attrs: &[&str], children: &[&str]) -> Option<Value> {
    let attributes: Map<String, Value> = node
        .attrs()
        .filter(|(k, _)| !attrs.contains(k))
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    let kept = unread_children(node, children);
    if attributes.is_empty() && kept.is_empty() {
        return None;
    }
    let mut o = Map::new();
    if !attributes.is_empty() {
        o.insert("attributes".into(), Value::Object(attributes));
    }
    if !kept.is_empty() {
        o.insert("children".into(), Value::Array(kept));
    }
    Some(Value::Object(o))
}

/// The child elements of `node` not named in `read`, as element JSON in source order (empty,
/// without allocating, when there are none).
pub(crate) fn unread_children(node: Node<'_>, read: &[&str]) -> Vec<Value> {
    node.children()
        .filter(|c| !read.contains(&c.name()))
        .map(element_json)
        .collect()
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

/// `Comments` text; the elements inside (`Attachment`) go in `comments_elements` of `ext`,
/// as element JSON.
pub(crate) fn comments(node: Node<'_>, ext: &mut Ext) -> Option<Text> {
    let c = node.child("Comments")?;
    ext.put("comments_elements", Value::Array(unread_children(c, &[])));
    c.text_opt().map(Text::from)
}

/// The description of a line from the `Description` elements of `holder`: the first one's
/// text; its `ShortName` goes in `short_name` of `ext`, further `Description`s (other
/// languages) in `other_descriptions`, as element JSON.
pub(crate) fn line_description(holder: Node<'_>, ext: &mut Ext) -> Option<Text> {
    let mut all = holder.children_named("Description");
    let first = all.next()?;
    ext.put_str(
        "short_name",
        first.child("ShortName").and_then(|s| s.text_opt()),
    );
    ext.put(
        "other_descriptions",
        Value::Array(all.map(element_json).collect()),
    );
    first.text_opt().map(Text::from)
}

/// What the cXML of the parties in canonical slots says beyond the [`Party`] read from it,
/// kept per slot (`<key>.<field>`, `field` the canonical field: `supplier`, `ship_to`, ...) so
/// the writer (`encode::PartyKept`) puts it back:
/// - `address_extrinsic`: the `PostalAddress` Extrinsics, name → text;
/// - `country_name`: `{"code", "name"}`, the `Country` text when it is not the code the model
///   holds (`<Country isoCountryCode="US">United States</Country>`; the writer writes the
///   code as the text otherwise). Kept with the code, so a changed country does not get the
///   old country's name;
/// - `phone_country`: `{"dial", "code"}`, the phone's `CountryCode@isoCountryCode` when it is
///   not the address's country (which the writer writes when nothing is kept), with the dial
///   code it was given for, so a changed phone number does not get the old one's country.
///
/// Nothing is allocated for a party with none of these.
#[derive(Debug, Default)]
pub(crate) struct PartiesKept {
    address_extrinsic: Map<String, Value>,
    country_name: Map<String, Value>,
    phone_country: Map<String, Value>,
}

impl PartiesKept {
    /// Keeps what `node` (the `Contact` or `Address` that `party` was read from, its postal
    /// address from `postal`: see [`party_with`]) holds beyond `party`, for the canonical field
    /// `field`.
    pub fn keep(&mut self, field: &str, node: Node<'_>, postal: Option<Node<'_>>, party: &Party) {
        let code = party.address.as_ref().and_then(|a| a.country.as_deref());
        if let Some(pa) = postal {
            let extrinsic = extrinsics(pa);
            if !extrinsic.is_empty() {
                self.address_extrinsic
                    .insert(field.to_string(), Value::Object(extrinsic));
            }
            // `party` read the code from `isoCountryCode`, else from this text: a name that is
            // not the code came with an `isoCountryCode`.
            if let (Some(name), Some(code)) = (pa.child("Country").and_then(|c| c.text_opt()), code)
                && name != code
            {
                self.country_name
                    .insert(field.to_string(), json!({"code": code, "name": name}));
            }
        }
        if party.phone.is_some()
            && let Some(cc) = node
                .find("Phone/TelephoneNumber")
                .and_then(|t| t.child("CountryCode"))
            && let Some(iso) = cc.attr_opt("isoCountryCode")
            && Some(iso) != code
        {
            // The dial code as `party` put it in the phone (after its `+`).
            let dial = cc.text_opt().map_or("", |c| c.trim_start_matches('+'));
            self.phone_country
                .insert(field.to_string(), json!({"dial": dial, "code": iso}));
        }
    }

    /// Puts what was kept into `ext` (see the type's docs).
    pub fn put(self, ext: &mut Ext) {
        ext.put("address_extrinsic", Value::Object(self.address_extrinsic));
        ext.put("country_name", Value::Object(self.country_name));
        ext.put("phone_country", Value::Object(self.phone_country));
    }
}

/// The text of a timestamp attribute read as the canonical `date` (`invoiceDate`,
/// `orderDate`, `ItemOut@requestedDeliveryDate`), to keep under the attribute's name in
/// `extensions.cxml` when the writer would not give it back from the date alone (it writes
/// `<date>T12:00:00+00:00`, see `encode::timestamp`): the sender's time of day and offset
/// survive a round trip. `None` when there is nothing to keep. Allocates only to compare a
/// text that ends as the writer's does.
pub(crate) fn kept_timestamp(text: Option<&str>, date: Option<NaiveDate>) -> Option<&str> {
    let (text, date) = (text?, date?);
    let as_written =
        text.ends_with(crate::encode::DATE_ONLY_TIME) && text == crate::encode::date_time(date);
    (!as_written).then_some(text)
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

    /// A timestamp is kept unless the writer writes the same text from the date, and the writer
    /// uses what was kept only while its date part (the local date the reader mapped) is
    /// still the document's date.
    #[test]
    fn timestamps_are_kept_when_they_say_more_than_the_date_and_written_while_it_holds() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        for (text, kept) in [
            ("2026-03-15T12:00:00+00:00", false),
            // What this writer wrote before it moved to noon: kept, so it comes back as sent.
            ("2026-03-15T00:00:00+00:00", true),
            ("2026-03-15T09:30:00-05:00", true),
            // Late in the evening west of UTC: the date is the local one, not UTC's 16th.
            ("2026-03-15T23:30:00-05:00", true),
            ("2026-03-15T00:00:00Z", true),
            ("2026-03-15", true),
        ] {
            assert_eq!(date(text, here).unwrap(), day, "{text}");
            let got = kept_timestamp(Some(text), Some(day));
            assert_eq!(got, kept.then_some(text), "{text}");
            assert_eq!(crate::encode::timestamp(day, got), text, "{text}");
        }
        assert_eq!(kept_timestamp(None, Some(day)), None);
        assert_eq!(
            kept_timestamp(Some("2026-03-15T09:30:00-05:00"), None),
            None
        );
        let next = day.succ_opt().unwrap();
        for stale in [
            "2026-03-15T09:30:00-05:00",
            // Hand-edited: the right date followed by what no reader takes.
            "2026-03-16garbage",
        ] {
            assert_eq!(
                crate::encode::timestamp(next, Some(stale)),
                "2026-03-16T12:00:00+00:00",
                "{stale}"
            );
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
        // Written right but too large: said so, not "not a decimal number".
        let huge = decimal("123456789012345678901234567890.123456789", here).unwrap_err();
        assert!(huge.to_string().contains("more digits than"), "{huge}");
        assert!(
            decimal("1e3", here)
                .unwrap_err()
                .to_string()
                .contains("not a decimal number")
        );
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
