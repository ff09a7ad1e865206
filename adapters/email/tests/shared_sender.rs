//! A sender address listed by several partners (an invoicing service sending for several
//! suppliers) goes to the partner each mail's documents name, never to the first profile that
//! lists it (QA's case: initech and acme both list invoices@billingservice.example, and acme's
//! CSV with Supplier Number ACME-1 and its cXML with acme's From DUNS 123456789 were delivered
//! under initech, with no note). And a sender that is one partner's does not carry a cXML that
//! names another configured partner's identity.
//!
//! The mailbox's order is followed: parse, [`EmailCodec::route`] to find the partner, then
//! decode as that partner's ([`EmailCodec::decode_mail`]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod stub_readers;

use adapter_email::{EmailCodec, ParsedMail, SenderError, find_partner};
use gateway_core::PartnerProfile;
use gateway_core::profile::{CoupaSupplierRef, CxmlProfile, EmailProfile, X12Profile};
use stub_readers::{Part, codec, mail};

const SHARED: &str = "invoices@billingservice.example";

fn partner(id: &str, from: &[&str], supplier_number: Option<&str>) -> PartnerProfile {
    PartnerProfile {
        id: id.into(),
        email: Some(EmailProfile {
            from: from.iter().map(|s| s.to_string()).collect(),
            ..EmailProfile::default()
        }),
        coupa_supplier: supplier_number.map(|n| CoupaSupplierRef {
            number: Some(n.into()),
            ..CoupaSupplierRef::default()
        }),
        ..PartnerProfile::default()
    }
}

/// initech first (it used to win every tie), with no cXML identity; acme with its DUNS.
fn profiles() -> Vec<PartnerProfile> {
    let initech = partner("initech", &[SHARED], Some("INITECH-7"));
    let mut acme = partner("acme", &[SHARED], Some("ACME-1"));
    acme.cxml = Some(CxmlProfile {
        from_domain: Some("DUNS".into()),
        from_identity: Some("123456789".into()),
        ..CxmlProfile::default()
    });
    let mut zed = partner("zed", &["billing@zed.example"], None);
    zed.x12 = None;
    vec![initech, acme, zed]
}

fn cxml(from_identity: &str, supplier: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <cXML payloadID=\"1.42@billingservice.example\">\n\
         <Header><From><Credential domain=\"DUNS\"><Identity>{from_identity}</Identity></Credential></From></Header>\n\
         <Request><InvoiceDetailRequest>\n\
         <InvoiceDetailRequestHeader invoiceID=\"INV-42\" purpose=\"standard\">\n\
         <InvoicePartner><Contact role=\"from\"><Name xml:lang=\"en\">{supplier}</Name></Contact></InvoicePartner>\n\
         </InvoiceDetailRequestHeader>\n\
         <InvoiceDetailItem invoiceLineNumber=\"1\" quantity=\"10\"><Description xml:lang=\"en\">Gloves</Description></InvoiceDetailItem>\n\
         </InvoiceDetailRequest></Request>\n</cXML>\n"
    )
    .into_bytes()
}

fn csv(number: &str, supplier_number: &str) -> Vec<u8> {
    format!(
        "Invoice Number,Supplier Name,Supplier Number,Description\n\
         {number},Billing Service Ltd,{supplier_number},Gloves\n"
    )
    .into_bytes()
}

fn xml_part(body: &[u8]) -> Part<'_> {
    Part {
        name: "inv.xml",
        content_type: "text/xml; charset=utf-8",
        encoding: "base64",
        body,
    }
}

fn csv_part<'a>(name: &'a str, body: &'a [u8]) -> Part<'a> {
    Part {
        name,
        content_type: "text/csv",
        encoding: "8bit",
        body,
    }
}

/// The partner the mailbox ingests `raw` as, or why it refuses it.
fn route(codec: &EmailCodec, profiles: &[PartnerProfile], raw: &[u8]) -> Result<String, String> {
    let mail = ParsedMail::parse(raw, codec.limits()).unwrap();
    codec
        .route(profiles, &mail)
        .map(|p| p.id.clone())
        .map_err(|e| e.to_string())
}

/// Routes `raw` and decodes it as the partner found: its documents' numbers and supplier
/// numbers, each with the partner it is delivered under.
fn deliver(profiles: &[PartnerProfile], raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    let codec = codec();
    let mail = ParsedMail::parse(raw, codec.limits()).unwrap();
    let partner = codec.route(profiles, &mail).map_err(|e| e.to_string())?;
    let d = codec.decode_mail(&mail, partner);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    Ok(d.documents
        .iter()
        .map(|doc| (partner.id.clone(), doc.document.number().to_string()))
        .collect())
}

#[test]
fn the_sender_alone_no_longer_picks_the_first_partner() {
    assert!(find_partner(&profiles(), SHARED).is_none());
}

#[test]
fn a_shared_senders_csv_goes_to_the_partner_whose_coupa_supplier_it_names() {
    let ps = profiles();
    let raw = mail(
        SHARED,
        "c1@billingservice.example",
        &[csv_part("a.csv", &csv("A-1", "ACME-1"))],
    );
    assert_eq!(deliver(&ps, &raw), Ok(vec![("acme".into(), "A-1".into())]));
    let raw = mail(
        SHARED,
        "c2@billingservice.example",
        &[csv_part("i.csv", &csv("I-1", "initech-7"))],
    );
    assert_eq!(
        deliver(&ps, &raw),
        Ok(vec![("initech".into(), "I-1".into())])
    );
}

#[test]
fn a_shared_senders_cxml_goes_to_the_partner_whose_identity_is_its_from() {
    let ps = profiles();
    // The supplier's name is the service's: the From credential decides.
    let body = cxml("123456789", "Billing Service Ltd");
    let raw = mail(SHARED, "x1@billingservice.example", &[xml_part(&body)]);
    assert_eq!(
        deliver(&ps, &raw),
        Ok(vec![("acme".into(), "INV-42".into())])
    );
}

/// A shared sender behind a `@domain` entry is told apart the same way.
#[test]
fn a_shared_domain_is_told_apart_the_same_way() {
    let mut ps = profiles();
    for p in &mut ps[..2] {
        p.email = Some(EmailProfile {
            from: vec!["@billingservice.example".into()],
            ..EmailProfile::default()
        });
    }
    let raw = mail(
        "noreply@billingservice.example",
        "d1@billingservice.example",
        &[csv_part("a.csv", &csv("A-2", "ACME-1"))],
    );
    assert_eq!(deliver(&ps, &raw), Ok(vec![("acme".into(), "A-2".into())]));
}

#[test]
fn a_document_naming_none_of_the_sharing_partners_is_refused_with_the_reason() {
    let ps = profiles();
    let codec = codec();
    let raw = mail(
        SHARED,
        "n1@billingservice.example",
        &[csv_part("h.csv", &csv("H-1", "HOOLI-9"))],
    );
    let why = route(&codec, &ps, &raw).unwrap_err();
    for part in [
        "sender invoices@billingservice.example is in the [email] from list of partners initech, acme",
        "attachment 1 'h.csv', invoice H-1 (supplier 'Billing Service Ltd', supplier number HOOLI-9) names none of them",
        "coupa_supplier",
        "[cxml] from_domain/from_identity",
    ] {
        assert!(why.contains(part), "{part:?} not in {why}");
    }
    // A cXML from an identity nobody configured, naming no configured supplier.
    let body = cxml("555555555", "Billing Service Ltd");
    let raw = mail(SHARED, "n2@billingservice.example", &[xml_part(&body)]);
    let why = route(&codec, &ps, &raw).unwrap_err();
    assert!(
        why.contains("invoice INV-42 (From DUNS:555555555, supplier 'Billing Service Ltd') names none of them"),
        "{why}"
    );
    // Only a PDF: nothing says whose it is.
    let raw = mail(
        SHARED,
        "n3@billingservice.example",
        &[Part {
            name: "inv.pdf",
            content_type: "application/pdf",
            encoding: "base64",
            body: b"%PDF-1.7 ...",
        }],
    );
    let why = route(&codec, &ps, &raw).unwrap_err();
    assert!(
        why.contains("none of its attachments is a cXML, X12 or CSV document"),
        "{why}"
    );
}

#[test]
fn documents_of_two_sharing_partners_in_one_mail_are_refused() {
    let ps = profiles();
    let a = csv("A-3", "ACME-1");
    let i = csv("I-3", "INITECH-7");
    let raw = mail(
        SHARED,
        "m1@billingservice.example",
        &[csv_part("i.csv", &i), csv_part("a.csv", &a)],
    );
    let why = route(&codec(), &ps, &raw).unwrap_err();
    assert!(
        why.contains("invoice A-3 (supplier 'Billing Service Ltd', supplier number ACME-1) is partner acme's while attachment 1 'i.csv', invoice I-3"),
        "{why}"
    );
    assert!(
        why.contains("send each partner's documents in a mail of their own"),
        "{why}"
    );
}

#[test]
fn a_document_that_fits_two_sharing_partners_is_refused() {
    let mut ps = profiles();
    ps[0].coupa_supplier = ps[1].coupa_supplier.clone();
    let raw = mail(
        SHARED,
        "t1@billingservice.example",
        &[csv_part("a.csv", &csv("A-4", "ACME-1"))],
    );
    let why = route(&codec(), &ps, &raw).unwrap_err();
    assert!(
        why.contains("its documents fit more than one of them (initech, acme)"),
        "{why}"
    );
}

/// An identity decides before a supplier: a cXML whose From is acme's is not initech's
/// because it names initech's supplier number somewhere.
#[test]
fn a_partners_identity_outweighs_a_supplier_another_one_configures() {
    let mut ps = profiles();
    ps[0].coupa_supplier = Some(CoupaSupplierRef {
        name: Some("Initech".into()),
        ..CoupaSupplierRef::default()
    });
    let body = cxml("123456789", "Initech");
    let raw = mail(SHARED, "w1@billingservice.example", &[xml_part(&body)]);
    assert_eq!(route(&codec(), &ps, &raw), Ok("acme".into()));
}

/// A sender that is one partner's (zed, no cXML identity of its own) carrying a cXML whose
/// From is acme's identity: refused, naming acme and the key; the decoder alone cannot see it,
/// knowing only zed. A From nobody configured is zed's as before.
#[test]
fn a_single_partners_mail_naming_another_partners_identity_is_refused() {
    let ps = profiles();
    let codec = codec();
    let body = cxml("123456789", "Zed Supplies");
    let raw = mail("billing@zed.example", "f1@zed.example", &[xml_part(&body)]);
    let mail_ = ParsedMail::parse(&raw, codec.limits()).unwrap();
    let err = codec.route(&ps, &mail_).unwrap_err();
    assert!(matches!(err, SenderError::Foreign(_)), "{err:?}");
    let why = err.to_string();
    for part in [
        "sender billing@zed.example is partner zed's",
        "attachment 1 'inv.xml', invoice INV-42",
        "says it is from DUNS:123456789, which is partner acme's [cxml] from_domain:from_identity",
        "add it to partner acme's [email] from list",
    ] {
        assert!(why.contains(part), "{part:?} not in {why}");
    }
    let body = cxml("987654321", "Zed Supplies");
    let raw = mail("billing@zed.example", "f2@zed.example", &[xml_part(&body)]);
    assert_eq!(route(&codec, &ps, &raw), Ok("zed".into()));
}

/// The same for X12: an ISA sender that is another partner's X12 identity.
#[test]
fn a_single_partners_mail_naming_another_partners_isa_sender_is_refused() {
    let mut ps = profiles();
    ps[1].x12 = Some(X12Profile {
        partner_qualifier: Some("ZZ".into()),
        partner_id: Some("ACME".into()),
        ..X12Profile::default()
    });
    let body = b"ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260315*0930*U*00401*000000042*0*P*>~BIG*20260315*INV-9~PID*F****Gloves~";
    let raw = mail(
        "billing@zed.example",
        "f3@zed.example",
        &[Part {
            name: "inv.edi",
            content_type: "application/edi-x12",
            encoding: "8bit",
            body,
        }],
    );
    let why = route(&codec(), &ps, &raw).unwrap_err();
    assert!(
        why.contains(
            "says it is from ZZ:ACME, which is partner acme's [x12] partner_qualifier:partner_id"
        ),
        "{why}"
    );
}

#[test]
fn an_unknown_sender_is_refused_as_before() {
    let raw = mail(
        "mallory@evil.example",
        "u1@evil.example",
        &[csv_part("a.csv", &csv("A-5", "ACME-1"))],
    );
    assert_eq!(
        route(&codec(), &profiles(), &raw),
        Err("sender mallory@evil.example is not in any partner's [email] from list".into())
    );
}
