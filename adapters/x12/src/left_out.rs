//! What writing a document as an X12 810 or 850 leaves out because the transaction set has no
//! place for it, named so that a conversion says so instead of losing it without a word
//! ([`left_out()`]; the writer itself writes what has a place and refuses what is malformed).
//!
//! - An invoice line's comments (`lines[].extensions.cxml.comments`, a cXML line's
//!   `Comments`): the 810's IT1 loop has no segment for free-form text (X12 004010 and
//!   005010: no NTE, MSG or N9 loop there; the heading NTE is the invoice's, and PID is the
//!   item's description), so they are not written. An order line's go in its PO1 loop's
//!   `MSG` segments ([`crate::line_loop`]).
//! - What a payment term cXML kept holds beyond an ITD's elements (see [`crate::tiers`]).
//! - A tax's description (`taxes[].description`, `lines[].taxes[].description`, cXML
//!   `TaxDetail/Description`): TXI has no free-text element; its category is TXI01.
//! - A tax category X12 004010 has no code for (`hst`, `usage`; `schemas/x12/tax-types.csv`):
//!   written as TXI01 `ZZ`, mutually defined, which reads back as `ZZ`. The tax's amount and
//!   rate travel; the category word does not. (Orders' taxes too.)
//! - cXML Extrinsics of the invoice and its lines (`extensions.cxml.extrinsic`: `CostCenter`,
//!   `CustomerReference`, `CustomFields`): the 810 has no segment for named free-form values.
//! - Whether a line is a service line (`lines[].extensions.cxml.service`,
//!   `InvoiceDetailServiceItem`): IT1 has no such flag.
//! - The invoice date's time of day and offset (`extensions.cxml.invoice_date`): BIG01 is a
//!   date. So the ship date's (`extensions.cxml.shipping_date`, cXML's
//!   `InvoiceDetailShipping@shippingDate`): `DTM*011` is written with its date; one whose text
//!   is no date is not written.
//! - An invoice's chart of accounts (the Coupa CSV's `Chart of Accounts`, Coupa's
//!   `account-type`; [`gateway_core::chart_of_accounts`]): an 810 has no element for it.
//! - A party cXML kept by a role the model has no field for (`extensions.cxml.parties`), but
//!   the ship-from, which is written as `N1*SF` (see [`crate::map810`]); an order's alike
//!   (an 850 has no N1 entity code for them either, [`crate::map850`]).

use gateway_model::Document;

/// One part of a document an X12 810/850 leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The canonical path of what is left out (`$.lines[2].extensions.cxml.comments`).
    pub path: String,
    /// Why, in words.
    pub reason: String,
}

impl std::fmt::Display for LeftOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// Why an invoice line's comments are not written.
const NO_LINE_TEXT_IN_810: &str = "an 810's IT1 loop has no segment for free-form text (X12 004010 and 005010: no NTE or MSG there), so the line's comments are not written";

/// Why a tax's description is not written.
const NO_TAX_TEXT: &str = "X12 TXI has no element for a tax's description (TXI01 carries its category), so it is not written";

/// Why a tax category is written as ZZ.
const NO_TAX_CODE: &str = "X12 004010 has no tax type code (TXI01) for this category, so the tax is written as ZZ (mutually defined) and reads back with category ZZ; its amount and rate are written";

/// Why cXML Extrinsics are not written.
const NO_EXTRINSIC: &str =
    "an 810 has no segment for cXML Extrinsics (named free-form values), so they are not written";

/// Why a line's service flag is not written.
const NO_SERVICE: &str = "an 810's IT1 has no element saying a line is a service (cXML InvoiceDetailServiceItem), so it is written as an item line";

/// Why the invoice date's time is not written.
const NO_TIME: &str = "BIG01 is a date: the invoice date's time of day and offset are not written";

/// Why the ship date's time is not written.
const NO_SHIP_TIME: &str =
    "DTM*011 is written with the ship date's date: its time of day and offset are not written";

/// Why a ship date that is no date is not written.
const NO_SHIP_DATE: &str =
    "the ship date does not begin with a date (YYYY-MM-DD), so no DTM*011 is written for it";

/// Why a kept cXML party is not written, by an 810 or an 850 (`set`).
fn no_role(set: &str) -> String {
    format!(
        "an {set} maps no N1 entity code to this cXML Contact role, so the party is not written"
    )
}

/// The cXML extension `key` of `e`, when there is one.
fn cxml<'e>(e: &'e gateway_model::Extensions, key: &str) -> Option<&'e serde_json::Value> {
    e.get("cxml")?.get(key)
}

/// Names each tax of `taxes` (at `path`) with a description, and each whose category is
/// written as `ZZ` ([`zz_categories`]).
fn tax_texts(path: &str, taxes: &[gateway_model::Tax], out: &mut Vec<LeftOut>) {
    for (k, tax) in taxes.iter().enumerate() {
        if tax.description.is_some() {
            out.push(LeftOut {
                path: format!("{path}[{k}].description"),
                reason: NO_TAX_TEXT.into(),
            });
        }
    }
    zz_categories(path, taxes, out);
}

/// Names each tax of `taxes` (at `path`) whose category TXI01 writes as `ZZ` although it is
/// no `ZZ` itself (`hst`, `usage`): the category does not come back.
fn zz_categories(path: &str, taxes: &[gateway_model::Tax], out: &mut Vec<LeftOut>) {
    for (k, tax) in taxes.iter().enumerate() {
        let Some(c) = tax.category.as_deref() else {
            continue;
        };
        if crate::common::tax_type_code(Some(c)) == "ZZ" && !c.eq_ignore_ascii_case("ZZ") {
            out.push(LeftOut {
                path: format!("{path}[{k}].category"),
                reason: NO_TAX_CODE.into(),
            });
        }
    }
}

/// Names what of cXML's ship date (`extensions.cxml.shipping_date`) `DTM*011` does not hold,
/// when the X12 writer writes it (X12's own ship date, when there is one, is written instead).
fn ship_date(e: &gateway_model::Extensions, out: &mut Vec<LeftOut>) {
    let own = crate::common::x12_ext(e)
        .and_then(|x| x.get(crate::common::SHIP_DATE_FIELD))
        .is_some_and(|v| !v.is_null());
    let Some(text) = cxml(e, "shipping_date").and_then(serde_json::Value::as_str) else {
        return;
    };
    if own {
        return;
    }
    let reason = match crate::map810::cxml_ship_date(e) {
        None => NO_SHIP_DATE,
        Some(_) if text.trim().len() > "YYYY-MM-DD".len() => NO_SHIP_TIME,
        Some(_) => return,
    };
    out.push(LeftOut {
        path: crate::map810::CXML_SHIP_DATE.into(),
        reason: reason.into(),
    });
}

/// Names each party cXML kept by a role the model has no field for
/// (`extensions.cxml.parties`, `e` being the document's extensions) that `set` (`810`, `850`)
/// has no N1 entity code for: all but a ship-from, which both write as `N1*SF`
/// ([`crate::common::write_ship_from`]).
fn kept_parties(e: &gateway_model::Extensions, set: &str, out: &mut Vec<LeftOut>) {
    let Some(parties) = cxml(e, "parties").and_then(serde_json::Value::as_object) else {
        return;
    };
    let ship_from = crate::common::kept_ship_from(e).is_some();
    for role in parties.keys() {
        if role == "shipFrom" && ship_from {
            continue;
        }
        out.push(LeftOut {
            path: format!("$.extensions.cxml.parties.{role}"),
            reason: no_role(set),
        });
    }
}

/// What writing `doc` as X12 leaves out, in document order; empty when X12 carries all of it
/// that the writer knows of.
pub fn left_out(doc: &Document) -> Vec<LeftOut> {
    let mut out = Vec::new();
    match doc {
        Document::Invoice(inv) => {
            crate::tiers::left_out(&inv.extensions, &mut out);
            let e = &inv.extensions;
            if gateway_core::chart_of_accounts::chart_of_accounts(e).is_some() {
                out.push(LeftOut {
                    path: gateway_core::chart_of_accounts::PATH.into(),
                    reason: gateway_core::chart_of_accounts::LEFT_OUT.into(),
                });
            }
            if cxml(e, "invoice_date").is_some() {
                out.push(LeftOut {
                    path: "$.extensions.cxml.invoice_date".into(),
                    reason: NO_TIME.into(),
                });
            }
            ship_date(e, &mut out);
            kept_parties(e, "810", &mut out);
            if cxml(e, "extrinsic").is_some() {
                out.push(LeftOut {
                    path: "$.extensions.cxml.extrinsic".into(),
                    reason: NO_EXTRINSIC.into(),
                });
            }
            tax_texts("$.taxes", &inv.taxes, &mut out);
            for (n, line) in inv.lines.iter().enumerate() {
                if cxml(&line.extensions, "service").is_some_and(|s| s.as_bool() == Some(true)) {
                    out.push(LeftOut {
                        path: format!("$.lines[{n}].extensions.cxml.service"),
                        reason: NO_SERVICE.into(),
                    });
                }
                if cxml(&line.extensions, "extrinsic").is_some() {
                    out.push(LeftOut {
                        path: format!("$.lines[{n}].extensions.cxml.extrinsic"),
                        reason: NO_EXTRINSIC.into(),
                    });
                }
                tax_texts(&format!("$.lines[{n}].taxes"), &line.taxes, &mut out);
                if let Some((format, _)) =
                    crate::line_loop::line_field(&line.extensions, "comments")
                {
                    out.push(LeftOut {
                        path: format!("$.lines[{n}].extensions.{format}.comments"),
                        reason: NO_LINE_TEXT_IN_810.into(),
                    });
                }
            }
        }
        Document::PurchaseOrder(po) => {
            crate::tiers::left_out(&po.extensions, &mut out);
            kept_parties(&po.extensions, "850", &mut out);
            zz_categories("$.taxes", &po.taxes, &mut out);
            for (n, line) in po.lines.iter().enumerate() {
                zz_categories(&format!("$.lines[{n}].taxes"), &line.taxes, &mut out);
            }
        }
    }
    out
}
