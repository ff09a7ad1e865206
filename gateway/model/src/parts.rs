//! Building blocks shared by every document kind: parties, addresses, terms, taxes, charges.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Text;

/// Source data the model does not hold, kept so a round trip through the model loses nothing.
/// Keys are chosen by the adapter that wrote them (for example `"x12"` or `"cxml"`), values are
/// free-form JSON. Sorted for stable output.
pub type Extensions = std::collections::BTreeMap<String, serde_json::Value>;

/// A trading party (supplier, buyer, bill-to, remit-to, ship-to).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// Identifiers as the source gives them, with the domain that scopes each value
    /// (X12 N103 qualifier such as `"92"` or `"DUNS"`, cXML Credential domain, `"coupa"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<PartyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Contact person, e-mail and phone where the source carries them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Text>,
}

impl Party {
    /// The value of the first id in `domain` (compared case-insensitively).
    pub fn id_in(&self, domain: &str) -> Option<&str> {
        self.ids
            .iter()
            .find(|id| id.domain.eq_ignore_ascii_case(domain))
            .map(|id| id.value.as_str())
    }

    /// Coupa's id of the supplier this party names: an all-digit id in domain `coupa`, the
    /// convention every reader and the Coupa adapter share.
    pub fn coupa_supplier_id(&self) -> Option<u64> {
        self.id_in("coupa").and_then(|v| v.trim().parse().ok())
    }

    /// The Coupa supplier number this party names, trimmed: an id in domain `coupa-number`,
    /// else a `coupa` id that is not all digits, else an X12 supplier's `vendor-number`
    /// (`REF*VN`), else its `internal-vendor-number` (`REF*IA`), else its N1 id of qualifier
    /// `92` (see [`Self::coupa_supplier_number_ids`]).
    /// Blank values are none.
    pub fn coupa_supplier_number(&self) -> Option<&str> {
        self.coupa_supplier_number_ids()
            .min_by_key(|id| number_rank(id))
            .map(|id| id.value.trim())
    }

    /// Every id of this party that names a Coupa supplier number, in the order given: domain
    /// `coupa-number`, a `coupa` id that is not all digits, `vendor-number` (the X12 reader's
    /// `REF*VN` of the supplier's loop or the heading: the number the buyer knows its supplier
    /// by), `internal-vendor-number` (its `REF*IA`, X12's "internal vendor number", the buyer's
    /// number for the vendor: the same number under another code, which partners use as
    /// often; without it, `REF*IA*RIVAL-1` was booked to the partner's supplier) and `92`
    /// (X12's "assigned by the buyer", where the gateway's own X12 writer puts a Coupa
    /// supplier number). A supplier without a partner profile is found in Coupa by it, and an
    /// invoice naming another supplier's number by it is refused: read as a mere name, an
    /// 810's `N1*SU*..*92*ACME-1` found no supplier, or the wrong one. A `92` value may also be
    /// Coupa's id of the supplier, which the writer puts there as well: a caller comparing it
    /// with a known id allows for that.
    pub fn coupa_supplier_number_ids(&self) -> impl Iterator<Item = &PartyId> {
        self.ids.iter().filter(|id| number_rank(id).is_some())
    }
}

/// Where an id stands among those naming a Coupa supplier number (lower first, see
/// [`Party::coupa_supplier_number`]); `None` when it names none.
fn number_rank(id: &PartyId) -> Option<u8> {
    let value = id.value.trim();
    if value.is_empty() {
        return None;
    }
    let domain = id.domain.trim();
    if domain.eq_ignore_ascii_case("coupa-number") {
        Some(0)
    } else if domain.eq_ignore_ascii_case("coupa") {
        value.parse::<u64>().is_err().then_some(1)
    } else if domain.eq_ignore_ascii_case("vendor-number") {
        Some(2)
    } else if domain.eq_ignore_ascii_case("internal-vendor-number") {
        Some(3)
    } else if domain == "92" {
        Some(4)
    } else {
        None
    }
}

/// One identifier of a party, scoped by its domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyId {
    pub domain: Text,
    pub value: Text,
}

/// A postal address; `lines` are street lines in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<Text>,
    /// Country code as the source gives it (ISO 3166 alpha-2 in cXML, often alpha-3 in X12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Text>,
}

/// Payment terms: net days and an optional early-payment discount.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentTerms {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::document::DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub discount_percent: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_days: Option<u32>,
}

/// Shipping (delivery) terms of an order: who pays the carriage and where the goods pass to
/// the buyer, as the buyer's system names them (Coupa's `shipping-term` code such as
/// `"FOB Destination"`, an Incoterm such as `"DAP"`). Its fields are optional, as the payment
/// terms' are, so a later one (a description, a named place) extends it within schema_version 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShippingTerms {
    /// The terms' code as the source gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Text>,
}

/// A tax amount, at header or line level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tax {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::document::DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub amount: Option<Decimal>,
    /// Rate in percent (`"8.25"` means 8.25 %).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::document::DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub rate: Option<Decimal>,
    /// Tax category as cXML names it (`"sales"`, `"vat"`): one tax, one category from every
    /// channel. X12 TXI01 codes are read as those names (`ST` → `"sales"`), others as the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// Amount the tax was computed on, where the source gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::document::DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub taxable_amount: Option<Decimal>,
}

/// An allowance or charge (shipping, handling, discount, other). Amounts are positive; a
/// discount reduces the total by its amount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Charge {
    pub kind: crate::ChargeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::document::DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::document::DecimalString>")]
    #[serde(deserialize_with = "crate::decimal_json::optional_decimal")]
    pub rate: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// The source's own code for the charge (X12 SAC02 such as `"D240"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Text>,
}
