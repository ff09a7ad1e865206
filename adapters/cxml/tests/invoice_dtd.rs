//! The InvoiceDetailRequest the gateway writes, checked against InvoiceDetail.dtd (1.2.050, the
//! version in its DOCTYPE): what a validating receiver refuses. The content models below are
//! InvoiceDetail.dtd's (and cXML.dtd's, for the shared elements); every document written here
//! must satisfy them, and must read back as the canonical document it was written from (what
//! the writer fills in for the DTD's sake does not leak into the model).
//!
//! Where the models come from (the stored copies of public material this was checked against;
//! the DTD itself is not among them):
//! - `InvoiceDetailRequestHeader`, `InvoiceDetailOrder`, `InvoiceDetailItem`,
//!   `InvoiceDetailItemReference`, `InvoiceDetailServiceItem`,
//!   `InvoiceDetailServiceItemReference`, `InvoiceDetailLineShipping (InvoiceDetailShipping,
//!   Money, Distribution*)`, `InvoiceDetailSummary`, `InvoicePartner (Contact, IdReference*)`:
//!   the DTD declarations quoted in a cXML builder's sources (TypeScript "Tidy" classes,
//!   `TidyInvoiceDetail*`, in the code corpus);
//! - `Tax (Money, TaxAdjustmentAmount?, Description, TaxDetail*, Distribution*, Extrinsic*)`,
//!   `TaxDetail`, `Contact`, `ItemID`: the same builder's shared classes;
//! - `InvoiceDetailShipping (Contact, Contact+, CarrierIdentifier*, ShipmentIdentifier*,
//!   ShipmentIdentifierInfo*, DocumentReference?)`: 1.2.050's, as the task gives it (the
//!   builder quotes an older form that also starts `Contact, Contact+`);
//! - `InvoiceDetailOrderInfo`, `InvoiceDetailDiscount (Money, Distribution*)`,
//!   `SpecialHandlingAmount (Money, Description?)`, `ShippingAmount (Money)`,
//!   `InvoiceDetailLineSpecialHandling (Description?, Money, Distribution*)`, `InvoiceIDInfo`,
//!   `OrderReference (DocumentReference)` and the `#REQUIRED` attributes
//!   (`InvoiceDetailItemReference@lineNumber`, `InvoiceDetailServiceItemReference@lineNumber`,
//!   ...): from InvoiceDetail.dtd 1.2.050 as remembered, not confirmed against a stored copy
//!   (none quotes them). Integrations in the code corpus write `lineNumber` even for lines
//!   backed by no PO (`lineNumber="0"`), which agrees with it being required.
//!
//! What the model lacks and the DTD requires:
//! - a second `Contact` in `InvoiceDetailShipping`: with one shipping party only (the ship-to
//!   of an X12 or CSV invoice), that party is written as an `InvoicePartner` (the reader takes
//!   its role from either place), not in an `InvoiceDetailShipping` of one `Contact`;
//! - the `InvoiceDetailShipping` of a line's shipping charge: the invoice's ship-from and
//!   ship-to (the line's own ship-to in its place, when it has one), an empty-named contact
//!   for either that is unknown (the reader takes neither the invoice's ship-to nor an
//!   empty-named one for a line's own, and does not read a line's ship-from);
//! - the `Money` of the `InvoiceDetailLineShipping` of a line that has a ship-to of its own
//!   but no shipping charge: zero, marked by the line Extrinsic `lineShippingWithoutCharge`,
//!   and read as no charge;
//! - the PO line a line bills (`lineNumber`, required): written empty when there is none, and
//!   read as none;
//! - half of `(ManufacturerPartID, ManufacturerName)?`: the other half written empty, and
//!   read as absent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use adapter_cxml::reader::{Limits, Node, Tree, parse_one};
use adapter_cxml::{CxmlCodec, encode_invoice};
use gateway_core::testkit::{files_under, repo_root};
use gateway_core::{Decode, Encode, EncodeError, PartnerProfile};
use gateway_model::{
    Address, Charge, ChargeKind, Document, Invoice, InvoiceLine, InvoicePurpose, Party, PartyId,
    PaymentTerms, Tax,
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
shared_secret = "s3cret"
payload_id_host = "gw.example"
"#,
        "test.toml",
    )
    .unwrap()
}

fn write(inv: &Invoice) -> String {
    String::from_utf8(encode_invoice(inv, &profile()).unwrap()).unwrap()
}

fn tree(xml: &str) -> Tree {
    parse_one(xml.as_bytes(), &Limits::default()).unwrap()
}

/// The one invoice read back from `xml`.
fn read_back(xml: &str) -> Invoice {
    let d = CxmlCodec::new().decode(xml.as_bytes(), &profile());
    assert!(d.rejects.is_empty(), "{:?}\n{xml}", d.rejects);
    assert_eq!(d.documents.len(), 1, "{xml}");
    match d.documents.into_iter().next().map(|d| d.document) {
        Some(Document::Invoice(inv)) => inv,
        other => panic!("not an invoice: {other:?}"),
    }
}

fn assert_valid(xml: &str) {
    let t = tree(xml);
    let problems = dtd_problems(t.root().unwrap());
    assert!(problems.is_empty(), "{problems:#?}\n{xml}");
}

/// Written, it is valid; read back, it is what was written.
fn write_valid_and_round_trip(inv: &Invoice) -> String {
    let xml = write(inv);
    assert_valid(&xml);
    assert_eq!(&read_back(&xml), inv, "{xml}");
    xml
}

fn refused(inv: &Invoice) -> (String, String) {
    match encode_invoice(inv, &profile()) {
        Err(EncodeError::Invalid { path, message }) => (path, message),
        Ok(bytes) => panic!("not refused:\n{}", String::from_utf8_lossy(&bytes)),
        Err(other) => panic!("{other:?}"),
    }
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

const HEADER: &str = "Request/InvoiceDetailRequest/InvoiceDetailRequestHeader";

/// `(role, name)` of the `Contact`s directly under `n`.
fn contacts(n: Node<'_>) -> Vec<(String, String)> {
    n.children_named("Contact")
        .map(|c| {
            (
                c.attr("role").unwrap_or_default().to_string(),
                c.child("Name")
                    .map(|n| n.text())
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// The roles of the header's `InvoicePartner` contacts.
fn partner_roles(t: &Tree) -> Vec<String> {
    at(t, HEADER)
        .children_named("InvoicePartner")
        .map(|p| {
            p.child("Contact")
                .unwrap()
                .attr("role")
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Every `InvoiceDetailItem` and `InvoiceDetailServiceItem`, in document order.
fn items(t: &Tree) -> Vec<Node<'_>> {
    at(t, "Request/InvoiceDetailRequest")
        .children_named("InvoiceDetailOrder")
        .flat_map(|o| {
            o.children().filter(|c| {
                c.name() == "InvoiceDetailItem" || c.name() == "InvoiceDetailServiceItem"
            })
        })
        .collect()
}

// ---- The content models of InvoiceDetail.dtd 1.2.050 this writer touches -----------------

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

/// `(A | B | ...)`: the children match one of the models.
type Choice = &'static [Model];

const INVOICE_DETAIL_REQUEST: Choice = &[
    &[
        (&["InvoiceDetailRequestHeader"], One),
        (&["InvoiceDetailOrder"], OneOrMore),
        (&["InvoiceDetailSummary"], One),
    ],
    &[
        (&["InvoiceDetailRequestHeader"], One),
        (&["InvoiceDetailHeaderOrder"], OneOrMore),
        (&["InvoiceDetailSummary"], One),
    ],
];

/// `(..., (InvoiceDetailPaymentTerm* | PaymentTerm*), ...)`: one model for each.
const REQUEST_HEADER_PAYMENT_TERM: Model = &[
    (&["InvoiceDetailHeaderIndicator"], One),
    (&["InvoiceDetailLineIndicator"], One),
    (&["InvoicePartner"], Many),
    (&["DocumentReference"], Optional),
    (&["InvoiceIDInfo"], Optional),
    (&["PaymentProposalIDInfo"], Optional),
    (&["InvoiceDetailShipping"], Optional),
    (&["ShipNoticeIDInfo"], Optional),
    (&["PaymentTerm"], Many),
    (&["PaymentInformation"], Optional),
    (&["Period"], Optional),
    (&["Comments"], Optional),
    (&["IdReference"], Many),
    (&["Extrinsic"], Many),
];
const REQUEST_HEADER_DETAIL_PAYMENT_TERM: Model = &[
    (&["InvoiceDetailHeaderIndicator"], One),
    (&["InvoiceDetailLineIndicator"], One),
    (&["InvoicePartner"], Many),
    (&["DocumentReference"], Optional),
    (&["InvoiceIDInfo"], Optional),
    (&["PaymentProposalIDInfo"], Optional),
    (&["InvoiceDetailShipping"], Optional),
    (&["ShipNoticeIDInfo"], Optional),
    (&["InvoiceDetailPaymentTerm"], Many),
    (&["PaymentInformation"], Optional),
    (&["Period"], Optional),
    (&["Comments"], Optional),
    (&["IdReference"], Many),
    (&["Extrinsic"], Many),
];
const INVOICE_DETAIL_REQUEST_HEADER: Choice = &[
    REQUEST_HEADER_PAYMENT_TERM,
    REQUEST_HEADER_DETAIL_PAYMENT_TERM,
];
const EMPTY: Choice = &[&[]];
const INVOICE_PARTNER: Choice = &[&[(&["Contact"], One), (&["IdReference"], Many)]];
const INVOICE_DETAIL_SHIPPING: Choice = &[&[
    (&["Contact"], One),
    (&["Contact"], OneOrMore),
    (&["CarrierIdentifier"], Many),
    (&["ShipmentIdentifier"], Many),
    (&["ShipmentIdentifierInfo"], Many),
    (&["DocumentReference"], Optional),
]];
const CONTACT: Choice = &[&[
    (&["Name"], One),
    (&["PostalAddress"], Many),
    (&["Email"], Many),
    (&["Phone"], Many),
    (&["Fax"], Many),
    (&["URL"], Many),
    (&["IdReference"], Many),
    (&["Extrinsic"], Many),
]];
const POSTAL_ADDRESS: Choice = &[&[
    (&["DeliverTo"], Many),
    (&["Street"], OneOrMore),
    (&["City"], One),
    (&["Municipality"], Optional),
    (&["State"], Optional),
    (&["PostalCode"], Optional),
    (&["Country"], One),
    (&["Extrinsic"], Many),
]];
const PHONE: Choice = &[&[(&["TelephoneNumber"], One)]];
const TELEPHONE_NUMBER: Choice = &[&[
    (&["CountryCode"], One),
    (&["AreaOrCityCode"], One),
    (&["Number"], One),
    (&["Extension"], Optional),
]];
const PAYMENT_TERM: Choice = &[&[(&["Discount"], Optional), (&["Extrinsic"], Many)]];
const DISCOUNT: Choice = &[&[(&["DiscountPercent", "DiscountAmount"], One)]];
const INVOICE_DETAIL_ORDER: Choice = &[&[
    (&["InvoiceDetailOrderInfo"], One),
    (&["InvoiceDetailReceiptInfo"], Optional),
    (&["InvoiceDetailShipNoticeInfo"], Optional),
    (
        &["InvoiceDetailItem", "InvoiceDetailServiceItem"],
        OneOrMore,
    ),
]];
const INVOICE_DETAIL_ORDER_INFO: Choice = &[
    &[
        (&["OrderReference"], One),
        (&["MasterAgreementReference"], Optional),
        (&["MasterAgreementIDInfo"], Optional),
        (&["SupplierOrderInfo"], Optional),
    ],
    &[
        (&["MasterAgreementReference"], One),
        (&["OrderIDInfo"], Optional),
        (&["SupplierOrderInfo"], Optional),
    ],
    &[
        (&["MasterAgreementIDInfo"], One),
        (&["OrderIDInfo"], Optional),
        (&["SupplierOrderInfo"], Optional),
    ],
    &[(&["OrderIDInfo"], One), (&["SupplierOrderInfo"], Optional)],
    &[(&["SupplierOrderInfo"], One)],
];
const ORDER_REFERENCE: Choice = &[&[(&["DocumentReference"], One)]];
const ORDER_ID_INFO: Choice = &[&[(&["IdReference"], Many)]];
const INVOICE_DETAIL_ITEM: Choice = &[&[
    (&["UnitOfMeasure"], One),
    (&["UnitPrice"], One),
    (&["PriceBasisQuantity"], Optional),
    (&["InvoiceDetailItemReference"], One),
    (&["ReceiptLineItemReference"], Optional),
    (&["ShipNoticeLineItemReference"], Optional),
    (
        &["ServiceEntryItemReference", "ServiceEntryItemIDInfo"],
        Optional,
    ),
    (&["ProductMovementItemIDInfo"], Optional),
    (&["SubtotalAmount"], Optional),
    (&["Tax"], Optional),
    (&["InvoiceDetailLineSpecialHandling"], Optional),
    (&["InvoiceDetailLineShipping"], Optional),
    (&["ShipNoticeIDInfo"], Optional),
    (&["GrossAmount"], Optional),
    (&["InvoiceDetailDiscount"], Optional),
    (&["InvoiceItemModifications"], Optional),
    (&["TotalCharges"], Optional),
    (&["TotalAllowances"], Optional),
    (&["TotalAmountWithoutTax"], Optional),
    (&["NetAmount"], Optional),
    (&["Distribution"], Many),
    (&["Packaging"], Many),
    (&["InvoiceDetailItemIndustry"], Optional),
    (&["Comments"], Optional),
    (&["CustomsInfo"], Optional),
    (&["Extrinsic"], Many),
]];
/// `(ItemID?, Description?, Classification*, (ManufacturerPartID, ManufacturerName)?,
/// Country?, SerialNumber*, SupplierBatchID?, InvoiceDetailItemReferenceIndustry?)`: without
/// the manufacturer pair, or with both of it.
const INVOICE_DETAIL_ITEM_REFERENCE: Choice = &[
    &[
        (&["ItemID"], Optional),
        (&["Description"], Optional),
        (&["Classification"], Many),
        (&["Country"], Optional),
        (&["SerialNumber"], Many),
        (&["SupplierBatchID"], Optional),
        (&["InvoiceDetailItemReferenceIndustry"], Optional),
    ],
    &[
        (&["ItemID"], Optional),
        (&["Description"], Optional),
        (&["Classification"], Many),
        (&["ManufacturerPartID"], One),
        (&["ManufacturerName"], One),
        (&["Country"], Optional),
        (&["SerialNumber"], Many),
        (&["SupplierBatchID"], Optional),
        (&["InvoiceDetailItemReferenceIndustry"], Optional),
    ],
];
/// `(InvoiceDetailServiceItemReference, (ServiceEntryItemReference | ServiceEntryItemIDInfo)?,
/// SubtotalAmount, Period?, (UnitRate | (UnitOfMeasure, UnitPrice, PriceBasisQuantity?))?,
/// Tax?, GrossAmount?, InvoiceDetailDiscount?, InvoiceItemModifications?, TotalCharges?,
/// TotalAllowances?, TotalAmountWithoutTax?, NetAmount?, Distribution*, Comments?,
/// InvoiceLaborDetail?, Extrinsic*)`: one model for each way of pricing.
macro_rules! service_item {
    ($($pricing:expr),*) => {
        &[
            (&["InvoiceDetailServiceItemReference"], One),
            (
                &["ServiceEntryItemReference", "ServiceEntryItemIDInfo"],
                Optional,
            ),
            (&["SubtotalAmount"], One),
            (&["Period"], Optional),
            $($pricing,)*
            (&["Tax"], Optional),
            (&["GrossAmount"], Optional),
            (&["InvoiceDetailDiscount"], Optional),
            (&["InvoiceItemModifications"], Optional),
            (&["TotalCharges"], Optional),
            (&["TotalAllowances"], Optional),
            (&["TotalAmountWithoutTax"], Optional),
            (&["NetAmount"], Optional),
            (&["Distribution"], Many),
            (&["Comments"], Optional),
            (&["InvoiceLaborDetail"], Optional),
            (&["Extrinsic"], Many),
        ]
    };
}
const INVOICE_DETAIL_SERVICE_ITEM: Choice = &[
    service_item!(),
    service_item!((&["UnitRate"], One)),
    service_item!(
        (&["UnitOfMeasure"], One),
        (&["UnitPrice"], One),
        (&["PriceBasisQuantity"], Optional)
    ),
];
const INVOICE_DETAIL_SERVICE_ITEM_REFERENCE: Choice = &[&[
    (&["Classification"], Many),
    (&["ItemID"], Optional),
    (&["Description"], Optional),
]];
const ITEM_ID: Choice = &[&[
    (&["SupplierPartID"], One),
    (&["SupplierPartAuxiliaryID"], Optional),
    (&["BuyerPartID"], Optional),
    (&["IdReference"], Many),
]];
const UNIT_PRICE: Choice = &[&[
    (&["Money"], One),
    (&["Modifications"], Optional),
    (&["PricingConditions"], Optional),
]];
/// `SubtotalAmount`, `ShippingAmount`, `GrossAmount`, `NetAmount`, `DueAmount`,
/// `TaxableAmount`, `TaxAmount`: `(Money)`.
const MONEY_ONLY: Choice = &[&[(&["Money"], One)]];
const TAX: Choice = &[&[
    (&["Money"], One),
    (&["TaxAdjustmentAmount"], Optional),
    (&["Description"], One),
    (&["TaxDetail"], Many),
    (&["Distribution"], Many),
    (&["Extrinsic"], Many),
]];
const TAX_DETAIL: Choice = &[&[
    (&["TaxableAmount"], Optional),
    (&["TaxAmount"], One),
    (&["TaxLocation"], Optional),
    (&["TaxAdjustmentAmount"], Optional),
    (&["Description"], Optional),
    (&["TriangularTransactionLawReference"], Optional),
    (&["TaxRegime"], Optional),
    (&["TaxExemption"], Optional),
    (&["Extrinsic"], Many),
]];
const INVOICE_DETAIL_LINE_SPECIAL_HANDLING: Choice = &[&[
    (&["Description"], Optional),
    (&["Money"], One),
    (&["Distribution"], Many),
]];
const INVOICE_DETAIL_LINE_SHIPPING: Choice = &[&[
    (&["InvoiceDetailShipping"], One),
    (&["Money"], One),
    (&["Distribution"], Many),
]];
const INVOICE_DETAIL_DISCOUNT: Choice = &[&[(&["Money"], One), (&["Distribution"], Many)]];
const INVOICE_DETAIL_SUMMARY: Choice = &[&[
    (&["SubtotalAmount"], One),
    (&["Tax"], One),
    (&["SpecialHandlingAmount"], Optional),
    (&["ShippingAmount"], Optional),
    (&["GrossAmount"], Optional),
    (&["InvoiceDetailDiscount"], Optional),
    (&["InvoiceHeaderModifications"], Optional),
    (&["InvoiceDetailSummaryLineItemModifications"], Optional),
    (&["TotalCharges"], Optional),
    (&["TotalAllowances"], Optional),
    (&["TotalAmountWithoutTax"], Optional),
    (&["NetAmount"], One),
    (&["DepositAmount"], Optional),
    (&["DueAmount"], Optional),
    (&["InvoiceDetailSummaryIndustry"], Optional),
]];
const SPECIAL_HANDLING_AMOUNT: Choice = &[&[(&["Money"], One), (&["Description"], Optional)]];
/// `Comments` is mixed: text and `Attachment`s.
const COMMENTS: Choice = &[&[(&["Attachment"], Many)]];
/// `Description` is mixed: text and `ShortName`s.
const DESCRIPTION: Choice = &[&[(&["ShortName"], Many)]];

/// Elements of `#PCDATA` only.
const TEXT_ONLY: &[&str] = &[
    "Money",
    "Name",
    "DeliverTo",
    "Street",
    "City",
    "State",
    "PostalCode",
    "Country",
    "Email",
    "CountryCode",
    "AreaOrCityCode",
    "Number",
    "UnitOfMeasure",
    "SupplierPartID",
    "SupplierPartAuxiliaryID",
    "BuyerPartID",
    "ManufacturerPartID",
    "ManufacturerName",
    "ShortName",
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

fn model_of(name: &str) -> Option<Choice> {
    Some(match name {
        "InvoiceDetailRequest" => INVOICE_DETAIL_REQUEST,
        "InvoiceDetailRequestHeader" => INVOICE_DETAIL_REQUEST_HEADER,
        "InvoiceDetailHeaderIndicator"
        | "InvoiceDetailLineIndicator"
        | "InvoiceIDInfo"
        | "DocumentReference"
        | "DiscountPercent"
        | "IdReference" => EMPTY,
        "InvoicePartner" => INVOICE_PARTNER,
        "InvoiceDetailShipping" => INVOICE_DETAIL_SHIPPING,
        "Contact" => CONTACT,
        "PostalAddress" => POSTAL_ADDRESS,
        "Phone" => PHONE,
        "TelephoneNumber" => TELEPHONE_NUMBER,
        "PaymentTerm" => PAYMENT_TERM,
        "Discount" => DISCOUNT,
        "InvoiceDetailOrder" => INVOICE_DETAIL_ORDER,
        "InvoiceDetailOrderInfo" => INVOICE_DETAIL_ORDER_INFO,
        "OrderReference" => ORDER_REFERENCE,
        "OrderIDInfo" => ORDER_ID_INFO,
        "InvoiceDetailItem" => INVOICE_DETAIL_ITEM,
        "InvoiceDetailItemReference" => INVOICE_DETAIL_ITEM_REFERENCE,
        "InvoiceDetailServiceItem" => INVOICE_DETAIL_SERVICE_ITEM,
        "InvoiceDetailServiceItemReference" => INVOICE_DETAIL_SERVICE_ITEM_REFERENCE,
        "ItemID" => ITEM_ID,
        "UnitPrice" => UNIT_PRICE,
        "SubtotalAmount" | "ShippingAmount" | "GrossAmount" | "NetAmount" | "DueAmount"
        | "TaxableAmount" | "TaxAmount" => MONEY_ONLY,
        "Tax" => TAX,
        "TaxDetail" => TAX_DETAIL,
        "InvoiceDetailLineSpecialHandling" => INVOICE_DETAIL_LINE_SPECIAL_HANDLING,
        "InvoiceDetailLineShipping" => INVOICE_DETAIL_LINE_SHIPPING,
        "InvoiceDetailDiscount" => INVOICE_DETAIL_DISCOUNT,
        "InvoiceDetailSummary" => INVOICE_DETAIL_SUMMARY,
        "SpecialHandlingAmount" => SPECIAL_HANDLING_AMOUNT,
        "Comments" => COMMENTS,
        "Description" => DESCRIPTION,
        n if TEXT_ONLY.contains(&n) => EMPTY,
        _ => return None,
    })
}

/// What an attribute's value must be.
#[derive(Clone, Copy)]
enum Value {
    /// `CDATA` (`%string;`, `%uint;`, ...): present, any text, empty included.
    Text,
    /// `NMTOKEN` (`%isoCountryCode;`, ...): present and not empty.
    Token,
    /// A number the reader takes (`%r8;`, `%uint;` where the writer writes one).
    Number,
}

/// The `#REQUIRED` attributes of the elements above.
fn required(name: &str) -> &'static [(&'static str, Value)] {
    match name {
        "InvoiceDetailRequestHeader" => {
            &[("invoiceID", Value::Text), ("invoiceDate", Value::Token)]
        }
        "InvoiceDetailItem" => &[
            ("invoiceLineNumber", Value::Token),
            ("quantity", Value::Number),
        ],
        "InvoiceDetailServiceItem" => &[("invoiceLineNumber", Value::Token)],
        "InvoiceDetailItemReference" | "InvoiceDetailServiceItemReference" => {
            &[("lineNumber", Value::Text)]
        }
        "InvoiceIDInfo" => &[("invoiceID", Value::Text)],
        "OrderIDInfo" => &[("orderID", Value::Text)],
        "DocumentReference" => &[("payloadID", Value::Text)],
        "Money" => &[("currency", Value::Token)],
        "TaxDetail" => &[("category", Value::Text)],
        "PaymentTerm" => &[("payInNumberOfDays", Value::Number)],
        "DiscountPercent" => &[("percent", Value::Number)],
        "Country" | "CountryCode" => &[("isoCountryCode", Value::Token)],
        "Name" | "Description" => &[("xml:lang", Value::Token)],
        "Extrinsic" => &[("name", Value::Text)],
        "IdReference" => &[("identifier", Value::Text), ("domain", Value::Text)],
        _ => &[],
    }
}

/// Attributes of enumerated or numeric type, when present.
fn typed(name: &str) -> &'static [(&'static str, &'static [&'static str])] {
    const NUMBER: &[&str] = &[];
    match name {
        "InvoiceDetailRequestHeader" => &[
            (
                "purpose",
                &[
                    "standard",
                    "creditMemo",
                    "debitMemo",
                    "lineLevelCreditMemo",
                    "lineLevelDebitMemo",
                ],
            ),
            ("operation", &["new", "delete"]),
        ],
        "InvoiceDetailLineIndicator" => &[
            ("isTaxInLine", &["yes"]),
            ("isSpecialHandlingInLine", &["yes"]),
            ("isShippingInLine", &["yes"]),
            ("isDiscountInLine", &["yes"]),
            ("isAccountingInLine", &["yes"]),
        ],
        "InvoiceDetailServiceItem" => &[("quantity", NUMBER)],
        "InvoiceDetailDiscount" | "TaxDetail" => &[("percentageRate", NUMBER)],
        _ => &[],
    }
}

fn is_number(s: &str) -> bool {
    s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// What in the tree under `n` breaks the DTD's rules for the elements above (content models,
/// required attributes, enumerated and numeric attribute values).
fn dtd_problems(n: Node<'_>) -> Vec<String> {
    let mut out = Vec::new();
    check(n, &mut out);
    out
}

fn check(n: Node<'_>, out: &mut Vec<String>) {
    let kids = names(n);
    if let Some(choice) = model_of(n.name())
        && !choice.iter().any(|m| matches(&kids, m))
    {
        out.push(format!("{}: children {kids:?}", n.path()));
    }
    for (attr, value) in required(n.name()) {
        match (n.attr(attr), value) {
            (None, _) => out.push(format!("{}: no {attr}", n.path())),
            (Some(v), Value::Token) if v.trim().is_empty() => {
                out.push(format!("{}: {attr} is empty", n.path()));
            }
            (Some(v), Value::Number) if !is_number(v) => {
                out.push(format!("{}: {attr}={v:?} is not a number", n.path()));
            }
            _ => {}
        }
    }
    for (attr, allowed) in typed(n.name()) {
        let Some(v) = n.attr(attr) else { continue };
        let ok = if allowed.is_empty() {
            is_number(v)
        } else {
            allowed.contains(&v)
        };
        if !ok {
            out.push(format!("{}: {attr}={v:?}", n.path()));
        }
    }
    for c in n.children() {
        check(c, out);
    }
}

/// QA: `convert --to cxml` of Coupa's CSV invoice import (no subtotal, no tax) wrote
/// `<SubtotalAmount><Money currency="USD"/>` and `<Tax><Money currency="USD"/>`: `Money` is
/// `#PCDATA` to the DTD, but an empty one is no amount a receiver can read. The subtotal is
/// the lines' sum and the tax the taxes' sum (zero without any), each read back as none.
#[test]
fn a_summary_without_subtotal_or_tax_total_gets_their_sums() {
    let line = |n: u32, amount: &str| InvoiceLine {
        line_number: n,
        quantity: money("1"),
        uom: Some("EA".into()),
        unit_price: money(amount),
        amount: money(amount),
        description: Some(format!("Item {n}").into()),
        ..InvoiceLine::default()
    };
    let mut inv = Invoice {
        invoice_number: Some("INV-1001".into()),
        invoice_date: Some("2026-03-15".parse().unwrap()),
        currency: Some("USD".into()),
        po_number: Some("PO-7781".into()),
        lines: vec![line(1, "125.00"), line(2, "45.00")],
        charges: vec![charge(ChargeKind::Shipping, "15.00", None)],
        total: money("185.00"),
        ..Invoice::default()
    };
    let summary_money = |xml: &str, name: &str| {
        let t = tree(xml);
        at(
            &t,
            &format!("Request/InvoiceDetailRequest/InvoiceDetailSummary/{name}/Money"),
        )
        .text()
        .to_string()
    };
    let xml = write_valid_and_round_trip(&inv);
    assert_eq!(summary_money(&xml, "SubtotalAmount"), "170.00", "{xml}");
    assert_eq!(summary_money(&xml, "Tax"), "0.00", "{xml}");

    // Taxes with amounts, the header's and a line's: the tax is their sum.
    inv.taxes = vec![sales_tax("5.00", "125.00")];
    inv.lines[1].taxes = vec![sales_tax("1.250", "45.00")];
    let xml = write_valid_and_round_trip(&inv);
    assert_eq!(summary_money(&xml, "Tax"), "6.25", "{xml}");

    // A value changed since it was written is the invoice's own.
    let changed = xml.replace(">170.00</Money>", ">171.00</Money>");
    assert_eq!(read_back(&changed).subtotal, money("171.00"));
    assert_eq!(read_back(&changed).tax_total, None);

    // Sums that are not known are refused where they are missing, not written empty.
    inv.taxes[0].amount = None;
    let (path, message) = refused(&inv);
    assert_eq!(path, "$.taxes[0].amount", "{message}");
    assert!(
        message.contains("give the invoice its tax_total"),
        "{message}"
    );
    inv.tax_total = money("6.25");
    inv.lines[0].amount = None;
    inv.lines[0].unit_price = None;
    let (path, message) = refused(&inv);
    assert_eq!(path, "$.lines[0].amount", "{message}");
    inv.subtotal = money("170.00");
    assert_valid(&write(&inv));
}

/// The checker refuses what the writer used to write (so the tests test something).
#[test]
fn the_checker_refuses_what_a_validating_receiver_refuses() {
    let bad = r#"<InvoiceDetailRequest>
      <InvoiceDetailRequestHeader invoiceID="1" invoiceDate="2026-01-01" purpose="memo">
        <InvoiceDetailHeaderIndicator/><InvoiceDetailLineIndicator isShippingInLine="no"/>
        <InvoiceDetailShipping><Contact role="shipTo"><Name xml:lang="en">Dock</Name></Contact></InvoiceDetailShipping>
        <PaymentTerm payInNumberOfDays="30"/>
        <InvoiceDetailPaymentTerm payInNumberofDays="30" percentageRate="0"/>
      </InvoiceDetailRequestHeader>
      <InvoiceDetailOrder>
        <InvoiceDetailOrderInfo/>
        <InvoiceDetailItem invoiceLineNumber="1" quantity="2">
          <UnitOfMeasure>EA</UnitOfMeasure><UnitPrice><Money currency="USD">1</Money></UnitPrice>
          <InvoiceDetailItemReference>
            <Description xml:lang="en">a</Description><Description xml:lang="de">b</Description>
            <ManufacturerPartID>M</ManufacturerPartID>
          </InvoiceDetailItemReference>
          <InvoiceDetailLineShipping><Money currency="USD">3</Money></InvoiceDetailLineShipping>
        </InvoiceDetailItem>
        <InvoiceDetailServiceItem invoiceLineNumber="2">
          <InvoiceDetailServiceItemReference lineNumber="2"/>
          <SubtotalAmount><Money currency="USD">1</Money></SubtotalAmount>
          <InvoiceDetailLineSpecialHandling><Money currency="USD">1</Money></InvoiceDetailLineSpecialHandling>
        </InvoiceDetailServiceItem>
      </InvoiceDetailOrder>
      <InvoiceDetailSummary>
        <SubtotalAmount><Money currency="USD">2</Money></SubtotalAmount>
        <Tax><Money currency="USD">0</Money></Tax>
        <NetAmount><Money currency="USD">2</Money></NetAmount>
      </InvoiceDetailSummary>
    </InvoiceDetailRequest>"#;
    let t = tree(bad);
    let problems = dtd_problems(t.root().unwrap());
    for want in [
        "InvoiceDetailRequestHeader: children",
        "purpose=\"memo\"",
        "isShippingInLine=\"no\"",
        "InvoiceDetailShipping: children",
        "InvoiceDetailOrderInfo: children",
        "InvoiceDetailItemReference: no lineNumber",
        "InvoiceDetailItemReference: children",
        "InvoiceDetailLineShipping: children",
        "InvoiceDetailServiceItem: children",
        "Tax: children",
    ] {
        assert!(
            problems.iter().any(|p| p.contains(want)),
            "{want}: {problems:#?}"
        );
    }
}

// ---- A rich invoice ---------------------------------------------------------------------------

fn address(street: &str, city: &str, region: &str, postal: &str) -> Address {
    Address {
        lines: vec![street.into()],
        city: Some(city.into()),
        region: Some(region.into()),
        postal_code: Some(postal.into()),
        country: Some("US".into()),
    }
}

fn party(name: &str, a: Option<Address>) -> Party {
    Party {
        name: Some(name.into()),
        address: a,
        ..Party::default()
    }
}

fn money(s: &str) -> Option<rust_decimal::Decimal> {
    Some(s.parse().unwrap())
}

fn charge(kind: ChargeKind, amount: &str, description: Option<&str>) -> Charge {
    Charge {
        kind,
        amount: money(amount),
        rate: None,
        category: None,
        description: description.map(Into::into),
        code: None,
    }
}

fn sales_tax(amount: &str, taxable: &str) -> Tax {
    Tax {
        amount: money(amount),
        rate: money("8.25"),
        category: Some("sales".into()),
        description: Some("Sales tax".into()),
        taxable_amount: money(taxable),
    }
}

fn ship_from() -> Party {
    party(
        "Acme Dock 2",
        Some(address("5 Loading Lane", "Springfield", "IL", "62702")),
    )
}

/// Every part of the model the writer writes: the parties (the ship-from kept in the
/// extensions, the model having no field for it), terms, header and line taxes, charges of
/// each kind on the header and on a line, lines of two POs and a line of none, a service
/// line, comments and Extrinsics.
fn rich() -> Invoice {
    let supplier = Party {
        name: Some("Acme Industrial Supply".into()),
        ids: vec![
            PartyId {
                domain: "addressID".into(),
                value: "ACME-HQ".into(),
            },
            PartyId {
                domain: "DUNS".into(),
                value: "123456789".into(),
            },
        ],
        address: Some(address("100 Factory Road", "Springfield", "IL", "62701")),
        contact: Some("Dana Ortiz".into()),
        email: Some("billing@acme.example".into()),
        phone: Some("+1 217 555 0100".into()),
    };
    let mut ship_to = party(
        "Globex Warehouse 7",
        Some(address("77 Dock Street", "Cypress Creek", "OR", "97002")),
    );
    ship_to.ids.push(PartyId {
        domain: "buyerLocationID".into(),
        value: "WH7".into(),
    });
    let goods = InvoiceLine {
        line_number: 1,
        quantity: money("10"),
        uom: Some("EA".into()),
        unit_price: money("12.50"),
        amount: money("125.00"),
        description: Some("Safety gloves, nitrile, size L".into()),
        supplier_part_id: Some("GLV-NIT-L".into()),
        buyer_part_id: Some("100234".into()),
        po_line_number: Some("1".into()),
        taxes: vec![sales_tax("10.31", "125.00")],
        // In the order the reader reads them: shipping, special handling, discount.
        charges: vec![
            charge(ChargeKind::Shipping, "4.00", Some("Line freight")),
            charge(ChargeKind::Handling, "2.00", Some("Cold chain")),
            Charge {
                rate: money("5"),
                ..charge(ChargeKind::Discount, "6.25", None)
            },
        ],
        extensions: [(
            "cxml".to_string(),
            json!({
                "comments": "Deliver to dock 2",
                "extrinsic": {"CostCenter": "CC-410"},
                "manufacturer_part_id": "MPN-9",
                "manufacturer_name": "Maker",
            }),
        )]
        .into_iter()
        .collect(),
        ..InvoiceLine::default()
    };
    let other_po = InvoiceLine {
        line_number: 2,
        quantity: money("2"),
        uom: Some("BX".into()),
        unit_price: money("45.00"),
        amount: money("90.00"),
        description: Some("Printer paper A4, box of 5 reams".into()),
        supplier_part_id: Some("PPR-A4-5".into()),
        // Billed on a PO whose line is not known: `lineNumber` (required) is written empty.
        po_line_number: None,
        taxes: vec![sales_tax("7.43", "90.00")],
        charges: vec![charge(ChargeKind::Shipping, "1.50", None)],
        // A second PO: written in an InvoiceDetailOrder of its own.
        po_number: Some("PO-7790".into()),
        ..InvoiceLine::default()
    };
    let service = InvoiceLine {
        line_number: 3,
        quantity: money("1.5"),
        uom: Some("HUR".into()),
        unit_price: money("80.00"),
        amount: money("120.00"),
        description: Some("On-site installation".into()),
        po_line_number: Some("3".into()),
        charges: vec![charge(ChargeKind::Discount, "10.00", None)],
        extensions: [(
            "cxml".to_string(),
            json!({"service": true, "comments": "Technician: R. Diaz"}),
        )]
        .into_iter()
        .collect(),
        ..InvoiceLine::default()
    };
    Invoice {
        invoice_number: Some("INV-2026-0042".into()),
        invoice_date: Some("2026-03-15".parse().unwrap()),
        purpose: Some(InvoicePurpose::Standard),
        po_number: Some("PO-7781".into()),
        currency: Some("USD".into()),
        supplier: Some(supplier),
        buyer: Some(Party {
            name: Some("Globex Corporation".into()),
            ids: vec![PartyId {
                domain: "NetworkID".into(),
                value: "AN01000000123".into(),
            }],
            ..Party::default()
        }),
        bill_to: Some(party(
            "Globex Accounts Payable",
            Some(address("1 Globex Plaza", "Cypress Creek", "OR", "97001")),
        )),
        remit_to: Some(party(
            "Acme Industrial Supply - Lockbox",
            Some(address("PO Box 5521", "Chicago", "IL", "60680")),
        )),
        ship_to: Some(ship_to),
        payment_terms: Some(PaymentTerms {
            description: Some("2% 10 Net 30".into()),
            net_days: Some(30),
            discount_percent: money("2"),
            discount_days: Some(10),
        }),
        lines: vec![goods, other_po, service],
        taxes: vec![Tax {
            amount: money("17.74"),
            rate: money("8.25"),
            category: Some("sales".into()),
            description: Some("Illinois sales tax".into()),
            taxable_amount: money("215.00"),
        }],
        charges: vec![
            charge(ChargeKind::Shipping, "15.00", Some("Freight, 2 pallets")),
            charge(ChargeKind::Handling, "3.00", Some("Fragile packing")),
            Charge {
                rate: money("1.5"),
                ..charge(ChargeKind::Discount, "5.00", Some("Loyalty"))
            },
        ],
        subtotal: money("335.00"),
        tax_total: money("17.74"),
        total: money("361.24"),
        comments: Some("Thank you for your business.".into()),
        extensions: [(
            "cxml".to_string(),
            json!({
                "extrinsic": {"CustomerReference": "GX-REQ-881"},
                "parties": {"shipFrom": serde_json::to_value(ship_from()).unwrap()},
            }),
        )]
        .into_iter()
        .collect(),
        ..Invoice::default()
    }
}

#[test]
fn a_rich_invoice_is_valid_and_reads_back_as_written() {
    let xml = write_valid_and_round_trip(&rich());
    let t = tree(&xml);

    // Ship-from and ship-to in the header's InvoiceDetailShipping, the others as partners.
    assert_eq!(
        contacts(at(&t, &format!("{HEADER}/InvoiceDetailShipping"))),
        [
            ("shipFrom".to_string(), "Acme Dock 2".to_string()),
            ("shipTo".to_string(), "Globex Warehouse 7".to_string()),
        ]
    );
    assert_eq!(partner_roles(&t), ["from", "soldTo", "billTo", "remitTo"]);

    // A line's shipping names the parties of its shipment: the invoice's.
    let lines = items(&t);
    for line in &lines[..2] {
        let shipping = line.find("InvoiceDetailLineShipping").unwrap();
        assert_eq!(names(shipping), ["InvoiceDetailShipping", "Money"], "{xml}");
        assert_eq!(
            contacts(shipping.child("InvoiceDetailShipping").unwrap()),
            [
                ("shipFrom".to_string(), "Acme Dock 2".to_string()),
                ("shipTo".to_string(), "Globex Warehouse 7".to_string()),
            ]
        );
    }
    assert_eq!(
        lines[0]
            .find("InvoiceDetailLineShipping/Money")
            .unwrap()
            .text(),
        "4.00"
    );

    // The PO line: as given; none known: empty (required), read back as none.
    let reference = |i: usize| {
        lines[i]
            .children()
            .find(|c| c.name().ends_with("ItemReference"))
            .unwrap()
    };
    assert_eq!(reference(0).attr("lineNumber"), Some("1"));
    assert_eq!(reference(1).attr("lineNumber"), Some(""));
    assert_eq!(reference(2).attr("lineNumber"), Some("3"));
    assert_eq!(
        at(&t, HEADER)
            .child("InvoiceDetailLineIndicator")
            .unwrap()
            .attrs()
            .collect::<Vec<_>>(),
        [
            ("isTaxInLine", "yes"),
            ("isSpecialHandlingInLine", "yes"),
            ("isShippingInLine", "yes"),
            ("isDiscountInLine", "yes"),
        ]
    );
}

/// The invoice's ship date is the header's `InvoiceDetailShipping@shippingDate`
/// (`%datetime.tz; #IMPLIED`): cXML's own (`extensions.cxml.shipping_date`) written back as
/// it came, a date alone as the writer writes one (noon UTC); X12's (`extensions.x12.ship_date`,
/// an 810's `DTM*011`) the same way, read back as cXML's own. Valid either way; an X12 one that
/// is no date is refused with its path.
#[test]
fn the_ship_date_is_the_shipping_date_of_the_header_shipping() {
    let shipping_date = |xml: &str| {
        at(&tree(xml), &format!("{HEADER}/InvoiceDetailShipping"))
            .attr("shippingDate")
            .map(str::to_string)
    };
    for (kept, written) in [
        ("2026-03-14", "2026-03-14T12:00:00+00:00"),
        ("2026-03-14T08:30:00-05:00", "2026-03-14T08:30:00-05:00"),
    ] {
        let mut inv = rich();
        inv.extensions.get_mut("cxml").unwrap()["shipping_date"] = json!(kept);
        let xml = write_valid_and_round_trip(&inv);
        assert_eq!(shipping_date(&xml).as_deref(), Some(written), "{xml}");
    }
    let mut inv = rich();
    inv.extensions
        .insert("x12".into(), json!({"ship_date": "2026-03-14"}));
    let xml = write(&inv);
    assert_valid(&xml);
    assert_eq!(
        shipping_date(&xml).as_deref(),
        Some("2026-03-14T12:00:00+00:00"),
        "{xml}"
    );
    let back = read_back(&xml);
    assert_eq!(back.extensions["cxml"]["shipping_date"], "2026-03-14");
    assert!(!back.extensions.contains_key("x12"));

    inv.extensions
        .insert("x12".into(), json!({"ship_date": "14.03.2026"}));
    let (path, message) = refused(&inv);
    assert_eq!(path, "$.extensions.x12.ship_date", "{message}");
    assert!(message.contains("YYYY-MM-DD"), "{message}");
}

// ---- 1. InvoiceDetailShipping: two Contacts or none -------------------------------------------

/// An invoice whose only shipping party is its ship-to (what X12 and CSV invoices have): an
/// `InvoiceDetailShipping` of one `Contact` is invalid, and a second one would read back as a
/// party the invoice does not have. The ship-to is an `InvoicePartner`, read back as the ship-to.
#[test]
fn a_ship_to_without_a_ship_from_is_an_invoice_partner() {
    let mut inv = rich();
    inv.extensions = Default::default();
    let xml = write_valid_and_round_trip(&inv);
    let t = tree(&xml);
    assert!(
        at(&t, HEADER).child("InvoiceDetailShipping").is_none(),
        "{xml}"
    );
    assert_eq!(
        partner_roles(&t),
        ["from", "soldTo", "billTo", "remitTo", "shipTo"]
    );

    // A ship-from alone, the same.
    let mut inv = rich();
    inv.ship_to = None;
    let xml = write_valid_and_round_trip(&inv);
    let t = tree(&xml);
    assert!(
        at(&t, HEADER).child("InvoiceDetailShipping").is_none(),
        "{xml}"
    );
    assert_eq!(
        partner_roles(&t),
        ["from", "soldTo", "billTo", "remitTo", "shipFrom"]
    );

    // Neither: no shipping parties at all.
    let mut inv = rich();
    inv.ship_to = None;
    inv.extensions = Default::default();
    let xml = write_valid_and_round_trip(&inv);
    let t = tree(&xml);
    assert!(
        at(&t, HEADER).child("InvoiceDetailShipping").is_none(),
        "{xml}"
    );
    assert_eq!(partner_roles(&t), ["from", "soldTo", "billTo", "remitTo"]);
}

/// Two ship-to contacts (one kept in the extensions, see `encode.rs`) and a carrier: all in
/// `InvoiceDetailShipping`, each read back where it was.
#[test]
fn more_shipping_parties_stay_in_invoice_detail_shipping() {
    let mut inv = rich();
    let cxml = inv.extensions.get_mut("cxml").unwrap();
    cxml["parties"]["shipTo"] = serde_json::to_value(party("Globex Corporation", None)).unwrap();
    cxml["parties"]["carrierCorporate"] = serde_json::to_value(party("FastFreight", None)).unwrap();
    let xml = write_valid_and_round_trip(&inv);
    let t = tree(&xml);
    let roles: Vec<String> = contacts(at(&t, &format!("{HEADER}/InvoiceDetailShipping")))
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    assert_eq!(roles, ["carrierCorporate", "shipFrom", "shipTo", "shipTo"]);
}

// ---- 2. Line-level shipping ---------------------------------------------------------------------

/// `InvoiceDetailLineShipping (InvoiceDetailShipping, Money, Distribution*)`: a line's shipping
/// charge is written with the shipment's parties; where the invoice does not know one, an
/// empty-named `Contact` stands in. The reader reads the charge; the invoice's parties and the
/// stand-ins do not come back into the model as the line's (a line's own ship-to does: see
/// `a_line_s_own_ship_to_goes_in_its_line_shipping_and_reads_back`).
#[test]
fn line_shipping_names_its_shipment_parties_or_stands_in_for_them() {
    for (ship_to, ship_from) in [(true, false), (false, true), (false, false)] {
        let mut inv = rich();
        if !ship_to {
            inv.ship_to = None;
        }
        if !ship_from {
            inv.extensions = Default::default();
        }
        let xml = write_valid_and_round_trip(&inv);
        let t = tree(&xml);
        let shipping = items(&t)[0].find("InvoiceDetailLineShipping").unwrap();
        let want = [
            (
                "shipFrom".to_string(),
                if ship_from { "Acme Dock 2" } else { "" }.to_string(),
            ),
            (
                "shipTo".to_string(),
                if ship_to { "Globex Warehouse 7" } else { "" }.to_string(),
            ),
        ];
        assert_eq!(
            contacts(shipping.child("InvoiceDetailShipping").unwrap()),
            want,
            "{xml}"
        );
        assert_eq!(shipping.child("Money").unwrap().text(), "4.00", "{xml}");
    }
}

/// A service line has no line shipping or special handling in the DTD
/// (`InvoiceDetailServiceItem` holds neither): such a charge is refused at its path, not
/// written where a validating receiver refuses it.
#[test]
fn a_service_line_s_shipping_or_handling_is_refused_at_it() {
    for (kind, element) in [
        (ChargeKind::Shipping, "InvoiceDetailLineShipping"),
        (ChargeKind::Handling, "InvoiceDetailLineSpecialHandling"),
    ] {
        let mut inv = rich();
        inv.lines[2].charges.insert(0, charge(kind, "1.00", None));
        let (path, message) = refused(&inv);
        assert_eq!(path, "$.lines[2].charges[0]");
        assert!(message.contains(element), "{message}");
    }
}

// ---- The item reference -------------------------------------------------------------------------

/// `(ManufacturerPartID, ManufacturerName)?`: both or neither. Half of it (kept from a source,
/// or given in JSON) gets the other half empty, which reads back as absent.
#[test]
fn half_a_manufacturer_gets_the_other_half_empty() {
    for (id, name) in [(Some("MPN-9"), None), (None, Some("Maker"))] {
        let mut inv = rich();
        let cxml = inv.lines[0].extensions.get_mut("cxml").unwrap();
        let o = cxml.as_object_mut().unwrap();
        o.remove("manufacturer_part_id");
        o.remove("manufacturer_name");
        if let Some(id) = id {
            o.insert("manufacturer_part_id".into(), json!(id));
        }
        if let Some(name) = name {
            o.insert("manufacturer_name".into(), json!(name));
        }
        let xml = write_valid_and_round_trip(&inv);
        let t = tree(&xml);
        let reference = items(&t)[0].child("InvoiceDetailItemReference").unwrap();
        assert_eq!(
            reference.child("ManufacturerPartID").unwrap().text(),
            id.unwrap_or_default()
        );
        assert_eq!(
            reference.child("ManufacturerName").unwrap().text(),
            name.unwrap_or_default()
        );
    }
}

// ---- The samples ---------------------------------------------------------------------------------

fn sibling(source: &Path, suffix: &str) -> PathBuf {
    let stem = source.file_stem().unwrap().to_string_lossy().to_string();
    source.with_file_name(format!("{stem}.{suffix}"))
}

/// The cXML invoice samples, read, written and read again: valid, and the same documents.
#[test]
fn the_cxml_invoice_samples_are_written_valid_and_read_back() {
    let codec = CxmlCodec::default();
    let mut checked = 0;
    for source in files_under(&repo_root().join("samples/cxml/invoice")) {
        if source.extension().and_then(|e| e.to_str()) != Some("xml") {
            continue;
        }
        let partner =
            PartnerProfile::load(&sibling(&source, "partner.toml")).unwrap_or_else(|_| profile());
        let first = codec.decode(&std::fs::read(&source).unwrap(), &partner);
        assert!(first.rejects.is_empty(), "{}", source.display());
        let docs: Vec<Document> = first.documents.into_iter().map(|d| d.document).collect();
        let bytes = codec.encode(&docs, &partner).unwrap();
        let xml = String::from_utf8(bytes).unwrap();
        assert_valid(&xml);
        let again = codec.decode(xml.as_bytes(), &partner);
        let back: Vec<Document> = again.documents.into_iter().map(|d| d.document).collect();
        assert_eq!(back, docs, "{}\n{xml}", source.display());
        checked += 1;
    }
    assert!(checked >= 2, "{checked}");
}

/// What cXML does not carry of a document another format read: the other format's extensions
/// and a charge's own code (X12 SAC02).
/// `CCYYMMDD` as `CCYY-MM-DD`.
fn chrono_free_iso(d: &str) -> Option<String> {
    (d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..]))
}

fn without_other_formats(doc: &Document) -> Document {
    let mut doc = doc.clone();
    if let Document::Invoice(inv) = &mut doc {
        // X12's PO date (BIG03) is written as `OrderReference@orderDate` and read back as
        // cXML's own.
        let big03 = inv
            .extensions
            .get("x12")
            .and_then(|x| x.get("elements"))
            .and_then(|e| e.get("BIG03"))
            .and_then(serde_json::Value::as_str)
            .and_then(chrono_free_iso);
        inv.extensions.retain(|k, _| k == "cxml");
        if let Some(date) = big03 {
            let cxml = inv
                .extensions
                .entry("cxml".into())
                .or_insert_with(|| json!({}));
            if cxml.get("order_date").is_none() {
                cxml["order_date"] = json!(date);
            }
        }
        for c in &mut inv.charges {
            c.code = None;
        }
        for l in &mut inv.lines {
            l.extensions.retain(|k, _| k == "cxml");
            for c in &mut l.charges {
                c.code = None;
            }
        }
    }
    doc
}

/// Every canonical invoice under `samples/` (what the CSV, X12, JSON, e-mail and cXML readers
/// make), written as cXML: valid, and read back as the document less what cXML has no place
/// for.
#[test]
fn every_canonical_invoice_sample_is_written_valid() {
    let codec = CxmlCodec::default();
    let mut checked = 0;
    for path in files_under(&repo_root().join("samples")) {
        let file = path.to_string_lossy();
        if !file.ends_with(".json") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for doc in gateway_model::from_json_lines(&bytes) {
            let Ok(doc @ Document::Invoice(_)) = doc else {
                continue;
            };
            let written = codec
                .encode(std::slice::from_ref(&doc), &profile())
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            let xml = String::from_utf8(written).unwrap();
            assert_valid(&xml);
            let back = read_back(&xml);
            assert_eq!(
                Document::Invoice(back),
                without_other_formats(&doc),
                "{file}\n{xml}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked}");
}

/// The shared corpus's cXML invoices (written by others), read and written again: valid, and
/// the same documents.
#[test]
fn the_corpus_invoices_are_written_valid_and_read_back() {
    let Some(dir) =
        gateway_core::testkit::corpus_or_skip("cxml-invoice", "corpus_invoices_valid").unwrap()
    else {
        return;
    };
    let codec = CxmlCodec::default();
    let mut checked = 0;
    for file in files_under(&dir) {
        let first = codec.decode(&std::fs::read(&file).unwrap(), &profile());
        let docs: Vec<Document> = first.documents.into_iter().map(|d| d.document).collect();
        if docs.is_empty() {
            continue;
        }
        let xml = String::from_utf8(codec.encode(&docs, &profile()).unwrap()).unwrap();
        assert_valid(&xml);
        let again = codec.decode(xml.as_bytes(), &profile());
        let back: Vec<Document> = again.documents.into_iter().map(|d| d.document).collect();
        assert_eq!(back, docs, "{}\n{xml}", file.display());
        checked += 1;
    }
    assert!(checked >= 2, "{checked}");
}

/// Payment terms of several tiers: the tiers beside the model's one (kept in the extensions)
/// are written back, and the whole is valid.
#[test]
fn tiered_payment_terms_are_written_whole_and_valid() {
    let rich = std::fs::read_to_string(repo_root().join("samples/cxml/invoice/rich.xml")).unwrap();
    let net = r#"<PaymentTerm payInNumberOfDays="30"/>"#;
    assert_eq!(rich.matches(net).count(), 1);
    let tiers = rich.replacen(
        net,
        r#"<PaymentTerm payInNumberOfDays="20"><Discount><DiscountPercent percent="1"/></Discount></PaymentTerm>
        <PaymentTerm payInNumberOfDays="25"><Discount><DiscountAmount><Money currency="USD">7.25</Money></DiscountAmount></Discount></PaymentTerm>
        <PaymentTerm payInNumberOfDays="30"/>"#,
        1,
    );
    let inv = read_back(&tiers);
    let xml = write_valid_and_round_trip(&inv);
    assert_eq!(xml.matches("<PaymentTerm ").count(), 4, "{xml}");
    assert_eq!(xml.matches("<DiscountPercent ").count(), 2, "{xml}");
    assert_eq!(xml.matches("<DiscountAmount>").count(), 1, "{xml}");
}

// ---- A line's own ship-to; what an X12 document holds beyond the model ------------------------

/// The `(role, name)` of the `Contact`s of line `k`'s `InvoiceDetailLineShipping`, and its
/// `Money`.
fn line_shipping(t: &Tree, k: usize) -> (Vec<(String, String)>, String) {
    let shipping = items(t)[k].find("InvoiceDetailLineShipping").unwrap();
    (
        contacts(shipping.child("InvoiceDetailShipping").unwrap()),
        shipping.child("Money").unwrap().text().to_string(),
    )
}

fn named(role: &str, name: &str) -> (String, String) {
    (role.to_string(), name.to_string())
}

/// `lines[k].extensions.<format>`, made an object when it was none.
fn line_ext<'i>(
    inv: &'i mut Invoice,
    k: usize,
    format: &str,
) -> &'i mut serde_json::Map<String, serde_json::Value> {
    inv.lines[k]
        .extensions
        .entry(format.to_string())
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .unwrap()
}

/// A line's own ship-to (`extensions.cxml.ship_to`, as the reader keeps one) goes in the
/// `shipTo` `Contact` of its `InvoiceDetailLineShipping`, in place of the invoice's:
/// InvoiceDetail.dtd has no `ShipTo` in `InvoiceDetailItem`, and `InvoiceDetailLineShipping
/// (InvoiceDetailShipping, Money, Distribution*)` is where a line's shipping parties are. A
/// line without a shipping charge of its own gets one of zero (`Money` is required), marked,
/// and read back as no charge. Valid, and read back as written. Found by QA: the reader did
/// not read a line's shipping parties at all.
#[test]
fn a_line_s_own_ship_to_goes_in_its_line_shipping_and_reads_back() {
    let mut inv = rich();
    let lab = party(
        "Globex Lab 2",
        Some(address("9 Test Lane", "Cypress Creek", "OR", "97002")),
    );
    // Without a street: its city and country go in the Contact's carried postal address.
    let yard = Party {
        contact: Some("Gate 4".into()),
        address: Some(Address {
            city: Some("Cypress Creek".into()),
            country: Some("US".into()),
            ..Address::default()
        }),
        ..party("Globex Yard", None)
    };
    line_ext(&mut inv, 0, "cxml").insert("ship_to".into(), serde_json::to_value(&lab).unwrap());
    inv.lines[1].charges.clear();
    line_ext(&mut inv, 1, "cxml").insert("ship_to".into(), serde_json::to_value(&yard).unwrap());
    let xml = write_valid_and_round_trip(&inv);
    let t = tree(&xml);

    assert_eq!(
        line_shipping(&t, 0),
        (
            vec![
                named("shipFrom", "Acme Dock 2"),
                named("shipTo", "Globex Lab 2")
            ],
            "4.00".to_string()
        ),
        "{xml}"
    );
    assert_eq!(
        line_shipping(&t, 1),
        (
            vec![
                named("shipFrom", "Acme Dock 2"),
                named("shipTo", "Globex Yard")
            ],
            "0.00".to_string()
        ),
        "{xml}"
    );
    assert!(
        items(&t)[1]
            .children_named("Extrinsic")
            .any(|e| e.attr("name") == Some("lineShippingWithoutCharge")),
        "{xml}"
    );
    assert_eq!(
        at(&t, HEADER)
            .child("InvoiceDetailLineIndicator")
            .unwrap()
            .attr("isShippingInLine"),
        Some("yes")
    );

    // Only the line's charge: no shipping charge of the line yard's, the line lab's as it was.
    let back = read_back(&xml);
    assert!(
        back.lines[1].charges.is_empty(),
        "{:?}",
        back.lines[1].charges
    );
    // A line whose shipping names the invoice's ship-to, or no one, has none of its own.
    let mut plain = rich();
    plain.lines[1].charges.clear();
    let xml = write_valid_and_round_trip(&plain);
    assert!(!xml.contains("lineShippingWithoutCharge"), "{xml}");
    assert_eq!(
        line_shipping(&tree(&xml), 0).0,
        [
            named("shipFrom", "Acme Dock 2"),
            named("shipTo", "Globex Warehouse 7")
        ]
    );
    // A zero shipping charge the source billed stays a charge.
    let mut zero = rich();
    zero.lines[0].charges[0].amount = money("0.00");
    zero.lines[0].charges[0].description = None;
    line_ext(&mut zero, 0, "cxml").insert("ship_to".into(), serde_json::to_value(&lab).unwrap());
    write_valid_and_round_trip(&zero);
}

/// What an X12 invoice holds beyond the model is written where InvoiceDetail.dtd has a place
/// for it, when cXML's own is not there: a line's ship-to (`extensions.x12.ship_to`, an IT1
/// loop's `N1*ST`) in its line shipping, a line's comments (`extensions.x12.comments`) in its
/// `Comments`, the tiers after the first ITD (`extensions.x12.payment_terms`) as further
/// `PaymentTerm`s. Valid; read back, they are cXML's own. A service line's ship-to has no
/// place (`InvoiceDetailServiceItem` has no line shipping) and is named left out, as is a
/// tier's percent without days; what is no party or no list of terms is refused at its path.
#[test]
fn an_x12_line_s_ship_to_comments_and_payment_tiers_are_written_valid() {
    let mut inv = rich();
    let lab = party(
        "Globex Lab 2",
        Some(address("9 Test Lane", "Cypress Creek", "OR", "97002")),
    );
    let dock = party(
        "Globex Dock 9",
        Some(address("9 Pier", "Cypress Creek", "OR", "97002")),
    );
    inv.extensions.insert(
        "x12".into(),
        json!({"payment_terms": [
            {"description": "1% 20 Net 30", "net_days": 30, "discount_percent": "1", "discount_days": 20},
            {"net_days": 45},
            {"discount_percent": "1.5"}
        ]}),
    );
    // cXML's own wins over X12's.
    line_ext(&mut inv, 0, "cxml").insert("ship_to".into(), serde_json::to_value(&lab).unwrap());
    line_ext(&mut inv, 0, "x12").insert("ship_to".into(), serde_json::to_value(&dock).unwrap());
    line_ext(&mut inv, 0, "x12").insert("comments".into(), json!("not this one"));
    line_ext(&mut inv, 1, "x12").insert("ship_to".into(), serde_json::to_value(&lab).unwrap());
    line_ext(&mut inv, 1, "x12").insert("comments".into(), json!("Leave at gate\nThanks"));
    line_ext(&mut inv, 2, "x12").insert("ship_to".into(), serde_json::to_value(&lab).unwrap());

    let xml = write(&inv);
    assert_valid(&xml);
    let t = tree(&xml);
    assert_eq!(
        line_shipping(&t, 1).0,
        [
            named("shipFrom", "Acme Dock 2"),
            named("shipTo", "Globex Lab 2")
        ]
    );
    assert_eq!(
        line_shipping(&t, 0).0,
        [
            named("shipFrom", "Acme Dock 2"),
            named("shipTo", "Globex Lab 2")
        ]
    );
    assert!(items(&t)[2].find("InvoiceDetailLineShipping").is_none());
    let back = read_back(&xml);
    let cxml = |k: usize, key: &str| back.lines[k].extensions["cxml"].get(key).cloned();
    assert_eq!(
        cxml(1, "ship_to"),
        Some(serde_json::to_value(&lab).unwrap())
    );
    assert_eq!(cxml(1, "comments"), Some(json!("Leave at gate\nThanks")));
    assert_eq!(
        cxml(0, "ship_to"),
        Some(serde_json::to_value(&lab).unwrap())
    );
    assert_eq!(cxml(0, "comments"), Some(json!("Deliver to dock 2")));
    assert_eq!(cxml(2, "ship_to"), None);
    assert_eq!(
        back.lines[1].charges.len(),
        1,
        "{:?}",
        back.lines[1].charges
    );
    // The document's terms first, then the tiers: 1% in 20 (its net 30 is the document's), net
    // 45; the percent without days is left out.
    let terms: Vec<(String, Option<String>)> = at(&t, HEADER)
        .children_named("PaymentTerm")
        .map(|p| {
            (
                p.attr("payInNumberOfDays").unwrap().to_string(),
                p.find("Discount/DiscountPercent")
                    .and_then(|d| d.attr("percent"))
                    .map(str::to_string),
            )
        })
        .collect();
    let term = |days: &str, percent: Option<&str>| (days.to_string(), percent.map(str::to_string));
    assert_eq!(
        terms,
        [
            term("10", Some("2")),
            term("30", None),
            term("20", Some("1")),
            term("45", None)
        ],
        "{xml}"
    );
    assert_eq!(back.payment_terms, inv.payment_terms);
    assert_eq!(
        back.extensions["cxml"]["payment_terms"]
            .as_array()
            .map(Vec::len),
        Some(4)
    );

    let left = CxmlCodec::new().left_out(
        &Document::Invoice(inv.clone()),
        &PartnerProfile::anonymous(),
    );
    let paths: Vec<&str> = left.iter().map(|l| l.split(": ").next().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "$.extensions.x12.payment_terms[2]",
            "$.lines[2].extensions.x12.ship_to"
        ],
        "{left:#?}"
    );
    assert!(left[1].contains("InvoiceDetailServiceItem"), "{left:#?}");

    // Malformed, refused at its path rather than dropped.
    let mut bad = inv.clone();
    line_ext(&mut bad, 1, "x12").insert("ship_to".into(), json!("Dock 4"));
    assert_eq!(refused(&bad).0, "$.lines[1].extensions.x12.ship_to");
    let mut bad = inv.clone();
    line_ext(&mut bad, 1, "x12").insert("comments".into(), json!(["a"]));
    assert_eq!(refused(&bad).0, "$.lines[1].extensions.x12.comments");
    let mut bad = inv;
    bad.extensions
        .insert("x12".into(), json!({"payment_terms": {"net_days": 45}}));
    assert_eq!(refused(&bad).0, "$.extensions.x12.payment_terms");
}

/// X12's ship-from (`extensions.x12.ship_from`, an 810's `N1*SF`) is the invoice's ship-from
/// when cXML kept none: with the ship-to, in the header's `InvoiceDetailShipping` and in every
/// line shipping's, read back as cXML's own (`parties.shipFrom`). A line's own ship-from
/// (`lines[].extensions.<cxml|x12>.ship_from`) is the `shipFrom` `Contact` of its line
/// shipping, in place of the invoice's, and reads back as cXML's; a line shipped from its own
/// address without a shipping charge charges nothing. Valid. Found: X12 → cXML lost the
/// ship-from, and the reader did not read a line's ship-from at all.
#[test]
fn an_x12_ship_from_and_a_line_s_own_ship_from_are_written_valid_and_read_back() {
    let mut inv = rich();
    inv.extensions = Default::default();
    inv.extensions
        .insert("x12".into(), json!({"ship_from": ship_from()}));
    let xml = write(&inv);
    assert_valid(&xml);
    let t = tree(&xml);
    let both = [
        named("shipFrom", "Acme Dock 2"),
        named("shipTo", "Globex Warehouse 7"),
    ];
    assert_eq!(
        contacts(at(&t, &format!("{HEADER}/InvoiceDetailShipping"))),
        both,
        "{xml}"
    );
    assert_eq!(line_shipping(&t, 0).0, both, "{xml}");
    let back = read_back(&xml);
    assert_eq!(
        back.extensions["cxml"]["parties"]["shipFrom"],
        serde_json::to_value(ship_from()).unwrap()
    );
    // The invoice's ship-from in a line's shipping is no ship-from of the line's own.
    assert_eq!(
        back.lines[0].extensions["cxml"].get("ship_from"),
        None,
        "{xml}"
    );
    write_valid_and_round_trip(&back);

    // A line's own: cXML's on the first line (with its shipping charge), on the second (none).
    let pier = party(
        "Acme Pier 4",
        Some(address("4 Pier", "Springfield", "IL", "62703")),
    );
    let yard = party("Acme Yard", None);
    let mut inv = rich();
    line_ext(&mut inv, 0, "cxml").insert("ship_from".into(), serde_json::to_value(&pier).unwrap());
    inv.lines[1].charges.clear();
    line_ext(&mut inv, 1, "cxml").insert("ship_from".into(), serde_json::to_value(&yard).unwrap());
    let xml = write_valid_and_round_trip(&inv);
    let t = tree(&xml);
    assert_eq!(
        line_shipping(&t, 0),
        (
            vec![
                named("shipFrom", "Acme Pier 4"),
                named("shipTo", "Globex Warehouse 7")
            ],
            "4.00".to_string()
        ),
        "{xml}"
    );
    assert_eq!(
        line_shipping(&t, 1),
        (
            vec![
                named("shipFrom", "Acme Yard"),
                named("shipTo", "Globex Warehouse 7")
            ],
            "0.00".to_string()
        ),
        "{xml}"
    );
    assert!(read_back(&xml).lines[1].charges.is_empty());

    // X12's (an IT1 loop's N1*SF): written the same, read back as cXML's.
    let mut inv = rich();
    line_ext(&mut inv, 0, "x12").insert("ship_from".into(), serde_json::to_value(&pier).unwrap());
    let xml = write(&inv);
    assert_valid(&xml);
    assert_eq!(
        line_shipping(&tree(&xml), 0).0[0],
        named("shipFrom", "Acme Pier 4")
    );
    assert_eq!(
        read_back(&xml).lines[0].extensions["cxml"]["ship_from"],
        serde_json::to_value(&pier).unwrap()
    );
}
