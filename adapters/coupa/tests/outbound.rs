//! `CoupaInvoiceDelivery` through the `gateway_core::Outbound` trait against the sandbox:
//! supplier from the partner profile or the invoice's party, replay finds the first invoice,
//! Coupa's refusals are permanent with Coupa's body, faults and refused credentials are
//! retryable.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use adapter_coupa::{CoupaInvoiceDelivery, CoupaSupplierRef};
use gateway_core::{DeliveryError, Envelope, Outbound, SourceMeta};
use gateway_model::{Document, DocumentKind, PurchaseOrder, from_json};
use gateway_sandbox::{FaultKind, FaultSpec};

fn canonical_invoice() -> Document {
    let path = format!(
        "{}/tests/data/invoice.canonical.json",
        env!("CARGO_MANIFEST_DIR")
    );
    from_json(&std::fs::read(path).unwrap()).unwrap()
}

/// The sample invoice as partner acme sends it: its supplier named by the Coupa id of acme's
/// supplier in the sandbox. The sample's own id (7, supplier "Dell") is another supplier than
/// the partner's, which delivery refuses to book to the partner's supplier.
fn partner_invoice(env: &common::Env) -> Document {
    let mut doc = canonical_invoice();
    if let Document::Invoice(inv) = &mut doc {
        let party = inv.supplier.as_mut().unwrap();
        party.name = Some("Acme Supplies".into());
        party.ids[0].value = env.supplier_id.to_string().into();
    }
    doc
}

fn envelope(partner: Option<&str>) -> Envelope {
    Envelope::inbound(
        DocumentKind::Invoice,
        "test",
        partner.map(str::to_string),
        SourceMeta::default(),
    )
}

#[tokio::test]
async fn delivers_with_the_partner_supplier_and_replay_is_already_present() {
    let env = common::start().await;
    let delivery = CoupaInvoiceDelivery::new(Arc::new(common::client(&env))).with_partner(
        "acme",
        CoupaSupplierRef {
            number: Some("ACME-1".into()),
            ..CoupaSupplierRef::default()
        },
    );
    assert_eq!(delivery.name(), "coupa");
    let doc = partner_invoice(&env);
    let env_in = envelope(Some("acme"));
    let first = delivery.deliver(&env_in, &doc).await.unwrap();
    assert!(!first.already_present);
    let stored = env.sandbox.invoices();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"].to_string(), first.reference);
    assert_eq!(stored[0]["supplier"]["name"], "Acme Supplies");
    assert_eq!(stored[0]["supplier-total"], "637.09");
    assert_eq!(stored[0]["invoice-lines"][1]["type"], "InvoiceAmountLine");

    // Bus redelivery / replay: nothing new is created.
    let again = delivery.deliver(&env_in, &doc).await.unwrap();
    assert!(again.already_present);
    assert_eq!(again.reference, first.reference);
    assert_eq!(env.sandbox.invoices().len(), 1);
}

#[tokio::test]
async fn supplier_from_the_invoice_party_when_no_profile() {
    let env = common::start().await;
    let delivery = CoupaInvoiceDelivery::new(Arc::new(common::client(&env)));
    let mut doc = canonical_invoice();
    if let Document::Invoice(inv) = &mut doc {
        // The sample names Coupa supplier 7, which the sandbox does not have: use our id.
        let party = inv.supplier.as_mut().unwrap();
        party.ids[0].value = env.supplier_id.to_string().into();
    }
    delivery.deliver(&envelope(None), &doc).await.unwrap();
    assert_eq!(env.sandbox.invoices().len(), 1);
}

/// QA: REST `"coupa": "12"` (another supplier's Coupa id) or a CSV `Supplier ID 50001` from
/// partner acme, whose profile names only a number (ACME-1), passed intake, which cannot know
/// ACME-1's id, and was booked to ACME-1. Delivery resolves ACME-1's id before creating: a
/// document naming another id is a dead letter naming both, and nothing is created in Coupa.
#[tokio::test]
async fn an_invoice_naming_another_coupa_supplier_id_is_not_booked_to_the_partners() {
    let env = common::start().await;
    let delivery = CoupaInvoiceDelivery::new(Arc::new(common::client(&env))).with_partner(
        "acme",
        CoupaSupplierRef {
            number: Some("ACME-1".into()),
            ..CoupaSupplierRef::default()
        },
    );
    for named in ["12", "50001"] {
        let mut doc = partner_invoice(&env);
        if let Document::Invoice(inv) = &mut doc {
            let party = inv.supplier.as_mut().unwrap();
            party.name = Some("Rival Co".into());
            party.ids[0].value = named.into();
        }
        let err = delivery
            .deliver(&envelope(Some("acme")), &doc)
            .await
            .unwrap_err();
        assert!(matches!(err, DeliveryError::Permanent { .. }), "{err:?}");
        let why = err.reason();
        assert!(
            why.contains(&format!("Coupa supplier id {named} (\"Rival Co\")"))
                && why.contains(&format!("Coupa supplier id {}", env.supplier_id)),
            "names both: {why}"
        );
        assert!(env.sandbox.invoices().is_empty(), "nothing created");
    }
    // Naming the partner's own supplier by its id is delivered.
    delivery
        .deliver(&envelope(Some("acme")), &partner_invoice(&env))
        .await
        .unwrap();
    assert_eq!(env.sandbox.invoices().len(), 1);
}

/// The sample invoice with its supplier named `name` and by `ids` (domain, value) alone.
fn invoice_naming(name: &str, ids: &[(&str, &str)]) -> Document {
    let mut doc = canonical_invoice();
    if let Document::Invoice(inv) = &mut doc {
        let party = inv.supplier.as_mut().unwrap();
        party.name = Some(name.into());
        party.ids = ids
            .iter()
            .map(|(domain, value)| gateway_model::PartyId {
                domain: (*domain).into(),
                value: (*value).into(),
            })
            .collect();
    }
    doc
}

/// QA: delivery refused an invoice naming another Coupa supplier *id* than its partner's, but
/// not one naming another supplier *number*: from partner acme, whose profile names its
/// supplier by id (so intake cannot compare numbers), `coupa-number RIVAL-1`, an 810's
/// `N1*SU*..*92*RIVAL-1` or `REF*VN*RIVAL-1` was booked to acme's supplier. Such an invoice is
/// a dead letter naming both suppliers, whether the number is another supplier's or no
/// supplier's; nothing is created in Coupa. The partner's own number, in any letter case, or
/// its Coupa id in qualifier 92 (which the gateway's X12 writer puts there), is delivered.
#[tokio::test]
async fn an_invoice_naming_another_supplier_number_is_not_booked_to_the_partners() {
    let env = common::start().await;
    let rival = env
        .sandbox
        .add_supplier(serde_json::json!({"name": "Rival Co", "number": "RIVAL-1"}))
        .unwrap();
    for (p, profile) in [
        CoupaSupplierRef {
            id: Some(env.supplier_id),
            ..CoupaSupplierRef::default()
        },
        CoupaSupplierRef {
            name: Some("Acme Supplies".into()),
            ..CoupaSupplierRef::default()
        },
    ]
    .into_iter()
    .enumerate()
    {
        let delivery =
            CoupaInvoiceDelivery::new(Arc::new(common::client(&env))).with_partner("acme", profile);
        let held = env.sandbox.invoices().len();
        for (domain, number, whose) in [
            (
                "coupa-number",
                "RIVAL-1",
                format!("Coupa supplier id {rival}'s number"),
            ),
            (
                "92",
                "rival-1",
                format!("Coupa supplier id {rival}'s number"),
            ),
            (
                "vendor-number",
                "RIVAL-1",
                format!("Coupa supplier id {rival}'s number"),
            ),
            (
                "coupa",
                "GHOST-9",
                "a number no Coupa supplier has".to_string(),
            ),
        ] {
            let doc = invoice_naming("Rival Co", &[(domain, number)]);
            let err = delivery
                .deliver(&envelope(Some("acme")), &doc)
                .await
                .unwrap_err();
            assert!(matches!(err, DeliveryError::Permanent { .. }), "{err:?}");
            let why = err.reason();
            assert!(
                why.contains(&format!(
                    "supplier number \"{number}\" (\"Rival Co\"), {whose}"
                )) && why.contains(&format!(
                    "booked to Coupa supplier id {} (number \"ACME-1\")",
                    env.supplier_id
                )) && why.contains("[partners.coupa_supplier]"),
                "{domain}: names both: {why}"
            );
            assert!(
                !adapter_coupa::what_happened(why).contains("replay"),
                "the advice is the operator's: {why}"
            );
            assert_eq!(env.sandbox.invoices().len(), held, "nothing created");
        }
        // The partner's own supplier, by its number in another case or its id in 92.
        let own_id = env.supplier_id.to_string();
        for (n, id) in [
            ("coupa-number", " acme-1 "),
            ("vendor-number", "ACME-1"),
            ("92", own_id.as_str()),
        ]
        .into_iter()
        .enumerate()
        {
            let mut doc = invoice_naming("Acme", &[id]);
            if let Document::Invoice(inv) = &mut doc {
                inv.invoice_number = Some(format!("OWN-{p}-{n}").into());
            }
            delivery
                .deliver(&envelope(Some("acme")), &doc)
                .await
                .unwrap_or_else(|e| panic!("{id:?}: {e}"));
        }
        assert_eq!(env.sandbox.invoices().len(), held + 3);
    }
}

/// QA: a supplier whose partner profile names no Coupa supplier is found by what its invoice
/// names. An 810's `N1*SU*..*92*ACME-1` or `REF*VN*ACME-1` (read as ids `92` and
/// `vendor-number`) is its Coupa supplier number, like `coupa-number`; it was ignored and the
/// supplier looked up by its name, which Coupa knows otherwise (not found), or a namesake's.
#[tokio::test]
async fn a_supplier_without_a_profile_is_found_by_its_x12_number() {
    let env = common::start().await;
    let delivery = CoupaInvoiceDelivery::new(Arc::new(common::client(&env)));
    for (i, domain) in ["92", "vendor-number"].into_iter().enumerate() {
        let mut doc = invoice_naming("Acme Industrial Supply", &[(domain, "ACME-1")]);
        if let Document::Invoice(inv) = &mut doc {
            inv.invoice_number = Some(format!("X12-{i}").into());
        }
        delivery
            .deliver(&envelope(Some("no-supplier-named")), &doc)
            .await
            .unwrap_or_else(|e| panic!("{domain}: {e}"));
        let stored = env.sandbox.invoices();
        assert_eq!(stored.len(), i + 1);
        assert_eq!(
            stored[i]["supplier"]["id"].as_u64(),
            Some(env.supplier_id),
            "{domain}: {}",
            stored[i]
        );
    }
}

/// QA: partner a names its supplier by id, partner b by the number Coupa gives that id. The
/// start-up check compares keys alike only, so both started without a word, and b got no POs.
/// Resolving b's number at Coupa tells: the pair is reported (and logged as an error) naming
/// both partners and how each names the supplier, whether found at start or by a delivery.
#[tokio::test]
async fn two_partners_resolving_to_one_coupa_supplier_are_reported() {
    let env = common::start().await;
    let other = env
        .sandbox
        .add_supplier(serde_json::json!({"name": "Other Co", "number": "OTHER-1"}))
        .unwrap();
    let partners = || {
        CoupaInvoiceDelivery::new(Arc::new(common::client(&env)))
            .with_partner(
                "a",
                CoupaSupplierRef {
                    id: Some(env.supplier_id),
                    ..CoupaSupplierRef::default()
                },
            )
            .with_partner(
                "b",
                CoupaSupplierRef {
                    number: Some("acme-1".into()),
                    ..CoupaSupplierRef::default()
                },
            )
            .with_partner(
                "c",
                CoupaSupplierRef {
                    number: Some("OTHER-1".into()),
                    ..CoupaSupplierRef::default()
                },
            )
    };
    let check = |shared: Vec<adapter_coupa::SharedSupplier>| {
        assert_eq!(shared.len(), 1, "{shared:?}");
        assert_eq!(shared[0].supplier_id, env.supplier_id);
        let told = shared[0].to_string();
        assert!(
            told.contains(&format!(
                "partners \"a\" ([partners.coupa_supplier] id {}) and \"b\" \
                 ([partners.coupa_supplier] number \"acme-1\") are one Coupa supplier, id {}",
                env.supplier_id, env.supplier_id
            )) && told.contains("correct [partners.coupa_supplier]"),
            "{told}"
        );
    };
    // At start, before any document.
    let (shared, failed) = partners().resolve_partners().await;
    assert!(failed.is_empty(), "{failed:?}");
    check(shared);

    // By delivery: b's first invoice resolves its number.
    let delivery = partners();
    assert!(delivery.shared_suppliers().is_empty());
    let mut doc = invoice_naming("Acme Supplies", &[]);
    if let Document::Invoice(inv) = &mut doc {
        inv.invoice_number = Some("B-1".into());
    }
    delivery.deliver(&envelope(Some("b")), &doc).await.unwrap();
    check(delivery.shared_suppliers());
    // c's supplier is its own.
    if let Document::Invoice(inv) = &mut doc {
        inv.invoice_number = Some("C-1".into());
        inv.supplier.as_mut().unwrap().name = Some("Other Co".into());
    }
    delivery.deliver(&envelope(Some("c")), &doc).await.unwrap();
    assert_eq!(delivery.shared_suppliers().len(), 1);
    assert!(
        env.sandbox
            .invoices()
            .iter()
            .any(|i| i["supplier"]["id"].as_u64() == Some(other))
    );
}

#[tokio::test]
async fn unknown_supplier_is_permanent() {
    let env = common::start().await;
    let delivery = CoupaInvoiceDelivery::new(Arc::new(common::client(&env)));
    let err = delivery
        .deliver(&envelope(None), &canonical_invoice())
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Permanent { .. }), "{err:?}");
    assert!(err.reason().contains("supplier"), "{err}");
}

#[tokio::test]
async fn coupa_refusal_is_permanent_with_coupas_body() {
    let env = common::start().await;
    let delivery = CoupaInvoiceDelivery::new(Arc::new(common::client(&env))).with_partner(
        "acme",
        CoupaSupplierRef {
            id: Some(env.supplier_id),
            ..Default::default()
        },
    );
    let mut doc = partner_invoice(&env);
    if let Document::Invoice(inv) = &mut doc {
        inv.currency = None;
    }
    let err = delivery
        .deliver(&envelope(Some("acme")), &doc)
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Permanent { .. }), "{err:?}");
    assert!(err.reason().contains("Currency can't be blank"), "{err}");
    assert!(err.reason().contains("{\"errors\""), "{err}");
}

#[tokio::test]
async fn persistent_503_is_retryable() {
    let env = common::start().await;
    let mut cfg = common::config(&env);
    cfg.max_attempts = 2;
    let client = adapter_coupa::CoupaClient::new(cfg).unwrap();
    let delivery = CoupaInvoiceDelivery::new(Arc::new(client)).with_partner(
        "acme",
        CoupaSupplierRef {
            id: Some(env.supplier_id),
            ..Default::default()
        },
    );
    env.sandbox.inject(FaultSpec::new(
        "POST /api/invoices",
        FaultKind::Status { status: 503 },
        10,
    ));
    let err = delivery
        .deliver(&envelope(Some("acme")), &partner_invoice(&env))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(env.sandbox.invoices().is_empty());
}

/// The example configuration's client id against the sandbox: the token request is refused.
/// That is the gateway's configuration, not the invoice: the delivery error is retryable (the
/// invoice waits in the retry tiers, bounded by the delivery limit, instead of dying on its
/// first attempt), says what to check and not the secret; once Coupa takes the credentials
/// again the same invoice is delivered.
#[tokio::test]
async fn an_invoice_delivered_with_wrong_credentials_is_retryable_not_dead() {
    let env = common::start().await;
    let mut cfg = common::config(&env);
    cfg.client_id = "gateway".into();
    let secret = "sandbox-secret";
    let delivery =
        CoupaInvoiceDelivery::new(Arc::new(adapter_coupa::CoupaClient::new(cfg).unwrap()))
            .with_partner(
                "acme",
                CoupaSupplierRef {
                    id: Some(env.supplier_id),
                    ..Default::default()
                },
            );
    let err = delivery
        .deliver(&envelope(Some("acme")), &partner_invoice(&env))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeliveryError::Retryable { .. }),
        "a refused token must not dead-letter the invoice: {err:?}"
    );
    assert!(err.reason().contains("401 invalid_client"), "{err}");
    assert!(
        err.reason().contains("client_id and client_secret"),
        "says what to check: {err}"
    );
    assert!(
        !err.reason().contains(secret),
        "secret in the reason: {err}"
    );
    assert_eq!(
        common::token_requests(&env),
        1,
        "one token request per delivery, not one per attempt"
    );
    assert!(env.sandbox.invoices().is_empty());
    assert_eq!(
        delivery.client().token_refusal().map(|r| r.summary()),
        Some("401 invalid_client".to_string())
    );

    // Fixed (here: the right client, as after a restart with the corrected configuration):
    // the retry delivers it.
    let fixed = CoupaInvoiceDelivery::new(Arc::new(common::client(&env))).with_partner(
        "acme",
        CoupaSupplierRef {
            id: Some(env.supplier_id),
            ..Default::default()
        },
    );
    let receipt = fixed
        .deliver(&envelope(Some("acme")), &partner_invoice(&env))
        .await
        .unwrap();
    assert!(!receipt.already_present);
    assert_eq!(env.sandbox.invoices().len(), 1);
    assert_eq!(fixed.client().token_refusal(), None);
}

#[tokio::test]
async fn purchase_orders_are_not_this_outbounds_business() {
    let env = common::start().await;
    let delivery = CoupaInvoiceDelivery::new(Arc::new(common::client(&env)));
    let err = delivery
        .deliver(
            &envelope(None),
            &Document::PurchaseOrder(PurchaseOrder::default()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Permanent { .. }));
}
