//! Files on Coupa invoices against the sandbox over HTTP: the PDF arrives whole, before the
//! submit, once, whatever happens on the way (a redelivery, an upload whose answer is lost, a
//! 5xx, a refusal).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use gateway_core::SupportingFile;
use gateway_sandbox::{FaultKind, FaultSpec};
use sha2::{Digest, Sha256};

fn pdf(name: &str, body: &[u8]) -> SupportingFile {
    SupportingFile {
        name: name.into(),
        content_type: "application/pdf".into(),
        bytes: body.to_vec(),
    }
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A PDF of `n` bytes that is not all one byte value.
fn pdf_bytes(n: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.7\n".to_vec();
    b.extend((0..n).map(|k| (k * 31 % 251) as u8));
    b
}

#[tokio::test]
async fn files_are_attached_whole_before_the_submit_and_once_on_redelivery() {
    let env = common::start().await;
    let c = common::client(&env);
    let body = common::invoice_body(env.supplier_id, "INV-PDF-1");
    let big = pdf_bytes(300_000);
    let files = [
        pdf("INV-PDF-1.pdf", &big),
        // `#` and `?` in a name: once read as `terms`, never matched, attached again each time.
        pdf("terms#2?.pdf", b"%PDF-1.4 terms"),
    ];
    let out = c
        .deliver_invoice_with_files(&body, env.supplier_id, &files)
        .await
        .unwrap();
    assert_eq!(out.attached, 2);
    assert!(out.submitted);
    let held = env.sandbox.invoice_attachments(out.invoice.id);
    assert_eq!(held.len(), 2, "{held:?}");
    assert_eq!(held[0].file_name, "INV-PDF-1.pdf");
    assert_eq!(held[0].sha256, sha256(&big));
    assert_eq!(held[0].size, big.len() as u64);
    assert_eq!(held[0].content_type, "application/pdf");
    assert_eq!(held[0].intent.as_deref(), Some("Supplier"));
    assert_eq!(held[1].file_name, "terms#2?.pdf");
    // Attached while the invoice was a draft: the submit came after the uploads.
    let log = env.sandbox.request_log();
    let upload = log
        .iter()
        .rposition(|r| r.method == "POST" && r.path.ends_with("/attachments"))
        .unwrap();
    let submit = log
        .iter()
        .position(|r| r.method == "PUT" && r.path.ends_with("/submit"))
        .unwrap();
    assert!(upload < submit, "{log:?}");

    // Delivered again (a redelivery, a replay): nothing added.
    let again = c
        .deliver_invoice_with_files(&body, env.supplier_id, &files)
        .await
        .unwrap();
    assert!(again.already_present);
    assert_eq!(again.attached, 0);
    assert_eq!(env.sandbox.invoice_attachments(out.invoice.id).len(), 2);
}

#[tokio::test]
async fn an_upload_whose_answer_is_lost_is_not_repeated() {
    let env = common::start().await;
    let c = common::impatient_client(&env);
    assert!(env.sandbox.inject(FaultSpec::new(
        "POST /api/invoices/",
        FaultKind::CommitThenDrop,
        1
    )));
    let out = c
        .deliver_invoice_with_files(
            &common::invoice_body(env.supplier_id, "INV-PDF-2"),
            env.supplier_id,
            &[pdf("INV-PDF-2.pdf", b"%PDF-1.7 two")],
        )
        .await
        .unwrap();
    let held = env.sandbox.invoice_attachments(out.invoice.id);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].sha256, sha256(b"%PDF-1.7 two"));
    // The create went through (the fault matched the attachment, not the create: its path is
    // /api/invoices), the upload's answer was lost, and the client looked before sending again.
    let uploads = env
        .sandbox
        .request_log()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/attachments"))
        .count();
    assert_eq!(uploads, 1);
    assert_eq!(out.attached, 0, "the one upload's answer never came");
}

#[tokio::test]
async fn server_errors_are_retried_and_a_refusal_is_permanent() {
    let env = common::start().await;
    let c = common::client(&env);
    let route = "POST /api/invoices/";
    assert!(
        env.sandbox
            .inject(FaultSpec::new(route, FaultKind::Status { status: 503 }, 2))
    );
    let out = c
        .deliver_invoice_with_files(
            &common::invoice_body(env.supplier_id, "INV-PDF-3"),
            env.supplier_id,
            &[pdf("INV-PDF-3.pdf", b"%PDF-1.7 three")],
        )
        .await
        .unwrap();
    assert_eq!(out.attached, 1);
    assert_eq!(env.sandbox.invoice_attachments(out.invoice.id).len(), 1);

    // Eleven files: Coupa takes ten, and the eleventh is refused for good (no retry loop).
    let many: Vec<SupportingFile> = (0..11)
        .map(|k| pdf(&format!("page-{k}.pdf"), format!("%PDF-1.7 {k}").as_bytes()))
        .collect();
    let err = c
        .deliver_invoice_with_files(
            &common::invoice_body(env.supplier_id, "INV-PDF-4"),
            env.supplier_id,
            &many,
        )
        .await
        .unwrap_err();
    assert!(!err.is_retryable(), "{err:?}");
    assert!(err.to_string().contains("at most 10"), "{err}");
    // The refusal names the file and the invoice Coupa holds: the dead letter said only
    // "Coupa refused the invoice (400)", as if the invoice itself had been refused.
    let adapter_coupa::CoupaError::Attachment {
        file, invoice_id, ..
    } = &err
    else {
        panic!("not an attachment error: {err:?}");
    };
    let (file, invoice_id) = (file.clone(), *invoice_id);
    assert_eq!(file, "page-10.pdf");
    let held = env.sandbox.invoice_attachments(invoice_id);
    assert_eq!(
        held.len(),
        10,
        "the invoice is there with the ten files Coupa took"
    );
    let reason = match gateway_core::DeliveryError::from(err) {
        gateway_core::DeliveryError::Permanent { reason } => reason,
        other => panic!("{other:?}"),
    };
    assert!(
        reason.contains(&format!(
            "Coupa invoice {invoice_id} is there without its file page-10.pdf"
        )) && reason.contains("Coupa refused the file (4")
            && reason.contains("at most 10")
            && reason.contains("replay")
            && !reason.contains("refused the invoice"),
        "{reason}"
    );
}
