//! Canonical → cXML: OrderRequest (what a buyer sends a supplier) and InvoiceDetailRequest
//! (what a supplier sends Coupa), plus the StatusUpdateRequest that tells a supplier what became
//! of its invoice ([`encode_invoice_status_update`]), in DTD element order, with the DOCTYPE of
//! the pinned cXML version [`CXML_VERSION`], a unique payloadID, an ISO timestamp with offset,
//! and the credentials and SharedSecret of the partner profile (see `gateway_core::profile::cxml`
//! for which credential goes where).
//!
//! Values the model keeps in `extensions.cxml` (written by the decoder) are written back, so
//! cXML → canonical → cXML → canonical is stable.

mod invoice;
mod order;
mod status_update;
pub(crate) mod tiers;
mod writer;

pub use invoice::encode_invoice;
pub(crate) use invoice::{SHIPPING_DATE, X12_SHIP_DATE, is_service, writes_header_shipping};
pub(crate) use order::DEFAULT_CLASSIFICATION_DOMAIN;
pub use order::encode_order;
pub use status_update::{
    InvoiceStatusKind, InvoiceStatusUpdate, MAX_COMMENT_CHARS, encode_invoice_status_update,
};

use chrono::{NaiveDate, Utc};
use gateway_core::{EncodeError, PartnerProfile, Secret};
use gateway_model::{Address, Extensions, Party, Tax};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use writer::Xml;

use crate::reader::is_xml_name;

/// The cXML version we write (DOCTYPE and `cXML@version`). Coupa accepts 1.2.xxx.
pub const CXML_VERSION: &str = "1.2.050";

/// Which DTD a document is validated against.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Dtd {
    /// `cXML.dtd`: OrderRequest.
    Cxml,
    /// `InvoiceDetail.dtd`: InvoiceDetailRequest.
    InvoiceDetail,
}

/// One side of the header.
pub(crate) struct Cred<'a> {
    pub domain: &'a str,
    pub identity: &'a str,
}

/// The header values for one outgoing document.
pub(crate) struct Envelope<'a> {
    pub from: Cred<'a>,
    pub to: Cred<'a>,
    pub sender: Cred<'a>,
    pub secret: Option<&'a Secret>,
    pub user_agent: &'a str,
    pub deployment_mode: &'a str,
    pub host: &'a str,
    /// The document's own payloadID (`extensions.cxml.payload_id`), for a sender that must
    /// send the same document under the same payloadID again; a new one is made otherwise.
    pub payload_id: Option<&'a str>,
}

fn need<'a>(v: &'a Option<String>, key: &str, id: &str) -> Result<&'a str, EncodeError> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            EncodeError::Profile(format!(
                "partner {id}: [cxml] {key} is needed to write the cXML header"
            ))
        })
}

fn cxml_section(
    partner: &PartnerProfile,
) -> Result<&gateway_core::profile::CxmlProfile, EncodeError> {
    partner.cxml.as_ref().ok_or_else(|| {
        EncodeError::Profile(format!(
            "partner {} has no [cxml] section; From/To/Sender credentials are needed to write cXML",
            partner.id
        ))
    })
}

/// Header for an InvoiceDetailRequest sent on the partner's behalf: From = partner, To = us.
pub(crate) fn invoice_envelope(partner: &PartnerProfile) -> Result<Envelope<'_>, EncodeError> {
    let c = cxml_section(partner)?;
    let id = &partner.id;
    let from = Cred {
        domain: need(&c.from_domain, "from_domain", id)?,
        identity: need(&c.from_identity, "from_identity", id)?,
    };
    let sender = Cred {
        domain: c.sender_domain.as_deref().unwrap_or(from.domain),
        identity: c.sender_identity.as_deref().unwrap_or(from.identity),
    };
    Ok(Envelope {
        from,
        to: Cred {
            domain: need(&c.to_domain, "to_domain", id)?,
            identity: need(&c.to_identity, "to_identity", id)?,
        },
        sender,
        secret: c.shared_secret.as_ref(),
        user_agent: c.user_agent.as_deref().unwrap_or("coupa-gateway"),
        deployment_mode: c.deployment_mode.as_deref().unwrap_or("production"),
        host: c.payload_id_host.as_deref().unwrap_or("coupa-gateway"),
        payload_id: None,
    })
}

/// Header for an OrderRequest to the partner: From = us (`to_*`), To = partner (`from_*`).
pub(crate) fn order_envelope(partner: &PartnerProfile) -> Result<Envelope<'_>, EncodeError> {
    let c = cxml_section(partner)?;
    let id = &partner.id;
    let us = Cred {
        domain: need(&c.to_domain, "to_domain", id)?,
        identity: need(&c.to_identity, "to_identity", id)?,
    };
    Ok(Envelope {
        from: Cred {
            domain: us.domain,
            identity: us.identity,
        },
        to: Cred {
            domain: need(&c.from_domain, "from_domain", id)?,
            identity: need(&c.from_identity, "from_identity", id)?,
        },
        sender: us,
        secret: c
            .outbound_shared_secret
            .as_ref()
            .or(c.shared_secret.as_ref()),
        user_agent: c.user_agent.as_deref().unwrap_or("coupa-gateway"),
        deployment_mode: c.deployment_mode.as_deref().unwrap_or("production"),
        host: c.payload_id_host.as_deref().unwrap_or("coupa-gateway"),
        payload_id: None,
    })
}

/// The key of the `"cxml"` extension that gives a document's payloadID when it is written
/// (`<local part>` gets `@<payload_id_host>`): the gateway sends a PO again after an unclear
/// answer (a timeout after the supplier may have taken it) under the same payloadID, so a
/// supplier that recognises payloadIDs does not take it twice.
pub const PAYLOAD_ID: &str = "payload_id";

/// A payloadID unique across processes and time: `<unix millis>.<uuid v4>@<host>`.
pub fn new_payload_id(host: &str) -> String {
    format!(
        "{}.{}@{host}",
        Utc::now().timestamp_millis(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Now as an ISO 8601 timestamp with offset (`2026-03-15T14:30:00+00:00`).
pub fn timestamp_now() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The currency every `Money@currency` carries (`#REQUIRED` in cXML.dtd): a document without
/// one is refused at `$.currency`, not written with `currency=""`, which a validating
/// receiver refuses and no reader can price.
pub(crate) fn required_currency(currency: Option<&str>) -> Result<&str, EncodeError> {
    currency
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| EncodeError::Invalid {
            path: "$.currency".into(),
            message: "cXML names the currency of every amount (Money@currency) and the document has none: give it one (X12 CUR02, a CSV Currency column) before writing cXML".into(),
        })
}

/// What [`date_time`] writes after a date that has no time of its own: noon UTC, so the
/// reader's local date is the date meant from UTC−12 to UTC+11. Midnight UTC made every
/// supplier west of Greenwich (all of the Americas) read the day before its need-by date.
pub(crate) const DATE_ONLY_TIME: &str = "T12:00:00+00:00";

/// A canonical date as a cXML timestamp whose date part is that date.
pub(crate) fn date_time(d: NaiveDate) -> String {
    format!("{}{DATE_ONLY_TIME}", d.format("%Y-%m-%d"))
}

/// The timestamp written for the canonical date `d` of an attribute whose source text the
/// reader kept (`kept`, see `decode::common::kept_timestamp`): that text while its date part,
/// the sender's local date the reader mapped, is still `d`; [`date_time`] otherwise, so a date
/// changed in the canonical document is written as changed, not overridden by the old time.
pub(crate) fn timestamp(d: NaiveDate, kept: Option<&str>) -> String {
    match kept {
        Some(text) if crate::decode::date(text, String::new).ok() == Some(d) => text.to_string(),
        _ => date_time(d),
    }
}

/// Writes the prolog, `cXML` root and `Header`, and opens `Request`; returns the
/// `cXML@timestamp` written.
pub(crate) fn begin(x: &mut Xml, dtd: Dtd, env: &Envelope<'_>) -> String {
    x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let file = match dtd {
        Dtd::Cxml => "cXML.dtd",
        Dtd::InvoiceDetail => "InvoiceDetail.dtd",
    };
    x.raw(&format!(
        "<!DOCTYPE cXML SYSTEM \"http://xml.cxml.org/schemas/cXML/{CXML_VERSION}/{file}\">\n"
    ));
    let payload = match env.payload_id.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) if p.contains('@') => p.to_string(),
        Some(p) => format!("{p}@{}", env.host),
        None => new_payload_id(env.host),
    };
    let ts = timestamp_now();
    x.open(
        "cXML",
        &[
            ("payloadID", Some(payload.as_str())),
            ("timestamp", Some(ts.as_str())),
            ("version", Some(CXML_VERSION)),
            ("xml:lang", Some("en-US")),
        ],
    );
    x.open("Header", &[]);
    for (role, cred, secret) in [
        ("From", &env.from, None),
        ("To", &env.to, None),
        ("Sender", &env.sender, env.secret),
    ] {
        x.open(role, &[]);
        x.open("Credential", &[("domain", Some(cred.domain))]);
        x.leaf("Identity", &[], cred.identity);
        if let Some(s) = secret {
            x.leaf("SharedSecret", &[], s.expose());
        }
        x.close("Credential");
        if role == "Sender" {
            x.leaf("UserAgent", &[], env.user_agent);
        }
        x.close(role);
    }
    x.close("Header");
    x.open("Request", &[("deploymentMode", Some(env.deployment_mode))]);
    ts
}

/// Closes `Request` and `cXML`.
pub(crate) fn end(x: &mut Xml) {
    x.close("Request");
    x.close("cXML");
}

/// `<Money currency="..">amount</Money>`; an empty Money when the amount is unknown.
pub(crate) fn money(x: &mut Xml, currency: &str, amount: Option<Decimal>) {
    match amount {
        Some(a) => x.leaf(
            "Money",
            &[("currency", Some(currency))],
            &gateway_model::decimal_text(a, '.'),
        ),
        None => x.empty("Money", &[("currency", Some(currency))]),
    }
}

/// `<name><Money/></name>`.
pub(crate) fn money_in(x: &mut Xml, name: &str, currency: &str, amount: Option<Decimal>) {
    x.open(name, &[]);
    money(x, currency, amount);
    x.close(name);
}

/// `<Description xml:lang="en">text</Description>`.
pub(crate) fn description(x: &mut Xml, text: Option<&str>) {
    x.leaf(
        "Description",
        &[("xml:lang", Some("en"))],
        text.unwrap_or(""),
    );
}

/// The `addressID` of a party (kept as an id in domain `addressID` by the decoder).
pub(crate) fn address_id(p: &Party) -> Option<&str> {
    p.ids
        .iter()
        .find(|i| i.domain == "addressID")
        .map(|i| i.value.as_str())
}

/// Ids other than `addressID`, written as `IdReference`.
pub(crate) fn id_references(x: &mut Xml, p: &Party) {
    for i in p.ids.iter().filter(|i| i.domain != "addressID") {
        x.empty(
            "IdReference",
            &[
                ("identifier", Some(i.value.as_str())),
                ("domain", Some(i.domain.as_str())),
            ],
        );
    }
}

/// The body of a `Contact` or `Address`: Name, PostalAddress (ending with the Extrinsics kept
/// for the party), Email, Phone; what the reader kept of the party beyond the model (`kept`)
/// goes back where it came from.
///
/// The `PostalAddress` is written only for a party with a street (cXML.dtd: `PostalAddress
/// (DeliverTo*, Street+, City, ...)`; `Address` and `Contact` take none): what it would
/// hold for a party without one (the attention lines, city, ...) is for the caller to write
/// with [`postal_without_street`] where the holder takes an Extrinsic ([`streetless`] says
/// whether there is any).
pub(crate) fn party_body(x: &mut Xml, p: &Party, kept: &PartyKept<'_>) {
    x.leaf(
        "Name",
        &[("xml:lang", Some("en"))],
        p.name.as_deref().unwrap_or(""),
    );
    let country = p.address.as_ref().and_then(|a| a.country.as_deref());
    if has_street(p) {
        x.open("PostalAddress", &[]);
        postal_children(x, p, kept, false);
        x.close("PostalAddress");
    }
    if let Some(e) = &p.email {
        x.leaf("Email", &[("name", Some("default"))], e);
    }
    if let Some(phone) = &p.phone {
        phone_number(x, phone, |dial| {
            kept.phone_country(dial).or(country).unwrap_or("")
        });
    }
}

/// Whether the party has a street, and so a `PostalAddress`.
fn has_street(p: &Party) -> bool {
    p.address.as_ref().is_some_and(|a| !a.lines.is_empty())
}

/// Whether a party without a street has anything its `PostalAddress` would have held, to be
/// carried in the Extrinsic [`postal_without_street`] writes.
pub(crate) fn streetless(p: &Party, kept: &PartyKept<'_>) -> bool {
    if has_street(p) {
        return false;
    }
    let a = p.address.as_ref();
    p.contact.is_some()
        || a.is_some_and(|a| {
            a.city.is_some() || a.region.is_some() || a.postal_code.is_some() || a.country.is_some()
        })
        || kept.address_extrinsic.is_some_and(|m| !m.is_empty())
}

/// `<Extrinsic name="{name}">` with what the `PostalAddress` of a party without a street
/// would hold ([`streetless`]), in the DTD's own elements (`Extrinsic` is `ANY`); the reader
/// takes it as the party's postal address (`crate::carried::POSTAL_ADDRESS_WITHOUT_STREET`).
pub(crate) fn postal_without_street(x: &mut Xml, name: &str, p: &Party, kept: &PartyKept<'_>) {
    x.open("Extrinsic", &[("name", Some(name))]);
    postal_children(x, p, kept, true);
    x.close("Extrinsic");
}

/// The children of a `PostalAddress`; without the required ones that are unknown when
/// `carried` (in an Extrinsic, where none is required).
fn postal_children(x: &mut Xml, p: &Party, kept: &PartyKept<'_>, carried: bool) {
    let empty = Address::default();
    let a = p.address.as_ref().unwrap_or(&empty);
    if let Some(c) = &p.contact {
        for line in c.split('\n') {
            x.leaf("DeliverTo", &[], line);
        }
    }
    for s in &a.lines {
        x.leaf("Street", &[], s);
    }
    if !carried || a.city.is_some() {
        x.leaf("City", &[], a.city.as_deref().unwrap_or(""));
    }
    if let Some(r) = &a.region {
        x.leaf("State", &[], r);
    }
    if let Some(pc) = &a.postal_code {
        x.leaf("PostalCode", &[], pc);
    }
    if !carried || a.country.is_some() {
        let code = a.country.as_deref().unwrap_or("");
        x.leaf(
            "Country",
            &[("isoCountryCode", Some(code))],
            kept.country_name(code).unwrap_or(code),
        );
    }
    if let Some(m) = kept.address_extrinsic {
        extrinsic_map(x, m);
    }
}

/// `Phone/TelephoneNumber` from `+<country> <area> <number...>` (the decoder's form); `iso`
/// gives the `CountryCode@isoCountryCode` (required by the DTD) for the dial code.
fn phone_number<'a>(x: &mut Xml, phone: &str, iso: impl FnOnce(&str) -> &'a str) {
    let mut parts = phone.split(' ').filter(|s| !s.is_empty());
    let (cc, area, number) = if phone.starts_with('+') {
        let cc = parts
            .next()
            .unwrap_or("")
            .trim_start_matches('+')
            .to_string();
        let area = parts.next().unwrap_or("").to_string();
        (cc, area, parts.collect::<Vec<_>>().join(" "))
    } else {
        (String::new(), String::new(), phone.to_string())
    };
    x.open("Phone", &[]);
    x.open("TelephoneNumber", &[]);
    x.leaf("CountryCode", &[("isoCountryCode", Some(iso(&cc)))], &cc);
    x.leaf("AreaOrCityCode", &[], &area);
    x.leaf("Number", &[], &number);
    x.close("TelephoneNumber");
    x.close("Phone");
}

/// `Contact role=".."` with the party's body; ids inside the contact when `ids_inside`.
pub(crate) fn contact(x: &mut Xml, role: &str, p: &Party, ids_inside: bool, kept: &PartyKept<'_>) {
    x.open(
        "Contact",
        &[("role", Some(role)), ("addressID", address_id(p))],
    );
    party_body(x, p, kept);
    if ids_inside {
        id_references(x, p);
    }
    // `Contact (Name, PostalAddress*, Email*, Phone*, Fax*, URL*, IdReference*, Extrinsic*)`.
    if streetless(p, kept) {
        postal_without_street(x, crate::carried::POSTAL_ADDRESS_WITHOUT_STREET, p, kept);
    }
    x.close("Contact");
}

/// The order of a `TaxDetail`'s children in InvoiceDetail.dtd and cXML.dtd.
const TAX_DETAIL_ORDER: &[&str] = &[
    "TaxableAmount",
    "TaxAmount",
    "TaxLocation",
    "Description",
    "TriangularTransactionLawReference",
    "TaxRegime",
    "TaxExemption",
];

/// `TaxDetail`s for canonical taxes, with what the decoder kept of each in `e` (see
/// `decode::common::TaxRead`): `tax_purposes` (index for index; `tax` where absent) and
/// `tax_detail_extra` (attributes after the mapped ones, children at their DTD place).
pub(crate) fn tax_details(x: &mut Xml, currency: &str, taxes: &[Tax], e: &Extensions) {
    let kept = cxml_ext(e);
    let purposes = kept.and_then(|k| k.get("tax_purposes"));
    let extras = kept.and_then(|k| k.get("tax_detail_extra"));
    for (i, t) in taxes.iter().enumerate() {
        let purpose = purposes
            .and_then(|p| p.get(i))
            .and_then(Value::as_str)
            .unwrap_or("tax");
        let extra = extras.and_then(|x| x.get(i));
        let rate = t.rate.map(|r| r.to_string());
        let attrs = [
            ("purpose", Some(purpose)),
            ("category", Some(t.category.as_deref().unwrap_or(""))),
            ("percentageRate", rate.as_deref()),
        ];
        match extra
            .and_then(|x| x.get("attributes"))
            .and_then(Value::as_object)
        {
            Some(more) => {
                let mut all = attrs.to_vec();
                all.extend(kept_attributes(more));
                x.open("TaxDetail", &all);
            }
            None => x.open("TaxDetail", &attrs),
        }
        let mut children = Kept::new(extra.and_then(|x| x.get("children")), TAX_DETAIL_ORDER);
        if t.taxable_amount.is_some() {
            money_in(x, "TaxableAmount", currency, t.taxable_amount);
        }
        money_in(x, "TaxAmount", currency, t.amount);
        children.before(x, "Description");
        if let Some(d) = &t.description {
            description(x, Some(d));
        }
        children.rest(x);
        x.close("TaxDetail");
    }
}

/// `Tax/Description` text the decoder kept (`tax_description`), when any.
pub(crate) fn tax_description(e: &Extensions) -> Option<&str> {
    ext_str(e, "tax_description")
}

/// A tax with only an amount and perhaps a description: written as a bare `Tax/Money`.
pub(crate) fn is_plain(t: &Tax) -> bool {
    t.rate.is_none() && t.category.is_none() && t.taxable_amount.is_none()
}

/// Sum of the known tax amounts, `None` when none is known.
pub(crate) fn tax_sum(taxes: &[Tax]) -> Option<Decimal> {
    let mut any = false;
    let mut sum = Decimal::ZERO;
    for a in taxes.iter().filter_map(|t| t.amount) {
        any = true;
        sum = sum.checked_add(a)?;
    }
    any.then_some(sum)
}

/// Whether the decoder kept anything of a `TaxDetail` in `e` beyond the canonical tax, so the
/// tax is to be written as a `TaxDetail` even when it could be a bare `Tax/Money`.
pub(crate) fn tax_detail_kept(e: &Extensions) -> bool {
    cxml_ext(e)
        .is_some_and(|k| k.contains_key("tax_purposes") || k.contains_key("tax_detail_extra"))
}

/// `(name, value)` of attributes kept as a JSON object (names that are not XML names are
/// skipped: they would come from hand-edited JSON).
fn kept_attributes(m: &Map<String, Value>) -> impl Iterator<Item = (&str, Option<&str>)> {
    m.iter()
        .filter(|(k, _)| is_xml_name(k))
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// The `"cxml"` extension object, when there is one.
pub(crate) fn cxml_ext(e: &Extensions) -> Option<&serde_json::Map<String, Value>> {
    e.get("cxml").and_then(Value::as_object)
}

/// A string value from the `"cxml"` extension.
pub(crate) fn ext_str<'a>(e: &'a Extensions, key: &str) -> Option<&'a str> {
    cxml_ext(e)?.get(key)?.as_str()
}

/// The key of a line's own ship-to (a canonical party), in `extensions.cxml` as in
/// `extensions.x12`.
pub(crate) const LINE_SHIP_TO: &str = "ship_to";
/// The key of an invoice line's own ship-from (a canonical party), in `extensions.cxml` as in
/// `extensions.x12` (an IT1 loop's `N1*SF`).
pub(crate) const LINE_SHIP_FROM: &str = "ship_from";
/// The key of a line's comments (text), in `extensions.cxml` as in `extensions.x12`.
pub(crate) const LINE_COMMENTS: &str = "comments";

/// The extension of a line that holds `key`, with its format's name: cXML's own
/// (`extensions.cxml.<key>`, read from a cXML line, written back with what the reader kept
/// beside it) first, else X12's (`extensions.x12.<key>`, read from an X12 line), so an X12
/// line's ship-to and comments reach cXML. X12's writer takes them the other way round
/// (its own first). `None` when neither holds it; a `null` is none.
pub(crate) fn line_field<'e>(e: &'e Extensions, key: &str) -> Option<(&'static str, &'e Value)> {
    ["cxml", "x12"].into_iter().find_map(|format| {
        let v = e.get(format)?.get(key)?;
        (!v.is_null()).then_some((format, v))
    })
}

/// A line's own ship-to ([`line_field`] `ship_to`) and what cXML's reader kept of it (nothing
/// for X12's); `line` is the line's canonical path. One that is no party is refused with its
/// path, not dropped.
pub(crate) fn line_ship_to<'e>(
    e: &'e Extensions,
    line: &str,
) -> Result<Option<(Party, PartyKept<'e>)>, EncodeError> {
    line_party(e, LINE_SHIP_TO, line)
}

/// An invoice line's own ship-from ([`line_field`] `ship_from`), as [`line_ship_to`].
pub(crate) fn line_ship_from<'e>(
    e: &'e Extensions,
    line: &str,
) -> Result<Option<(Party, PartyKept<'e>)>, EncodeError> {
    line_party(e, LINE_SHIP_FROM, line)
}

/// The party a line holds under `key` ([`line_field`]) and what cXML's reader kept of it
/// (nothing for X12's); `line` is the line's canonical path. One that is no party is refused
/// with its path, not dropped.
fn line_party<'e>(
    e: &'e Extensions,
    key: &str,
    line: &str,
) -> Result<Option<(Party, PartyKept<'e>)>, EncodeError> {
    let Some((format, v)) = line_field(e, key) else {
        return Ok(None);
    };
    let party = serde_json::from_value::<Party>(v.clone()).map_err(|err| EncodeError::Invalid {
        path: format!("{line}.extensions.{format}.{key}"),
        message: format!("a line's {key} is a party (name, ids, address): {err}"),
    })?;
    let kept = match format {
        "cxml" => PartyKept::of(e, key),
        _ => PartyKept::default(),
    };
    Ok(Some((party, kept)))
}

/// A line's comments ([`line_field`] `comments`); `line` is the line's canonical path.
/// Comments that are not text are refused with their path, not dropped.
pub(crate) fn line_comments<'e>(
    e: &'e Extensions,
    line: &str,
) -> Result<Option<&'e str>, EncodeError> {
    let Some((format, v)) = line_field(e, LINE_COMMENTS) else {
        return Ok(None);
    };
    match v.as_str() {
        Some(text) => Ok(Some(text)),
        None => Err(EncodeError::Invalid {
            path: format!("{line}.extensions.{format}.{LINE_COMMENTS}"),
            message: "a line's comments are text".into(),
        }),
    }
}

/// `Extrinsic` elements from `extensions.cxml.extrinsic`.
pub(crate) fn extrinsics(x: &mut Xml, e: &Extensions) {
    if let Some(m) = cxml_ext(e)
        .and_then(|c| c.get("extrinsic"))
        .and_then(Value::as_object)
    {
        extrinsic_map(x, m);
    }
}

/// `Extrinsic` elements from a name → value object (the decoder's `extrinsics`).
fn extrinsic_map(x: &mut Xml, m: &Map<String, Value>) {
    for (k, v) in m {
        match v {
            Value::Array(elements) => {
                x.open("Extrinsic", &[("name", Some(k.as_str()))]);
                for el in elements {
                    element_from_json(x, el, 0);
                }
                x.close("Extrinsic");
            }
            Value::String(s) => x.leaf("Extrinsic", &[("name", Some(k.as_str()))], s),
            other => x.leaf(
                "Extrinsic",
                &[("name", Some(k.as_str()))],
                &other.to_string(),
            ),
        }
    }
}

/// Extrinsics for values cXML has no element for (`crate::carried`), after the extension's.
pub(crate) fn carried_extrinsics<'a>(
    x: &mut Xml,
    carried: impl IntoIterator<Item = (&'static str, &'a str)>,
) {
    for (name, text) in carried {
        x.leaf("Extrinsic", &[("name", Some(name))], text);
    }
}

/// Deepest element nesting written back from an extension (the reader refuses deeper input).
const MAX_EXT_DEPTH: usize = 32;

/// Writes an element kept by the decoder's `element_json`. Objects without a usable element
/// name are skipped: the name comes from our own decoder, so a bad one means hand-edited JSON.
pub(crate) fn element_from_json(x: &mut Xml, v: &Value, depth: usize) {
    let Some(name) = v
        .get("element")
        .and_then(Value::as_str)
        .filter(|n| is_xml_name(n))
    else {
        return;
    };
    if depth > MAX_EXT_DEPTH {
        return;
    }
    let attrs: Vec<(&str, Option<&str>)> = v
        .get("attributes")
        .and_then(Value::as_object)
        .map(|m| kept_attributes(m).collect())
        .unwrap_or_default();
    let text = v.get("text").and_then(Value::as_str).unwrap_or("");
    match v.get("children").and_then(Value::as_array) {
        Some(children) if !children.is_empty() => {
            x.open(name, &attrs);
            for c in children {
                element_from_json(x, c, depth + 1);
            }
            // Mixed content (a `Description` with a `ShortName`): the text after the children.
            x.text(text);
            x.close(name);
        }
        _ => x.leaf(name, &attrs, text),
    }
}

/// Writes the elements of a JSON array of element JSON (`None` or not an array: nothing).
pub(crate) fn elements(x: &mut Xml, v: Option<&Value>) {
    for el in v.and_then(Value::as_array).into_iter().flatten() {
        element_from_json(x, el, 0);
    }
}

/// Elements the decoder kept as element JSON among the children of an element it maps
/// (`header_elements`, `tax_detail_extra[i].children`), written back among the ones the
/// encoder writes at their place in the DTD's `order` of that element's children: the
/// encoder calls [`Kept::before`] with each element it is about to write and [`Kept::rest`]
/// before closing. Kept elements not in `order` go last. Nothing is allocated when nothing
/// was kept.
pub(crate) struct Kept<'a> {
    /// `(place in order, element JSON)`, sorted by place (stable: source order within one).
    items: Vec<(usize, &'a Value)>,
    next: usize,
    order: &'static [&'static str],
}

impl<'a> Kept<'a> {
    pub fn new(kept: Option<&'a Value>, order: &'static [&'static str]) -> Self {
        let rank = |name: Option<&str>| {
            name.and_then(|n| order.iter().position(|o| *o == n))
                .unwrap_or(order.len())
        };
        let mut items: Vec<(usize, &Value)> = kept
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|v| (rank(v.get("element").and_then(Value::as_str)), v))
            .collect();
        items.sort_by_key(|(r, _)| *r);
        Kept {
            items,
            next: 0,
            order,
        }
    }

    /// Writes the kept elements that come before `name` in the DTD's order.
    pub fn before(&mut self, x: &mut Xml, name: &str) {
        let limit = self
            .order
            .iter()
            .position(|o| *o == name)
            .unwrap_or(self.order.len());
        while let Some((rank, v)) = self.items.get(self.next)
            && *rank < limit
        {
            element_from_json(x, v, 0);
            self.next += 1;
        }
    }

    /// Writes the kept elements not yet written.
    pub fn rest(&mut self, x: &mut Xml) {
        for (_, v) in self.items.get(self.next..).unwrap_or_default() {
            element_from_json(x, v, 0);
        }
        self.next = self.items.len();
    }
}

/// What the reader kept of the party in a canonical field beyond the model
/// (`decode::common::PartiesKept`: `address_extrinsic`, `country_name`, `phone_country`, each
/// `.<field>`); [`PartyKept::default`] for a party with no field (kept in `parties.<role>`).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PartyKept<'a> {
    /// The `PostalAddress` Extrinsics, name → text.
    pub address_extrinsic: Option<&'a Map<String, Value>>,
    country_name: Option<&'a Value>,
    phone_country: Option<&'a Value>,
}

impl<'a> PartyKept<'a> {
    /// What was kept in `e` (the document's or a line's extensions) for the party in `field`
    /// (`ship_to`, `bill_to`, `supplier`, ...).
    pub fn of(e: &'a Extensions, field: &str) -> Self {
        let Some(c) = cxml_ext(e) else {
            return PartyKept::default();
        };
        let get = |key: &str| c.get(key).and_then(|m| m.get(field));
        PartyKept {
            address_extrinsic: get("address_extrinsic").and_then(Value::as_object),
            country_name: get("country_name"),
            phone_country: get("phone_country"),
        }
    }

    /// The kept `Country` text, while the party's country is still `code`, the one it was
    /// kept with.
    pub fn country_name(&self, code: &str) -> Option<&'a str> {
        kept_for(self.country_name, "code", code, "name")
    }

    /// The kept `CountryCode@isoCountryCode` of the phone, while its dial code is still
    /// `dial`, the one it was kept with.
    pub fn phone_country(&self, dial: &str) -> Option<&'a str> {
        kept_for(self.phone_country, "dial", dial, "code")
    }
}

/// `kept[value_key]` when `kept[guard_key]` is `guard`: a kept value that holds only while
/// what the model says is what it was kept beside.
fn kept_for<'a>(
    kept: Option<&'a Value>,
    guard_key: &str,
    guard: &str,
    value_key: &str,
) -> Option<&'a str> {
    let k = kept?;
    (k.get(guard_key)?.as_str()? == guard)
        .then(|| k.get(value_key)?.as_str())
        .flatten()
}

/// `Comments` with `text` and the elements kept in `comments_elements` (`Attachment`s);
/// nothing when there is neither.
pub(crate) fn comments(x: &mut Xml, text: Option<&str>, e: &Extensions) {
    let kept = cxml_ext(e).and_then(|c| c.get("comments_elements"));
    let lang = [("xml:lang", Some("en"))];
    match (text, kept) {
        (None, None) => {}
        (Some(t), None) => x.leaf("Comments", &lang, t),
        (text, Some(kept)) => {
            x.open("Comments", &lang);
            elements(x, Some(kept));
            x.text(text.unwrap_or(""));
            x.close("Comments");
        }
    }
}

/// A line's `Description`s: the model's description with the `ShortName` kept in
/// `short_name`, then the further ones kept in `other_descriptions`. The first is written
/// when there is a description or a short name, or `always` (where the DTD requires one).
pub(crate) fn line_descriptions(x: &mut Xml, text: Option<&str>, e: &Extensions, always: bool) {
    match ext_str(e, "short_name") {
        Some(short) => {
            x.open("Description", &[("xml:lang", Some("en"))]);
            x.leaf("ShortName", &[], short);
            x.text(text.unwrap_or(""));
            x.close("Description");
        }
        None if text.is_some() || always => description(x, text),
        None => {}
    }
    elements(x, cxml_ext(e).and_then(|c| c.get("other_descriptions")));
}

/// The `Contact` role of the party goods are shipped from.
pub(crate) const SHIP_FROM: &str = "shipFrom";

/// The parties of roles the model has no field for, by role: those cXML kept
/// (`extensions.cxml.parties`), and X12's ship-from (`extensions.x12.ship_from`, the heading
/// `N1*SF` loop of an 810 or an 850) as `shipFrom` when cXML kept none, so an X12 document's
/// ship-from reaches cXML (an invoice's `InvoiceDetailShipping` or `InvoicePartner`, an
/// order's header `Contact`, both `role="shipFrom"`) and reads back as cXML's own. An X12
/// ship-from that is no party is refused with its path, not dropped.
pub(crate) fn kept_parties(e: &Extensions) -> Result<Vec<(String, Party)>, EncodeError> {
    let mut extra = ext_parties(e);
    if extra.iter().any(|(role, _)| role == SHIP_FROM) {
        return Ok(extra);
    }
    let Some(v) = e
        .get("x12")
        .and_then(|x| x.get(LINE_SHIP_FROM))
        .filter(|v| !v.is_null())
    else {
        return Ok(extra);
    };
    let party = serde_json::from_value::<Party>(v.clone()).map_err(|err| EncodeError::Invalid {
        path: format!("$.extensions.x12.{LINE_SHIP_FROM}"),
        message: format!("the ship-from is a party (name, ids, address): {err}"),
    })?;
    extra.push((SHIP_FROM.to_string(), party));
    Ok(extra)
}

/// Parties kept in `extensions.cxml.parties.<role>`.
pub(crate) fn ext_parties(e: &Extensions) -> Vec<(String, Party)> {
    cxml_ext(e)
        .and_then(|c| c.get("parties"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(role, v)| {
                    serde_json::from_value::<Party>(v.clone())
                        .ok()
                        .map(|p| (role.clone(), p))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::{DateTime, FixedOffset};

    use super::*;

    /// A bare date (a need-by date from Coupa, an invoice date from X12) is read as that date by
    /// a supplier converting the timestamp to its own zone, from UTC−12 to UTC+11: midnight UTC
    /// was the day before everywhere west of Greenwich.
    #[test]
    fn a_bare_date_is_the_same_date_in_every_zone_from_utc_minus_12_to_plus_11() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
        let written = DateTime::parse_from_rfc3339(&date_time(day)).unwrap();
        for hours in -12..=11 {
            let zone = FixedOffset::east_opt(hours * 3600).unwrap();
            assert_eq!(
                written.with_timezone(&zone).date_naive(),
                day,
                "UTC{hours:+}"
            );
        }
    }
}
