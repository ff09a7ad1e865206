//! The serde baseline for the `cxml` group: quick-xml deserialising the same InvoiceDetailRequest
//! bytes into plain structs that mirror the elements our decoder reads (decimals kept as strings,
//! which favours the baseline). It builds no canonical model and validates nothing.
#![allow(non_snake_case, dead_code)]

use serde::Deserialize;

#[derive(Deserialize)]
pub struct CXml {
    #[serde(rename = "@payloadID")]
    payload_id: String,
    #[serde(rename = "@timestamp")]
    timestamp: String,
    Header: Header,
    Request: Request,
}
#[derive(Deserialize)]
struct Header {
    From: Creds,
    To: Creds,
    Sender: Creds,
}
#[derive(Deserialize)]
struct Creds {
    Credential: Vec<Cred>,
}
#[derive(Deserialize)]
struct Cred {
    #[serde(rename = "@domain")]
    domain: String,
    Identity: String,
    SharedSecret: Option<String>,
}
#[derive(Deserialize)]
struct Request {
    #[serde(rename = "@deploymentMode")]
    mode: Option<String>,
    InvoiceDetailRequest: Idr,
}
#[derive(Deserialize)]
struct Idr {
    InvoiceDetailRequestHeader: Hdr,
    InvoiceDetailOrder: Vec<Order>,
    InvoiceDetailSummary: Summary,
}
#[derive(Deserialize)]
struct Hdr {
    #[serde(rename = "@invoiceID")]
    id: String,
    #[serde(rename = "@purpose")]
    purpose: String,
    #[serde(rename = "@operation")]
    operation: String,
    #[serde(rename = "@invoiceDate")]
    date: String,
    #[serde(default)]
    InvoicePartner: Vec<Partner>,
    #[serde(default)]
    PaymentTerm: Vec<Pt>,
    Comments: Option<String>,
}
#[derive(Deserialize)]
struct Partner {
    Contact: Contact,
}
#[derive(Deserialize)]
struct Contact {
    #[serde(rename = "@role")]
    role: String,
    Name: Text,
}
#[derive(Deserialize)]
struct Text {
    #[serde(rename = "$text")]
    text: Option<String>,
}
#[derive(Deserialize)]
struct Pt {
    #[serde(rename = "@payInNumberOfDays")]
    days: Option<String>,
}
#[derive(Deserialize)]
struct Order {
    InvoiceDetailOrderInfo: Info,
    InvoiceDetailItem: Vec<Item>,
}
#[derive(Deserialize)]
struct Info {
    OrderReference: Option<OrderRef>,
}
#[derive(Deserialize)]
struct OrderRef {
    #[serde(rename = "@orderID")]
    id: Option<String>,
}
#[derive(Deserialize)]
struct Item {
    #[serde(rename = "@invoiceLineNumber")]
    n: String,
    #[serde(rename = "@quantity")]
    q: String,
    UnitOfMeasure: String,
    UnitPrice: MoneyH,
    InvoiceDetailItemReference: ItemRef,
    SubtotalAmount: MoneyH,
    Tax: Option<TaxT>,
}
#[derive(Deserialize)]
struct MoneyH {
    Money: Money,
}
#[derive(Deserialize)]
struct Money {
    #[serde(rename = "@currency")]
    currency: String,
    #[serde(rename = "$text")]
    value: Option<String>,
}
#[derive(Deserialize)]
struct ItemRef {
    #[serde(rename = "@lineNumber")]
    line: Option<String>,
    ItemID: Option<ItemId>,
    Description: Option<Text>,
}
#[derive(Deserialize)]
struct ItemId {
    SupplierPartID: String,
    BuyerPartID: Option<String>,
}
#[derive(Deserialize)]
struct TaxT {
    Money: Money,
    Description: Option<Text>,
    #[serde(default)]
    TaxDetail: Vec<Detail>,
}
#[derive(Deserialize)]
struct Detail {
    #[serde(rename = "@category")]
    category: String,
    #[serde(rename = "@percentageRate")]
    rate: Option<String>,
    TaxableAmount: Option<MoneyH>,
    TaxAmount: MoneyH,
}
#[derive(Deserialize)]
struct Summary {
    SubtotalAmount: MoneyH,
    Tax: TaxT,
    ShippingAmount: Option<MoneyH>,
    NetAmount: MoneyH,
    DueAmount: Option<MoneyH>,
}
