//! Canonical [`Invoice`] → Coupa invoice JSON for `POST /api/invoices`.

use gateway_core::profile::CoupaSupplierRef;
use gateway_model::{
    Charge, ChargeKind, Decimal, DiscountSign, Invoice, InvoiceLine, InvoicePurpose, Party, Tax,
};
use serde_json::{Map, Value, json};

use super::address_to_coupa;
use crate::error::CoupaError;

/// Options the canonical invoice does not carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceMapping {
    /// `account-type {name}` (chart of accounts) for invoices that name none of their own
    /// ([`gateway_core::chart_of_accounts`]: the Coupa CSV's `Chart of Accounts`, which wins),
    /// when the instance requires one (`[coupa] account_type`).
    pub account_type: Option<String>,
}

/// How the invoice names its supplier in Coupa: `{"id": n}` once resolved, else number/name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupplierKey {
    Id(u64),
    Number(String),
    Name(String),
}

impl SupplierKey {
    fn to_json(&self) -> Value {
        match self {
            SupplierKey::Id(id) => json!({ "id": id }),
            SupplierKey::Number(n) => json!({ "number": n }),
            SupplierKey::Name(n) => json!({ "name": n }),
        }
    }
}

/// The supplier reference carried by a canonical party: an id in domain `coupa` (a numeric
/// value is Coupa's supplier id, any other value its supplier number), a supplier number
/// ([`Party::coupa_supplier_number`]: `coupa-number`, or an X12 supplier's `REF*VN` or `92`
/// id), else the party name. `None` when none of them is there. What delivery looks a
/// supplier up by when the invoice's partner profile names none.
pub fn supplier_ref_from_party(p: &Party) -> Option<CoupaSupplierRef> {
    let id = p.coupa_supplier_id();
    let number = p.coupa_supplier_number().map(str::to_string);
    let name = p
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(str::to_string);
    if id.is_none() && number.is_none() && name.is_none() {
        return None;
    }
    Some(CoupaSupplierRef { id, number, name })
}

/// Refuses to book `inv` to Coupa supplier `resolved` (the supplier delivery resolved, the
/// partner profile's first) when the invoice itself names another Coupa supplier id (an
/// all-digit id in domain `coupa`). Intake compares such an id only with a profile that names
/// an id (`[partners.coupa_supplier] id`); a profile naming only a number cannot tell Coupa's
/// id, so REST `"coupa": "12"` or a CSV `Supplier ID 50001` went through and was booked to the
/// partner's supplier. Here the id is known: the error is permanent (a dead letter naming
/// both), and nothing is created in Coupa.
pub fn check_named_supplier_id(inv: &Invoice, resolved: u64) -> Result<(), CoupaError> {
    let Some(party) = &inv.supplier else {
        return Ok(());
    };
    let named: Vec<u64> = party
        .ids
        .iter()
        .filter(|i| i.domain.trim().eq_ignore_ascii_case("coupa"))
        .filter_map(|i| i.value.trim().parse::<u64>().ok())
        .filter(|id| *id != resolved)
        .collect();
    let Some(first) = named.first() else {
        return Ok(());
    };
    Err(CoupaError::Mapping(format!(
        "the invoice names its supplier as Coupa supplier id {first}{}, but it would be \
         booked to Coupa supplier id {resolved}, the supplier its partner profile names \
         ([partners.coupa_supplier]), so nothing was created in Coupa.{}send it from the \
         partner it belongs to, or correct the supplier it names, and replay it",
        called(party),
        crate::error::OPERATOR_ADVICE
    )))
}

/// ` ("Rival Co")`: the name a party gives, to follow how a refusal quotes its key; empty
/// without one.
fn called(party: &Party) -> String {
    party
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| format!(" ({})", quoted(n)))
        .unwrap_or_default()
}

/// Longest value of the document quoted in a refusal.
const MAX_QUOTED: usize = 80;

/// `value` quoted, clipped to [`MAX_QUOTED`] characters (a document's value is not trusted
/// to be short).
fn quoted(value: &str) -> String {
    let clipped: String = value.chars().take(MAX_QUOTED).collect();
    if clipped.len() < value.len() {
        format!("{clipped:?}…")
    } else {
        format!("{clipped:?}")
    }
}

/// The supplier numbers `inv`'s supplier names ([`Party::coupa_supplier_number_ids`]) that
/// are not `number`, the number of Coupa supplier `id` that delivery resolved, as Coupa
/// compares supplier numbers (trimmed, ASCII letters without regard to case: a lookup by
/// number finds them so, and Coupa refuses a second supplier under one in another case);
/// each once by that rule, in the order named. A `92` id holding `id` itself is the
/// supplier's own: the gateway's X12 writer puts a Coupa id there too. Delivery asks Coupa
/// whose each of them is before it creates anything
/// ([`crate::CoupaInvoiceDelivery::preview`]); an invoice naming its supplier by another's
/// number was booked to the partner's supplier (a payment to the wrong payee, or twice).
pub(crate) fn numbers_naming_another<'a>(
    inv: &'a Invoice,
    id: u64,
    number: Option<&str>,
) -> Vec<&'a str> {
    let Some(party) = &inv.supplier else {
        return Vec::new();
    };
    let mut found: Vec<&str> = Vec::new();
    for pid in party.coupa_supplier_number_ids() {
        let value = pid.value.trim();
        let own_id = pid.domain.trim() == "92" && value.parse::<u64>().ok() == Some(id);
        let own_number = number.is_some_and(|n| gateway_model::same_number(n, value));
        if !own_id && !own_number && !found.iter().any(|f| gateway_model::same_number(f, value)) {
            found.push(value);
        }
    }
    found
}

/// The refusal of `inv`, whose supplier is named by `named`, a supplier number Coupa gives to
/// supplier `holder` (`None`: to no supplier), when delivery would book it to Coupa supplier
/// `id` (number `number`), the partner profile's supplier (`from_partner`) or the one the
/// invoice names first. Permanent, naming both; nothing was created in Coupa.
pub(crate) fn another_supplier_number(
    inv: &Invoice,
    named: &str,
    holder: Option<u64>,
    id: u64,
    number: Option<&str>,
    from_partner: bool,
) -> CoupaError {
    let called = inv.supplier.as_ref().map(called).unwrap_or_default();
    let whose = match holder {
        Some(other) => format!("Coupa supplier id {other}'s number"),
        None => "a number no Coupa supplier has".to_string(),
    };
    let ours = match number {
        Some(n) => format!("Coupa supplier id {id} (number {})", quoted(n.trim())),
        None => format!("Coupa supplier id {id} (which has no supplier number)"),
    };
    let (which, fix) = if from_partner {
        (
            "the supplier its partner profile names ([partners.coupa_supplier])",
            "send it from the partner it belongs to, or correct the supplier it names",
        )
    } else {
        (
            "the supplier the invoice names first (by Coupa id, else number, else name)",
            "correct the supplier it names",
        )
    };
    CoupaError::Mapping(format!(
        "the invoice names its supplier as supplier number {}{called}, {whose}, but it would \
         be booked to {ours}, {which}, so nothing was created in Coupa.{}{fix}, and replay it",
        quoted(named),
        crate::error::OPERATOR_ADVICE
    ))
}

/// A decimal as Coupa's JSON string; zero without a sign (`"0.00"`, never `"-0.00"`, which a
/// turned credit memo's tax of zero became).
fn dec(d: Decimal) -> Value {
    Value::String(super::credit_note::unsigned_zero(d).to_string())
}

fn tax_line(t: &Tax) -> Value {
    let mut m = Map::new();
    if let Some(a) = t.amount {
        m.insert("amount".into(), dec(a));
    }
    if let Some(r) = t.rate {
        m.insert("rate".into(), dec(r));
    }
    if let Some(a) = t.taxable_amount {
        m.insert("taxable-amount".into(), dec(a));
    }
    if let Some(d) = t.description.as_ref().or(t.category.as_ref()) {
        m.insert("description".into(), json!(d));
    }
    Value::Object(m)
}

fn line(l: &InvoiceLine, po_number: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("line-num".into(), json!(l.line_number));
    let quantity_line = l.quantity.is_some();
    m.insert(
        "type".into(),
        json!(if quantity_line {
            "InvoiceQuantityLine"
        } else {
            "InvoiceAmountLine"
        }),
    );
    if let Some(d) = &l.description {
        m.insert("description".into(), json!(d));
    }
    // An amount line's price is its amount.
    let price = if quantity_line {
        l.unit_price
    } else {
        l.unit_price.or(l.amount)
    };
    if let Some(p) = price {
        m.insert("price".into(), dec(p));
    }
    if let Some(q) = l.quantity {
        m.insert("quantity".into(), dec(q));
    }
    if let Some(u) = &l.uom {
        m.insert("uom".into(), json!({ "code": u }));
    }
    if let Some(a) = l.amount {
        m.insert("total".into(), dec(a));
    }
    if let Some(p) = &l.supplier_part_id {
        m.insert("source-part-num".into(), json!(p));
    }
    if let Some(po) = po_number {
        m.insert("po-number".into(), json!(po));
    }
    if let Some(pl) = &l.po_line_number {
        m.insert("order-line-num".into(), json!(pl));
    }
    if !l.taxes.is_empty() {
        m.insert(
            "tax-lines".into(),
            Value::Array(l.taxes.iter().map(tax_line).collect()),
        );
    }
    Value::Object(m)
}

/// Maps a canonical invoice to Coupa's create body. Fails only when the invoice number or date
/// is missing (Coupa's required keys), a credit memo's direction cannot be told (which way
/// Coupa books it would be a guess), or the invoice names another Coupa supplier id than the
/// resolved one `supplier` gives ([`check_named_supplier_id`]); everything else Coupa validates
/// itself and refuses with its own message.
///
/// Choices: header taxes → `tax-amount` (and `tax-rate` when there is exactly one rate), or
/// `tax_total` when there are no tax entries or one has no amount ([`header_tax_amount`]),
/// unless a line carries taxes (then `line-level-taxation` is true and lines carry
/// `tax-lines`);
/// a credit memo written as credits (negative) is turned positive as a whole, as Coupa takes
/// a credit note, and one whose direction cannot be told is refused
/// ([`super::credit_note`]); charges, the invoice's and its lines' → `shipping-amount` / `handling-amount` /
/// `misc-amount` (discounts and other kinds in misc, a discount negative unless a credit
/// memo's own total says it added to the credit, [`gateway_model::DiscountSign`]); `total` →
/// `supplier-total` (the control total); `comments` → `supplier-note`; credit memos set
/// `is-credit-note`; a memo names the invoice it corrects (`original-invoice-number`,
/// `original-invoice-date`, from [`gateway_core::original_invoice`]).
///
/// A Coupa invoice line has no charge or discount field (`line-num`, `description`, `price`,
/// `quantity`, `total`, taxes, PO and part references), so a line's charge is counted in the
/// header amount of its kind: Coupa's parts (line totals + taxes + shipping + handling + misc)
/// then add up to the document's total, as they must, and the lines keep the price and total
/// billed, which Coupa matches against the PO line. [`line_charges_at_header`] says where
/// each one went, for the delivery's log.
pub fn invoice_to_coupa(
    inv: &Invoice,
    supplier: &SupplierKey,
    opts: &InvoiceMapping,
) -> Result<Value, CoupaError> {
    if let SupplierKey::Id(resolved) = supplier {
        check_named_supplier_id(inv, *resolved)?;
    }
    let signs = super::credit_note::in_coupa_signs(inv)?;
    let inv = signs.invoice.as_ref();
    // Trimmed: validation reads `"SP-R3 "` as `SP-R3`, and so must the duplicate guard's
    // lookup and Coupa; sent as received, it was looked up as another number.
    let number = inv
        .invoice_number
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| CoupaError::Mapping("invoice_number is missing".into()))?;
    let date = inv
        .invoice_date
        .ok_or_else(|| CoupaError::Mapping("invoice_date is missing".into()))?;
    let line_level = inv.lines.iter().any(|l| !l.taxes.is_empty());
    let mut m = Map::new();
    m.insert("invoice-number".into(), json!(number));
    m.insert(
        "invoice-date".into(),
        json!(date.format("%Y-%m-%d").to_string()),
    );
    m.insert("supplier".into(), supplier.to_json());
    if let Some(c) = &inv.currency {
        m.insert("currency".into(), json!({ "code": c }));
    }
    m.insert("line-level-taxation".into(), json!(line_level));
    if inv.purpose == Some(InvoicePurpose::CreditMemo) {
        m.insert("is-credit-note".into(), json!(true));
    }
    // The invoice a memo corrects, so AP sees the credit note linked to it.
    if inv.purpose.is_some_and(|p| p != InvoicePurpose::Standard) {
        let original = gateway_core::original_invoice(inv);
        if let Some(n) = original.number {
            m.insert("original-invoice-number".into(), json!(n));
        }
        if let Some(d) = original.date {
            m.insert(
                "original-invoice-date".into(),
                json!(d.format("%Y-%m-%d").to_string()),
            );
        }
    }
    // The invoice's own chart of accounts (the Coupa CSV's `Chart of Accounts`), else the
    // configured default: it never reached Coupa.
    if let Some(a) = gateway_core::chart_of_accounts::chart_of_accounts(&inv.extensions)
        .or(opts.account_type.as_deref())
    {
        m.insert("account-type".into(), json!({ "name": a }));
    }
    // Terms without a description go as the code their fields give (`2/10 Net 30`); they
    // were dropped. Terms no code can say are named by `not_sent`.
    if let Some(code) = inv
        .payment_terms
        .as_ref()
        .and_then(|p| super::payment_term::code_of_terms(p).ok().flatten())
    {
        m.insert("payment-term".into(), json!({ "code": code }));
    }
    for (key, party) in [
        ("bill-to-address", &inv.bill_to),
        ("ship-to-address", &inv.ship_to),
        ("remit-to-address", &inv.remit_to),
    ] {
        let Some(p) = party else { continue };
        let mut address = match &p.address {
            Some(a) => address_to_coupa(p.name.as_deref(), a),
            None => Value::Object(Map::new()),
        };
        // A remit-to named by its code (cXML `Contact@addressID`, as Coupa's own cXML names a
        // supplier's remit-to) is Coupa's `remit-to-code`: without it the payment went to the
        // supplier's default remit-to.
        if key == "remit-to-address"
            && let Some(code) = p.id_in("addressID").filter(|c| !c.trim().is_empty())
            && let Value::Object(a) = &mut address
        {
            a.insert("remit-to-code".into(), json!(code));
        }
        if address.as_object().is_some_and(|a| !a.is_empty()) {
            m.insert(key.into(), address);
        }
    }
    if !line_level {
        if let Some(amount) = header_tax_amount(inv) {
            m.insert("tax-amount".into(), dec(amount));
        }
        if let [only] = inv.taxes.as_slice()
            && let Some(r) = only.rate
        {
            m.insert("tax-rate".into(), dec(r));
        }
    }
    for (key, amount) in header_amounts(inv, signs.discounts) {
        m.insert(key.into(), dec(amount));
    }
    if let Some(t) = inv.total {
        m.insert("supplier-total".into(), dec(t));
    }
    if let Some(c) = &inv.comments {
        m.insert("supplier-note".into(), json!(c));
    }
    m.insert(
        "invoice-lines".into(),
        Value::Array(
            inv.lines
                .iter()
                // A line billing another PO names it; the header's would match the wrong lines.
                .map(|l| line(l, l.po_number.as_deref().or(inv.po_number.as_deref())))
                .collect(),
        ),
    );
    Ok(Value::Object(m))
}

/// Coupa's header `tax-amount` for `inv` (taxed at the header): the sum of its taxes' amounts
/// when each has one; else its `tax_total`, the tax billed. A tax given by its rate alone
/// (`"taxes": [{"rate": "8.25"}]` beside `"tax_total": "17.74"`, or a tax given only as the
/// invoice's total: a cXML summary `Tax` without `TaxDetail`) was sent as its rate, and Coupa
/// held no tax amount, its parts short of the supplier total by the tax billed. Without a
/// `tax_total`, the amounts there are ([`not_sent`] names the taxes without one). `None` when
/// nothing gives an amount, or the sum is past what a decimal holds (validation refuses it).
fn header_tax_amount(inv: &Invoice) -> Option<Decimal> {
    let known: Vec<Decimal> = inv.taxes.iter().filter_map(|t| t.amount).collect();
    let every = !known.is_empty() && known.len() == inv.taxes.len();
    if every || (inv.tax_total.is_none() && !known.is_empty()) {
        return gateway_model::checked_sum(known);
    }
    inv.tax_total
}

/// `"line 2's tax at rate 8.25"`, `"the invoice's tax (VAT)"`: a tax as the delivery's log
/// names it.
fn tax_named(at: &str, t: &Tax) -> String {
    let rate = t.rate.map(|r| format!(" at rate {r}")).unwrap_or_default();
    let what = t
        .description
        .as_deref()
        .or(t.category.as_deref())
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    format!("{at} tax{rate}{what}")
}

/// The Coupa header field a charge of `kind` is counted in.
fn header_field(kind: ChargeKind) -> &'static str {
    match kind {
        ChargeKind::Shipping => "shipping-amount",
        ChargeKind::Handling => "handling-amount",
        ChargeKind::Discount | ChargeKind::Other => "misc-amount",
    }
}

/// Every charge of `inv` with where it stands: `None` for the invoice's own, else its line.
fn all_charges(inv: &Invoice) -> impl Iterator<Item = (Option<&InvoiceLine>, &Charge)> {
    inv.charges.iter().map(|c| (None, c)).chain(
        inv.lines
            .iter()
            .flat_map(|l| l.charges.iter().map(move |c| (Some(l), c))),
    )
}

/// `shipping-amount`, `handling-amount` and `misc-amount`: the sum of the charges of their
/// kinds, the invoice's and its lines', each as it counts in the total
/// ([`Charge::in_total`], discounts counting as `discounts` says: on what Coupa is sent, a
/// discount is negative, in misc with the other kinds, unless the memo's own total says it
/// added to the credit). A field is there when at least one charge with an amount is counted
/// in it; a sum past what a decimal holds is left out (validation refuses such amounts).
fn header_amounts(inv: &Invoice, discounts: DiscountSign) -> Vec<(&'static str, Decimal)> {
    ["shipping-amount", "handling-amount", "misc-amount"]
        .into_iter()
        .filter_map(|key| {
            let v: Vec<Decimal> = all_charges(inv)
                .filter(|(_, c)| header_field(c.kind) == key)
                .filter_map(|(_, c)| c.in_total(discounts))
                .collect();
            if v.is_empty() {
                return None;
            }
            Some((key, gateway_model::checked_sum(v)?))
        })
        .collect()
}

fn kind_word(kind: ChargeKind) -> &'static str {
    match kind {
        ChargeKind::Shipping => "shipping",
        ChargeKind::Handling => "handling",
        ChargeKind::Discount => "discount",
        ChargeKind::Other => "charge",
    }
}

/// Where each line charge went in Coupa, for the delivery's log: Coupa holds it in a header
/// amount, not on its line (`line 2 discount 4.50 is in Coupa's misc-amount`). Empty when no
/// line has a charge with an amount.
pub fn line_charges_at_header(inv: &Invoice) -> Vec<String> {
    all_charges(inv)
        .filter_map(|(line, c)| {
            let (line, amount) = (line?, c.amount?);
            let what = c
                .description
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            Some(format!(
                "line {} {} {amount}{what} is in Coupa's {}",
                line.line_number,
                kind_word(c.kind),
                header_field(c.kind)
            ))
        })
        .collect()
}

/// What of `inv` Coupa is not sent at all, for a warning in the delivery's log and the
/// ledger's detail of the delivery: payment terms no Coupa payment-term code can say
/// ([`super::payment_term::code_of_terms`]), a charge
/// given by a rate alone (no amount to send; the document's arithmetic does not count it
/// either), a tax given by a rate alone where nothing gives its amount (a line's, or the
/// invoice's without a `tax_total`: Coupa is sent its rate only), and header taxes of an
/// invoice whose lines carry taxes (Coupa takes header `tax-amount` only without line-level
/// taxation). Empty when everything is sent.
pub fn not_sent(inv: &Invoice) -> Vec<String> {
    let mut out: Vec<String> = inv
        .payment_terms
        .as_ref()
        .and_then(|p| super::payment_term::code_of_terms(p).err())
        .into_iter()
        .collect();
    out.extend(
        all_charges(inv)
            .filter(|(_, c)| c.amount.is_none())
            .map(|(line, c)| {
                let at = line.map_or_else(
                    || "the invoice's".to_string(),
                    |l| format!("line {}", l.line_number),
                );
                let rate = c.rate.map(|r| format!(" at rate {r}")).unwrap_or_default();
                format!(
                    "{at} {}{rate} has no amount and is not sent",
                    kind_word(c.kind)
                )
            }),
    );
    let line_level = inv.lines.iter().any(|l| !l.taxes.is_empty());
    for l in &inv.lines {
        let at = format!("line {}'s", l.line_number);
        out.extend(l.taxes.iter().filter(|t| t.amount.is_none()).map(|t| {
            format!(
                "{} has no amount: Coupa is sent its rate only",
                tax_named(&at, t)
            )
        }));
    }
    if !line_level && inv.tax_total.is_none() {
        out.extend(inv.taxes.iter().filter(|t| t.amount.is_none()).map(|t| {
            format!(
                "{} has no amount, nor does the invoice give its tax total: no amount of \
                 it is sent",
                tax_named("the invoice's", t)
            )
        }));
    }
    let header_tax: Vec<Decimal> = inv.taxes.iter().filter_map(|t| t.amount).collect();
    if line_level && !header_tax.is_empty() {
        let sum = gateway_model::checked_sum(header_tax)
            .map_or_else(|| "beyond a decimal".to_string(), |s| s.to_string());
        out.push(format!(
            "header tax {sum} is not sent: the lines carry taxes (line-level taxation), and Coupa \
             takes a header tax amount only without them",
        ));
    }
    out
}
