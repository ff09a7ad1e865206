//! cXML the model has no field for is kept in `extensions.cxml` and written back where cXML
//! puts it: each case adds one element or attribute to a golden sample, and the decoded
//! document holds its value, cXML → canonical → cXML → canonical gives the same document, and
//! the re-encoded cXML carries it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::CxmlCodec;
use gateway_core::testkit::repo_root;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, to_json_line};
use serde_json::Value;

const INVOICE: &str = "samples/cxml/invoice/rich";
const ORDER: &str = "samples/cxml/purchase_order/rich";

struct Case {
    name: &'static str,
    /// The golden sample the document is made from.
    sample: &'static str,
    /// `(text in the sample, what it becomes)`; each text occurs once in the sample.
    edits: &'static [(&'static str, &'static str)],
    /// `(JSON pointer into the decoded document, value)`.
    holds: &'static [(&'static str, &'static str)],
    /// Text the re-encoded cXML contains, in this order.
    written: &'static [&'static str],
}

const LINE1_DESCRIPTION: &str =
    r#"<Description xml:lang="en">Safety gloves, nitrile, size L</Description>"#;

const CASES: &[Case] = &[
    Case {
        name: "order header Payment",
        sample: ORDER,
        edits: &[(
            r#"<PaymentTerm payInNumberOfDays="45"/>"#,
            r#"<Payment><PaymentService method="cc" provider="stripe"><IdReference identifier="ch_1" domain="charge_id"/></PaymentService></Payment>
        <PaymentTerm payInNumberOfDays="45"/>"#,
        )],
        holds: &[
            ("/extensions/cxml/header_elements/0/element", "Payment"),
            (
                "/extensions/cxml/header_elements/0/children/0/attributes/provider",
                "stripe",
            ),
            (
                "/extensions/cxml/header_elements/0/children/0/children/0/attributes/identifier",
                "ch_1",
            ),
        ],
        // In the DTD's place: after Tax, before PaymentTerm.
        written: &[
            "</Tax>",
            "<Payment>",
            r#"<PaymentService method="cc" provider="stripe">"#,
            r#"<IdReference domain="charge_id" identifier="ch_1"/>"#,
            "</Payment>",
            "<PaymentTerm",
        ],
    },
    Case {
        name: "order ShipTo PostalAddress Extrinsic",
        sample: ORDER,
        edits: &[(
            r#"<Country isoCountryCode="US">United States</Country>
            </PostalAddress>
          </Address>
        </ShipTo>"#,
            r#"<Country isoCountryCode="US">United States</Country>
              <Extrinsic name="phone">+49121255566</Extrinsic>
            </PostalAddress>
          </Address>
        </ShipTo>"#,
        )],
        holds: &[(
            "/extensions/cxml/address_extrinsic/ship_to/phone",
            "+49121255566",
        )],
        written: &[
            "<ShipTo>",
            r#"<Extrinsic name="phone">+49121255566</Extrinsic>"#,
            "</PostalAddress>",
            "<BillTo>",
        ],
    },
    Case {
        name: "order header Comments Attachment",
        sample: ORDER,
        edits: &[(
            r#"<Comments xml:lang="en">Deliver between 8am and 2pm &amp; call ahead.</Comments>"#,
            r#"<Comments xml:lang="en">Deliver between 8am and 2pm &amp; call ahead.<Attachment><URL>delivery-note.pdf</URL></Attachment></Comments>"#,
        )],
        holds: &[
            ("/comments", "Deliver between 8am and 2pm & call ahead."),
            ("/extensions/cxml/comments_elements/0/element", "Attachment"),
            (
                "/extensions/cxml/comments_elements/0/children/0/text",
                "delivery-note.pdf",
            ),
        ],
        written: &["<Comments", "<URL>delivery-note.pdf</URL>", "</Comments>"],
    },
    Case {
        name: "order lineNumber not a whole number",
        sample: ORDER,
        edits: &[(r#"lineNumber="2""#, r#"lineNumber="2b""#)],
        holds: &[
            ("/lines/1/line_number", "2"),
            ("/lines/1/extensions/cxml/line_number", "2b"),
        ],
        written: &[r#"lineNumber="2b""#],
    },
    Case {
        name: "invoice MasterAgreementReference",
        sample: INVOICE,
        edits: &[(
            "</OrderReference>",
            r#"</OrderReference>
          <MasterAgreementReference><DocumentReference payloadID="MA-9"/></MasterAgreementReference>"#,
        )],
        holds: &[
            ("/po_number", "PO-7781"),
            (
                "/lines/0/extensions/cxml/order_info/0/element",
                "MasterAgreementReference",
            ),
            (
                "/lines/2/extensions/cxml/order_info/0/children/0/attributes/payloadID",
                "MA-9",
            ),
        ],
        written: &[
            "</OrderReference>",
            "<MasterAgreementReference>",
            r#"<DocumentReference payloadID="MA-9"/>"#,
            "</InvoiceDetailOrderInfo>",
        ],
    },
    Case {
        name: "invoice summary TaxDetails with TaxLocation, taxPointDate and Tax/Description",
        sample: INVOICE,
        edits: &[(
            r#"<Description xml:lang="en">Total tax</Description>"#,
            r#"<Description xml:lang="en">Total tax</Description>
          <TaxDetail purpose="tax" category="sales" percentageRate="8.25" taxPointDate="2026-03-01T00:00:00-05:00"><TaxAmount><Money currency="USD">16.44</Money></TaxAmount><TaxLocation xml:lang="en">IL</TaxLocation></TaxDetail>
          <TaxDetail purpose="shippingTax" category="sales" percentageRate="8.25"><TaxAmount><Money currency="USD">1.30</Money></TaxAmount><TaxLocation xml:lang="en">OR</TaxLocation><Description xml:lang="en">On freight</Description></TaxDetail>"#,
        )],
        holds: &[
            ("/extensions/cxml/tax_description", "Total tax"),
            ("/taxes/1/description", "On freight"),
            (
                "/extensions/cxml/tax_detail_extra/0/attributes/taxPointDate",
                "2026-03-01T00:00:00-05:00",
            ),
            (
                "/extensions/cxml/tax_detail_extra/0/children/0/element",
                "TaxLocation",
            ),
            ("/extensions/cxml/tax_detail_extra/0/children/0/text", "IL"),
            ("/extensions/cxml/tax_detail_extra/1/children/0/text", "OR"),
            ("/extensions/cxml/tax_purposes/1", "shippingTax"),
        ],
        written: &[
            "<InvoiceDetailSummary>",
            r#"<Description xml:lang="en">Total tax</Description>"#,
            r#"taxPointDate="2026-03-01T00:00:00-05:00""#,
            r#"<TaxLocation xml:lang="en">IL</TaxLocation>"#,
            r#"<TaxDetail purpose="shippingTax""#,
            r#"<TaxLocation xml:lang="en">OR</TaxLocation>"#,
            r#"<Description xml:lang="en">On freight</Description>"#,
        ],
    },
    Case {
        name: "invoice line TaxDetail TaxLocation and taxPointDate",
        sample: INVOICE,
        edits: &[(
            r#"<TaxAmount>
                <Money currency="USD">10.31</Money>
              </TaxAmount>"#,
            r#"<TaxAmount>
                <Money currency="USD">10.31</Money>
              </TaxAmount>
              <TaxLocation xml:lang="en">Springfield</TaxLocation>"#,
        )],
        holds: &[
            ("/lines/0/taxes/0/description", "Sales tax"),
            (
                "/lines/0/extensions/cxml/tax_detail_extra/0/children/0/text",
                "Springfield",
            ),
        ],
        written: &[r#"<TaxLocation xml:lang="en">Springfield</TaxLocation>"#],
    },
    Case {
        name: "invoice line Tax/Description beside a TaxDetail's own",
        sample: INVOICE,
        edits: &[(
            r#"<TaxAmount>
                <Money currency="USD">10.31</Money>
              </TaxAmount>"#,
            r#"<TaxAmount>
                <Money currency="USD">10.31</Money>
              </TaxAmount>
              <Description xml:lang="en">Illinois sales tax</Description>"#,
        )],
        holds: &[
            ("/lines/0/taxes/0/description", "Illinois sales tax"),
            ("/lines/0/extensions/cxml/tax_description", "Sales tax"),
        ],
        written: &[
            r#"<Description xml:lang="en">Sales tax</Description>"#,
            r#"<Description xml:lang="en">Illinois sales tax</Description>"#,
        ],
    },
    Case {
        name: "invoice line ManufacturerPartID and ManufacturerName",
        sample: INVOICE,
        edits: &[(
            LINE1_DESCRIPTION,
            r#"<Description xml:lang="en">Safety gloves, nitrile, size L</Description>
            <ManufacturerPartID>MPN-9</ManufacturerPartID>
            <ManufacturerName xml:lang="en">Maker</ManufacturerName>"#,
        )],
        holds: &[
            ("/lines/0/extensions/cxml/manufacturer_part_id", "MPN-9"),
            ("/lines/0/extensions/cxml/manufacturer_name", "Maker"),
        ],
        written: &[
            "Safety gloves, nitrile, size L</Description>",
            "<ManufacturerPartID>MPN-9</ManufacturerPartID>",
            r#"<ManufacturerName xml:lang="en">Maker</ManufacturerName>"#,
            "</InvoiceDetailItemReference>",
        ],
    },
    Case {
        name: "invoice line Description/ShortName",
        sample: INVOICE,
        edits: &[(
            LINE1_DESCRIPTION,
            r#"<Description xml:lang="en"><ShortName>Gloves L</ShortName>Safety gloves, nitrile, size L</Description>"#,
        )],
        holds: &[
            ("/lines/0/description", "Safety gloves, nitrile, size L"),
            ("/lines/0/extensions/cxml/short_name", "Gloves L"),
        ],
        written: &[
            "<ShortName>Gloves L</ShortName>",
            "Safety gloves, nitrile, size L",
            "</Description>",
        ],
    },
    Case {
        name: "invoice line second-language Description",
        sample: INVOICE,
        edits: &[(
            LINE1_DESCRIPTION,
            r#"<Description xml:lang="en">Safety gloves, nitrile, size L</Description>
            <Description xml:lang="de">Schutzhandschuhe, Nitril, Gr. L</Description>"#,
        )],
        holds: &[
            ("/lines/0/description", "Safety gloves, nitrile, size L"),
            (
                "/lines/0/extensions/cxml/other_descriptions/0/attributes/xml:lang",
                "de",
            ),
            (
                "/lines/0/extensions/cxml/other_descriptions/0/text",
                "Schutzhandschuhe, Nitril, Gr. L",
            ),
        ],
        written: &[
            "Safety gloves, nitrile, size L</Description>",
            r#"<Description xml:lang="de">Schutzhandschuhe, Nitril, Gr. L</Description>"#,
        ],
    },
    Case {
        // The model holds a charge's description: it is the canonical field, written back in
        // the element's own Description rather than a carried Extrinsic.
        name: "invoice InvoiceDetailLineSpecialHandling/Description",
        sample: INVOICE,
        edits: &[
            (
                r#"<InvoiceDetailDiscount percentageRate="5">"#,
                r#"<InvoiceDetailLineSpecialHandling><Description xml:lang="en">Crate</Description><Money currency="USD">7.00</Money></InvoiceDetailLineSpecialHandling>
          <InvoiceDetailDiscount percentageRate="5">"#,
            ),
            // The summary's amounts are the invoice's totals, the lines' included: the
            // invoice's own 3.00 and the line's 7.00 (Gross, Net and Due with them).
            (
                r#"<Money currency="USD">3.00</Money>"#,
                r#"<Money currency="USD">10.00</Money>"#,
            ),
            (
                r#"<Money currency="USD">370.74</Money>"#,
                r#"<Money currency="USD">377.74</Money>"#,
            ),
            (
                r#"<Money currency="USD">361.24</Money>
        </NetAmount>"#,
                r#"<Money currency="USD">368.24</Money>
        </NetAmount>"#,
            ),
            (
                r#"<Money currency="USD">361.24</Money>
        </DueAmount>"#,
                r#"<Money currency="USD">368.24</Money>
        </DueAmount>"#,
            ),
        ],
        holds: &[
            ("/lines/1/charges/0/kind", "handling"),
            ("/lines/1/charges/0/description", "Crate"),
            ("/charges/1/kind", "handling"),
            ("/charges/1/amount", "3.00"),
            ("/total", "368.24"),
        ],
        written: &[
            "<InvoiceDetailLineSpecialHandling>",
            r#"<Description xml:lang="en">Crate</Description>"#,
            "<Money",
            "</InvoiceDetailLineSpecialHandling>",
        ],
    },
    Case {
        name: "invoice invoiceLineNumber not a whole number",
        sample: INVOICE,
        edits: &[(r#"invoiceLineNumber="2""#, r#"invoiceLineNumber="A1""#)],
        holds: &[
            ("/lines/1/line_number", "2"),
            ("/lines/1/extensions/cxml/invoice_line_number", "A1"),
        ],
        written: &[r#"invoiceLineNumber="A1""#],
    },
];

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap()
}

fn decode_one(xml: &[u8], partner: &PartnerProfile, case: &str) -> Document {
    let d = CxmlCodec::new().decode(xml, partner);
    assert!(d.rejects.is_empty(), "{case}: {:?}", d.rejects);
    assert_eq!(d.documents.len(), 1, "{case}");
    d.documents.into_iter().next().unwrap().document
}

/// A JSON value as the text the table compares with (strings bare, numbers as written).
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn kept_cxml_is_held_and_written_back_where_cxml_puts_it() {
    for case in CASES {
        let mut xml = read(&format!("{}.xml", case.sample));
        for (from, to) in case.edits {
            assert_eq!(xml.matches(from).count(), 1, "{}: {from:?}", case.name);
            xml = xml.replacen(from, to, 1);
        }
        let partner =
            PartnerProfile::from_toml(&read(&format!("{}.partner.toml", case.sample)), "p.toml")
                .unwrap();

        let first = decode_one(xml.as_bytes(), &partner, case.name);
        let json: Value = serde_json::from_str(&to_json_line(&first)).unwrap();
        for (pointer, want) in case.holds {
            let got = json.pointer(pointer).map(text_of);
            assert_eq!(got.as_deref(), Some(*want), "{}: {pointer}", case.name);
        }

        let encoded = CxmlCodec::new()
            .encode(std::slice::from_ref(&first), &partner)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let text = String::from_utf8(encoded.clone()).unwrap();
        let mut at = 0;
        for want in case.written {
            let Some(found) = text[at..].find(want) else {
                panic!("{}: {want:?} not written (in order) in\n{text}", case.name);
            };
            at += found + want.len();
        }

        let again = decode_one(&encoded, &partner, case.name);
        assert_eq!(
            again, first,
            "{}: cXML -> canonical -> cXML -> canonical",
            case.name
        );
    }
}

/// What is absent costs nothing: the golden samples, which have none of the above, keep no
/// empty keys for them.
#[test]
fn nothing_is_kept_for_what_is_absent() {
    for sample in [INVOICE, ORDER] {
        let partner =
            PartnerProfile::from_toml(&read(&format!("{sample}.partner.toml")), "p.toml").unwrap();
        let doc = decode_one(read(&format!("{sample}.xml")).as_bytes(), &partner, sample);
        let json = to_json_line(&doc);
        for key in [
            "header_elements",
            "address_extrinsic",
            "comments_elements",
            "order_info",
            "tax_detail_extra",
            "short_name",
            "other_descriptions",
            "invoice_line_number",
            "\"line_number\":\"",
        ] {
            assert!(!json.contains(key), "{sample}: {key} in {json}");
        }
    }
}
