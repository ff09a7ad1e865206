//! A partner's 997/999 for what the gateway sent it. At delivery the supplier path records the
//! group and set control numbers each 850 went out under ([`remember_sent`]); when the
//! partner's acknowledgment comes back (file drop, `POST /x12`, e-mail) every set it answers is
//! matched to that document and the verdict goes to its ledger row: `partner_ack` says what
//! the partner said, and a rejection makes the document `partner_rejected` so an operator finds
//! it (`gateway documents --status partner_rejected`) instead of a supplier silently not
//! shipping.

use adapter_x12::{ReceivedAck, ReceivedTa1};

use crate::ledger::{Ledger, LedgerError};

/// Records the control numbers of the X12 `body` sent to `partner` for the document with
/// `idempotency_key`. A failure is logged, not returned: the partner has the file already, and
/// failing the delivery would send it again.
pub fn remember_sent(ledger: &Ledger, partner: &str, idempotency_key: &str, body: &[u8]) {
    let sets = adapter_x12::sets_in(body);
    if let Err(e) = ledger.record_x12_sent(partner, idempotency_key, &sets) {
        tracing::warn!(adapter = "x12", partner = %partner, error = %e,
            "cannot record the control numbers sent; the partner's 997 for them will not be matched");
    }
}

/// Matches TA1s from `partner` to the interchanges sent to it. A rejected interchange never
/// reached the partner's translator, so every document in it is refused; one accepted with
/// errors is noted (a 997 for it will say more); an accepted one changes nothing.
pub fn reconcile_ta1(
    ledger: &Ledger,
    partner: &str,
    ta1s: &[ReceivedTa1],
) -> Result<Reconciled, LedgerError> {
    let mut out = Reconciled::default();
    for t in ta1s {
        let keys = ledger.x12_sent_in_interchange(partner, &t.interchange)?;
        if keys.is_empty() {
            out.unmatched.push(format!(
                "{}, which this gateway did not send to {partner}",
                t.summary()
            ));
            continue;
        }
        if t.status == "A" {
            continue;
        }
        for key in keys {
            if ledger.record_partner_ack(&key, !t.rejected(), &t.summary())? {
                out.newly_refused.push(key.clone());
            }
            out.matched.push((key, !t.rejected(), t.summary()));
        }
    }
    Ok(out)
}

/// What one acknowledgment said, matched or not, one line each for logs and reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Documents whose verdict was recorded: (idempotency key, accepted, summary).
    pub matched: Vec<(String, bool, String)>,
    /// What could not be matched, and why (a group or set this gateway did not send).
    pub unmatched: Vec<String>,
    /// Keys this acknowledgment newly refused (not the same refusal sent again): what the
    /// partner-rejected counter counts.
    pub newly_refused: Vec<String>,
}

/// Matches `acks` from `partner` to the sets sent to it, and records each verdict.
pub fn reconcile(
    ledger: &Ledger,
    partner: &str,
    acks: &[ReceivedAck],
) -> Result<Reconciled, LedgerError> {
    let mut out = Reconciled::default();
    for ack in acks {
        let what = format!(
            "{} {} (interchange {})",
            ack.kind, ack.control, ack.interchange
        );
        let sent = ledger.x12_sent_in_group(partner, &ack.group_control)?;
        if sent.is_empty() {
            out.unmatched.push(format!(
                "{what} answers group {} ({}), which this gateway did not send to {partner}",
                ack.group_control, ack.functional_id
            ));
            continue;
        }
        for set in &ack.sets {
            if !sent.iter().any(|(control, _)| *control == set.control) {
                out.unmatched.push(format!(
                    "{what} answers set {} {} of group {}, which this gateway did not send to {partner}",
                    set.set_id, set.control, ack.group_control
                ));
            }
        }
        for (control, key) in &sent {
            match ack.verdict(control) {
                Some(v) => {
                    if ledger.record_partner_ack(key, v.accepted, &v.summary)? {
                        out.newly_refused.push(key.clone());
                    }
                    out.matched.push((key.clone(), v.accepted, v.summary));
                }
                None => out.unmatched.push(format!(
                    "{what} does not say whether set {control} of group {} was accepted",
                    ack.group_control
                )),
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::NewDocument;

    /// A 997 from GLOBEX holding `body`, its SE01 counting its segments (one that miscounts
    /// is not acted on).
    fn ack(body: &str) -> Vec<ReceivedAck> {
        let n = body.matches('~').count() + 2;
        let raw = format!(
            "ISA*00*          *00*          *ZZ*GLOBEX         *ZZ*US             *261203*1200*U*00401*000000901*0*P*>~\
GS*FA*GLOBEX*US*20261203*1200*901*X*004010~ST*997*0001~{body}SE*{n}*0001~GE*1*901~IEA*1*000000901~"
        );
        adapter_x12::read_acknowledgments(raw.as_bytes())
    }

    #[test]
    fn each_set_sent_gets_its_verdict_and_what_was_not_sent_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        for (key, number) in [("po-1", "PO-1"), ("po-2", "PO-2")] {
            ledger
                .claim(&NewDocument {
                    idempotency_key: key,
                    doc_id: key,
                    adapter: "coupa-po",
                    partner: "globex",
                    kind: "purchase_order",
                    number,
                    business_key: None,
                })
                .unwrap();
        }
        // Two POs went out in one group, 12, as sets 0001 and 0002.
        let sent = |set: &str| adapter_x12::SentSet {
            interchange: "000000007".into(),
            group: "12".into(),
            set: set.into(),
        };
        ledger
            .record_x12_sent("globex", "po-1", &[sent("0001")])
            .unwrap();
        ledger
            .record_x12_sent("globex", "po-2", &[sent("0002")])
            .unwrap();
        let acks = ack(
            "AK1*PO*12~AK2*850*0001~AK5*A~AK2*850*0002~AK5*R*5~AK2*850*0009~AK5*A~AK9*P*3*3*2~",
        );
        let r = reconcile(&ledger, "globex", &acks).unwrap();
        assert_eq!(r.matched.len(), 2, "{r:?}");
        assert_eq!(ledger.entry("po-1").unwrap().unwrap().status, "received");
        assert_eq!(
            ledger.entry("po-2").unwrap().unwrap().status,
            "partner_rejected"
        );
        assert_eq!(r.unmatched.len(), 1, "{r:?}");
        assert!(r.unmatched[0].contains("set 850 0009 of group 12"), "{r:?}");
        // A group never sent to this partner (or sent to another) matches nothing.
        let r = reconcile(&ledger, "acme", &acks).unwrap();
        assert!(r.matched.is_empty());
        assert!(
            r.unmatched[0].contains("group 12 (PO), which this gateway did not send to acme"),
            "{r:?}"
        );

        // The partner's TA1 refuses the whole interchange: both POs are refused, with the note.
        let ta1 = adapter_x12::read_ta1s(
            b"ISA*00*          *00*          *ZZ*GLOBEX         *ZZ*US             *261203*1200*U*00401*000000902*0*P*>~TA1*000000007*261203*1200*R*022~IEA*0*000000902~",
        );
        let r = reconcile_ta1(&ledger, "globex", &ta1).unwrap();
        assert_eq!(r.matched.len(), 2, "{r:?}");
        for key in ["po-1", "po-2"] {
            let e = ledger.entry(key).unwrap().unwrap();
            assert_eq!(e.status, "partner_rejected");
            assert!(
                e.partner_ack.contains("invalid control structure (022)"),
                "{e:?}"
            );
        }
        let r = reconcile_ta1(&ledger, "acme", &ta1).unwrap();
        assert!(r.unmatched[0].contains("did not send to acme"), "{r:?}");
    }
}
