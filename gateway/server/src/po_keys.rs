//! The ledger keys of Coupa purchase orders sent to suppliers. One key per PO version
//! (`coupa-po:<id>:v<version>`), another for the cancellation of a version
//! (`coupa-po:<id>:v<version>:cancel`: Coupa may cancel a PO without a new version, and a
//! cancellation under the version's own key was taken for that version, already sent, so it
//! never went out), and `:resend-N` after either for an operator's `gateway resend`. The
//! order of keys is the order a supplier must receive them in: a later version after an
//! earlier one, a cancellation after the version it cancels.

/// What a PO key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoKey {
    pub coupa_id: u64,
    pub version: u32,
    pub cancel: bool,
}

impl PoKey {
    /// The ledger key (without a resend suffix).
    pub fn key(&self) -> String {
        let cancel = if self.cancel { ":cancel" } else { "" };
        format!("coupa-po:{}:v{}{cancel}", self.coupa_id, self.version)
    }

    /// The key of `key` and its resend number, when it is a PO key.
    pub fn parse(key: &str) -> Option<(PoKey, Option<u32>)> {
        let rest = key.strip_prefix("coupa-po:")?;
        let (id, rest) = rest.split_once(":v")?;
        let (rest, resend) = match rest.split_once(":resend-") {
            Some((head, n)) => (head, Some(n.parse::<u32>().ok()?)),
            None => (rest, None),
        };
        let (version, cancel) = match rest.strip_suffix(":cancel") {
            Some(v) => (v, true),
            None => (rest, false),
        };
        Some((
            PoKey {
                coupa_id: id.parse().ok()?,
                version: version.parse().ok()?,
                cancel,
            },
            resend,
        ))
    }

    /// What the PO row under ledger key `key` is, for operators and the partner's status API:
    /// its version, and whether it is the order (version 1), a change (a later version) or the
    /// cancellation, with its resend number. The rows of one PO share its number and, once
    /// sent, their status, so this is what tells them apart. `None` for a key that is not a
    /// PO's.
    pub fn describe(key: &str) -> Option<gateway_http::PoVersion> {
        use gateway_http::PoPurpose;
        let (po, resend) = PoKey::parse(key)?;
        let purpose = match (po.cancel, po.version) {
            (true, _) => PoPurpose::Cancellation,
            (false, 0 | 1) => PoPurpose::Order,
            (false, _) => PoPurpose::Change,
        };
        Some(gateway_http::PoVersion {
            version: po.version,
            purpose,
            resend,
        })
    }

    /// Whether a supplier must receive `self` after `other` (the same PO).
    pub fn later_than(&self, other: &PoKey) -> bool {
        self.coupa_id == other.coupa_id
            && (self.version, self.cancel) > (other.version, other.cancel)
    }

    /// The bounds of every key of one Coupa PO, for a range query on the ledger's key index:
    /// `[low, high)`.
    pub fn range_of(coupa_id: u64) -> (String, String) {
        (
            format!("coupa-po:{coupa_id}:"),
            format!("coupa-po:{coupa_id};"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_and_order_as_a_supplier_must_receive_them() {
        let v1 = PoKey {
            coupa_id: 4711,
            version: 1,
            cancel: false,
        };
        let v1_cancel = PoKey { cancel: true, ..v1 };
        let v2 = PoKey { version: 2, ..v1 };
        assert_eq!(v1.key(), "coupa-po:4711:v1");
        assert_eq!(v1_cancel.key(), "coupa-po:4711:v1:cancel");
        for k in [v1, v1_cancel, v2] {
            assert_eq!(PoKey::parse(&k.key()), Some((k, None)));
            assert_eq!(
                PoKey::parse(&format!("{}:resend-3", k.key())),
                Some((k, Some(3)))
            );
        }
        assert!(v1_cancel.later_than(&v1) && v2.later_than(&v1_cancel) && v2.later_than(&v1));
        assert!(!v1.later_than(&v1) && !v1.later_than(&v2));
        let other = PoKey {
            coupa_id: 4712,
            version: 9,
            cancel: false,
        };
        assert!(!other.later_than(&v1));
        for bad in [
            "coupa-po:x:v2",
            "coupa-po:1:vx",
            "cxml:acme:1",
            "coupa-po:1:v2:resend-x",
        ] {
            assert_eq!(PoKey::parse(bad), None, "{bad}");
        }
        let (low, high) = PoKey::range_of(4711);
        for k in [v1, v1_cancel, v2] {
            assert!(low.as_str() <= k.key().as_str() && k.key().as_str() < high.as_str());
        }
        // Another PO whose id starts with the same digits is outside the range.
        let k = PoKey {
            coupa_id: 47111,
            ..v1
        }
        .key();
        assert!(
            !(low.as_str() <= k.as_str() && k.as_str() < high.as_str()),
            "{k}"
        );
    }

    #[test]
    fn a_key_is_described_as_its_version_and_what_it_is_to_the_supplier() {
        let said = |key: &str| PoKey::describe(key).map(|v| v.to_string());
        assert_eq!(said("coupa-po:7:v1").as_deref(), Some("version 1: order"));
        assert_eq!(said("coupa-po:7:v2").as_deref(), Some("version 2: change"));
        assert_eq!(
            said("coupa-po:7:v1:cancel").as_deref(),
            Some("version 1: cancellation")
        );
        assert_eq!(
            said("coupa-po:7:v3:cancel:resend-2").as_deref(),
            Some("version 3: cancellation, resend 2")
        );
        assert_eq!(said("cxml:acme:1"), None);
    }
}
