//! The supplier and buyer slots are filled by the most preferred role present, wherever it
//! stands in the document; a party in another of the slot's roles is kept
//! (`extensions.cxml.parties.<role>`) and the round trip changes nothing. Found by QA: a
//! `supplierCorporate` contact (the parent company) listed before `from` became the invoice's
//! supplier, and the real invoicing party went to the extensions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::CxmlCodec;
use gateway_core::testkit::repo_root;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::Document;

const INVOICE: &str = "samples/cxml/invoice/rich";
const ORDER: &str = "samples/cxml/purchase_order/rich";

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap()
}

fn partner(sample: &str) -> PartnerProfile {
    PartnerProfile::from_toml(&read(&format!("{sample}.partner.toml")), "p.toml").unwrap()
}

fn decode(xml: &[u8], partner: &PartnerProfile) -> Document {
    let d = CxmlCodec::new().decode(xml, partner);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    d.documents.into_iter().next().unwrap().document
}

/// The sample with `insert` put right before `at` (which occurs once).
fn inserted(sample: &str, at: &str, insert: &str) -> String {
    let xml = read(&format!("{sample}.xml"));
    assert_eq!(xml.matches(at).count(), 1, "{sample}: {at}");
    xml.replacen(at, &format!("{insert}{at}"), 1)
}

/// Decodes, writes and reads back: the same document. Returns the first one.
fn round_trip(xml: &str, partner: &PartnerProfile) -> Document {
    let first = decode(xml.as_bytes(), partner);
    let bytes = CxmlCodec::new()
        .encode(std::slice::from_ref(&first), partner)
        .unwrap();
    let again = decode(&bytes, partner);
    assert_eq!(
        again,
        first,
        "cXML -> canonical -> cXML -> canonical\n{}",
        String::from_utf8_lossy(&bytes)
    );
    first
}

fn kept_name(doc: &Document, role: &str) -> Option<String> {
    doc.extensions()["cxml"]["parties"][role]["name"]
        .as_str()
        .map(str::to_string)
}

const PARENT: &str = r#"<InvoicePartner>
          <Contact role="supplierCorporate"><Name xml:lang="en">Acme Holdings Inc (parent)</Name></Contact>
        </InvoicePartner>
        "#;
const BUYER_PARENT: &str = r#"<InvoicePartner>
          <Contact role="buyerCorporate"><Name xml:lang="en">Globex Holdings</Name></Contact>
        </InvoicePartner>
        "#;

#[test]
fn the_invoicing_party_is_the_supplier_even_after_its_parent() {
    let partner = partner(INVOICE);
    let first_partner = "<InvoicePartner>\n          <Contact role=\"from\"";
    // The parent before `from`, the buyer's parent before `soldTo`.
    let before = inserted(INVOICE, first_partner, &format!("{PARENT}{BUYER_PARENT}"));
    // The same parties after them.
    let after = inserted(
        INVOICE,
        "<InvoicePartner>\n          <Contact role=\"billTo\"",
        &format!("{PARENT}{BUYER_PARENT}"),
    );
    let mut docs = Vec::new();
    for xml in [&before, &after] {
        let doc = round_trip(xml, &partner);
        let Document::Invoice(inv) = &doc else {
            panic!("not an invoice")
        };
        let name = |p: &Option<gateway_model::Party>| p.as_ref().and_then(|p| p.name.clone());
        assert_eq!(
            name(&inv.supplier).as_deref(),
            Some("Acme Industrial Supply")
        );
        assert_eq!(name(&inv.buyer).as_deref(), Some("Globex Corporation"));
        assert_eq!(
            kept_name(&doc, "supplierCorporate").as_deref(),
            Some("Acme Holdings Inc (parent)")
        );
        assert_eq!(
            kept_name(&doc, "buyerCorporate").as_deref(),
            Some("Globex Holdings")
        );
        assert_eq!(kept_name(&doc, "from"), None);
        docs.push(doc);
    }
    // Whatever the document order, the same document.
    assert_eq!(docs[0], docs[1]);
}

/// Without the preferred role, the next one in the order of preference fills the slot.
#[test]
fn without_from_the_next_preferred_role_is_the_supplier() {
    let partner = partner(INVOICE);
    let xml = inserted(
        INVOICE,
        "<InvoicePartner>\n          <Contact role=\"from\"",
        PARENT,
    )
    .replacen(
        r#"<Contact role="from" addressID="ACME-HQ">"#,
        r#"<Contact role="billFrom" addressID="ACME-HQ">"#,
        1,
    );
    let doc = round_trip(&xml, &partner);
    let Document::Invoice(inv) = &doc else {
        panic!("not an invoice")
    };
    assert_eq!(
        inv.supplier.as_ref().and_then(|p| p.name.as_deref()),
        Some("Acme Industrial Supply")
    );
    assert_eq!(
        kept_name(&doc, "supplierCorporate").as_deref(),
        Some("Acme Holdings Inc (parent)")
    );
}

#[test]
fn an_orders_supplier_and_buyer_are_the_preferred_roles_wherever_they_stand() {
    let partner = partner(ORDER);
    let xml = inserted(
        ORDER,
        r#"<Contact role="buyer">"#,
        r#"<Contact role="soldTo"><Name xml:lang="en">Globex Holdings</Name></Contact>
        <Contact role="supplierAccount"><Name xml:lang="en">Acme sales desk</Name></Contact>
        <Contact role="supplierCorporate"><Name xml:lang="en">Acme Industrial Supply</Name></Contact>
        "#,
    );
    let doc = round_trip(&xml, &partner);
    let Document::PurchaseOrder(po) = &doc else {
        panic!("not an order")
    };
    assert_eq!(
        po.buyer.as_ref().and_then(|p| p.name.as_deref()),
        Some("Priya Natarajan")
    );
    assert_eq!(
        po.supplier.as_ref().and_then(|p| p.name.as_deref()),
        Some("Acme Industrial Supply")
    );
    assert_eq!(
        kept_name(&doc, "soldTo").as_deref(),
        Some("Globex Holdings")
    );
    assert_eq!(
        kept_name(&doc, "supplierAccount").as_deref(),
        Some("Acme sales desk")
    );
}
