//! The serde baseline for the `cxml` group: quick-xml deserialising the same InvoiceDetailRequest
//! bytes into plain structs (and writing them back, the encode baseline) that mirror the elements our decoder reads (decimals kept as strings,
//! which favours the baseline). It builds no canonical model and validates nothing.
#![allow(non_snake_case, dead_code)]

use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize)]
pub struct CXml {
    #[serde(rename = "@payloadID")]
    payload_id: String,
    #[serde(rename = "@timestamp")]
    timestamp: String,
    Header: Header,
    Request: Request,
}
#[derive(Deserialize, Serialize)]
struct Header {
    From: Creds,
    To: Creds,
    Sender: Creds,
}
#[derive(Deserialize, Serialize)]
struct Creds {
    Credential: Vec<Cred>,
}
#[derive(Deserialize, Serialize)]
struct Cred {
    #[serde(rename = "@domain")]
    domain: String,
    Identity: String,
    SharedSecret: Option<String>,
}
#[derive(Deserialize, Serialize)]
struct Request {
    #[serde(rename = "@deploymentMode")]
    mode: Option<String>,
    InvoiceDetailRequest: Idr,
}
#[derive(Deserialize, Serialize)]
struct Idr {
    InvoiceDetailRequestHeader: Hdr,
    InvoiceDetailOrder: Vec<Order>,
    InvoiceDetailSummary: Summary,
}
#[derive(Deserialize, Serialize)]
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
#[derive(Deserialize, Serialize)]
struct Partner {
    Contact: Contact,
}
#[derive(Deserialize, Serialize)]
struct Contact {
    #[serde(rename = "@role")]
    role: String,
    Name: Text,
}
#[derive(Deserialize, Serialize)]
struct Text {
    #[serde(rename = "$text")]
    text: Option<String>,
}
#[derive(Deserialize, Serialize)]
struct Pt {
    #[serde(rename = "@payInNumberOfDays")]
    days: Option<String>,
}
#[derive(Deserialize, Serialize)]
struct Order {
    InvoiceDetailOrderInfo: Info,
    InvoiceDetailItem: Vec<Item>,
}
#[derive(Deserialize, Serialize)]
struct Info {
    OrderReference: Option<OrderRef>,
}
#[derive(Deserialize, Serialize)]
struct OrderRef {
    #[serde(rename = "@orderID")]
    id: Option<String>,
}
#[derive(Deserialize, Serialize)]
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
#[derive(Deserialize, Serialize)]
struct MoneyH {
    Money: Money,
}
#[derive(Deserialize, Serialize)]
struct Money {
    #[serde(rename = "@currency")]
    currency: String,
    #[serde(rename = "$text")]
    value: Option<String>,
}
#[derive(Deserialize, Serialize)]
struct ItemRef {
    #[serde(rename = "@lineNumber")]
    line: Option<String>,
    ItemID: Option<ItemId>,
    Description: Option<Text>,
}
#[derive(Deserialize, Serialize)]
struct ItemId {
    SupplierPartID: String,
    BuyerPartID: Option<String>,
}
#[derive(Deserialize, Serialize)]
struct TaxT {
    Money: Money,
    Description: Option<Text>,
    #[serde(default)]
    TaxDetail: Vec<Detail>,
}
#[derive(Deserialize, Serialize)]
struct Detail {
    #[serde(rename = "@category")]
    category: String,
    #[serde(rename = "@percentageRate")]
    rate: Option<String>,
    TaxableAmount: Option<MoneyH>,
    TaxAmount: MoneyH,
}
#[derive(Deserialize, Serialize)]
struct Summary {
    SubtotalAmount: MoneyH,
    Tax: TaxT,
    ShippingAmount: Option<MoneyH>,
    NetAmount: MoneyH,
    DueAmount: Option<MoneyH>,
}
