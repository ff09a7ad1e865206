//! Which partner a mail is for, when its sender alone does not say.
//!
//! An invoicing service that sends for several suppliers is listed in the `[email] from` of
//! each of them; taking the first profile that lists it delivered one supplier's invoices to
//! Coupa under another's name, with no note. Its mails go to the partner their documents name
//! instead. And an address allowed for one partner must not carry documents that name another
//! configured partner as their sender, even when its own partner has no identity in that
//! format to check against.

use gateway_core::profile::CoupaSupplierRef;
use gateway_core::{DecodedDocument, Format, PartnerProfile};
use gateway_model::{Document, Party};

use crate::attachment::classify;
use crate::decoder::{EmailCodec, Read};
use crate::message::{MailAttachment, ParsedMail, clean};
use crate::sender::{ForeignDocument, Identity, SenderError, find_partners, ids_of};

/// The most partners one sender may be shared by: each one's reading of the mail is decoded,
/// so a `@domain` entry listed by hundreds of profiles does not cost hundreds of decodes per
/// mail.
pub const MAX_SHARED: usize = 16;

impl EmailCodec {
    /// The partner `mail` is for among `profiles`, or why none can be told. The mailbox asks
    /// this before it ingests a message (in place of [`crate::find_partner`]):
    ///
    /// - The sender is one partner's (its `[email] from` list names it best): that partner,
    ///   unless a cXML or X12 attachment says it is from another configured partner (its From
    ///   credential or ISA sender is that partner's identity) and this partner has no identity
    ///   in that format to check it against ([`SenderError::Foreign`]). A partner that has one
    ///   gets such a document refused by the decoder, the mail's other documents going through.
    /// - Several partners list the sender equally well (a shared invoicing service): the one
    ///   partner that every document of the mail, read with that partner's profile, names:
    ///   by its cXML From credential or X12 ISA sender against the partner's `[cxml]` / `[x12]`
    ///   identity, else by the supplier it names against the partner's `coupa_supplier`. A
    ///   mail whose documents name none of them, more than one, or different ones is refused
    ///   whole with the reason ([`SenderError::Shared`]), never given to the first.
    ///
    /// Attachments are decoded here to see what they name, and again when the mail is
    /// ingested: only when the sender is shared, or for the cXML and X12 attachments the
    /// foreign check needs.
    pub fn route<'p>(
        &self,
        profiles: &'p [PartnerProfile],
        mail: &ParsedMail,
    ) -> Result<&'p PartnerProfile, SenderError> {
        let from = mail.from.as_deref().ok_or(SenderError::NoFrom)?;
        let candidates = find_partners(profiles, from);
        let shared = |reason: String| SenderError::Shared {
            from: from.to_string(),
            candidates: ids_of(&candidates),
            reason,
        };
        match candidates.as_slice() {
            [] => Err(SenderError::Unknown {
                from: from.to_string(),
            }),
            [one] => {
                self.no_foreign_documents(profiles, mail, one, from)?;
                Ok(*one)
            }
            many if many.len() > MAX_SHARED => Err(shared(format!(
                "{} partners list it, and the gateway tells at most {MAX_SHARED} apart; give \
                 the partners sender addresses (or domains) of their own",
                many.len()
            ))),
            many => self.shared(profiles, mail, many).map_err(shared),
        }
    }

    /// Refuses `mail` when one of its cXML or X12 documents names another configured partner's
    /// identity as its sender while `partner`, whose sender the mail is from, has none in that
    /// format (with one, [`crate::decoder`] refuses such a document itself).
    fn no_foreign_documents(
        &self,
        profiles: &[PartnerProfile],
        mail: &ParsedMail,
        partner: &PartnerProfile,
        from: &str,
    ) -> Result<(), SenderError> {
        let unchecked = |format: Format| {
            Identity::of(partner, format).is_none()
                && profiles
                    .iter()
                    .any(|o| o.id != partner.id && Identity::of(o, format).is_some())
        };
        for att in &mail.attachments {
            if !classify(att).is_ok_and(|f| matches!(f, Format::Cxml | Format::X12) && unchecked(f))
            {
                continue;
            }
            let Read::Decoded(format, decoded) = self.read(att, partner) else {
                continue;
            };
            for d in &decoded.documents {
                let Some(sender) = d.meta.sender.as_deref() else {
                    continue;
                };
                let owner = profiles.iter().find_map(|o| {
                    Identity::of(o, format)
                        .filter(|i| o.id != partner.id && i.matches(sender))
                        .map(|i| (o, i))
                });
                if let Some((owner, identity)) = owner {
                    return Err(SenderError::Foreign(Box::new(ForeignDocument {
                        from: from.to_string(),
                        partner: partner.id.clone(),
                        document: document_place(att, d),
                        sender: clean(sender, 120),
                        owner: owner.id.clone(),
                        keys: identity.keys,
                    })));
                }
            }
        }
        Ok(())
    }

    /// The one of `candidates` (partners sharing the mail's sender) that every document of
    /// `mail` names, or why there is none, in words.
    fn shared<'p>(
        &self,
        profiles: &[PartnerProfile],
        mail: &ParsedMail,
        candidates: &[&'p PartnerProfile],
    ) -> Result<&'p PartnerProfile, String> {
        let readings: Vec<Reading> = candidates
            .iter()
            .map(|c| self.reading(profiles, mail, c, candidates))
            .collect();
        let fits: Vec<&'p PartnerProfile> = candidates
            .iter()
            .zip(&readings)
            .filter(|(_, r)| r.documents > 0 && r.miss.is_none())
            .map(|(c, _)| *c)
            .collect();
        if let [one] = fits.as_slice() {
            return Ok(*one);
        }
        if fits.len() > 1 {
            return Err(format!(
                "its documents fit more than one of them ({}); {DISTINCT}",
                ids_of(&fits).join(", ")
            ));
        }
        let Some(miss) = readings.iter().find_map(|r| r.miss.as_ref()) else {
            let why = readings
                .iter()
                .find_map(|r| r.first_reject.as_deref())
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            return Err(format!(
                "none of its attachments is a cXML, X12 or CSV document that could be read to \
                 tell which{why}"
            ));
        };
        Err(match miss.claimants.as_slice() {
            [] => format!("{} names none of them; {DISTINCT}", miss.document),
            [other] => {
                let also = candidates
                    .iter()
                    .zip(&readings)
                    .find(|(c, _)| c.id == *other)
                    .and_then(|(_, r)| r.miss.as_ref())
                    .map(|m| format!(" while {} is not", m.document))
                    .unwrap_or_default();
                format!(
                    "{} is partner {other}'s{also}: send each partner's documents in a mail of \
                     their own",
                    miss.document
                )
            }
            several => format!(
                "{} fits more than one of them ({}); {DISTINCT}",
                miss.document,
                several.join(", ")
            ),
        })
    }

    /// `mail` read as `candidate`'s: how many documents, the first one `candidate` does not
    /// own (and which of `candidates` do), the first refusal.
    fn reading(
        &self,
        profiles: &[PartnerProfile],
        mail: &ParsedMail,
        candidate: &PartnerProfile,
        candidates: &[&PartnerProfile],
    ) -> Reading {
        let mut reading = Reading::default();
        for att in &mail.attachments {
            let decoded = match self.read(att, candidate) {
                Read::Decoded(format, decoded) => (format, decoded),
                Read::Refused(why) => {
                    reading
                        .first_reject
                        .get_or_insert_with(|| format!("{}: {}", att.label(), clean(&why, 300)));
                    continue;
                }
                Read::Pdf | Read::Skipped(_) => continue,
            };
            let (format, decoded) = decoded;
            if let Some(r) = decoded.rejects.first() {
                reading.first_reject.get_or_insert_with(|| {
                    format!(
                        "{}, {}: {}",
                        att.label(),
                        r.location,
                        clean(&r.message, 300)
                    )
                });
            }
            for d in &decoded.documents {
                reading.documents += 1;
                if owns(profiles, candidate, format, d) {
                    continue;
                }
                reading.miss = Some(Miss {
                    document: document_label(att, format, d),
                    claimants: ids_of(
                        &candidates
                            .iter()
                            .filter(|c| owns(profiles, c, format, d))
                            .copied()
                            .collect::<Vec<_>>(),
                    ),
                });
                return reading;
            }
        }
        reading
    }
}

/// What to configure so that partners sharing a sender can be told apart.
const DISTINCT: &str = "each partner's profile must name what its documents carry: its \
     coupa_supplier (id, number or name) as the documents name their supplier, its [cxml] \
     from_domain/from_identity as their From credential, or its [x12] \
     partner_qualifier/partner_id as their ISA sender; or give each partner a sender address \
     of its own";

/// One partner's reading of a mail from a shared sender.
#[derive(Debug, Default)]
struct Reading {
    documents: usize,
    /// The first document the partner does not own.
    miss: Option<Miss>,
    /// The first attachment or document refused, for a mail with no document.
    first_reject: Option<String>,
}

/// A document one partner does not own, and the partners among the candidates that do.
#[derive(Debug)]
struct Miss {
    document: String,
    claimants: Vec<String>,
}

/// Whether document `d` (of `format`) is `partner`'s own. Its sender identity decides when one
/// can: the partner's configured cXML or X12 identity matches it, or the document names
/// another configured partner's identity (then it is not this one's). Otherwise the supplier
/// it names decides, against the partner's `coupa_supplier`.
fn owns(
    profiles: &[PartnerProfile],
    partner: &PartnerProfile,
    format: Format,
    d: &DecodedDocument,
) -> bool {
    let sender = d.meta.sender.as_deref();
    if let (Some(own), Some(sender)) = (Identity::of(partner, format), sender) {
        return own.matches(sender);
    }
    let anothers = sender.is_some_and(|s| {
        profiles
            .iter()
            .filter(|o| o.id != partner.id)
            .any(|o| Identity::of(o, format).is_some_and(|i| i.matches(s)))
    });
    !anothers
        && partner
            .coupa_supplier
            .as_ref()
            .is_some_and(|s| supplier_is(s, &d.document))
}

/// The supplier a document names.
fn supplier(doc: &Document) -> Option<&Party> {
    match doc {
        Document::Invoice(i) => i.supplier.as_ref(),
        Document::PurchaseOrder(p) => p.supplier.as_ref(),
    }
}

/// Whether the supplier `doc` names is the Coupa supplier `wanted`: the same Coupa id, the same
/// supplier number, or the same name (case and surrounding blanks ignored), as the server finds
/// a partner by its Coupa supplier.
fn supplier_is(wanted: &CoupaSupplierRef, doc: &Document) -> bool {
    let Some(p) = supplier(doc) else {
        return false;
    };
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    let id = p.coupa_supplier_id();
    (wanted.id.is_some() && wanted.id == id)
        || wanted
            .number
            .as_deref()
            .zip(p.coupa_supplier_number())
            .is_some_and(|(a, b)| same(a, b))
        || wanted
            .name
            .as_deref()
            .zip(p.name.as_deref())
            .is_some_and(|(a, b)| same(a, b))
}

/// `attachment 1 'inv.xml', invoice INV-9`: where a document is, for a refusal.
fn document_place(att: &MailAttachment, d: &DecodedDocument) -> String {
    format!(
        "{}, {} {}",
        att.label(),
        d.document.kind(),
        clean(d.document.number(), 80)
    )
}

/// `attachment 1 'inv.csv', invoice INV-9 (supplier 'Hooli', supplier number HOOLI-1)`: where
/// the document is and what it names, for a refusal.
fn document_label(att: &MailAttachment, format: Format, d: &DecodedDocument) -> String {
    let mut named = Vec::new();
    if let Some(s) = d.meta.sender.as_deref() {
        let what = match format {
            Format::Cxml => "From",
            Format::X12 => "ISA sender",
            _ => "sender",
        };
        named.push(format!("{what} {}", clean(s, 80)));
    }
    if let Some(p) = supplier(&d.document) {
        if let Some(n) = p.name.as_deref() {
            named.push(format!("supplier '{}'", clean(n, 80)));
        }
        if let Some(n) = p.coupa_supplier_number() {
            named.push(format!("supplier number {}", clean(n, 80)));
        }
        if let Some(id) = p.coupa_supplier_id() {
            named.push(format!("Coupa supplier id {id}"));
        }
    }
    let named = if named.is_empty() {
        "naming no sender or supplier".to_string()
    } else {
        named.join(", ")
    };
    format!("{} ({named})", document_place(att, d))
}
