//! Finding the partner a document belongs to: by profile id (file-drop folder, REST token) or
//! by the sender identity the decoder found (X12 ISA05:ISA06, cXML From domain:identity).

use gateway_core::{Format, PartnerProfile};

/// The configured partner profiles.
#[derive(Debug, Clone, Default)]
pub struct Partners {
    profiles: Vec<PartnerProfile>,
}

impl Partners {
    pub fn new(profiles: Vec<PartnerProfile>) -> Self {
        Partners { profiles }
    }

    pub fn all(&self) -> &[PartnerProfile] {
        &self.profiles
    }

    pub fn by_id(&self, id: &str) -> Option<&PartnerProfile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    /// The partner whose profile names `sender` (`qualifier:id` or `domain:identity`).
    pub fn by_sender(&self, format: Format, sender: &str) -> Option<&PartnerProfile> {
        let (q, id) = sender.split_once(':').unwrap_or(("", sender));
        let (q, id) = (q.trim(), id.trim());
        let eq = |a: &Option<String>, b: &str| {
            a.as_deref()
                .is_some_and(|a| a.trim().eq_ignore_ascii_case(b))
        };
        self.profiles.iter().find(|p| match format {
            Format::X12 => p.x12.as_ref().is_some_and(|x| {
                eq(&x.partner_id, id)
                    && (x.partner_qualifier.is_none() || eq(&x.partner_qualifier, q))
            }),
            Format::Cxml => p.cxml.as_ref().is_some_and(|c| {
                eq(&c.from_identity, id) && (c.from_domain.is_none() || eq(&c.from_domain, q))
            }),
            _ => false,
        })
    }

    /// The partner whose Coupa supplier record matches (id, number or name).
    pub fn by_coupa_supplier(
        &self,
        id: Option<u64>,
        number: Option<&str>,
        name: Option<&str>,
    ) -> Option<&PartnerProfile> {
        self.profiles.iter().find(|p| {
            p.coupa_supplier.as_ref().is_some_and(|s| {
                (s.id.is_some() && s.id == id)
                    || (s.number.is_some() && s.number.as_deref() == number)
                    || (s.name.is_some()
                        && s.name.as_deref().map(str::to_ascii_lowercase)
                            == name.map(str::to_ascii_lowercase))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_match_by_id_and_qualifier() {
        let p = PartnerProfile::from_toml(
            "id = \"acme\"\n[x12]\npartner_qualifier = \"ZZ\"\npartner_id = \"ACME\"\n[cxml]\nfrom_domain = \"DUNS\"\nfrom_identity = \"123\"\n",
            "t",
        )
        .unwrap();
        let ps = Partners::new(vec![p]);
        assert_eq!(
            ps.by_sender(Format::X12, "ZZ:ACME  ")
                .map(|p| p.id.as_str()),
            Some("acme")
        );
        assert!(ps.by_sender(Format::X12, "01:ACME").is_none());
        assert_eq!(
            ps.by_sender(Format::Cxml, "duns:123")
                .map(|p| p.id.as_str()),
            Some("acme")
        );
        assert!(ps.by_sender(Format::Cxml, "DUNS:124").is_none());
    }
}
