//! The OrderRequest the gateway writes, checked against cXML.dtd (1.2.050, the version in its
//! DOCTYPE): what a validating supplier refuses. The content models below are copied from the
//! DTD; every document written here must satisfy them, and must read back as the canonical
//! document it was written from (what the writer fills in for the DTD's sake does not leak
//! into the model).
//!
//! Purchase orders are built here the way the Coupa PO mapping builds them
//! (`adapters/coupa/src/mapping/purchase_order.rs`): a ship-to and no bill-to or buyer, the
//! payment term's code only (`"Net 30"`), the shipping term's code, and for an
//! `OrderAmountLine` no quantity.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::reader::{Limits, Node, Tree, parse_one};
use adapter_cxml::{CxmlCodec, encode_invoice, encode_order};
use gateway_core::{Decode, EncodeError, PartnerProfile};
use gateway_model::{
    Address, Document, Invoice, InvoiceLine, OrderLine, OrderPurpose, Party, PartyId, PaymentTerms,
    PurchaseOrder, ShippingTerms,
};
use serde_json::json;

fn profile() -> PartnerProfile {
    PartnerProfile::from_toml(
        r#"
id = "acme"
[cxml]
from_domain = "DUNS"
from_identity = "123456789"
to_domain = "NetworkID"
to_identity = "AN01000000123"
outbound_shared_secret = "outbound-secret"
payload_id_host = "gw.example"
"#,
        "test.toml",
    )
    .unwrap()
}

fn ship_to() -> Party {
    Party {
        name: Some("Main Warehouse".into()),
        ids: vec![PartyId {
            domain: "coupa".into(),
            value: "3119".into(),
        }],
        address: Some(Address {
            lines: vec!["333 East Hill Dr".into()],
            city: Some("San Leandro".into()),
            region: Some("CA".into()),
            postal_code: Some("94577".into()),
            country: Some("US".into()),
        }),
        contact: Some("J Madden".into()),
        ..Party::default()
    }
}

fn quantity_line(n: u32) -> OrderLine {
    OrderLine {
        line_number: n,
        quantity: Some("10.0".parse().unwrap()),
        uom: Some("EA".into()),
        unit_price: Some("100.50".parse().unwrap()),
        amount: Some("1005.00".parse().unwrap()),
        description: Some("Laptop stand".into()),
        supplier_part_id: Some("LS-100".into()),
        need_by: Some("2025-06-01".parse().unwrap()),
        ..OrderLine::default()
    }
}

/// A Coupa `OrderAmountLine`: no quantity and no unit of measure; Coupa's `price` is the
/// line's amount.
fn amount_line(n: u32) -> OrderLine {
    OrderLine {
        line_number: n,
        quantity: None,
        uom: None,
        unit_price: Some("1500.00".parse().unwrap()),
        amount: Some("1500.00".parse().unwrap()),
        description: Some("Consulting, fixed fee".into()),
        ..OrderLine::default()
    }
}

/// A PO as the Coupa mapping makes it.
fn coupa_po(purpose: OrderPurpose) -> PurchaseOrder {
    PurchaseOrder {
        po_number: Some("PO-00001".into()),
        order_date: Some("2026-04-01".parse().unwrap()),
        purpose: Some(purpose),
        version: Some(if purpose == OrderPurpose::New { 1 } else { 2 }),
        currency: Some("USD".into()),
        supplier: Some(Party {
            name: Some("Acme Supplies".into()),
            ids: vec![PartyId {
                domain: "coupa".into(),
                value: "7".into(),
            }],
            ..Party::default()
        }),
        ship_to: Some(ship_to()),
        payment_terms: Some(PaymentTerms {
            description: Some("Net 45".into()),
            ..PaymentTerms::default()
        }),
        shipping_terms: Some(ShippingTerms {
            code: Some("FOB Destination".into()),
        }),
        lines: vec![quantity_line(1), amount_line(2)],
        total: Some("2505.00".parse().unwrap()),
        ..PurchaseOrder::default()
    }
}

fn write(po: &PurchaseOrder) -> String {
    String::from_utf8(encode_order(po, &profile()).unwrap()).unwrap()
}

fn tree(xml: &str) -> Tree {
    parse_one(xml.as_bytes(), &Limits::default()).unwrap()
}

/// The one document read back from what was written for `po`.
fn read_back(xml: &str) -> PurchaseOrder {
    let d = CxmlCodec::new().decode(xml.as_bytes(), &profile());
    assert!(d.rejects.is_empty(), "{:?}\n{xml}", d.rejects);
    match d.documents.into_iter().next().map(|d| d.document) {
        Some(Document::PurchaseOrder(po)) => po,
        other => panic!("not a PO: {other:?}"),
    }
}

/// Written, it is valid; read back, it is what was written.
fn write_valid_and_round_trip(po: &PurchaseOrder) -> String {
    let xml = write(po);
    let t = tree(&xml);
    let problems = dtd_problems(t.root().unwrap());
    assert!(problems.is_empty(), "{problems:#?}\n{xml}");
    assert_eq!(&read_back(&xml), po, "{xml}");
    xml
}

fn at<'t>(t: &'t Tree, path: &str) -> Node<'t> {
    t.root()
        .unwrap()
        .find(path)
        .unwrap_or_else(|| panic!("no {path}"))
}

fn names<'t>(n: Node<'t>) -> Vec<&'t str> {
    n.children().map(|c| c.name()).collect()
}

fn items(t: &Tree) -> Vec<Node<'_>> {
    at(t, "Request/OrderRequest")
        .children_named("ItemOut")
        .collect()
}

// ---- The content models of cXML.dtd 1.2.050 this writer touches -------------------------

#[derive(Clone, Copy)]
enum Occurs {
    One,
    Optional,
    Many,
    OneOrMore,
}
use Occurs::{Many, One, OneOrMore, Optional};

/// `(element names (a choice when several), occurrence)`, in sequence.
type Model = &'static [(&'static [&'static str], Occurs)];

const ORDER_REQUEST: Model = &[(&["OrderRequestHeader"], One), (&["ItemOut"], OneOrMore)];
const ORDER_REQUEST_HEADER: Model = &[
    (&["Total"], One),
    (&["ShipTo"], Optional),
    (&["BillTo"], One),
    (&["BusinessPartner"], Many),
    (&["LegalEntity"], Optional),
    (&["OrganizationalUnit"], Many),
    (&["Shipping"], Optional),
    (&["Tax"], Optional),
    (&["Payment"], Optional),
    (&["PaymentTerm"], Many),
    (&["Contact"], Many),
    (&["Comments"], Many),
    (&["Followup"], Optional),
    (&["ControlKeys"], Optional),
    (&["DocumentReference"], Optional),
    (&["SupplierOrderInfo"], Optional),
    (&["TermsOfDelivery"], Optional),
    (&["DeliveryPeriod"], Optional),
    (&["IdReference"], Many),
    (&["OrderRequestHeaderIndustry"], Optional),
    (&["Extrinsic"], Many),
];
const ITEM_OUT: Model = &[
    (&["ItemID"], One),
    (&["Path"], Optional),
    (&["ItemDetail", "BlanketItemDetail"], Optional),
    (&["SupplierID", "SupplierList"], Optional),
    (&["ShipTo"], Optional),
    (&["Shipping"], Optional),
    (&["Tax"], Optional),
    (&["SpendDetail"], Optional),
    (&["Distribution"], Many),
    (&["Contact"], Many),
    (&["TermsOfDelivery"], Optional),
    (&["Comments"], Many),
    (&["Tolerances"], Optional),
    (&["ControlKeys"], Optional),
    (&["ScheduleLine"], Many),
    (
        &["MasterAgreementReference", "MasterAgreementIDInfo"],
        Optional,
    ),
    (&["ItemOutIndustry"], Optional),
    (&["Packaging"], Many),
    (&["ReleaseInfo"], Optional),
    (&["Batch"], Optional),
];
const ITEM_ID: Model = &[
    (&["SupplierPartID"], One),
    (&["SupplierPartAuxiliaryID"], Optional),
    (&["BuyerPartID"], Optional),
    (&["IdReference"], Many),
];
const ITEM_DETAIL: Model = &[
    (&["UnitPrice"], One),
    (&["Description"], OneOrMore),
    (&["OverallLimit"], Optional),
    (&["ExpectedLimit"], Optional),
    (&["UnitOfMeasure"], One),
    (&["PriceBasisQuantity"], Optional),
    (&["Classification"], OneOrMore),
    (&["ManufacturerPartID"], Optional),
    (&["ManufacturerName"], Optional),
    (&["URL"], Optional),
    (&["LeadTime"], Optional),
    (&["Dimension"], Many),
    (&["ItemDetailIndustry"], Optional),
    (&["AttachmentReference"], Many),
    (&["PlannedAcceptanceDays"], Optional),
    (&["Extrinsic"], Many),
];
const BILL_OR_SHIP_TO: Model = &[
    (&["Address"], One),
    (&["CarrierIdentifier"], Many),
    (&["TransportInformation"], Many),
    (&["IdReference"], Many),
];
const ADDRESS: Model = &[
    (&["Name"], One),
    (&["PostalAddress"], Optional),
    (&["Email"], Optional),
    (&["Phone"], Optional),
    (&["Fax"], Optional),
    (&["URL"], Optional),
];
const POSTAL_ADDRESS: Model = &[
    (&["DeliverTo"], Many),
    (&["Street"], OneOrMore),
    (&["City"], One),
    (&["Municipality"], Optional),
    (&["State"], Optional),
    (&["PostalCode"], Optional),
    (&["Country"], One),
    (&["Extrinsic"], Many),
];
const CONTACT: Model = &[
    (&["Name"], One),
    (&["PostalAddress"], Many),
    (&["Email"], Many),
    (&["Phone"], Many),
    (&["Fax"], Many),
    (&["URL"], Many),
    (&["IdReference"], Many),
    (&["Extrinsic"], Many),
];
const DISTRIBUTION: Model = &[(&["Accounting"], One), (&["Charge"], One)];
const TERMS_OF_DELIVERY: Model = &[
    (&["TermsOfDeliveryCode"], One),
    (&["ShippingPaymentMethod"], One),
    (&["TransportTerms"], Optional),
    (&["Address"], Optional),
    (&["Comments"], Many),
];
const PAYMENT_TERM: Model = &[(&["Discount"], Optional), (&["Extrinsic"], Many)];
const DISCOUNT: Model = &[(&["DiscountPercent", "DiscountAmount"], One)];
/// `InvoiceDetailOrder (InvoiceDetailOrderInfo, InvoiceDetailReceiptInfo?,
/// InvoiceDetailShipNoticeInfo?, (InvoiceDetailItem | InvoiceDetailServiceItem)+)`.
const INVOICE_DETAIL_ORDER: Model = &[
    (&["InvoiceDetailOrderInfo"], One),
    (&["InvoiceDetailReceiptInfo"], Optional),
    (&["InvoiceDetailShipNoticeInfo"], Optional),
    (
        &["InvoiceDetailItem", "InvoiceDetailServiceItem"],
        OneOrMore,
    ),
];
/// The start of `InvoiceDetailItem (UnitOfMeasure, UnitPrice, PriceBasisQuantity?,
/// InvoiceDetailItemReference, ...)`, the rest as the writer writes it.
const INVOICE_DETAIL_ITEM_START: Model = &[
    (&["UnitOfMeasure"], One),
    (&["UnitPrice"], One),
    (&["PriceBasisQuantity"], Optional),
    (&["InvoiceDetailItemReference"], One),
    (&["SubtotalAmount"], Optional),
    (&["Tax"], Optional),
    (&["InvoiceDetailLineSpecialHandling"], Optional),
    (&["InvoiceDetailLineShipping"], Optional),
    (&["InvoiceDetailDiscount"], Optional),
    (&["Comments"], Optional),
    (&["Extrinsic"], Many),
];
const UNIT_PRICE: Model = &[
    (&["Money"], One),
    (&["Modifications"], Optional),
    (&["PricingConditions"], Optional),
];

/// Whether `children` match `model` (greedy: the models here never need to back off).
fn matches(children: &[&str], model: Model) -> bool {
    let mut i = 0;
    for (choice, occurs) in model {
        let mut n = 0;
        while children.get(i).is_some_and(|c| choice.contains(c)) {
            n += 1;
            i += 1;
            if matches!(occurs, One | Optional) {
                break;
            }
        }
        let ok = match occurs {
            One => n == 1,
            Optional | Many => true,
            OneOrMore => n >= 1,
        };
        if !ok {
            return false;
        }
    }
    i == children.len()
}

/// `%r8;` / `%uint;` written as numbers.
fn is_number(s: &str) -> bool {
    s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// What in the tree under `n` breaks the DTD's rules for the elements above (content
/// models, required attributes and their number types).
fn dtd_problems(n: Node<'_>) -> Vec<String> {
    let mut out = Vec::new();
    check(n, &mut out);
    out
}

fn check(n: Node<'_>, out: &mut Vec<String>) {
    let model = match n.name() {
        "OrderRequest" => Some(ORDER_REQUEST),
        "OrderRequestHeader" => Some(ORDER_REQUEST_HEADER),
        "ItemOut" => Some(ITEM_OUT),
        "ItemID" => Some(ITEM_ID),
        "ItemDetail" => Some(ITEM_DETAIL),
        "BillTo" | "ShipTo" => Some(BILL_OR_SHIP_TO),
        "Address" => Some(ADDRESS),
        "Contact" => Some(CONTACT),
        "Distribution" => Some(DISTRIBUTION),
        "TermsOfDelivery" => Some(TERMS_OF_DELIVERY),
        // InvoiceDetail.dtd, for the invoice writer (which shares the party and terms writers).
        "InvoiceDetailOrder" => Some(INVOICE_DETAIL_ORDER),
        "InvoiceDetailItem" => Some(INVOICE_DETAIL_ITEM_START),
        "PostalAddress" => Some(POSTAL_ADDRESS),
        "PaymentTerm" => Some(PAYMENT_TERM),
        "Discount" => Some(DISCOUNT),
        "UnitPrice" => Some(UNIT_PRICE),
        _ => None,
    };
    if let Some(model) = model
        && !matches(&names(n), model)
    {
        out.push(format!("{}: children {:?}", n.path(), names(n)));
    }
    let required: &[(&str, bool)] = match n.name() {
        // (attribute, must be a number)
        "OrderRequestHeader" => &[("orderID", false), ("orderDate", false)],
        "InvoiceDetailRequestHeader" => &[("invoiceID", false), ("invoiceDate", false)],
        "InvoiceDetailItem" => &[("invoiceLineNumber", false), ("quantity", true)],
        "ItemOut" => &[("quantity", true)],
        "Accounting" => &[("name", false)],
        "Extrinsic" => &[("name", false)],
        "DiscountPercent" => &[("percent", true)],
        "PaymentTerm" => &[("payInNumberOfDays", true)],
        "Classification" => &[("domain", false)],
        "DocumentReference" => &[("payloadID", false)],
        "Money" => &[("currency", false)],
        "Country" => &[("isoCountryCode", false)],
        // `value` from each one's list, `#REQUIRED`.
        "TermsOfDeliveryCode" | "ShippingPaymentMethod" | "TransportTerms" => &[("value", false)],
        _ => &[],
    };
    for (attr, number) in required {
        match n.attr(attr) {
            None => out.push(format!("{}: no {attr}", n.path())),
            Some(v) if *number && !is_number(v) => {
                out.push(format!("{}: {attr}={v:?} is not a number", n.path()));
            }
            Some(v) if !*number && v.trim().is_empty() && *attr != "currency" => {
                out.push(format!("{}: {attr} is empty", n.path()));
            }
            Some(_) => {}
        }
    }
    if n.name() == "ItemOut"
        && let Some(l) = n.attr("lineNumber")
        && l.parse::<u32>().is_err()
    {
        out.push(format!("{}: lineNumber={l:?} is not a %uint;", n.path()));
    }
    // `Accounting (Segment+ | AccountingSegment+)`: one kind, at least one.
    if n.name() == "Accounting" {
        let kids = names(n);
        let one_kind = ["Segment", "AccountingSegment"]
            .iter()
            .any(|k| !kids.is_empty() && kids.iter().all(|c| c == k));
        if !one_kind {
            out.push(format!("{}: children {kids:?}", n.path()));
        }
    }
    if n.name() == "UnitOfMeasure" && n.text().trim().is_empty() {
        // PCDATA in the DTD, but a UN/CEFACT code by its comment: an empty one names no unit.
        out.push(format!("{}: empty", n.path()));
    }
    for c in n.children() {
        check(c, out);
    }
}

/// The checker itself refuses what the QA tester found (so the tests test something).
fn the_checker_refuses_what_a_validating_supplier_refuses() {
    let bad = r#"<OrderRequest><OrderRequestHeader orderID="1" orderDate="2026-01-01">
        <Total><Money currency="USD">1</Money></Total>
        <PaymentTerm><Extrinsic name="description">Net 45</Extrinsic></PaymentTerm>
        <PaymentTerm payInNumberOfDays="10"><Discount/></PaymentTerm>
        <Contact role="buyer"><Name xml:lang="en">B</Name>
          <PostalAddress><DeliverTo>Pat</DeliverTo><City/><Country isoCountryCode="US"/></PostalAddress>
        </Contact>
      </OrderRequestHeader>
      <ItemOut quantity="" lineNumber="1"><ItemID><SupplierPartID>X</SupplierPartID></ItemID>
        <ItemDetail><UnitPrice><Money currency="USD">1</Money></UnitPrice>
          <Description xml:lang="en">x</Description><UnitOfMeasure/></ItemDetail>
        <Distribution><Accounting name="A"/><Charge><Money currency="USD">1</Money></Charge></Distribution>
      </ItemOut>
    </OrderRequest>"#;
    let t = tree(bad);
    let problems = dtd_problems(t.root().unwrap());
    for want in [
        "OrderRequestHeader: children",
        "PaymentTerm[1]: no payInNumberOfDays",
        "Discount: children",
        "PostalAddress: children",
        "ItemDetail: children",
        "Accounting: children",
        "quantity=\"\" is not a number",
        "UnitOfMeasure: empty",
    ] {
        assert!(
            problems.iter().any(|p| p.contains(want)),
            "{want}: {problems:#?}"
        );
    }
}

// ---- 1. BillTo ------------------------------------------------------------------------------

#[test]
fn a_po_without_a_bill_to_bills_the_buyer_else_the_ship_to_address() {
    // The Coupa mapping's PO: a ship-to, no buyer, no bill-to: billed to the ship-to address.
    let po = coupa_po(OrderPurpose::New);
    let xml = write_valid_and_round_trip(&po);
    let t = tree(&xml);
    let bill = at(&t, "Request/OrderRequest/OrderRequestHeader/BillTo/Address");
    assert_eq!(bill.child("Name").unwrap().text(), "Main Warehouse");
    assert_eq!(
        bill.find("PostalAddress/Street").unwrap().text(),
        "333 East Hill Dr"
    );
    let ship = at(&t, "Request/OrderRequest/OrderRequestHeader/ShipTo/Address");
    assert_eq!(
        bill.find("PostalAddress/City").unwrap().text(),
        ship.find("PostalAddress/City").unwrap().text()
    );
    // The person who receives the goods is not whom the supplier bills.
    assert_eq!(
        ship.find("PostalAddress/DeliverTo").map(|d| d.text()),
        Some("J Madden")
    );
    assert!(bill.find("PostalAddress/DeliverTo").is_none(), "{xml}");

    // A buyer with an address is who pays: billed to the buyer.
    let mut with_buyer = po.clone();
    with_buyer.buyer = Some(Party {
        name: Some("Globex Corporation".into()),
        address: Some(Address {
            lines: vec!["1 Globex Plaza".into()],
            city: Some("Cypress Creek".into()),
            region: Some("OR".into()),
            postal_code: Some("97001".into()),
            country: Some("US".into()),
        }),
        ..Party::default()
    });
    let xml = write_valid_and_round_trip(&with_buyer);
    let t = tree(&xml);
    let bill = at(&t, "Request/OrderRequest/OrderRequestHeader/BillTo/Address");
    assert_eq!(bill.child("Name").unwrap().text(), "Globex Corporation");
    assert_eq!(
        bill.find("PostalAddress/Street").unwrap().text(),
        "1 Globex Plaza"
    );

    // A real bill-to is written as it is.
    let mut billed = with_buyer.clone();
    billed.bill_to = Some(Party {
        name: Some("Globex Accounts Payable".into()),
        address: Some(Address {
            lines: vec!["PO Box 12".into()],
            city: Some("Cypress Creek".into()),
            country: Some("US".into()),
            ..Address::default()
        }),
        ..Party::default()
    });
    let xml = write_valid_and_round_trip(&billed);
    let t = tree(&xml);
    let header = at(&t, "Request/OrderRequest/OrderRequestHeader");
    assert_eq!(header.children_named("BillTo").count(), 1);
    assert_eq!(
        header.find("BillTo/Address/Name").unwrap().text(),
        "Globex Accounts Payable"
    );

    // Nothing to bill: refused, at the field, rather than sent without the required BillTo.
    let mut nobody = po.clone();
    nobody.ship_to = None;
    match encode_order(&nobody, &profile()) {
        Err(EncodeError::Invalid { path, message }) => {
            assert_eq!(path, "$.bill_to");
            assert!(message.contains("BillTo"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

// ---- 2. Classification ----------------------------------------------------------------------

#[test]
fn every_item_detail_has_a_classification() {
    let mut po = coupa_po(OrderPurpose::New);
    po.lines[0].extensions.insert(
        "cxml".into(),
        serde_json::json!({"classification": [{"domain": "UNSPSC", "value": "44000000"}]}),
    );
    let xml = write_valid_and_round_trip(&po);
    let t = tree(&xml);
    let classes: Vec<Vec<(String, String)>> = items(&t)
        .iter()
        .map(|i| {
            i.find("ItemDetail")
                .unwrap()
                .children_named("Classification")
                .map(|c| (c.attr("domain").unwrap().to_string(), c.text().to_string()))
                .collect()
        })
        .collect();
    assert_eq!(
        classes,
        [
            vec![("UNSPSC".to_string(), "44000000".to_string())],
            // None known: the DTD's Classification+ with an empty UNSPSC code (PCDATA).
            vec![("UNSPSC".to_string(), String::new())],
        ]
    );
}

// ---- 4. Amount lines ------------------------------------------------------------------------

#[test]
fn an_amount_line_is_one_unit_at_its_amount() {
    let po = coupa_po(OrderPurpose::New);
    let xml = write_valid_and_round_trip(&po);
    let t = tree(&xml);
    let line = items(&t)[1];
    assert_eq!(line.attr("quantity"), Some("1"));
    assert_eq!(
        line.find("ItemDetail/UnitPrice/Money").unwrap().text(),
        "1500.00"
    );
    assert_eq!(line.find("ItemDetail/UnitOfMeasure").unwrap().text(), "EA");
    // The quantity line is as it was.
    let first = items(&t)[0];
    assert_eq!(first.attr("quantity"), Some("10.0"));
    assert_eq!(first.find("ItemDetail/UnitOfMeasure").unwrap().text(), "EA");

    // Only the amount known: it is the unit price; read back, the line has no unit price.
    let mut amount_only = po.clone();
    amount_only.lines[1].unit_price = None;
    let xml = write_valid_and_round_trip(&amount_only);
    let t = tree(&xml);
    assert_eq!(
        items(&t)[1]
            .find("ItemDetail/UnitPrice/Money")
            .unwrap()
            .text(),
        "1500.00"
    );

    // A unit of measure the line has is kept.
    let mut hours = po.clone();
    hours.lines[1].uom = Some("HUR".into());
    let xml = write_valid_and_round_trip(&hours);
    let t = tree(&xml);
    assert_eq!(
        items(&t)[1]
            .find("ItemDetail/UnitOfMeasure")
            .unwrap()
            .text(),
        "HUR"
    );

    // A price that is not the amount: one unit cannot say both; refused at the line.
    let mut odd = po.clone();
    odd.lines[1].unit_price = Some("1400".parse().unwrap());
    match encode_order(&odd, &profile()) {
        Err(EncodeError::Invalid { path, message }) => {
            assert_eq!(path, "$.lines[1].unit_price");
            assert!(message.contains("1500.00"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

// ---- 5. PaymentTerm -------------------------------------------------------------------------

/// `(name, text)` of Extrinsics.
type Extrinsics = Vec<(String, String)>;

/// Each header `PaymentTerm`: its `payInNumberOfDays` and Extrinsics.
fn payment_terms(xml: &str) -> Vec<(Option<String>, Extrinsics)> {
    let t = tree(xml);
    at(&t, "Request/OrderRequest/OrderRequestHeader")
        .children_named("PaymentTerm")
        .map(|p| {
            (
                p.attr("payInNumberOfDays").map(str::to_string),
                p.children_named("Extrinsic")
                    .map(|e| (e.attr("name").unwrap().to_string(), e.text().to_string()))
                    .collect(),
            )
        })
        .collect()
}

fn header_extrinsics(xml: &str) -> Extrinsics {
    let t = tree(xml);
    at(&t, "Request/OrderRequest/OrderRequestHeader")
        .children_named("Extrinsic")
        .map(|e| (e.attr("name").unwrap().to_string(), e.text().to_string()))
        .collect()
}

#[test]
fn a_payment_term_known_by_its_code_is_written_valid_or_not_at_all() {
    // "Net 45" and no net days: the days come from the code, the code stays beside them.
    let po = coupa_po(OrderPurpose::New);
    let xml = write_valid_and_round_trip(&po);
    let terms = payment_terms(&xml);
    assert_eq!(terms.len(), 1, "{xml}");
    assert_eq!(terms[0].0.as_deref(), Some("45"));
    assert!(
        terms[0]
            .1
            .contains(&("description".to_string(), "Net 45".to_string())),
        "{terms:?}"
    );

    // Other spellings of net terms.
    for (code, days) in [
        ("NET 120", "120"),
        ("net30", "30"),
        ("Net 30 days", "30"),
        ("2% 10 Net 30", "30"),
    ] {
        let mut po = po.clone();
        po.payment_terms.as_mut().unwrap().description = Some(code.into());
        let xml = write_valid_and_round_trip(&po);
        let terms = payment_terms(&xml);
        assert_eq!(terms.len(), 1, "{code}: {xml}");
        assert_eq!(terms[0].0.as_deref(), Some(days), "{code}");
    }

    // Net days the model has win over the code.
    let mut known = po.clone();
    known.payment_terms.as_mut().unwrap().net_days = Some(40);
    let xml = write_valid_and_round_trip(&known);
    assert_eq!(payment_terms(&xml)[0].0.as_deref(), Some("40"));

    // No days to be had: no PaymentTerm; the code goes where Coupa reads one.
    for code in ["Immediate", "Net 30 EOM", "月末締め翌月末払い"] {
        let mut po = po.clone();
        po.payment_terms.as_mut().unwrap().description = Some(code.into());
        let xml = write_valid_and_round_trip(&po);
        assert!(payment_terms(&xml).is_empty(), "{code}: {xml}");
        assert!(
            header_extrinsics(&xml).contains(&("PaymentTermCode".to_string(), code.to_string())),
            "{code}: {xml}"
        );
    }
}

/// The invoice writer shares the PaymentTerm writer: an invoice with only "Net 30" (what the
/// CSV and e-mail paths give) is valid too.
#[test]
fn an_invoice_payment_term_known_by_its_code_gets_its_days() {
    let inv = Invoice {
        invoice_number: Some("INV-1".into()),
        invoice_date: Some("2026-01-31".parse().unwrap()),
        currency: Some("USD".into()),
        payment_terms: Some(PaymentTerms {
            description: Some("Net 30".into()),
            ..PaymentTerms::default()
        }),
        lines: vec![InvoiceLine {
            line_number: 1,
            quantity: Some("2".parse().unwrap()),
            uom: Some("EA".into()),
            unit_price: Some("5.00".parse().unwrap()),
            amount: Some("10.00".parse().unwrap()),
            ..Default::default()
        }],
        total: Some("10.00".parse().unwrap()),
        ..Default::default()
    };
    let xml = String::from_utf8(encode_invoice(&inv, &profile()).unwrap()).unwrap();
    let t = tree(&xml);
    let terms: Vec<Node<'_>> = at(
        &t,
        "Request/InvoiceDetailRequest/InvoiceDetailRequestHeader",
    )
    .children_named("PaymentTerm")
    .collect();
    assert_eq!(terms.len(), 1, "{xml}");
    assert_eq!(terms[0].attr("payInNumberOfDays"), Some("30"), "{xml}");
    let back = CxmlCodec::new().decode(xml.as_bytes(), &profile());
    assert_eq!(
        back.documents[0].document,
        Document::Invoice(inv.clone()),
        "{xml}"
    );

    let mut immediate = inv;
    immediate.payment_terms.as_mut().unwrap().description = Some("Immediate".into());
    let xml = String::from_utf8(encode_invoice(&immediate, &profile()).unwrap()).unwrap();
    assert!(!xml.contains("<PaymentTerm"), "{xml}");
    assert!(
        xml.contains(r#"<Extrinsic name="PaymentTermCode">Immediate</Extrinsic>"#),
        "{xml}"
    );
    let back = CxmlCodec::new().decode(xml.as_bytes(), &profile());
    assert_eq!(
        back.documents[0].document,
        Document::Invoice(immediate),
        "{xml}"
    );
}

// ---- 3. Updates and cancels; element order --------------------------------------------------

#[test]
fn updates_and_cancels_are_valid_and_name_the_order_they_change_when_it_is_known() {
    // An update whose document names the OrderRequest it changes (what a cXML source's
    // DocumentReference decodes to): written in its place, after Comments, before Extrinsic.
    let mut update = coupa_po(OrderPurpose::Update);
    update.comments = Some("Quantities changed.".into());
    update.extensions.insert(
        "cxml".into(),
        serde_json::json!({
            "document_reference": "coupa-po.4711.v1.0123456789ab@gw.example",
            "extrinsic": {"CostCenter": "CC-100"}
        }),
    );
    let xml = write_valid_and_round_trip(&update);
    let t = tree(&xml);
    let header = at(&t, "Request/OrderRequest/OrderRequestHeader");
    assert_eq!(header.attr("type"), Some("update"));
    assert_eq!(header.attr("orderVersion"), Some("2"));
    assert_eq!(
        header.child("DocumentReference").unwrap().attr("payloadID"),
        Some("coupa-po.4711.v1.0123456789ab@gw.example")
    );
    let mut order: Vec<&str> = names(header)
        .into_iter()
        .filter(|n| {
            [
                "Comments",
                "DocumentReference",
                "Extrinsic",
                "PaymentTerm",
                "BillTo",
            ]
            .contains(n)
        })
        .collect();
    order.dedup();
    assert_eq!(
        order,
        [
            "BillTo",
            "PaymentTerm",
            "Comments",
            "DocumentReference",
            "Extrinsic"
        ]
    );

    // A cancel (Coupa's cancelled PO, lines and all) from the Coupa mapping: nothing names the
    // previous OrderRequest's payloadID, so none is invented.
    let cancel = coupa_po(OrderPurpose::Cancel);
    let xml = write_valid_and_round_trip(&cancel);
    let t = tree(&xml);
    let header = at(&t, "Request/OrderRequest/OrderRequestHeader");
    assert_eq!(header.attr("type"), Some("delete"));
    assert!(header.child("DocumentReference").is_none(), "{xml}");
}

#[test]
fn a_coupa_po_is_written_in_the_dtd_order() {
    the_checker_refuses_what_a_validating_supplier_refuses();
    let mut po = coupa_po(OrderPurpose::New);
    po.comments = Some("Deliver to dock 4.".into());
    let xml = write_valid_and_round_trip(&po);
    let t = tree(&xml);
    assert_eq!(
        names(at(&t, "Request/OrderRequest/OrderRequestHeader")),
        [
            "Total",
            "ShipTo",
            "BillTo",
            "PaymentTerm",
            "Contact",
            "Comments",
            "TermsOfDelivery",
            "Extrinsic"
        ]
    );
    for item in items(&t) {
        assert_eq!(names(item), ["ItemID", "ItemDetail"]);
    }
    assert_eq!(
        names(items(&t)[0].child("ItemDetail").unwrap()),
        [
            "UnitPrice",
            "Description",
            "UnitOfMeasure",
            "Classification",
            "Extrinsic"
        ]
    );
}

/// cXML from elsewhere that looks like what the writer fills in (an ItemOut without quantity,
/// no BillTo, the writer's Extrinsic names used by someone else, terms without days): read,
/// written and read again, it is the same document, or the writer refuses it with a reason
/// (the property the cXML fuzz target checks).
#[test]
fn documents_from_elsewhere_still_round_trip() {
    let doc = |header: &str, item_attrs: &str, detail_extra: &str| {
        format!(
            r#"<?xml version="1.0"?>
<cXML payloadID="x@y" timestamp="2026-01-01T00:00:00+00:00"><Header>
<From><Credential domain="DUNS"><Identity>1</Identity></Credential></From>
<To><Credential domain="DUNS"><Identity>2</Identity></Credential></To>
<Sender><Credential domain="DUNS"><Identity>1</Identity></Credential><UserAgent>u</UserAgent></Sender>
</Header><Request><OrderRequest>
<OrderRequestHeader orderID="O-1" orderDate="2026-01-01" type="update">
<Total><Money currency="USD">10</Money></Total>
{header}
</OrderRequestHeader>
<ItemOut {item_attrs} lineNumber="1"><ItemID><SupplierPartID>P</SupplierPartID></ItemID>
<ItemDetail><UnitPrice><Money currency="USD">10</Money></UnitPrice>
<Description xml:lang="en">d</Description><UnitOfMeasure>EA</UnitOfMeasure>
{detail_extra}</ItemDetail></ItemOut>
</OrderRequest></Request></cXML>"#
        )
    };
    let ship_to = r#"<ShipTo><Address><Name xml:lang="en">Dock</Name><PostalAddress>
<DeliverTo>Pat</DeliverTo><Street>1 Road</Street><City>Town</City>
<Country isoCountryCode="US">United States</Country></PostalAddress></Address></ShipTo>"#;
    let cases = [
        // No BillTo, a ShipTo with an attention line, no quantity, no Classification.
        doc(ship_to, "", ""),
        doc(
            &format!(r#"{ship_to}<Extrinsic name="billToSource">someone</Extrinsic>"#),
            r#"quantity="1""#,
            r#"<Classification domain="UNSPSC"/><Extrinsic name="amountBasedLine">quantity unitOfMeasure</Extrinsic>"#,
        ),
        // A BillTo that is the ShipTo, said to be written from it by someone else.
        doc(
            &format!(
                r#"{ship_to}{}<Extrinsic name="billToSource">shipTo</Extrinsic>"#,
                ship_to.replace("ShipTo>", "BillTo>")
            ),
            r#"quantity="2""#,
            r#"<Extrinsic name="amountBasedLine">quantity</Extrinsic>"#,
        ),
        // Terms without days: a description only, and Coupa's PaymentTermCode beside one.
        doc(
            &format!(
                r#"{ship_to}<PaymentTerm><Extrinsic name="description">Immediate</Extrinsic></PaymentTerm>
<Extrinsic name="PaymentTermCode">IMM</Extrinsic>"#
            ),
            r#"quantity="3""#,
            "",
        ),
        doc(
            &format!(
                r#"{ship_to}<PaymentTerm payInNumberOfDays="30"><Extrinsic name="description">Net 30</Extrinsic><Extrinsic name="payInNumberOfDaysSource">description</Extrinsic></PaymentTerm>
<Extrinsic name="PaymentTermCode">N30</Extrinsic>"#
            ),
            r#"quantity="3""#,
            "",
        ),
        doc(
            &format!(r#"{ship_to}<Extrinsic name="PaymentTermCode">Net 60</Extrinsic>"#),
            r#"quantity="3""#,
            "",
        ),
    ];
    let codec = CxmlCodec::new();
    let partner = profile();
    let mut written = 0;
    for (i, raw) in cases.iter().enumerate() {
        let first = codec.decode(raw.as_bytes(), &partner);
        assert!(first.rejects.is_empty(), "case {i}: {:?}", first.rejects);
        let docs: Vec<Document> = first.documents.into_iter().map(|d| d.document).collect();
        let Ok(bytes) = gateway_core::Encode::encode(&codec, &docs, &partner) else {
            continue;
        };
        written += 1;
        let xml = String::from_utf8(bytes).unwrap();
        let problems = dtd_problems(tree(&xml).root().unwrap());
        assert!(problems.is_empty(), "case {i}: {problems:#?}\n{xml}");
        let again = codec.decode(xml.as_bytes(), &partner);
        assert!(again.rejects.is_empty(), "case {i}: {:?}", again.rejects);
        let back: Vec<Document> = again.documents.into_iter().map(|d| d.document).collect();
        assert_eq!(back, docs, "case {i}\n{xml}");
    }
    // Only the terms that need the PaymentTermCode a source already fills are refused.
    assert_eq!(written, cases.len() - 1);
}

// ---- 5b. Shipping terms ---------------------------------------------------------------------

/// A Coupa PO's `shipping-term` reaches the supplier: the order's shipping terms are the
/// header `TermsOfDelivery`, the code in its `TransportTerms` (value `Other`: a buyer's code
/// is off the DTD's list), valid, and read back as the code alone. Before, the code had no
/// canonical field and no element, and the supplier never learned the delivery terms.
#[test]
fn shipping_terms_go_in_the_terms_of_delivery() {
    let po = coupa_po(OrderPurpose::New);
    let xml = write_valid_and_round_trip(&po);
    let t = tree(&xml);
    let terms = at(
        &t,
        "Request/OrderRequest/OrderRequestHeader/TermsOfDelivery",
    );
    assert_eq!(
        names(terms),
        [
            "TermsOfDeliveryCode",
            "ShippingPaymentMethod",
            "TransportTerms"
        ]
    );
    let transport = terms.child("TransportTerms").unwrap();
    assert_eq!(transport.attr("value"), Some("Other"));
    assert_eq!(transport.text(), "FOB Destination");
    assert_eq!(
        terms.child("TermsOfDeliveryCode").unwrap().attr("value"),
        Some("DeliveryCondition")
    );
    // Nothing the writer filled in for the DTD stays in the document read back.
    let back = read_back(&xml);
    assert!(
        !serde_json::to_string(&back.extensions)
            .unwrap()
            .contains("terms_of_delivery"),
        "{:?}",
        back.extensions
    );
    // No terms, no element; a blank code names none.
    let mut none = po.clone();
    none.shipping_terms = None;
    assert!(!write_valid_and_round_trip(&none).contains("TermsOfDelivery"));
    let mut blank = po;
    blank.shipping_terms = Some(ShippingTerms {
        code: Some(" ".into()),
    });
    assert!(!write(&blank).contains("TermsOfDelivery"));
}

/// An element as text: its name, attributes, trimmed text and children, for comparing what
/// was written with what came.
fn shape(n: Node<'_>) -> String {
    let attrs: Vec<String> = n.attrs().map(|(k, v)| format!("{k}={v:?}")).collect();
    let children: Vec<String> = n.children().map(shape).collect();
    format!(
        "<{} {}>{}{}</>",
        n.name(),
        attrs.join(" "),
        n.text(),
        children.join("")
    )
}

/// A `TermsOfDelivery` from elsewhere that says more than a code (its own payment method, a
/// value from the DTD's list, an `Address`, `Comments`) reads as its code and goes back out
/// as it came; one without a `TransportTerms` reads as no terms and goes back out too. A code
/// changed in between is written the writer's way.
#[test]
fn terms_of_delivery_from_elsewhere_read_as_their_code_and_go_back_as_they_came() {
    let doc = |terms: &str| {
        format!(
            r#"<?xml version="1.0"?>
<cXML payloadID="x@y" timestamp="2026-01-01T00:00:00+00:00"><Header>
<From><Credential domain="DUNS"><Identity>1</Identity></Credential></From>
<To><Credential domain="DUNS"><Identity>2</Identity></Credential></To>
<Sender><Credential domain="DUNS"><Identity>1</Identity></Credential><UserAgent>u</UserAgent></Sender>
</Header><Request><OrderRequest>
<OrderRequestHeader orderID="O-1" orderDate="2026-01-01" type="new">
<Total><Money currency="USD">10</Money></Total>
<ShipTo><Address><Name xml:lang="en">Dock</Name><PostalAddress><Street>1 Road</Street>
<City>Town</City><Country isoCountryCode="US">United States</Country></PostalAddress></Address></ShipTo>
<Comments xml:lang="en">Order note</Comments>
{terms}
</OrderRequestHeader>
<ItemOut quantity="1" lineNumber="1"><ItemID><SupplierPartID>P</SupplierPartID></ItemID>
<ItemDetail><UnitPrice><Money currency="USD">10</Money></UnitPrice>
<Description xml:lang="en">d</Description><UnitOfMeasure>EA</UnitOfMeasure>
<Classification domain="UNSPSC"/></ItemDetail></ItemOut>
</OrderRequest></Request></cXML>"#
        )
    };
    let cases = [
        (
            r#"<TermsOfDelivery><TermsOfDeliveryCode value="DeliveryCondition"/>
<ShippingPaymentMethod value="Other">Prepaid and add</ShippingPaymentMethod>
<TransportTerms value="Other">FCA</TransportTerms>
<Comments xml:lang="en">Named place: Rotterdam</Comments></TermsOfDelivery>"#,
            Some("FCA"),
        ),
        (
            r#"<TermsOfDelivery><TermsOfDeliveryCode value="TransportCondition"/>
<ShippingPaymentMethod value="Other"/><TransportTerms value="FreeOnBoard"/></TermsOfDelivery>"#,
            Some("FreeOnBoard"),
        ),
        (
            r#"<TermsOfDelivery><TermsOfDeliveryCode value="DeliveryCondition"/>
<ShippingPaymentMethod value="Other"/></TermsOfDelivery>"#,
            None,
        ),
    ];
    for (i, (terms, code)) in cases.iter().enumerate() {
        let raw = doc(terms);
        let po = read_back(&raw);
        assert_eq!(
            po.shipping_terms.as_ref().and_then(|t| t.code.as_deref()),
            *code,
            "case {i}"
        );
        let xml = write_valid_and_round_trip(&po);
        let sent = tree(&xml);
        let header = at(&sent, "Request/OrderRequest/OrderRequestHeader");
        assert_eq!(header.children_named("TermsOfDelivery").count(), 1, "{xml}");
        let source = tree(&raw);
        assert_eq!(
            shape(at(
                &sent,
                "Request/OrderRequest/OrderRequestHeader/TermsOfDelivery"
            )),
            shape(at(
                &source,
                "Request/OrderRequest/OrderRequestHeader/TermsOfDelivery"
            )),
            "case {i}: {xml}"
        );
    }
    // A changed code: the writer's TermsOfDelivery for it, not the kept one.
    let mut po = read_back(&doc(cases[0].0));
    po.shipping_terms = Some(ShippingTerms {
        code: Some("DAP".into()),
    });
    let xml = write(&po);
    let t = tree(&xml);
    let terms = at(
        &t,
        "Request/OrderRequest/OrderRequestHeader/TermsOfDelivery",
    );
    assert_eq!(terms.child("TransportTerms").unwrap().text(), "DAP");
    assert!(!xml.contains("Rotterdam"), "{xml}");
}

// ---- 6. What the first pass left invalid ----------------------------------------------------

/// `write` refused: the error's path and message.
fn refused(po: &PurchaseOrder) -> (String, String) {
    match encode_order(po, &profile()) {
        Err(EncodeError::Invalid { path, message }) => (path, message),
        Ok(bytes) => panic!("not refused:\n{}", String::from_utf8_lossy(&bytes)),
        Err(other) => panic!("{other:?}"),
    }
}

/// A cancel without lines (the golden sample's, and what the model allows) is written with the
/// one `ItemOut` cXML.dtd requires (`OrderRequest (OrderRequestHeader, ItemOut+)`): line 1,
/// quantity 0, no detail, named in a header Extrinsic so it reads back as no line. Any other
/// order without lines is refused.
#[test]
fn a_cancel_without_lines_gets_one_item_out_of_nothing() {
    let mut cancel = coupa_po(OrderPurpose::Cancel);
    cancel.lines.clear();
    cancel.total = Some("0.00".parse().unwrap());
    let xml = write_valid_and_round_trip(&cancel);
    let t = tree(&xml);
    let only = items(&t);
    assert_eq!(only.len(), 1, "{xml}");
    assert_eq!(only[0].attr("quantity"), Some("0"));
    assert_eq!(only[0].attr("lineNumber"), Some("1"));
    assert_eq!(names(only[0]), ["ItemID"]);
    assert!(
        header_extrinsics(&xml).contains(&("placeholderItemOut".to_string(), "1".to_string())),
        "{xml}"
    );

    // The golden sample (someone else's cXML, which has none): its canonical document.
    let sample = gateway_core::testkit::repo_root().join("samples/cxml/purchase_order");
    let partner = PartnerProfile::load(&sample.join("cancel.partner.toml")).unwrap();
    let json = std::fs::read(sample.join("cancel.canonical.json")).unwrap();
    let want: Vec<Document> = gateway_model::from_json_lines(&json)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let bytes = gateway_core::Encode::encode(&CxmlCodec::new(), &want, &partner).unwrap();
    let xml = String::from_utf8(bytes).unwrap();
    let problems = dtd_problems(tree(&xml).root().unwrap());
    assert!(problems.is_empty(), "{problems:#?}\n{xml}");
    let back = CxmlCodec::new().decode(xml.as_bytes(), &partner);
    let back: Vec<Document> = back.documents.into_iter().map(|d| d.document).collect();
    assert_eq!(back, want, "{xml}");

    // A new order or an update of nothing: refused, saying what to add.
    for purpose in [Some(OrderPurpose::New), Some(OrderPurpose::Update), None] {
        let mut empty = coupa_po(OrderPurpose::New);
        empty.purpose = purpose;
        empty.lines.clear();
        let (path, message) = refused(&empty);
        assert_eq!(path, "$.lines", "{purpose:?}");
        assert!(message.contains("ItemOut+"), "{message}");
    }

    // A cancel with lines is written with them, and no placeholder.
    let xml = write_valid_and_round_trip(&coupa_po(OrderPurpose::Cancel));
    assert_eq!(items(&tree(&xml)).len(), 2);
    assert!(!xml.contains("placeholderItemOut"), "{xml}");
}

/// `orderDate` is required ("the date and time the order request was created"): an order
/// without a date gets the moment it is written (the document's timestamp), marked so it
/// reads back without a date.
#[test]
fn an_order_without_a_date_is_dated_when_it_is_written() {
    let mut po = coupa_po(OrderPurpose::New);
    po.order_date = None;
    let xml = write_valid_and_round_trip(&po);
    let t = tree(&xml);
    let header = at(&t, "Request/OrderRequest/OrderRequestHeader");
    assert_eq!(
        header.attr("orderDate"),
        t.root().unwrap().attr("timestamp")
    );
    assert!(
        header_extrinsics(&xml).contains(&("orderDateSource".to_string(), "timestamp".to_string())),
        "{xml}"
    );
    // A dated order is written with its date and no marker.
    let xml = write_valid_and_round_trip(&coupa_po(OrderPurpose::New));
    assert!(!xml.contains("orderDateSource"), "{xml}");
}

/// Half a discount term has no valid `PaymentTerm` (`payInNumberOfDays` is required, and
/// `Discount (DiscountPercent | DiscountAmount)` needs one): it is carried in a header
/// Extrinsic, as days-less net terms' description is, and reads back as it was.
#[test]
fn half_a_discount_term_is_carried_not_written_invalid() {
    let whole = PaymentTerms {
        description: Some("2% 10 Net 30".into()),
        net_days: Some(30),
        discount_percent: Some("2".parse().unwrap()),
        discount_days: Some(10),
    };
    let mut po = coupa_po(OrderPurpose::New);
    po.payment_terms = Some(whole.clone());
    let xml = write_valid_and_round_trip(&po);
    assert_eq!(payment_terms(&xml).len(), 2, "{xml}");

    for (terms, name, value) in [
        (
            PaymentTerms {
                discount_days: None,
                ..whole.clone()
            },
            "discountPercentWithoutDays",
            "2",
        ),
        (
            PaymentTerms {
                discount_percent: None,
                ..whole.clone()
            },
            "discountDaysWithoutPercent",
            "10",
        ),
        // Nothing else: no PaymentTerm at all.
        (
            PaymentTerms {
                discount_percent: Some("1.5".parse().unwrap()),
                ..PaymentTerms::default()
            },
            "discountPercentWithoutDays",
            "1.5",
        ),
    ] {
        let mut po = coupa_po(OrderPurpose::New);
        po.payment_terms = Some(terms.clone());
        let xml = write_valid_and_round_trip(&po);
        let t = tree(&xml);
        let header = at(&t, "Request/OrderRequest/OrderRequestHeader");
        assert!(header.find("PaymentTerm/Discount").is_none(), "{xml}");
        assert!(
            header_extrinsics(&xml).contains(&(name.to_string(), value.to_string())),
            "{terms:?}: {xml}"
        );
    }

    // The invoice writer shares the terms writer.
    let mut inv = invoice();
    inv.payment_terms = Some(PaymentTerms {
        discount_days: None,
        ..whole
    });
    let xml = write_invoice_valid_and_round_trip(&inv);
    assert!(!xml.contains("<Discount"), "{xml}");
    assert!(
        xml.contains(r#"<Extrinsic name="discountPercentWithoutDays">2</Extrinsic>"#),
        "{xml}"
    );
}

/// `PostalAddress (DeliverTo*, Street+, City, ...)`: a party without a street gets no
/// `PostalAddress` (`Address` and `Contact` take none); its name stays, and what the postal
/// address would have held (the attention line, the city, ...) goes in an Extrinsic of the
/// `Contact`, the header (a ShipTo or BillTo `Address` has none) or the `ItemDetail` (a line
/// ShipTo), and reads back where it was.
#[test]
fn a_party_without_a_street_has_no_postal_address_and_keeps_the_rest() {
    // A buyer with only a contact name (an X12 PER, a CSV buyer.contact).
    let mut po = coupa_po(OrderPurpose::New);
    po.buyer = Some(Party {
        name: Some("Globex Purchasing".into()),
        contact: Some("Priya Natarajan".into()),
        email: Some("p.natarajan@globex.example".into()),
        ..Party::default()
    });
    let xml = write_valid_and_round_trip(&po);
    let t = tree(&xml);
    let header = at(&t, "Request/OrderRequest/OrderRequestHeader");
    let buyer = header
        .children_named("Contact")
        .find(|c| c.attr("role") == Some("buyer"))
        .unwrap();
    assert_eq!(buyer.child("Name").unwrap().text(), "Globex Purchasing");
    assert!(buyer.child("PostalAddress").is_none(), "{xml}");
    assert_eq!(
        buyer
            .find("Extrinsic/DeliverTo")
            .map(|d| d.text().to_string()),
        Some("Priya Natarajan".to_string()),
        "{xml}"
    );
    // Billed to that buyer: the BillTo `Address` has no PostalAddress either.
    let bill = at(&t, "Request/OrderRequest/OrderRequestHeader/BillTo/Address");
    assert_eq!(names(bill), ["Name", "Email"], "{xml}");

    // A ship-to with an attention line and a city but no street, at the header and a line;
    // billed to it (no buyer): its city goes with the BillTo too.
    let streetless = Party {
        name: Some("Dock 4".into()),
        address: Some(Address {
            city: Some("Hamburg".into()),
            country: Some("DE".into()),
            ..Address::default()
        }),
        contact: Some("Receiving\nAttn: M. Chen".into()),
        ..Party::default()
    };
    let mut po = coupa_po(OrderPurpose::New);
    po.ship_to = Some(streetless.clone());
    po.lines[0].extensions.insert(
        "cxml".into(),
        serde_json::json!({"ship_to": serde_json::to_value(&streetless).unwrap()}),
    );
    let xml = write_valid_and_round_trip(&po);
    let t = tree(&xml);
    assert!(!xml.contains("<PostalAddress"), "{xml}");
    let carried: Vec<String> = header_extrinsics(&xml)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for name in [
        "shipToPostalAddressWithoutStreet",
        "billToPostalAddressWithoutStreet",
        "billToSource",
    ] {
        assert!(carried.contains(&name.to_string()), "{name}: {xml}");
    }
    let line = items(&t)[0];
    assert!(
        line.child("ItemDetail")
            .unwrap()
            .children_named("Extrinsic")
            .any(|e| e.attr("name") == Some("shipToPostalAddressWithoutStreet")),
        "{xml}"
    );
    assert_eq!(
        names(line.find("ShipTo/Address").unwrap()),
        ["Name"],
        "{xml}"
    );

    // An invoice's parties are Contacts: the same, inside each.
    let mut inv = invoice();
    inv.remit_to = Some(streetless);
    let xml = write_invoice_valid_and_round_trip(&inv);
    assert!(!xml.contains("<PostalAddress"), "{xml}");
    assert!(
        xml.contains(r#"<Extrinsic name="postalAddressWithoutStreet">"#),
        "{xml}"
    );
}

/// `Accounting (Segment+ | AccountingSegment+)`: a distribution without segments is refused at
/// its path; one in `AccountingSegment`s (the newer form) is kept and written back.
#[test]
fn a_distribution_needs_its_segments() {
    let mut po = coupa_po(OrderPurpose::New);
    po.lines[0].extensions.insert(
        "cxml".into(),
        serde_json::json!({"distribution": [
            {"accounting": "OPEX", "segments": [], "charge": "1005.00", "currency": "USD"}
        ]}),
    );
    let (path, message) = refused(&po);
    assert_eq!(path, "$.lines[0].extensions.cxml.distribution[0].segments");
    assert!(message.contains("Segment+"), "{message}");

    // AccountingSegments from a cXML source are read, and written back as they came.
    let xml = write(&coupa_po(OrderPurpose::New)).replace(
        "</ItemDetail>",
        r#"</ItemDetail>
        <Distribution><Accounting name="OPEX">
          <AccountingSegment id="410"><Name xml:lang="en">CostCenter</Name><Description xml:lang="en">Warehouse</Description></AccountingSegment>
        </Accounting><Charge><Money currency="USD">1005.00</Money></Charge></Distribution>"#,
    );
    let po = read_back(&xml);
    let again = write_valid_and_round_trip(&po);
    let t = tree(&again);
    let segment = items(&t)[0]
        .find("Distribution/Accounting/AccountingSegment")
        .unwrap();
    assert_eq!(segment.attr("id"), Some("410"));
    assert_eq!(segment.child("Name").unwrap().text(), "CostCenter");
}

/// A line with a quantity needs its unit (`UnitOfMeasure`, a UN/CEFACT code: an empty one
/// names none): refused at the line's uom rather than guessed. An amount line still gets EA.
#[test]
fn a_quantity_line_without_a_unit_is_refused() {
    for uom in [None, Some(""), Some("  ")] {
        let mut po = coupa_po(OrderPurpose::New);
        po.lines[0].uom = uom.map(Into::into);
        let (path, message) = refused(&po);
        assert_eq!(path, "$.lines[0].uom", "{uom:?}");
        assert!(message.contains("UnitOfMeasure"), "{message}");
    }
    let mut po = coupa_po(OrderPurpose::New);
    po.lines[1].uom = Some(" ".into());
    assert_eq!(refused(&po).0, "$.lines[1].uom");
}

// ---- The same in the InvoiceDetailRequest ----------------------------------------------------

fn invoice() -> Invoice {
    Invoice {
        invoice_number: Some("INV-1".into()),
        invoice_date: Some("2026-01-31".parse().unwrap()),
        currency: Some("USD".into()),
        supplier: Some(Party {
            name: Some("Acme Supplies".into()),
            ..Party::default()
        }),
        lines: vec![InvoiceLine {
            line_number: 1,
            quantity: Some("2".parse().unwrap()),
            uom: Some("EA".into()),
            unit_price: Some("5.00".parse().unwrap()),
            amount: Some("10.00".parse().unwrap()),
            description: Some("Widget".into()),
            ..Default::default()
        }],
        total: Some("10.00".parse().unwrap()),
        ..Default::default()
    }
}

fn write_invoice_valid_and_round_trip(inv: &Invoice) -> String {
    let xml = String::from_utf8(encode_invoice(inv, &profile()).unwrap()).unwrap();
    let problems = dtd_problems(tree(&xml).root().unwrap());
    assert!(problems.is_empty(), "{problems:#?}\n{xml}");
    let back = CxmlCodec::new().decode(xml.as_bytes(), &profile());
    assert!(back.rejects.is_empty(), "{:?}\n{xml}", back.rejects);
    assert_eq!(
        back.documents[0].document,
        Document::Invoice(inv.clone()),
        "{xml}"
    );
    xml
}

fn invoice_refused(inv: &Invoice) -> (String, String) {
    match encode_invoice(inv, &profile()) {
        Err(EncodeError::Invalid { path, message }) => (path, message),
        Ok(bytes) => panic!("not refused:\n{}", String::from_utf8_lossy(&bytes)),
        Err(other) => panic!("{other:?}"),
    }
}

/// The invoice's own required values are business data (the date payment terms run from, the
/// unit Coupa matches to the PO line, the quantity billed): an invoice without them is
/// refused at their path, not written with them empty or missing.
#[test]
fn an_invoice_without_its_required_values_is_refused_at_them() {
    write_invoice_valid_and_round_trip(&invoice());

    let mut undated = invoice();
    undated.invoice_date = None;
    assert_eq!(invoice_refused(&undated).0, "$.invoice_date");

    for uom in [None, Some(""), Some(" ")] {
        let mut no_unit = invoice();
        no_unit.lines[0].uom = uom.map(Into::into);
        let (path, message) = invoice_refused(&no_unit);
        assert_eq!(path, "$.lines[0].uom", "{uom:?}");
        assert!(message.contains("UnitOfMeasure"), "{message}");
    }

    let mut no_quantity = invoice();
    no_quantity.lines[0].quantity = None;
    assert_eq!(invoice_refused(&no_quantity).0, "$.lines[0].quantity");

    let mut no_lines = invoice();
    no_lines.lines.clear();
    assert_eq!(invoice_refused(&no_lines).0, "$.lines");

    // A service line's quantity and unit are optional together with its unit price
    // (`(UnitRate | (UnitOfMeasure, UnitPrice, ...))?`): without unit and price, neither is
    // written; a price without its unit is refused.
    let mut service = invoice();
    // (The reader takes the currency from a unit price, else from the summary's subtotal.)
    service.subtotal = Some("10.00".parse().unwrap());
    let l = &mut service.lines[0];
    l.quantity = None;
    l.uom = None;
    l.unit_price = None;
    l.extensions
        .insert("cxml".into(), serde_json::json!({"service": true}));
    let xml = write_invoice_valid_and_round_trip(&service);
    assert!(!xml.contains("UnitOfMeasure"), "{xml}");
    service.lines[0].unit_price = Some("10.00".parse().unwrap());
    assert_eq!(invoice_refused(&service).0, "$.lines[0].uom");
}

/// cXML from elsewhere that looks like what the new markers say (a placeholder ItemOut, an
/// orderDate that is the timestamp, carried postal addresses and discount halves, in the
/// wrong places or not matching): read, written and read again, it is the same document, or
/// the writer refuses it with a reason (the cXML fuzz target's property).
#[test]
fn documents_from_elsewhere_with_the_new_markers_still_round_trip() {
    let doc = |header_attrs: &str, postal: &str, header_extra: &str, items: &str| {
        format!(
            r#"<?xml version="1.0"?>
<cXML payloadID="x@y" timestamp="2026-01-01T00:00:00+00:00"><Header>
<From><Credential domain="DUNS"><Identity>1</Identity></Credential></From>
<To><Credential domain="DUNS"><Identity>2</Identity></Credential></To>
<Sender><Credential domain="DUNS"><Identity>1</Identity></Credential><UserAgent>u</UserAgent></Sender>
</Header><Request><OrderRequest>
<OrderRequestHeader orderID="O-1" {header_attrs}>
<Total><Money currency="USD">10</Money></Total>
<ShipTo><Address><Name xml:lang="en">Dock</Name>{postal}</Address></ShipTo>
{header_extra}
</OrderRequestHeader>
{items}
</OrderRequest></Request></cXML>"#
        )
    };
    let item = r#"<ItemOut quantity="1" lineNumber="1"><ItemID><SupplierPartID>P</SupplierPartID></ItemID>
<ItemDetail><UnitPrice><Money currency="USD">10</Money></UnitPrice>
<Description xml:lang="en">d</Description><UnitOfMeasure>EA</UnitOfMeasure></ItemDetail></ItemOut>"#;
    let placeholder =
        r#"<ItemOut quantity="0" lineNumber="1"><ItemID><SupplierPartID/></ItemID></ItemOut>"#;
    let marker =
        |name: &str, value: &str| format!(r#"<Extrinsic name="{name}">{value}</Extrinsic>"#);
    let dated = r#"orderDate="2026-01-01" type="update""#;
    // (document, whether the writer writes it)
    let cases = [
        // No orderDate at all.
        (doc(r#"type="new""#, "", "", item), true),
        // The orderDate is the timestamp, with someone's marker; another date with one.
        (
            doc(
                r#"orderDate="2026-01-01T12:00:00+00:00""#,
                "",
                &marker("orderDateSource", "timestamp"),
                item,
            ),
            true,
        ),
        (
            doc(
                r#"orderDate="2025-12-31T23:00:00+00:00""#,
                "",
                &marker("orderDateSource", "timestamp"),
                item,
            ),
            true,
        ),
        // A cancel of no ItemOut (written with the placeholder); a new order of none (refused).
        (doc(r#"orderDate="2026-01-01" type="delete""#, "", "", ""), true),
        (doc(r#"orderDate="2026-01-01" type="new""#, "", "", ""), false),
        // What looks like the placeholder but is not the writer's (on a cancel without the
        // marker, with the marker naming another line, on an update): a line of quantity 0
        // without a unit, refused as any such line is. The marker beside a real line.
        (
            doc(r#"orderDate="2026-01-01" type="delete""#, "", "", placeholder),
            false,
        ),
        (
            doc(
                r#"orderDate="2026-01-01" type="delete""#,
                "",
                &marker("placeholderItemOut", "2"),
                placeholder,
            ),
            false,
        ),
        (
            doc(dated, "", &marker("placeholderItemOut", "1"), placeholder),
            false,
        ),
        (
            doc(
                r#"orderDate="2026-01-01" type="delete""#,
                "",
                &marker("placeholderItemOut", "1"),
                item,
            ),
            true,
        ),
        // A PostalAddress without Street: an attention line and a city; an attention line
        // only; nothing at all.
        (
            doc(
                dated,
                r#"<PostalAddress><DeliverTo>Pat</DeliverTo><City>Town</City><Country isoCountryCode="US">United States</Country></PostalAddress>"#,
                "",
                item,
            ),
            true,
        ),
        (
            doc(
                dated,
                r#"<PostalAddress><DeliverTo>Pat</DeliverTo></PostalAddress>"#,
                "",
                item,
            ),
            true,
        ),
        (doc(dated, r#"<PostalAddress/>"#, "", item), true),
        // Carried postal addresses beside a ShipTo that has one, or with a street in them,
        // and one for a BillTo the document does not have.
        (
            doc(
                dated,
                r#"<PostalAddress><Street>1 Road</Street><City>Town</City><Country isoCountryCode="US"/></PostalAddress>"#,
                r#"<Extrinsic name="shipToPostalAddressWithoutStreet"><City>Elsewhere</City></Extrinsic>"#,
                item,
            ),
            true,
        ),
        (
            doc(
                dated,
                "",
                r#"<Extrinsic name="shipToPostalAddressWithoutStreet"><Street>1 Road</Street><City>Elsewhere</City><Country isoCountryCode="US"/></Extrinsic>
<Extrinsic name="billToPostalAddressWithoutStreet"><City>Nowhere</City></Extrinsic>"#,
                item,
            ),
            true,
        ),
        // A whole discount term beside the writer's halves (one of them not a number).
        (
            doc(
                dated,
                "",
                &format!(
                    r#"<PaymentTerm payInNumberOfDays="30"><Discount><DiscountPercent percent="3"/></Discount></PaymentTerm>{}{}"#,
                    marker("discountPercentWithoutDays", "2"),
                    marker("discountDaysWithoutPercent", "x"),
                ),
                item,
            ),
            true,
        ),
        // Half a discount term: days without a percent, a percent without days.
        (
            doc(
                dated,
                "",
                r#"<PaymentTerm payInNumberOfDays="10"><Discount/></PaymentTerm>"#,
                item,
            ),
            true,
        ),
        (
            doc(
                dated,
                "",
                r#"<PaymentTerm><Discount><DiscountPercent percent="2"/></Discount></PaymentTerm>"#,
                item,
            ),
            true,
        ),
        // An empty UnitOfMeasure; an Accounting without segments (both refused).
        (
            doc(
                dated,
                "",
                "",
                &item.replace("<UnitOfMeasure>EA</UnitOfMeasure>", "<UnitOfMeasure/>"),
            ),
            false,
        ),
        (
            doc(
                dated,
                "",
                "",
                &item.replace(
                    "</ItemDetail>",
                    r#"</ItemDetail><Distribution><Accounting name="A"/><Charge><Money currency="USD">1</Money></Charge></Distribution>"#,
                ),
            ),
            false,
        ),
    ];
    let codec = CxmlCodec::new();
    let partner = profile();
    for (i, (raw, writable)) in cases.iter().enumerate() {
        let first = codec.decode(raw.as_bytes(), &partner);
        assert!(first.rejects.is_empty(), "case {i}: {:?}", first.rejects);
        let docs: Vec<Document> = first.documents.into_iter().map(|d| d.document).collect();
        let written = gateway_core::Encode::encode(&codec, &docs, &partner);
        assert_eq!(written.is_ok(), *writable, "case {i}: {written:?}");
        let Ok(bytes) = written else {
            continue;
        };
        let xml = String::from_utf8(bytes).unwrap();
        let problems = dtd_problems(tree(&xml).root().unwrap());
        assert!(problems.is_empty(), "case {i}: {problems:#?}\n{xml}");
        let again = codec.decode(xml.as_bytes(), &partner);
        assert!(again.rejects.is_empty(), "case {i}: {:?}", again.rejects);
        let back: Vec<Document> = again.documents.into_iter().map(|d| d.document).collect();
        assert_eq!(back, docs, "case {i}\n{raw}\n{xml}");
    }
}

// ---- What an X12 order holds beyond the model ----------------------------------------------

/// An X12 850's line ship-to (`extensions.x12.ship_to`, the PO1 loop's `N1*ST`) goes in the
/// `ItemOut`'s `ShipTo`, its `MSG` text (`extensions.x12.comments`) in the `ItemOut`'s
/// `Comments` (cXML.dtd: `ItemOut (ItemID, ..., ShipTo?, Shipping?, Tax?, ..., Comments*,
/// ...)`), each when cXML's own is not there; the tiers after its first ITD
/// (`extensions.x12.payment_terms`) are further `PaymentTerm`s. Valid; read back, they are
/// cXML's own. A tier without days has no `PaymentTerm` (`payInNumberOfDays` is required):
/// named left out. Found by QA: all of it was dropped on the way from X12 to cXML.
#[test]
fn an_x12_line_s_ship_to_comments_and_payment_tiers_go_in_the_order_request() {
    let mut po = coupa_po(OrderPurpose::New);
    po.extensions.insert(
        "x12".into(),
        json!({"payment_terms": [
            {"net_days": 45, "discount_percent": "1", "discount_days": 20},
            {"net_days": 60, "description": "Net 60 on backorders"},
            {"description": "EOM"}
        ]}),
    );
    let mut dock = ship_to();
    dock.name = Some("Dock 4".into());
    dock.contact = None;
    po.lines[0].extensions.insert(
        "x12".into(),
        json!({"ship_to": dock, "comments": "Deliver to dock 4\nRing the bell"}),
    );
    let xml = write(&po);
    let t = tree(&xml);
    let problems = dtd_problems(t.root().unwrap());
    assert!(problems.is_empty(), "{problems:#?}\n{xml}");
    let first = items(&t)[0];
    assert_eq!(
        first.find("ShipTo/Address/Name").map(|n| n.text()),
        Some("Dock 4"),
        "{xml}"
    );
    assert_eq!(
        first.child("Comments").map(|n| n.text()),
        Some("Deliver to dock 4\nRing the bell")
    );
    assert!(items(&t)[1].child("ShipTo").is_none());
    assert_eq!(
        payment_terms(&xml)
            .into_iter()
            .map(|(days, _)| days.unwrap())
            .collect::<Vec<_>>(),
        // Net 45 (from the code), then 1% in 20 (its net 45 already written) and net 60.
        ["45", "20", "60"]
    );

    let back = read_back(&xml);
    let cxml = &back.lines[0].extensions["cxml"];
    assert_eq!(cxml["ship_to"], serde_json::to_value(&dock).unwrap());
    assert_eq!(cxml["comments"], json!("Deliver to dock 4\nRing the bell"));
    // cXML's terms are a list, not tiers: the order having no discount of its own, the
    // tier's is the discount its reader takes for the order's. The same terms, none lost.
    assert_eq!(
        back.payment_terms,
        Some(PaymentTerms {
            discount_percent: Some("1".parse().unwrap()),
            discount_days: Some(20),
            ..po.payment_terms.clone().unwrap()
        })
    );
    assert_eq!(
        back.extensions["cxml"]["payment_terms"][2]["attributes"]["payInNumberOfDays"],
        json!("60")
    );

    let left = gateway_core::Encode::left_out(
        &CxmlCodec::new(),
        &Document::PurchaseOrder(po),
        &gateway_core::PartnerProfile::anonymous(),
    );
    assert_eq!(left.len(), 1, "{left:#?}");
    assert!(
        left[0].starts_with("$.extensions.x12.payment_terms[2]: its description"),
        "{left:#?}"
    );
}

/// An X12 850's ship-from (`N1*SF`, `extensions.x12.ship_from`; the model has no field for
/// it): cXML.dtd's `OrderRequestHeader` has no `ShipFrom` element, but its `Contact*` takes a
/// `role` of any name, and `shipFrom` is the role cXML gives the party goods are shipped from
/// (an invoice's `InvoiceDetailShipping`, a ship notice's header). Written there, after the
/// supplier's and buyer's contacts, the order is valid and reads back with the ship-from as
/// cXML's own (`extensions.cxml.parties.shipFrom`); written again from that, the same. One
/// that is no party is refused at its path.
#[test]
fn an_x12_ship_from_is_a_header_contact_of_role_ship_from() {
    let from = Party {
        name: Some("Acme Dock 2".into()),
        ids: vec![PartyId {
            domain: "92".into(),
            value: "DOCK2".into(),
        }],
        address: Some(Address {
            lines: vec!["5 Quay Road".into()],
            city: Some("Springfield".into()),
            region: Some("IL".into()),
            postal_code: Some("62702".into()),
            country: Some("US".into()),
        }),
        contact: Some("Lee Park".into()),
        ..Party::default()
    };
    let mut po = coupa_po(OrderPurpose::New);
    po.extensions.insert(
        "x12".into(),
        json!({"ship_from": serde_json::to_value(&from).unwrap()}),
    );
    let xml = write(&po);
    let t = tree(&xml);
    let problems = dtd_problems(t.root().unwrap());
    assert!(problems.is_empty(), "{problems:#?}\n{xml}");
    let header = at(&t, "Request/OrderRequest/OrderRequestHeader");
    let roles: Vec<&str> = header
        .children_named("Contact")
        .map(|c| c.attr("role").unwrap_or_default())
        .collect();
    assert_eq!(roles, ["supplierCorporate", "shipFrom"], "{xml}");
    let back = read_back(&xml);
    let kept: Party =
        serde_json::from_value(back.extensions["cxml"]["parties"]["shipFrom"].clone()).unwrap();
    assert_eq!(kept, from);
    assert_eq!(back.supplier, po.supplier);
    write_valid_and_round_trip(&back);

    po.extensions
        .insert("x12".into(), json!({"ship_from": "Dock 2"}));
    let (path, message) = refused(&po);
    assert_eq!(path, "$.extensions.x12.ship_from", "{message}");
}

// ---- QA 14b: what reached suppliers of Coupa POs ---------------------------------------------

/// The `Money` of the header's `Total`.
fn total_money(xml: &str) -> String {
    let t = tree(xml);
    at(&t, "Request/OrderRequest/OrderRequestHeader/Total/Money")
        .text()
        .to_string()
}

/// QA 14b item 9: a Coupa PO without `total` (QA3-CX) was written with `<Total><Money
/// currency="EUR"/></Total>`, an empty amount, while its mail said "Total: 500.32 EUR". Total
/// is required (`OrderRequestHeader (Total, ...)`): it is the sum of the lines' amounts, a
/// line without one counting quantity × unit price, and reads back as no total.
#[test]
fn a_po_without_a_total_is_written_with_the_sum_of_its_lines() {
    let mut po = coupa_po(OrderPurpose::New);
    po.total = None;
    let xml = write_valid_and_round_trip(&po);
    assert_eq!(total_money(&xml), "2505.00", "{xml}");
    assert!(
        header_extrinsics(&xml).contains(&("totalSource".to_string(), "lines".to_string())),
        "{xml}"
    );

    // The quantity line without an amount of its own: 10.0 × 100.50 = 1005.000. QA: the
    // Total was written at the product's scale (`1112.470`); trailing zeros past two decimals
    // are dropped.
    po.lines[0].amount = None;
    let xml = write_valid_and_round_trip(&po);
    assert_eq!(total_money(&xml), "2505.00", "{xml}");

    // A total of its own is written as it is, with no marker.
    let xml = write_valid_and_round_trip(&coupa_po(OrderPurpose::New));
    assert_eq!(total_money(&xml), "2505.00");
    assert!(!xml.contains("totalSource"), "{xml}");

    // A total someone changed after it was written is the order's own when read back.
    let mut po = coupa_po(OrderPurpose::New);
    po.total = None;
    let xml = write(&po);
    assert_eq!(xml.matches(">2505.00<").count(), 1, "{xml}");
    let changed = xml.replace(">2505.00<", ">2600.00<");
    assert_eq!(read_back(&changed).total, Some("2600.00".parse().unwrap()));
}

/// Nothing to add up (no total, and a line with neither an amount nor a unit price): refused
/// at that line, saying what to give, rather than written with an empty `Money`.
#[test]
fn a_po_without_a_total_and_a_line_without_an_amount_is_refused_at_the_line() {
    let mut po = coupa_po(OrderPurpose::New);
    po.total = None;
    po.lines[1].amount = None;
    po.lines[1].unit_price = None;
    let (path, message) = refused(&po);
    assert_eq!(path, "$.lines[1].amount", "{message}");
    assert!(message.contains("Total"), "{message}");
}

/// QA 14b item 7: a Coupa PO line's `supp-aux-part-num` (QA3-CX's `AUX-9`, a punch-out
/// item's key) reached no supplier. Kept as the Coupa mapping keeps it (`extensions.coupa`),
/// it is the line's `ItemID/SupplierPartAuxiliaryID`, which reads back as cXML's own; so is an
/// X12 line's `VS` pair.
#[test]
fn a_coupa_lines_auxiliary_part_id_is_its_supplier_part_auxiliary_id() {
    let mut po = coupa_po(OrderPurpose::New);
    po.lines[0].buyer_part_id = Some("IT-7".into());
    po.lines[0].extensions.insert(
        "coupa".into(),
        json!({"id": 101, "supp-aux-part-num": "AUX-9", "type": "OrderQuantityLine"}),
    );
    po.lines[1]
        .extensions
        .insert("x12".into(), json!({"ids": [["VS", "AUX-10"]]}));
    let xml = write(&po);
    let t = tree(&xml);
    let problems = dtd_problems(t.root().unwrap());
    assert!(problems.is_empty(), "{problems:#?}\n{xml}");
    let lines = items(&t);
    let id = lines[0].child("ItemID").unwrap();
    assert_eq!(
        names(id),
        ["SupplierPartID", "SupplierPartAuxiliaryID", "BuyerPartID"]
    );
    assert_eq!(id.child("SupplierPartAuxiliaryID").unwrap().text(), "AUX-9");
    assert_eq!(
        lines[1]
            .find("ItemID/SupplierPartAuxiliaryID")
            .map(|a| a.text()),
        Some("AUX-10"),
        "{xml}"
    );
    let back = read_back(&xml);
    assert_eq!(
        back.lines[0].extensions["cxml"]["supplier_part_auxiliary_id"],
        "AUX-9"
    );
    // Read back, it is written once, as cXML's own.
    let again = write_valid_and_round_trip(&back);
    assert_eq!(
        again.matches("<SupplierPartAuxiliaryID>").count(),
        2,
        "{again}"
    );
}
