//! Which Coupa supplier an invoice is booked to, from an X12 810 as the gateway reads it to
//! the Coupa sandbox over HTTP, and partners that are one Coupa supplier told at start.
//!
//! QA: an 810 names its supplier by the number the buyer knows it by, `N1*SU*..*92*<number>`
//! or `REF*VN*<number>`. Without a Coupa supplier in its partner profile the supplier was
//! looked up by name instead (not found, or a namesake); with a profile naming the supplier
//! by id, another supplier's number went through intake (which cannot compare a number with
//! an id) and was booked to the partner's supplier. And two partners naming one Coupa
//! supplier by id and by number started without a word, the second getting no POs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_coupa::CoupaInvoiceDelivery;
use gateway_core::{DeliveryError, Envelope, Format, Outbound, PartnerProfile};
use gateway_model::{Document, DocumentKind};
use gateway_sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use gateway_server::codecs::Codecs;
use gateway_server::config::Config;
use serde_json::json;

mod common;

/// The sandbox with Acme (number `ACME-1`) and Rival (`RIVAL-1`); their Coupa ids.
async fn sandbox() -> (SandboxHandle, u64, u64) {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let acme = sandbox
        .add_supplier(json!({"name": "Acme Supplies", "number": "ACME-1"}))
        .unwrap();
    let rival = sandbox
        .add_supplier(json!({"name": "Rival Co", "number": "RIVAL-1"}))
        .unwrap();
    (sandbox, acme, rival)
}

/// A configuration in a new temporary folder (returned with it) delivering to `sandbox`,
/// with `partners` (`[[partners]]` tables).
fn config(sandbox: &SandboxHandle, partners: &str) -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().unwrap();
    let coupa = format!(
        "base_url = \"{}\"\nclient_id = \"sandbox-client\"\nclient_secret = \"sandbox-secret\"\ntoken_activation_ms = 0",
        sandbox.base_url()
    );
    let config = common::config_on(dir.path(), &coupa, partners);
    (dir, config)
}

/// Partner `x12co` (X12 sender `ZZ:X12CO`), with `supplier` (its `[partners.coupa_supplier]`
/// table, or nothing), configured as [`config`] does: its profile and the invoice delivery to
/// `sandbox`.
fn x12co(
    sandbox: &SandboxHandle,
    supplier: &str,
) -> (tempfile::TempDir, PartnerProfile, CoupaInvoiceDelivery) {
    let (dir, config) = config(
        sandbox,
        &format!(
            "[[partners]]\nid = \"x12co\"\n{supplier}\
             [partners.x12]\npartner_qualifier = \"ZZ\"\npartner_id = \"X12CO\"\n"
        ),
    );
    let profile = config.partner("x12co").unwrap().clone();
    let delivery = gateway_server::coupa_link::invoice_delivery(&config).unwrap();
    (dir, profile, delivery)
}

/// An 810 of invoice `number` whose supplier loop is `supplier` (its segments, each ending
/// in `~`).
fn x12_invoice(number: &str, supplier: &str) -> Vec<u8> {
    let body = format!(
        "ST*810*0001~BIG*20260315*{number}**PO-1~CUR*SE*USD~{supplier}\
         IT1*1*2*EA*10**VP*A-1~PID*F****Widget~TDS*2000~CTT*1~"
    );
    let segments = body.matches('~').count() + 1;
    format!(
        "ISA*00*          *00*          *ZZ*X12CO          *ZZ*GLOBEXCORP     *260315*1030*U*00401*000000043*0*P*>~\
         GS*IN*X12CO*GLOBEXCORP*20260315*1030*43*X*004010~{body}SE*{segments}*0001~GE*1*43~IEA*1*000000043~"
    )
    .into_bytes()
}

/// The one invoice `x12` holds, read as partner `profile` sends it, and validated as the
/// pipeline validates it (it must pass intake: what is at stake is delivery).
fn read(x12: &[u8], profile: &PartnerProfile) -> Document {
    let decoded = Codecs::standard()
        .decoder(Format::X12)
        .unwrap()
        .decode(x12, profile);
    assert!(decoded.rejects.is_empty(), "{:?}", decoded.rejects);
    assert_eq!(decoded.documents.len(), 1);
    let doc = decoded.documents.into_iter().next().unwrap().document;
    let report = doc.validate_in(profile.validation_context());
    assert!(!report.has_errors(), "{:?}", report.problems);
    doc
}

fn envelope(partner: &str) -> Envelope {
    Envelope::inbound(
        DocumentKind::Invoice,
        "x12",
        Some(partner.to_string()),
        gateway_core::SourceMeta::default(),
    )
}

/// A partner whose profile names no Coupa supplier: its 810's supplier number, in N1 (`92`)
/// or `REF*VN`, finds the supplier, though its name is not Coupa's.
#[tokio::test]
async fn an_810_without_a_profile_supplier_goes_to_the_supplier_its_number_names() {
    let (sandbox, acme, _) = sandbox().await;
    let (_dir, profile, delivery) = x12co(&sandbox, "");
    for (number, loop_) in [
        ("N1-92", "N1*SU*Acme Industrial Supply*92*ACME-1~"),
        ("REF-VN", "N1*SU*Acme Industrial Supply~REF*VN*ACME-1~"),
    ] {
        let doc = read(&x12_invoice(number, loop_), &profile);
        delivery
            .deliver(&envelope("x12co"), &doc)
            .await
            .unwrap_or_else(|e| panic!("{loop_}: {e}"));
        let held = sandbox.invoices();
        let held = held
            .iter()
            .find(|i| i["invoice-number"] == number)
            .unwrap_or_else(|| panic!("{number} not in Coupa"));
        assert_eq!(held["supplier"]["id"].as_u64(), Some(acme), "{held}");
    }
}

/// A partner whose profile names its Coupa supplier by id: an 810 naming another supplier's
/// number passes intake (nothing there to compare it with) and is refused at delivery, naming
/// both; nothing is created in Coupa. Its own number is delivered.
#[tokio::test]
async fn an_810_naming_another_suppliers_number_is_not_booked_to_the_partners() {
    let (sandbox, acme, rival) = sandbox().await;
    let (_dir, profile, delivery) = x12co(
        &sandbox,
        &format!("[partners.coupa_supplier]\nid = {acme}\n"),
    );
    for loop_ in [
        "N1*SU*Acme Supplies*92*RIVAL-1~",
        "N1*SU*Acme Supplies~REF*VN*RIVAL-1~",
        // QA 14c item 5: a REF03 description, a trailing space, X12's internal vendor
        // number in the loop and the heading (a heading REF*VN is the vendor's order number).
        "N1*SU*Acme Supplies~REF*VN*RIVAL-1*Vendor number~",
        "N1*SU*Acme Supplies~REF*VN*RIVAL-1 ~",
        "N1*SU*Acme Supplies~REF*IA*RIVAL-1~",
        "REF*IA*RIVAL-1~N1*SU*Acme Supplies~",
    ] {
        let doc = read(&x12_invoice("R-1", loop_), &profile);
        let err = delivery
            .deliver(&envelope("x12co"), &doc)
            .await
            .unwrap_err();
        assert!(matches!(err, DeliveryError::Permanent { .. }), "{err:?}");
        assert!(
            err.reason().contains(&format!(
                "supplier number \"RIVAL-1\" (\"Acme Supplies\"), Coupa supplier id {rival}'s number, \
                 but it would be booked to Coupa supplier id {acme} (number \"ACME-1\")"
            )),
            "{loop_}: {}",
            err.reason()
        );
        assert!(sandbox.invoices().is_empty(), "nothing created");
    }
    let doc = read(
        &x12_invoice("A-1", "N1*SU*Acme Supplies~REF*VN*ACME-1~"),
        &profile,
    );
    delivery.deliver(&envelope("x12co"), &doc).await.unwrap();
    // Its own number in the heading's REF*IA, another case and a space, is its own.
    let doc = read(
        &x12_invoice("A-2", "REF*IA*acme-1 ~N1*SU*Acme Supplies~"),
        &profile,
    );
    delivery.deliver(&envelope("x12co"), &doc).await.unwrap();
    assert_eq!(sandbox.invoices().len(), 2);
}

/// Partner a names Acme by its Coupa id, partner b by its number: the configuration check
/// takes them (the keys differ), and the start-up check asks Coupa and tells both apart from
/// partner c, whose supplier is its own.
#[tokio::test]
async fn two_partners_that_are_one_coupa_supplier_are_told_at_start() {
    let (sandbox, acme, _) = sandbox().await;
    let (_dir, config) = config(
        &sandbox,
        &format!(
            "[[partners]]\nid = \"a\"\n[partners.coupa_supplier]\nid = {acme}\n\
             [[partners]]\nid = \"b\"\n[partners.coupa_supplier]\nnumber = \"ACME-1\"\n\
             [[partners]]\nid = \"c\"\n[partners.coupa_supplier]\nnumber = \"RIVAL-1\"\n"
        ),
    );
    let shared = gateway_server::coupa_link::check_partner_suppliers(&config)
        .await
        .unwrap();
    assert_eq!(shared.len(), 1, "{shared:?}");
    let told = shared[0].to_string();
    assert!(
        told.starts_with(&format!(
            "partners \"a\" ([partners.coupa_supplier] id {acme}) and \"b\" \
             ([partners.coupa_supplier] number \"ACME-1\") are one Coupa supplier, id {acme}"
        )),
        "{told}"
    );
}
