//! Canonical documents to Coupa's layouts: invoices to the invoice import file, purchase
//! orders to the PO export file.
//!
//! Money is never dropped: a tax or charge the layout cannot carry is refused with its path.
//! Descriptive data the layouts have no column for is left out: party contact/e-mail/phone
//! (but a PO ship-to's contact, in `ship-to-attention`) and ids in domains other than
//! `coupa`/`coupa-number`, payment-term days and discounts, tax
//! descriptions, PO buyer/bill-to/comments, PO purpose `new`/`update` (the export's
//! `status` says `issued` of both; `version` tells them apart), and the derived invoice subtotal and tax total. A tax total is
//! derived only when the taxes add up to it: given without any tax amount, it is written as
//! the invoice's `Tax Amount` (read back as its tax); not the sum of the taxes, it is refused
//! ([`tax_from_total`]).
//!
//! Each cell says where its value is in the document and whether it is descriptive text
//! ([`Source`]), so a value with a line break is written as it is where the reader takes it
//! so, on one line where it is descriptive text, and otherwise refused at its path
//! (`$.lines[0].uom`): see [`crate::table`].

use gateway_core::EncodeError;
use gateway_model::{ChargeKind, Invoice, InvoicePurpose, OrderLine, OrderPurpose, PurchaseOrder};
use rust_decimal::Decimal;

use crate::coupa::{OTHER_ALLOCATION, OTHER_RECORDS, OTHER_TAG};
use crate::coupa_invoice::EXT;
use crate::parties::PartyNames;
use crate::table::{Place, Record, Source};
use crate::value::ValueFormat;

fn invalid(path: impl Into<String>, message: impl Into<String>) -> EncodeError {
    EncodeError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

/// Decimals and dates as the partner writes them (the profile's separator and date format;
/// `.` and ISO by default).
fn dec(fmt: &ValueFormat, d: Option<Decimal>) -> Option<String> {
    d.map(|d| fmt.write_decimal(d))
}

fn date(fmt: &ValueFormat, d: Option<chrono::NaiveDate>) -> Option<String> {
    d.map(|d| fmt.write_date(d))
}

const SUPPLIER: PartyNames = PartyNames {
    root: "$.supplier",
    name: "Supplier Name",
    number: Some("Supplier Number"),
    id: Some("Supplier ID"),
    street: [
        "Supplier Street 1",
        "Supplier Street 2",
        "Supplier Street 3",
    ],
    city: "Supplier City",
    region: "Supplier State",
    postal_code: "Supplier Postal Code",
    country: "Supplier Country",
};

const BUYER: PartyNames = PartyNames {
    root: "$.buyer",
    name: "Buyer Name",
    number: Some("Buyer Number"),
    id: Some("Buyer ID"),
    street: ["Buyer Street 1", "Buyer Street 2", "Buyer Street 3"],
    city: "Buyer City",
    region: "Buyer State",
    postal_code: "Buyer Postal Code",
    country: "Buyer Country",
};

/// An address party's columns: `<prefix> Name`, `Number` and `ID` (what the reader takes as its
/// Coupa number and id), the street lines, city, state, postal code and country.
const fn address(
    root: &'static str,
    [name, number, id]: [&'static str; 3],
    street: [&'static str; 3],
    city: &'static str,
    region: &'static str,
    postal_code: &'static str,
    country: &'static str,
) -> PartyNames {
    PartyNames {
        root,
        name,
        number: Some(number),
        id: Some(id),
        street,
        city,
        region,
        postal_code,
        country,
    }
}

const SHIP_TO: PartyNames = address(
    "$.ship_to",
    [
        "Ship To Address Name",
        "Ship To Address Number",
        "Ship To Address ID",
    ],
    [
        "Ship To Address Street 1",
        "Ship To Address Street 2",
        "Ship To Address Street 3",
    ],
    "Ship To Address City",
    "Ship To Address State",
    "Ship To Address Postal Code",
    "Ship To Address Country",
);
const BILL_TO: PartyNames = address(
    "$.bill_to",
    [
        "Bill To Address Name",
        "Bill To Address Number",
        "Bill To Address ID",
    ],
    [
        "Bill To Address Street 1",
        "Bill To Address Street 2",
        "Bill To Address Street 3",
    ],
    "Bill To Address City",
    "Bill To Address State",
    "Bill To Address Postal Code",
    "Bill To Address Country",
);
const REMIT_TO: PartyNames = address(
    "$.remit_to",
    [
        "Remit To Address Name",
        "Remit To Address Number",
        "Remit To Address ID",
    ],
    [
        "Remit To Address Street 1",
        "Remit To Address Street 2",
        "Remit To Address Street 3",
    ],
    "Remit To Address City",
    "Remit To Address State",
    "Remit To Address Postal Code",
    "Remit To Address Country",
);

/// Where the values of the columns written from a document's or line's fields are (see
/// [`Source`]; a party's, in [`PartyNames`]).
const INVOICE_NUMBER: Source = Source::value("invoice_number");
const PO_NUMBER: Source = Source::value("po_number");
const CURRENCY: Source = Source::value("currency");
const TOTAL: Source = Source::value("total");
const PURPOSE: Source = Source::value("purpose");
const TERMS: Source = Source::text("payment_terms.description");
const SUPPLIER_NAME: Source = Source::text("name").under("$.supplier");
const LINE_NUMBER: Source = Source::value("line_number");
const DESCRIPTION: Source = Source::text("description");
const SUPPLIER_PART: Source = Source::value("supplier_part_id");
const BUYER_PART: Source = Source::value("buyer_part_id");
const PRICE: Source = Source::value("unit_price");
const QUANTITY: Source = Source::value("quantity");
const UOM: Source = Source::value("uom");
const AMOUNT: Source = Source::value("amount");
/// The layouts carry one tax per invoice and per line, its first.
const TAX_AMOUNT: Source = Source::value("taxes[0].amount");
const TAX_RATE: Source = Source::value("taxes[0].rate");
const TAX_CATEGORY: Source = Source::value("taxes[0].category");
/// Where a record's kept columns are: `extensions.csv` of its document or line.
const KEPT: &str = "extensions.csv";

fn party_cells<'a>(
    names: &PartyNames,
    party: Option<&'a gateway_model::Party>,
    r: &mut Record<'a>,
) {
    names.write(party, |k, source, v| r.set(k, source, v));
}

fn check_party(path: &str, party: Option<&gateway_model::Party>) -> Result<(), EncodeError> {
    if party
        .and_then(|p| p.address.as_ref())
        .is_some_and(|a| a.lines.len() > 3)
    {
        return Err(invalid(
            format!("{path}.address.lines"),
            "at most 3 street lines fit",
        ));
    }
    Ok(())
}

/// `Original Invoice Number` and `Original Invoice Date`: the invoice a memo corrects, as
/// another format's reader kept it ([`gateway_core::original_invoice`]: cXML `InvoiceIDInfo`,
/// X12 `REF*OI`). The reader keeps both columns in `extensions.csv`, where
/// `original_invoice` finds them again; a column kept from a CSV source (in any spelling) is
/// written from there as it came, and not a second time here. Written whatever the purpose,
/// as the readers of every format take it whatever the purpose.
fn original_invoice_cells<'a>(inv: &'a Invoice, fmt: &ValueFormat, h: &mut Record<'a>) {
    use gateway_core::original_invoice::{CSV_DATE_COLUMN, CSV_NUMBER_COLUMN, csv_has_column};
    let original = gateway_core::original_invoice(inv);
    // Read from cXML's `original_invoice_id`, else X12's `REF*OI`, both kept in extensions.
    let kept = match inv
        .extensions
        .get("cxml")
        .and_then(|c| c.get("original_invoice_id"))
    {
        Some(_) => Source::value("extensions.cxml.original_invoice_id"),
        None => Source::value("extensions.x12"),
    };
    if !csv_has_column(inv, false) && original.number.is_some() {
        h.set(CSV_NUMBER_COLUMN, kept, original.number);
    }
    if let (Some(_), Some(d), false) = (original.number, original.date, csv_has_column(inv, true)) {
        h.set(CSV_DATE_COLUMN, kept, Some(fmt.write_date(d)));
    }
}

/// The records of one invoice: `Invoice`, then its `Invoice Line`s, then `Invoice Charge`s.
pub fn invoice_records<'a>(
    inv: &'a Invoice,
    fmt: &ValueFormat,
    out: &mut Vec<Record<'a>>,
) -> Result<(), EncodeError> {
    let number = inv
        .invoice_number
        .as_deref()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid("$.invoice_number", "the Coupa invoice import needs one"))?;
    for (path, p) in [
        ("$.supplier", inv.supplier.as_ref()),
        ("$.buyer", inv.buyer.as_ref()),
        ("$.bill_to", inv.bill_to.as_ref()),
        ("$.remit_to", inv.remit_to.as_ref()),
        ("$.ship_to", inv.ship_to.as_ref()),
    ] {
        check_party(path, p)?;
    }
    if inv.taxes.len() > 1 {
        return Err(invalid(
            "$.taxes",
            "the invoice import carries one header tax",
        ));
    }
    let supplier_name = inv.supplier.as_ref().and_then(|s| s.name.as_deref());
    let supplier_number = inv
        .supplier
        .as_ref()
        .and_then(|s| s.id_in(crate::parties::COUPA_NUMBER));
    let supplier_number_at =
        Source::value("ids")
            .under("$.supplier")
            .nth(inv.supplier.as_ref().and_then(|s| {
                s.ids
                    .iter()
                    .position(|id| id.domain.eq_ignore_ascii_case(crate::parties::COUPA_NUMBER))
            }));

    let mut h = Record::new("Invoice");
    h.always("Invoice Number", INVOICE_NUMBER, Some(number));
    party_cells(&SUPPLIER, inv.supplier.as_ref(), &mut h);
    h.set(
        "Invoice Date",
        Source::value("invoice_date"),
        date(fmt, inv.invoice_date),
    );
    h.set("Currency", CURRENCY, inv.currency.as_deref());
    h.set(
        "Payment Terms",
        TERMS,
        inv.payment_terms
            .as_ref()
            .and_then(|t| t.description.as_deref()),
    );
    match inv.purpose {
        Some(InvoicePurpose::CreditMemo) => h.set("Is Credit Note", PURPOSE, Some("true")),
        Some(InvoicePurpose::Standard) => h.set("Is Credit Note", PURPOSE, Some("false")),
        Some(InvoicePurpose::DebitMemo) => {
            return Err(invalid("$.purpose", "the invoice import has no debit memo"));
        }
        None => {}
    }
    h.set(
        "Supplier Note",
        Source::text("comments"),
        inv.comments.as_deref(),
    );
    // The PO number goes on each line (the import's place for it: the line's own, else the
    // invoice's, or blank as a source had it, see `line_po`); when the first line naming a PO
    // would not give the invoice's back (no lines, or the first names another), the invoice
    // carries it on its own record, where the reader takes it from first.
    if crate::line_po::first_named_differs(inv) {
        h.set("PO Number", PO_NUMBER, inv.po_number.as_deref());
    }
    h.set("Invoice Control Total", TOTAL, dec(fmt, inv.total));
    let from_total = tax_from_total(inv)?;
    if let Some(t) = inv.taxes.first() {
        h.set("Tax Amount", TAX_AMOUNT, dec(fmt, t.amount.or(from_total)));
        h.set("Tax Rate", TAX_RATE, dec(fmt, t.rate));
        h.set("Tax Code", TAX_CATEGORY, t.category.as_deref());
    } else {
        h.set(
            "Tax Amount",
            Source::value("tax_total"),
            dec(fmt, from_total),
        );
    }
    party_cells(&BUYER, inv.buyer.as_ref(), &mut h);
    party_cells(&SHIP_TO, inv.ship_to.as_ref(), &mut h);
    party_cells(&BILL_TO, inv.bill_to.as_ref(), &mut h);
    party_cells(&REMIT_TO, inv.remit_to.as_ref(), &mut h);
    original_invoice_cells(inv, fmt, &mut h);
    h.set_extensions(inv.extensions.get(EXT), KEPT)?;
    out.push(h);

    for (i, l) in inv.lines.iter().enumerate() {
        if !l.charges.is_empty() {
            return Err(invalid(
                format!("$.lines[{i}].charges"),
                "the invoice import has no line charges",
            ));
        }
        if l.taxes.len() > 1 {
            return Err(invalid(
                format!("$.lines[{i}].taxes"),
                "the invoice import carries one tax per line",
            ));
        }
        let mut r = Record::new("Invoice Line").at(Place::Line(i));
        r.always("Invoice Number", INVOICE_NUMBER.under("$"), Some(number));
        r.set("Supplier Name", SUPPLIER_NAME, supplier_name);
        r.set("Supplier Number", supplier_number_at, supplier_number);
        r.set("Line Number", LINE_NUMBER, Some(l.line_number.to_string()));
        r.set("Description", DESCRIPTION, l.description.as_deref());
        r.set(
            "Supplier Part Number",
            SUPPLIER_PART,
            l.supplier_part_id.as_deref(),
        );
        r.set("Buyer Part Number", BUYER_PART, l.buyer_part_id.as_deref());
        r.set("Price", PRICE, dec(fmt, l.unit_price));
        r.set("Quantity", QUANTITY, dec(fmt, l.quantity));
        r.set("Unit of Measure", UOM, l.uom.as_deref());
        r.set("Total", AMOUNT, dec(fmt, l.amount));
        // The line's own PO, else the invoice's.
        let po = match l.po_number {
            Some(_) => PO_NUMBER,
            None => PO_NUMBER.under("$"),
        };
        r.set("PO Number", po, crate::line_po::cell(inv, l));
        r.set(
            "PO Line Number",
            Source::value("po_line_number"),
            l.po_line_number.as_deref(),
        );
        if let Some(t) = l.taxes.first() {
            r.set("Line Tax Amount", TAX_AMOUNT, dec(fmt, t.amount));
            r.set("Line Tax Rate", TAX_RATE, dec(fmt, t.rate));
            r.set("Line Tax Code", TAX_CATEGORY, t.category.as_deref());
        }
        r.set_extensions(l.extensions.get(EXT), KEPT)?;
        out.push(r);
    }

    if let Some(serde_json::Value::Array(records)) = inv.extensions.get(OTHER_RECORDS) {
        for (i, rec) in records.iter().enumerate() {
            let serde_json::Value::Object(cells) = rec else {
                continue;
            };
            let kind = match cells.get("type").and_then(serde_json::Value::as_str) {
                Some(t) if t == OTHER_TAG => OTHER_TAG,
                Some(t) if t == OTHER_ALLOCATION => OTHER_ALLOCATION,
                _ => {
                    return Err(invalid(
                        format!("$.extensions.{OTHER_RECORDS}[{i}].type"),
                        format!("expected {OTHER_ALLOCATION:?} or {OTHER_TAG:?}"),
                    ));
                }
            };
            let mut r = Record::new(kind).at(Place::Kept(i));
            r.always("Invoice Number", INVOICE_NUMBER.under("$"), Some(number));
            let rest: serde_json::Map<String, serde_json::Value> = cells
                .iter()
                .filter(|(k, _)| k.as_str() != "type")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            r.set_extensions(Some(&serde_json::Value::Object(rest)), "")?;
            out.push(r);
        }
    }

    for (i, c) in inv.charges.iter().enumerate() {
        let amount = c.amount.ok_or_else(|| {
            invalid(
                format!("$.charges[{i}].amount"),
                "the invoice import needs a charge amount",
            )
        })?;
        let (kind, total) = match c.kind {
            ChargeKind::Shipping => ("InvoiceShippingCharge", amount),
            ChargeKind::Handling => ("InvoiceHandlingCharge", amount),
            ChargeKind::Other => ("InvoiceMiscCharge", amount),
            // The import has no discount type: a negative misc charge, read back as a discount.
            ChargeKind::Discount => ("InvoiceMiscCharge", -amount.abs()),
        };
        if c.kind == ChargeKind::Other && amount.is_sign_negative() {
            return Err(invalid(
                format!("$.charges[{i}]"),
                "a negative misc charge reads back as a discount; write it as kind \"discount\"",
            ));
        }
        let mut r = Record::new("Invoice Charge").at(Place::Charge(i));
        r.always("Invoice Number", INVOICE_NUMBER.under("$"), Some(number));
        r.set("Supplier Name", SUPPLIER_NAME, supplier_name);
        r.set("Supplier Number", supplier_number_at, supplier_number);
        r.set("Type", Source::value("kind"), Some(kind));
        r.always("Total", AMOUNT, Some(fmt.write_decimal(total)));
        r.set("Description", DESCRIPTION, c.description.as_deref());
        out.push(r);
    }
    Ok(())
}

/// The invoice's tax total where no tax carries it: the import has no tax total column (Coupa
/// adds up the taxes), so a total given without any tax amount goes in the invoice's
/// `Tax Amount`, and one the taxes do not add up to is refused rather than lost.
fn tax_from_total(inv: &Invoice) -> Result<Option<Decimal>, EncodeError> {
    let Some(tt) = inv.tax_total else {
        return Ok(None);
    };
    let header: Vec<Decimal> = inv.taxes.iter().filter_map(|t| t.amount).collect();
    let lines: Vec<Decimal> = inv
        .lines
        .iter()
        .flat_map(|l| l.taxes.iter())
        .filter_map(|t| t.amount)
        .collect();
    // `None` past what a decimal holds: no tax total is then derivable.
    let (header_sum, line_sum) = (
        gateway_model::checked_sum(header.iter().copied()),
        gateway_model::checked_sum(lines.iter().copied()),
    );
    let all = header_sum.zip(line_sum).and_then(|(h, l)| h.checked_add(l));
    if header.is_empty() && lines.is_empty() {
        if tt.is_zero() {
            return Ok(None);
        }
        if let Some(i) = inv.lines.iter().position(|l| !l.taxes.is_empty()) {
            return Err(invalid(
                "$.tax_total",
                format!(
                    "the tax total {tt} has no tax amount to carry it, and $.lines[{i}] has a \
                     tax of its own; Coupa takes taxes on the lines or on the invoice, not both, \
                     and the invoice import has no tax total column: give the lines' tax \
                     amounts"
                ),
            ));
        }
        return Ok(Some(tt));
    }
    // Header taxes may restate the lines' (an X12 summary TXI).
    let derivable = all == Some(tt)
        || (!header.is_empty() && header_sum == Some(tt))
        || (!lines.is_empty() && line_sum == Some(tt));
    if derivable {
        return Ok(None);
    }
    Err(invalid(
        "$.tax_total",
        format!(
            "the tax total {tt} is not the sum of the taxes ({}), and the invoice import has no \
             tax total column (Coupa adds up the taxes): give the taxes that make it up",
            all.map_or_else(|| "too large to add".to_string(), |s| s.to_string())
        ),
    ))
}

const PO_SUPPLIER: PartyNames = PartyNames {
    root: "$.supplier",
    name: "supplier-name",
    number: Some("supplier-number"),
    id: Some("supplier-id"),
    street: ["supplier-street1", "supplier-street2", "supplier-street3"],
    city: "supplier-city",
    region: "supplier-state",
    postal_code: "supplier-postal-code",
    country: "supplier-country",
};

const PO_SHIP_TO: PartyNames = address(
    "$.ship_to",
    [
        "ship-to-address-name",
        "ship-to-address-number",
        "ship-to-address-id",
    ],
    [
        "ship-to-address-street1",
        "ship-to-address-street2",
        "ship-to-address-street3",
    ],
    "ship-to-address-city",
    "ship-to-address-state",
    "ship-to-address-postal-code",
    "ship-to-address-country",
);

/// The PO header column of the ship-to's contact, as Coupa's PO API names it.
const PO_SHIP_TO_ATTENTION: &str = "ship-to-attention";
/// The PO header column of the shipping terms' code (Coupa's export: `Shipping-terms-code`).
const PO_SHIPPING_TERMS: &str = "shipping-terms-code";

/// Every column of a PO header record, in the order written, whatever the order holds: a
/// supplier reading the file by position (not by the header row) found the columns moving
/// with each order's contents (`ship-to-address-street2` written only for a second street
/// line put "Dock 4" where the city had been). The order is the one the writer used before,
/// so the columns keep their places as far as they can; the newest (`ship-to-attention`,
/// `shipping-terms-code`) are last. After these come `po-number` (only when a source's `id`,
/// kept in extensions, holds `id`'s place) and the columns kept from a source file.
pub const PO_HEADER_COLUMNS: &[&str] = &[
    "id",
    "created-at",
    "status",
    "version",
    "supplier-name",
    "supplier-number",
    "supplier-id",
    "supplier-street1",
    "supplier-street2",
    "supplier-street3",
    "supplier-city",
    "supplier-state",
    "supplier-postal-code",
    "supplier-country",
    "ship-to-address-name",
    "ship-to-address-number",
    "ship-to-address-id",
    "ship-to-address-street1",
    "ship-to-address-street2",
    "ship-to-address-street3",
    "ship-to-address-city",
    "ship-to-address-state",
    "ship-to-address-postal-code",
    "ship-to-address-country",
    "payment-terms-code",
    "total",
    "currency",
    PO_SHIP_TO_ATTENTION,
    PO_SHIPPING_TERMS,
];

/// Every column of a PO `Line` record, in the order written, whatever the line holds (see
/// [`PO_HEADER_COLUMNS`]); columns kept from a source file follow. The newest,
/// `supp-aux-part-num` ([`PO_AUXILIARY_PART`]), is last, so no column a supplier reads by
/// position moved.
pub const PO_LINE_COLUMNS: &[&str] = &[
    "line-number",
    "description",
    "quantity",
    "price",
    "total",
    "uom",
    "need-by-date",
    "source-part-num",
    "item-number",
    "currency",
    PO_AUXILIARY_PART,
];

/// The PO line column of the supplier's auxiliary part id (a punch-out item's key), under
/// Coupa's own name for it (`supp-aux-part-num`).
const PO_AUXILIARY_PART: &str = gateway_core::auxiliary_part_id::CSV_COLUMN;

/// The line's supplier auxiliary part id for [`PO_AUXILIARY_PART`], with where it is in the
/// line: another format's form ([`gateway_core::supplier_part_auxiliary_id`]). `None` when the
/// line has none, or keeps it as a CSV column of its own, which is written back from
/// `extensions.csv` as it came (over this column when it has this name), not a second time.
fn auxiliary_part(l: &OrderLine) -> Option<(Source, &str)> {
    let (from, id) = gateway_core::supplier_part_auxiliary_id(&l.extensions)?;
    let source = match from {
        "cxml" => Source::value("extensions.cxml.supplier_part_auxiliary_id"),
        "coupa" => Source::value("extensions.coupa.supp-aux-part-num"),
        "x12" => Source::value("extensions.x12.ids"),
        _ => return None,
    };
    Some((source, id))
}

/// The `status` of a PO header: `cancelled` for a cancellation, else `issued`, as Coupa's
/// export says of an order sent to its supplier (the file's POs are issued: new or changed).
/// A status kept from a source file (`draft`, `closed`, ...) stands, unless it says
/// `cancelled` of an order that is not a cancellation, or the order is a cancellation: the
/// cell never contradicts the order's purpose, which the reader takes from it.
fn po_status<'a>(po: &PurchaseOrder, kept: Option<&'a str>) -> &'a str {
    if po.purpose == Some(OrderPurpose::Cancel) {
        return "cancelled";
    }
    match kept {
        Some(s) if !s.is_empty() && !s.eq_ignore_ascii_case("cancelled") => s,
        _ => "issued",
    }
}

/// The records of one purchase order: its header record, then its `Line` records, each with
/// its layout's fixed columns ([`PO_HEADER_COLUMNS`], [`PO_LINE_COLUMNS`]), empty where the
/// order has no value.
pub fn order_records<'a>(
    po: &'a PurchaseOrder,
    fmt: &ValueFormat,
    out: &mut Vec<Record<'a>>,
) -> Result<(), EncodeError> {
    for (path, present) in [
        ("$.taxes", !po.taxes.is_empty()),
        ("$.charges", !po.charges.is_empty()),
    ] {
        if present {
            return Err(invalid(path, "the PO export layout has no column for it"));
        }
    }
    check_party("$.supplier", po.supplier.as_ref())?;
    check_party("$.ship_to", po.ship_to.as_ref())?;
    let ext = po.extensions.get(EXT);
    let ext_has_id = matches!(ext, Some(serde_json::Value::Object(m)) if m.contains_key("id"));
    let mut h = Record::with_columns("Header", PO_HEADER_COLUMNS);
    if ext_has_id {
        // `id` is the source's own (written from extensions below); the number goes after
        // the fixed columns, where only such orders have it.
        h.set("po-number", PO_NUMBER, po.po_number.as_deref());
    } else {
        h.fill("id", PO_NUMBER, po.po_number.as_deref());
    }
    h.fill(
        "created-at",
        Source::value("order_date"),
        date(fmt, po.order_date),
    );
    h.fill(
        "version",
        Source::value("version"),
        po.version.map(|v| v.to_string()),
    );
    PO_SUPPLIER.write(po.supplier.as_ref(), |k, source, v| h.fill(k, source, v));
    PO_SHIP_TO.write(po.ship_to.as_ref(), |k, source, v| h.fill(k, source, v));
    h.fill(
        "payment-terms-code",
        TERMS,
        po.payment_terms
            .as_ref()
            .and_then(|t| t.description.as_deref()),
    );
    h.fill("total", TOTAL, dec(fmt, po.total));
    // The reader takes the order's currency from its header record when there, else from the
    // first line: it goes on the header record when no line would give it back (no lines, or
    // the first line keeps a currency of its own).
    let first_line_own_currency = po.lines.first().is_some_and(|l| {
        l.extensions
            .get(EXT)
            .and_then(|x| x.get("currency"))
            .is_some()
    });
    if po.lines.is_empty() || first_line_own_currency {
        h.fill("currency", CURRENCY, po.currency.as_deref());
    }
    // The ship-to's attention line (Coupa's `ship-to-attention`, the person receiving the
    // goods) and the shipping terms (Coupa's `shipping-term` code); a column of the same name
    // kept from a source file replaces them below, as it came.
    h.fill(
        PO_SHIP_TO_ATTENTION,
        Source::text("contact").under("$.ship_to"),
        po.ship_to.as_ref().and_then(|p| p.contact.as_deref()),
    );
    h.fill(
        PO_SHIPPING_TERMS,
        Source::value("shipping_terms.code"),
        po.shipping_terms.as_ref().and_then(|t| t.code.as_deref()),
    );
    h.set_extensions(ext, KEPT)?;
    let status = po_status(po, h.value("status")).to_string();
    h.fill("status", PURPOSE, Some(status));
    out.push(h);
    for (i, l) in po.lines.iter().enumerate() {
        if !l.taxes.is_empty() || !l.charges.is_empty() {
            return Err(invalid(
                format!("$.lines[{i}]"),
                "the PO export has no line taxes or charges",
            ));
        }
        let mut r = Record::with_columns("Line", PO_LINE_COLUMNS).at(Place::Line(i));
        r.fill("line-number", LINE_NUMBER, Some(l.line_number.to_string()));
        r.fill("description", DESCRIPTION, l.description.as_deref());
        r.fill("quantity", QUANTITY, dec(fmt, l.quantity));
        r.fill("price", PRICE, dec(fmt, l.unit_price));
        r.fill("total", AMOUNT, dec(fmt, l.amount));
        r.fill("uom", UOM, l.uom.as_deref());
        r.fill(
            "need-by-date",
            Source::value("need_by"),
            date(fmt, l.need_by),
        );
        r.fill(
            "source-part-num",
            SUPPLIER_PART,
            l.supplier_part_id.as_deref(),
        );
        r.fill("item-number", BUYER_PART, l.buyer_part_id.as_deref());
        r.fill("currency", CURRENCY.under("$"), po.currency.as_deref());
        if let Some((source, id)) = auxiliary_part(l) {
            r.fill(PO_AUXILIARY_PART, source, Some(id));
        }
        r.set_extensions(l.extensions.get(EXT), KEPT)?;
        out.push(r);
    }
    Ok(())
}
