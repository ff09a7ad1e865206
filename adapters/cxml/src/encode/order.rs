//! Canonical [`PurchaseOrder`] → `OrderRequest`, elements in cXML.dtd order.

use gateway_core::{EncodeError, PartnerProfile};
use gateway_model::{
    Charge, ChargeKind, Extensions, OrderLine, OrderPurpose, Party, PaymentTerms, PurchaseOrder,
    Tax,
};
use rust_decimal::Decimal;
use serde_json::Value;

use super::writer::Xml;
use super::{
    Dtd, Kept, PartyKept, address_id, begin, carried_extrinsics, comments, contact, cxml_ext,
    description, element_from_json, end, ext_str, extrinsics, id_references, is_plain,
    kept_parties, line_descriptions, money, money_in, order_envelope, party_body,
    postal_without_street, streetless, tax_description, tax_detail_kept, tax_details, tax_sum,
};
use crate::carried;
use crate::decode::order_purpose_wire;
use crate::decode::{KEPT_DISCOUNT_TERM, KEPT_NET_TERM};

/// Writes one purchase order as a complete cXML OrderRequest document.
pub fn encode_order(po: &PurchaseOrder, partner: &PartnerProfile) -> Result<Vec<u8>, EncodeError> {
    let mut env = order_envelope(partner)?;
    env.payload_id = ext_str(&po.extensions, super::PAYLOAD_ID);
    let cur = super::required_currency(po.currency.as_deref())?;
    let placeholder = no_lines(po)?;
    let mut x = Xml::new();
    let timestamp = begin(&mut x, Dtd::Cxml, &env);
    x.open("OrderRequest", &[]);
    header(&mut x, po, cur, &timestamp, placeholder)?;
    for (i, l) in po.lines.iter().enumerate() {
        item(&mut x, i, l, cur)?;
    }
    if placeholder {
        placeholder_item(&mut x);
    }
    x.close("OrderRequest");
    end(&mut x);
    x.finish().map_err(|m| EncodeError::Invalid {
        path: "$".into(),
        message: m,
    })
}

/// Whether the order has no lines and is written with the placeholder `ItemOut` of
/// [`placeholder_item`]: cXML.dtd requires one (`OrderRequest (OrderRequestHeader, ItemOut+)`).
///
/// A cancel cancels the whole order (`type="delete"`; the lines, when a sender gives them, are
/// the order's as it was): one without lines (the golden sample `purchase_order/cancel`, and
/// what the model allows, see `gateway_model::validate`) says all it has to say in its header,
/// and gets one `ItemOut` of nothing (quantity 0). Any other order without lines is refused:
/// a new or changed order of nothing is no order, and a made-up line would be one.
fn no_lines(po: &PurchaseOrder) -> Result<bool, EncodeError> {
    if !po.lines.is_empty() {
        return Ok(false);
    }
    if po.purpose == Some(OrderPurpose::Cancel) {
        return Ok(true);
    }
    Err(EncodeError::Invalid {
        path: "$.lines".into(),
        message: "an OrderRequest needs at least one line (cXML.dtd: OrderRequest \
                  (OrderRequestHeader, ItemOut+)); add the order's lines (only a cancel, \
                  purpose \"cancel\", is written without any)"
            .into(),
    })
}

/// The `ItemOut` of a cancel without lines ([`no_lines`]): line 1, quantity 0, an empty
/// `SupplierPartID` (`ItemID` is required; `ItemDetail` is not), named in the header Extrinsic
/// [`carried::PLACEHOLDER_ITEM`] so the document reads back without lines.
fn placeholder_item(x: &mut Xml) {
    let number = carried::PLACEHOLDER_LINE_NUMBER.to_string();
    x.open(
        "ItemOut",
        &[
            ("quantity", Some("0")),
            ("lineNumber", Some(number.as_str())),
        ],
    );
    x.open("ItemID", &[]);
    x.empty("SupplierPartID", &[]);
    x.close("ItemID");
    x.close("ItemOut");
}

/// Only shipping charges have an element in an OrderRequest (`Shipping`), one per level.
fn shipping_only<'c>(charges: &'c [Charge], path: &str) -> Result<Option<&'c Charge>, EncodeError> {
    if let Some(i) = charges.iter().position(|c| c.kind != ChargeKind::Shipping) {
        return Err(EncodeError::Invalid {
            path: format!("{path}[{i}]"),
            message: "an OrderRequest carries shipping charges only (Shipping); discounts, \
                      handling and other charges have no element"
                .into(),
        });
    }
    if charges.len() > 1 {
        return Err(EncodeError::Invalid {
            path: path.to_string(),
            message: "an OrderRequest carries one Shipping charge per level; found several".into(),
        });
    }
    Ok(charges.first())
}

fn shipping(x: &mut Xml, c: &Charge, cur: &str) {
    x.open("Shipping", &[]);
    money(x, cur, c.amount);
    description(x, c.description.as_deref());
    x.close("Shipping");
}

/// `Tax`, when there are taxes or a kept `Tax/Description`; what the decoder kept of it is in
/// `e` (the order's or the line's extensions).
fn tax(x: &mut Xml, taxes: &[Tax], cur: &str, e: &Extensions) {
    let text = tax_description(e);
    if taxes.is_empty() && text.is_none() {
        return;
    }
    x.open("Tax", &[]);
    match taxes {
        [t] if is_plain(t) && text.is_none() && !tax_detail_kept(e) => {
            money(x, cur, t.amount);
            description(x, t.description.as_deref());
        }
        _ => {
            money(x, cur, tax_sum(taxes));
            description(x, text);
            tax_details(x, cur, taxes, e);
        }
    }
    x.close("Tax");
}

/// `PaymentTerm`s: the model's discount tier (days in `payInNumberOfDays`) and net term (with
/// the description as an Extrinsic), and the terms the reader kept beside them
/// (`extensions.cxml.payment_terms`, `e`'s: further discount tiers, a `DiscountAmount` tier,
/// ...; see `decode::common::payment_terms`), each in its place in the source. The model's
/// terms the kept list does not place (terms from another format, or added since) go first,
/// before any kept term of their kind, so they read back as the model's. Shared with the
/// invoice encoder.
///
/// `payInNumberOfDays` is required (cXML.dtd: `<!ATTLIST PaymentTerm payInNumberOfDays
/// %uint; #REQUIRED>`), so the net term is written only with its days: the model's net days,
/// else those its description names ("Net 45", see [`carried::net_days_of`]; marked
/// [`carried::DAYS_FROM_DESCRIPTION`] so they read back as not given). Terms with neither have
/// no valid `PaymentTerm` (the element is optional in `OrderRequestHeader` and
/// `InvoiceDetailRequestHeader`): their description is returned for the caller to write as
/// the header Extrinsic [`carried::PAYMENT_TERM_CODE`] (Coupa reads a payment term code from
/// that Extrinsic), so the text a supplier or Coupa needs is not lost.
///
/// The discount term is written only whole: with its days (`payInNumberOfDays`) and its
/// percent (`Discount (DiscountPercent | DiscountAmount)` needs one). Half of one (a percent
/// without days, days without a percent) has no valid `PaymentTerm`: it is returned too, for
/// the header Extrinsics [`carried::DISCOUNT_PERCENT_WITHOUT_DAYS`] and
/// [`carried::DISCOUNT_DAYS_WITHOUT_PERCENT`], as the days-less net terms' description is.
///
/// A document whose terms cXML did not keep gets the further tiers X12 read
/// (`extensions.x12.payment_terms`) after its own, as `PaymentTerm`s too ([`super::tiers`]);
/// a tier list that is malformed is refused with its path.
pub(crate) fn payment_terms<'t>(
    x: &mut Xml,
    t: Option<&'t PaymentTerms>,
    e: &Extensions,
) -> Result<TermsCarried<'t>, EncodeError> {
    let mut carried = TermsCarried::default();
    let kept: &[Value] = cxml_ext(e)
        .and_then(|c| c.get("payment_terms"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let placed = |name: &str| kept.iter().any(|v| v.as_str() == Some(name));
    let (mut discount_done, mut net_done) = (false, false);
    if !placed(KEPT_DISCOUNT_TERM) {
        discount_term(x, t, &mut carried);
        discount_done = true;
    }
    if !placed(KEPT_NET_TERM) {
        net_term(x, t, &mut carried);
        net_done = true;
    }
    for v in kept {
        match v.as_str() {
            Some(KEPT_DISCOUNT_TERM) if !discount_done => {
                discount_term(x, t, &mut carried);
                discount_done = true;
            }
            Some(KEPT_NET_TERM) if !net_done => {
                net_term(x, t, &mut carried);
                net_done = true;
            }
            Some(_) => {}
            // Only a PaymentTerm goes here (anything else would come from hand-edited JSON).
            None if v.get("element").and_then(Value::as_str) == Some("PaymentTerm") => {
                element_from_json(x, v, 0);
            }
            None => {}
        }
    }
    super::tiers::write(x, t, e)?;
    Ok(carried)
}

/// The model's discount tier as a `PaymentTerm`, when whole (see [`payment_terms`]).
fn discount_term<'t>(x: &mut Xml, t: Option<&'t PaymentTerms>, carried: &mut TermsCarried<'t>) {
    let Some(t) = t else { return };
    match (t.discount_percent, t.discount_days) {
        (Some(p), Some(d)) => {
            let days = d.to_string();
            x.open("PaymentTerm", &[("payInNumberOfDays", Some(days.as_str()))]);
            x.open("Discount", &[]);
            x.empty("DiscountPercent", &[("percent", Some(&p.to_string()))]);
            x.close("Discount");
            x.close("PaymentTerm");
        }
        (Some(p), None) => carried.discount_percent = Some(p.to_string()),
        (None, Some(d)) => carried.discount_days = Some(d.to_string()),
        (None, None) => {}
    }
}

/// The model's net term as a `PaymentTerm`, when it has days (see [`payment_terms`]).
fn net_term<'t>(x: &mut Xml, t: Option<&'t PaymentTerms>, carried: &mut TermsCarried<'t>) {
    let Some(t) = t else { return };
    let description = t.description.as_deref();
    let (days, derived) = match (t.net_days, description.and_then(carried::net_days_of)) {
        (Some(d), _) => (Some(d), false),
        (None, Some(d)) => (Some(d), true),
        (None, None) => (None, false),
    };
    let Some(days) = days else {
        carried.code = description;
        return;
    };
    let days = days.to_string();
    let attrs = [("payInNumberOfDays", Some(days.as_str()))];
    if description.is_none() && !derived {
        x.empty("PaymentTerm", &attrs);
        return;
    }
    x.open("PaymentTerm", &attrs);
    if let Some(d) = description {
        x.leaf("Extrinsic", &[("name", Some("description"))], d);
    }
    if derived {
        carried_extrinsics(
            x,
            [(carried::DAYS_FROM_DESCRIPTION, carried::FROM_DESCRIPTION)],
        );
    }
    x.close("PaymentTerm");
}

/// What of the payment terms [`payment_terms`] could not write in a `PaymentTerm`.
#[derive(Debug, Default)]
pub(crate) struct TermsCarried<'t> {
    /// The description of terms without days.
    code: Option<&'t str>,
    /// The percent of a discount without days.
    discount_percent: Option<String>,
    /// The days of a discount without a percent.
    discount_days: Option<String>,
}

/// The header Extrinsics for what [`payment_terms`] returned: [`carried::PAYMENT_TERM_CODE`]
/// with the description of terms that had no days, [`carried::DISCOUNT_PERCENT_WITHOUT_DAYS`]
/// and [`carried::DISCOUNT_DAYS_WITHOUT_PERCENT`] with half a discount term. Refused when the
/// document's extensions already hold an Extrinsic of that name (kept from a source whose
/// terms had their own): two would read back as one, in the terms.
pub(crate) fn payment_terms_carried(
    e: &Extensions,
    carried: TermsCarried<'_>,
) -> Result<Vec<(&'static str, String)>, EncodeError> {
    let kept = |name: &str| {
        cxml_ext(e)
            .and_then(|c| c.get("extrinsic"))
            .is_some_and(|m| m.get(name).is_some())
    };
    let mut out = Vec::new();
    if let Some(code) = carried.code {
        if kept(carried::PAYMENT_TERM_CODE) {
            return Err(EncodeError::Invalid {
                path: "$.payment_terms.description".into(),
                message: format!(
                    "payment terms {code:?} have no days for a cXML PaymentTerm \
                     (payInNumberOfDays is required) and go in the Extrinsic {}, which the \
                     document's extensions already hold",
                    carried::PAYMENT_TERM_CODE
                ),
            });
        }
        out.push((carried::PAYMENT_TERM_CODE, code.to_string()));
    }
    for (name, value, path) in [
        (
            carried::DISCOUNT_PERCENT_WITHOUT_DAYS,
            carried.discount_percent,
            "$.payment_terms.discount_days",
        ),
        (
            carried::DISCOUNT_DAYS_WITHOUT_PERCENT,
            carried.discount_days,
            "$.payment_terms.discount_percent",
        ),
    ] {
        let Some(value) = value else { continue };
        if kept(name) {
            return Err(EncodeError::Invalid {
                path: path.into(),
                message: format!(
                    "half a discount term (no cXML PaymentTerm holds a discount without both \
                     its days and its percent) goes in the Extrinsic {name}, which the \
                     document's extensions already hold; add {path}"
                ),
            });
        }
        out.push((name, value));
    }
    Ok(out)
}

/// The order of `OrderRequestHeader`'s children in cXML.dtd (1.2.050 and later), where the
/// elements kept in `header_elements` are written back.
const HEADER_ORDER: &[&str] = &[
    "Total",
    "ShipTo",
    "BillTo",
    "BusinessPartner",
    "LegalEntity",
    "OrganizationalUnit",
    "Shipping",
    "Tax",
    "Payment",
    "PaymentTerm",
    "PaymentInformation",
    "Contact",
    "Comments",
    "Followup",
    "ControlKeys",
    "DocumentReference",
    "SupplierOrderInfo",
    "TermsOfDelivery",
    "DeliveryPeriod",
    "IdReference",
    "ExternalDocumentType",
    "OrderRequestHeaderIndustry",
    "Extrinsic",
];

/// `ShipTo`/`BillTo`: an `Address` and the party's other ids as `IdReference`s.
fn address_holder(x: &mut Xml, name: &str, p: &Party, kept: &PartyKept<'_>) {
    x.open(name, &[]);
    x.open("Address", &[("addressID", address_id(p))]);
    party_body(x, p, kept);
    x.close("Address");
    id_references(x, p);
    x.close(name);
}

/// The `BillTo`, which cXML.dtd requires (`OrderRequestHeader (Total, ShipTo?, BillTo, ...)`):
/// the order's bill-to when it has one. Coupa's PO API has no bill-to, so the Coupa mapping
/// never fills it; then the order is billed to the buyer (the organisation that places and
/// pays for the order, which is what Coupa itself writes as an OrderRequest's BillTo: its
/// company name and address), else to the ship-to address (the buyer's own location, and the
/// only buyer address a Coupa PO carries; a supplier invoices the buyer, electronically, and
/// needs a buyer address here rather than none), without the ship-to's attention line, e-mail
/// and phone (the person receiving the goods is not who is billed: see
/// [`carried::bill_to_from_ship_to`]). The party it was written from is named in
/// the header Extrinsic [`carried::BILL_TO_SOURCE`] (returned, for the caller to write at
/// its place) so the document reads back without a bill-to, as it was. With no party at all
/// the order is refused: an OrderRequest without BillTo is refused by a validating supplier.
fn bill_to<'p>(x: &mut Xml, po: &'p PurchaseOrder) -> Result<BillToWritten<'p>, EncodeError> {
    let e = &po.extensions;
    let (p, field, source) = match (&po.bill_to, &po.buyer, &po.ship_to) {
        (Some(p), _, _) => (p.clone(), "bill_to", None),
        (None, Some(p), _) => (p.clone(), "buyer", Some(carried::FROM_BUYER)),
        (None, None, Some(p)) => (
            carried::bill_to_from_ship_to(p),
            "ship_to",
            Some(carried::FROM_SHIP_TO),
        ),
        (None, None, None) => {
            return Err(EncodeError::Invalid {
                path: "$.bill_to".into(),
                message: "an OrderRequest needs a BillTo (cXML.dtd: OrderRequestHeader (Total, \
                          ShipTo?, BillTo, ...)); the order has no bill_to, buyer or ship_to to \
                          write one from"
                    .into(),
            });
        }
    };
    let kept = PartyKept::of(e, field);
    address_holder(x, "BillTo", &p, &kept);
    Ok(BillToWritten {
        source,
        party: p,
        kept,
    })
}

/// What [`bill_to`] wrote the `BillTo` from.
struct BillToWritten<'p> {
    /// The party it was written from when the order has no bill-to
    /// ([`carried::BILL_TO_SOURCE`]).
    source: Option<&'static str>,
    /// The party written, and what was kept of it: for the header Extrinsic
    /// [`carried::BILL_TO_POSTAL_ADDRESS`] when it has no street.
    party: Party,
    kept: PartyKept<'p>,
}

/// The order's `Total` (cXML.dtd requires one): its own total, else the sum of its lines'
/// amounts ([`PurchaseOrder::shown_total`], the figure the PO mail shows and a supplier checks
/// the lines against). An order that gives none and has a line without an amount (no
/// `amount`, and no quantity or unit price to make one) is refused at that line, rather than
/// sent with an empty `Money` a supplier's system cannot read as an amount.
fn shown_total(po: &PurchaseOrder) -> Result<Decimal, EncodeError> {
    if let Some(t) = po.shown_total() {
        return Ok(t);
    }
    let (path, message) = match po.lines.iter().position(|l| l.extended_amount().is_none()) {
        Some(i) => (
            format!("$.lines[{i}].amount"),
            "the order has no total, and this line no amount (nor quantity and unit price) to \
             add up to one; cXML.dtd requires OrderRequestHeader's Total: give the order its \
             total or the line its amount",
        ),
        None => (
            "$.total".to_string(),
            "the order has no total, and its lines' amounts add up to more than a decimal \
             holds; give the order its total",
        ),
    };
    Err(EncodeError::Invalid {
        path,
        message: message.into(),
    })
}

/// `OrderRequestHeader`. `orderDate` is required (`%datetime.tz; #REQUIRED`: "the date and
/// time the order request was created"): an order without a date gets `timestamp`, the
/// moment this OrderRequest is written (the `cXML@timestamp`), marked
/// [`carried::ORDER_DATE_SOURCE`] so it reads back as no date. `placeholder`: the order has
/// no lines and gets [`placeholder_item`], named in [`carried::PLACEHOLDER_ITEM`].
fn header(
    x: &mut Xml,
    po: &PurchaseOrder,
    cur: &str,
    timestamp: &str,
    placeholder: bool,
) -> Result<(), EncodeError> {
    let date = po
        .order_date
        .map(|d| super::timestamp(d, ext_str(&po.extensions, "order_date")));
    let date_source = date.is_none().then_some(carried::FROM_TIMESTAMP);
    let version = po.version.map(|v| v.to_string());
    x.open(
        "OrderRequestHeader",
        &[
            ("orderID", Some(po.po_number.as_deref().unwrap_or(""))),
            ("orderDate", Some(date.as_deref().unwrap_or(timestamp))),
            (
                "type",
                // No purpose stays no purpose (the DTD's default is `new`), as for invoices.
                po.purpose.map(order_purpose_wire),
            ),
            ("orderVersion", version.as_deref()),
            ("orderType", ext_str(&po.extensions, "order_type")),
            (
                "requestedDeliveryDate",
                ext_str(&po.extensions, "requested_delivery_date"),
            ),
        ],
    );
    let e = &po.extensions;
    let mut kept = Kept::new(
        cxml_ext(e).and_then(|c| c.get("header_elements")),
        HEADER_ORDER,
    );
    // `Total` is required (cXML.dtd: `OrderRequestHeader (Total, ...)`): an order that gives
    // none gets the sum of its lines, the total the PO mail shows (one computation,
    // `PurchaseOrder::shown_total`), marked so it reads back as none.
    let total = shown_total(po)?;
    let total_source = po.total.is_none().then_some(carried::FROM_LINES);
    money_in(x, "Total", cur, Some(total));
    kept.before(x, "ShipTo");
    let ship_to_kept = PartyKept::of(e, "ship_to");
    if let Some(p) = &po.ship_to {
        address_holder(x, "ShipTo", p, &ship_to_kept);
    }
    kept.before(x, "BillTo");
    let billed = bill_to(x, po)?;
    kept.before(x, "Shipping");
    if let Some(s) = shipping_only(&po.charges, "$.charges")? {
        shipping(x, s, cur);
    }
    kept.before(x, "Tax");
    tax(x, &po.taxes, cur, e);
    kept.before(x, "PaymentTerm");
    let terms = payment_terms(x, po.payment_terms.as_ref(), e)?;
    let terms = payment_terms_carried(e, terms)?;
    kept.before(x, "Contact");
    if let Some(p) = &po.supplier {
        contact(
            x,
            "supplierCorporate",
            p,
            true,
            &PartyKept::of(e, "supplier"),
        );
    }
    if let Some(p) = &po.buyer {
        contact(x, "buyer", p, true, &PartyKept::of(e, "buyer"));
    }
    // Parties of roles the model has no field for, X12's ship-from among them (an 850's
    // `N1*SF`: `Contact role="shipFrom"`, which reads back as cXML's own).
    for (role, p) in kept_parties(e)? {
        contact(x, &role, &p, true, &PartyKept::default());
    }
    kept.before(x, "Comments");
    comments(x, po.comments.as_deref(), e);
    kept.before(x, "DocumentReference");
    // The OrderRequest an update or delete changes (cXML.dtd: "the DocumentReference would
    // reference the most recent OrderRequest document for the order"), by its payloadID: the
    // writer has it only when the document names it (a cXML source's DocumentReference, or a
    // sender that knows what it sent before); it is optional in the DTD and is not made up.
    if let Some(r) = ext_str(e, "document_reference") {
        x.empty("DocumentReference", &[("payloadID", Some(r))]);
    }
    kept.before(x, "TermsOfDelivery");
    terms_of_delivery(x, po, e);
    kept.before(x, "Extrinsic");
    extrinsics(x, e);
    // What the ShipTo and BillTo `Address`es (no Extrinsic of their own) could not hold.
    if let Some(p) = po.ship_to.as_ref().filter(|p| streetless(p, &ship_to_kept)) {
        postal_without_street(x, carried::SHIP_TO_POSTAL_ADDRESS, p, &ship_to_kept);
    }
    if streetless(&billed.party, &billed.kept) {
        postal_without_street(
            x,
            carried::BILL_TO_POSTAL_ADDRESS,
            &billed.party,
            &billed.kept,
        );
    }
    let placeholder_number = carried::PLACEHOLDER_LINE_NUMBER.to_string();
    carried_extrinsics(
        x,
        billed
            .source
            .map(|s| (carried::BILL_TO_SOURCE, s))
            .into_iter()
            .chain(terms.iter().map(|(n, v)| (*n, v.as_str())))
            .chain(date_source.map(|s| (carried::ORDER_DATE_SOURCE, s)))
            .chain(total_source.map(|s| (carried::TOTAL_SOURCE, s)))
            .chain(placeholder.then_some((carried::PLACEHOLDER_ITEM, placeholder_number.as_str()))),
    );
    kept.rest(x);
    x.close("OrderRequestHeader");
    Ok(())
}

/// The order's shipping terms as the header `TermsOfDelivery` (cXML.dtd: `TermsOfDelivery
/// (TermsOfDeliveryCode, ShippingPaymentMethod, TransportTerms?, Address?, Comments*)`): the
/// code in `TransportTerms`, the two required elements before it filled in
/// ([`carried::terms_of_delivery`]). A `TermsOfDelivery` a cXML source had that says more
/// (an `Address`, `Comments`, a `TransportTerms` value from the DTD's list) was kept whole in
/// `extensions.cxml.terms_of_delivery` beside the code read from it, and is written back as
/// it came while the order's code is still that one; a changed code is written the writer's
/// way (what was kept beside the old code no longer describes the terms).
fn terms_of_delivery(x: &mut Xml, po: &PurchaseOrder, e: &Extensions) {
    let code = po.shipping_terms.as_ref().and_then(|t| t.code.as_deref());
    let kept = cxml_ext(e).and_then(|c| c.get("terms_of_delivery"));
    if let Some(k) = kept
        && k.get("code").and_then(Value::as_str) == code
        && let Some(element) = k.get("element")
    {
        element_from_json(x, element, 0);
        return;
    }
    // A blank code names no terms (the reader takes a blank `TransportTerms` as none).
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        return;
    };
    element_from_json(x, &carried::terms_of_delivery(code), 0);
}

/// What an `ItemOut` says of a line's quantity, unit price and unit of measure, and what of
/// it was filled in ([`carried::AMOUNT_BASED_LINE`]).
struct Quantities<'l> {
    quantity: String,
    unit_price: Option<Decimal>,
    uom: &'l str,
    filled: Vec<&'static str>,
}

/// A line with a quantity is written as it is, and needs its unit of measure (`ItemDetail
/// (..., UnitOfMeasure, ...)`, a UN/CEFACT code: an empty one names no unit, and "10" of an
/// unknown unit is not guessed as 10 each): refused at `$.lines[i].uom` without one. An
/// amount line (no quantity: a Coupa `OrderAmountLine`, whose `price` is its amount) is one
/// unit at its amount, since `ItemOut@quantity` is required and a number (`%r8;`):
/// `quantity="1"`, the amount as the unit price when the line has no unit price (one that is
/// not the amount cannot be one unit of it: refused), and [`carried::AMOUNT_LINE_UOM`] when
/// the line has no unit of measure (a blank one is refused as for a quantity line).
fn quantities<'l>(i: usize, l: &'l OrderLine) -> Result<Quantities<'l>, EncodeError> {
    let blank_uom = || EncodeError::Invalid {
        path: format!("$.lines[{i}].uom"),
        message: format!(
            "the line has {} but no unit of measure: cXML requires ItemDetail/UnitOfMeasure \
             (a UN/CEFACT code such as EA, BX, HUR); add the line's uom",
            match l.quantity {
                Some(q) => format!("quantity {q}"),
                None => "a blank uom".to_string(),
            }
        ),
    };
    if let Some(q) = l.quantity {
        let uom = l
            .uom
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(blank_uom)?;
        return Ok(Quantities {
            quantity: gateway_model::decimal_text(q, '.'),
            unit_price: l.unit_price,
            uom,
            filled: Vec::new(),
        });
    }
    let mut filled = vec![carried::FILLED_QUANTITY];
    let unit_price = match (l.unit_price, l.amount) {
        (Some(p), Some(a)) if p != a => {
            return Err(EncodeError::Invalid {
                path: format!("$.lines[{i}].unit_price"),
                message: format!(
                    "an amount line (no quantity) is written as one unit at its amount {a}, \
                     since cXML requires ItemOut@quantity; its unit price {p} is not that amount"
                ),
            });
        }
        (None, Some(a)) => {
            filled.push(carried::FILLED_UNIT_PRICE);
            Some(a)
        }
        (p, _) => p,
    };
    let uom = match l.uom.as_deref() {
        Some(u) if u.trim().is_empty() => return Err(blank_uom()),
        Some(u) => u,
        None => {
            filled.push(carried::FILLED_UOM);
            carried::AMOUNT_LINE_UOM
        }
    };
    Ok(Quantities {
        quantity: "1".into(),
        unit_price,
        uom,
        filled,
    })
}

/// The `Classification` written for a line that has none (cXML.dtd: `ItemDetail (...,
/// UnitOfMeasure, PriceBasisQuantity?, Classification+, ...)`, `Classification (#PCDATA)` with
/// `domain` required): UNSPSC, the domain Coupa writes, with no code. The reader takes it
/// back as no classification.
pub(crate) const DEFAULT_CLASSIFICATION_DOMAIN: &str = "UNSPSC";

fn item(x: &mut Xml, i: usize, l: &OrderLine, cur: &str) -> Result<(), EncodeError> {
    let q = quantities(i, l)?;
    // A source's line number that is not a whole number is written back as it was.
    let number = match ext_str(&l.extensions, "line_number") {
        Some(n) => n.to_string(),
        None => l.line_number.to_string(),
    };
    let need_by = l
        .need_by
        .map(|d| super::timestamp(d, ext_str(&l.extensions, "requested_delivery_date")));
    x.open(
        "ItemOut",
        &[
            ("quantity", Some(q.quantity.as_str())),
            ("lineNumber", Some(number.as_str())),
            ("requestedDeliveryDate", need_by.as_deref()),
        ],
    );
    x.open("ItemID", &[]);
    x.leaf(
        "SupplierPartID",
        &[],
        l.supplier_part_id.as_deref().unwrap_or(""),
    );
    // The supplier's key of a punch-out item, in whichever format's form the line keeps it
    // (cXML's own, a Coupa PO line's `supp-aux-part-num`, an X12 `VS` pair, a CSV column).
    if let Some((_, a)) = gateway_core::supplier_part_auxiliary_id(&l.extensions) {
        x.leaf("SupplierPartAuxiliaryID", &[], a);
    }
    if let Some(b) = &l.buyer_part_id {
        x.leaf("BuyerPartID", &[], b);
    }
    x.close("ItemID");
    x.open("ItemDetail", &[]);
    money_in(x, "UnitPrice", cur, q.unit_price);
    line_descriptions(x, l.description.as_deref(), &l.extensions, true);
    x.leaf("UnitOfMeasure", &[], q.uom);
    let ext = cxml_ext(&l.extensions);
    let classes = ext
        .and_then(|e| e.get("classification"))
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty());
    match classes {
        Some(classes) => {
            for c in classes {
                x.leaf(
                    "Classification",
                    &[("domain", c.get("domain").and_then(Value::as_str))],
                    c.get("value").and_then(Value::as_str).unwrap_or(""),
                );
            }
        }
        None => x.empty(
            "Classification",
            &[("domain", Some(DEFAULT_CLASSIFICATION_DOMAIN))],
        ),
    }
    if let Some(m) = ext_str(&l.extensions, "manufacturer_part_id") {
        x.leaf("ManufacturerPartID", &[], m);
    }
    if let Some(m) = ext_str(&l.extensions, "manufacturer_name") {
        x.leaf("ManufacturerName", &[("xml:lang", Some("en"))], m);
    }
    extrinsics(x, &l.extensions);
    // The line's own ship-to: cXML's (`ItemOut/ShipTo` read back), else one an X12 line had
    // (`N1*ST` in its PO1 loop). What its `Address` (no Extrinsic of its own) could not hold
    // goes here.
    let line_path = format!("$.lines[{i}]");
    let ship_to = super::line_ship_to(&l.extensions, &line_path)?;
    if let Some((p, kept)) = ship_to.as_ref().filter(|(p, kept)| streetless(p, kept)) {
        postal_without_street(x, carried::SHIP_TO_POSTAL_ADDRESS, p, kept);
    }
    let amount = l.amount.map(|a| a.to_string());
    let filled = q.filled.join(" ");
    carried_extrinsics(
        x,
        amount
            .as_deref()
            .map(|a| (carried::LINE_AMOUNT, a))
            .into_iter()
            .chain((!filled.is_empty()).then_some((carried::AMOUNT_BASED_LINE, filled.as_str()))),
    );
    x.close("ItemDetail");
    if let Some((p, kept)) = &ship_to {
        address_holder(x, "ShipTo", p, kept);
    }
    if let Some(s) = shipping_only(&l.charges, &format!("$.lines[{i}].charges"))? {
        shipping(x, s, cur);
    }
    tax(x, &l.taxes, cur, &l.extensions);
    if let Some(dists) = ext
        .and_then(|e| e.get("distribution"))
        .and_then(Value::as_array)
    {
        for (j, d) in dists.iter().enumerate() {
            distribution(
                x,
                d,
                &format!("$.lines[{i}].extensions.cxml.distribution[{j}]"),
            )?;
        }
    }
    // cXML's comments, else an X12 line's (its PO1 loop's MSG text): `ItemOut (...,
    // Comments*, ...)`.
    let text = super::line_comments(&l.extensions, &line_path)?;
    comments(x, text, &l.extensions);
    x.close("ItemOut");
    Ok(())
}

/// One `Distribution` from its extension form (`accounting`, `segments`, `charge`,
/// `currency`; `accounting_segments`: `AccountingSegment`s as element JSON). `Accounting`
/// needs segments (cXML.dtd: `Accounting (Segment+ | AccountingSegment+)`): one with neither
/// (`path`) is refused, as no valid `Distribution` holds it and its accounting is not made up.
fn distribution(x: &mut Xml, d: &Value, path: &str) -> Result<(), EncodeError> {
    let segments = d
        .get("segments")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty());
    let accounting_segments = d
        .get("accounting_segments")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty());
    if segments.is_none() && accounting_segments.is_none() {
        return Err(EncodeError::Invalid {
            path: format!("{path}.segments"),
            message: "a Distribution's Accounting needs at least one segment (cXML.dtd: \
                      Accounting (Segment+ | AccountingSegment+)); add its segments (type, id, \
                      description) or remove the distribution"
                .into(),
        });
    }
    x.open("Distribution", &[]);
    x.open(
        "Accounting",
        &[(
            "name",
            Some(d.get("accounting").and_then(Value::as_str).unwrap_or("")),
        )],
    );
    // `Segment+ | AccountingSegment+`: one kind (a source has one); `Segment` when both.
    match segments {
        Some(segs) => {
            for s in segs {
                let attrs: Vec<(&str, Option<&str>)> = s
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
                    .unwrap_or_default();
                x.empty("Segment", &attrs);
            }
        }
        None => super::elements(x, d.get("accounting_segments")),
    }
    x.close("Accounting");
    let amount = d
        .get("charge")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<rust_decimal::Decimal>().ok());
    let currency = d.get("currency").and_then(Value::as_str).unwrap_or("");
    money_in(x, "Charge", currency, amount);
    x.close("Distribution");
    Ok(())
}
