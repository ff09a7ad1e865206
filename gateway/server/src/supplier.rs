//! Purchase orders out to suppliers, each in the channel its partner profile names: a cXML
//! OrderRequest POSTed to the supplier's URL (success only on a cXML 2xx Status), an X12 850
//! or CSV file written atomically into the partner's folder, or an e-mail. A supplier with no
//! profile is sent what its Coupa record names (`po-method` cxml or email, with Coupa's cXML
//! identities), read from Coupa again at delivery so the bus carries only the supplier id.
//! After the supplier has it, the PO is marked exported in Coupa; a PO already sent is never
//! sent again on a retry (the ledger remembers), only its export mark is retried.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use gateway_core::{
    DeliveryError, Encode, Envelope, Format, Outbound, PartnerProfile, Receipt,
    profile::OutboundChannel,
};
use gateway_model::Document;

use crate::codecs::Codecs;
use crate::filedrop::write_atomically;
use crate::ledger::{Ledger, Status};
use crate::partners::Partners;

/// The envelope field where the PO poller puts the Coupa PO id.
pub const COUPA_PO_ID: &str = "coupa_po_id";

/// The envelope field naming the Coupa supplier whose record gives the channel, for a PO
/// whose supplier has no partner profile.
pub const COUPA_SUPPLIER_ID: &str = "coupa_supplier_id";

/// The partner id of a supplier known only from its Coupa record (routing keys, ledger,
/// metrics).
pub fn coupa_supplier_partner_id(coupa_supplier_id: u64) -> String {
    format!("coupa-supplier-{coupa_supplier_id}")
}

/// Partner profiles made from Coupa supplier records, for suppliers the configuration has no
/// profile for.
pub trait CoupaSupplierProfiles: Send + Sync {
    /// `Ok(Ok(profile))`: send on the profile's channel. `Ok(Err(reason))`: the record says the
    /// gateway must not send (`prompt`, `mark_as_sent`, no address, ...). `Err`: Coupa could
    /// not be asked (retryable or not, as the error says).
    fn profile(
        &self,
        coupa_supplier_id: u64,
    ) -> BoxFuture<'_, Result<Result<PartnerProfile, String>, DeliveryError>>;
}

/// Marks a PO exported in Coupa once the supplier has it.
pub trait PoExporter: Send + Sync {
    fn mark_exported(&self, coupa_po_id: u64) -> BoxFuture<'_, Result<(), DeliveryError>>;
}

/// Sends purchase orders to suppliers.
pub struct SupplierDelivery {
    partners: Partners,
    codecs: Codecs,
    ledger: Arc<Ledger>,
    http: reqwest::Client,
    exporter: Option<Arc<dyn PoExporter>>,
    mailer: Option<Arc<adapter_email::SmtpMailer>>,
    coupa_suppliers: Option<Arc<dyn CoupaSupplierProfiles>>,
}

impl std::fmt::Debug for SupplierDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupplierDelivery").finish_non_exhaustive()
    }
}

/// Marker in the ledger detail: the supplier has the PO, only the export mark is pending.
const SENT: &str = "sent to supplier";

impl SupplierDelivery {
    pub fn new(
        partners: Partners,
        codecs: Codecs,
        ledger: Arc<Ledger>,
        timeout: Duration,
        exporter: Option<Arc<dyn PoExporter>>,
    ) -> Result<Self, reqwest::Error> {
        let http = supplier_http(timeout)?;
        Ok(SupplierDelivery {
            partners,
            codecs,
            ledger,
            http,
            exporter,
            mailer: None,
            coupa_suppliers: None,
        })
    }

    /// Where profiles come from for suppliers known only in Coupa.
    pub fn with_coupa_suppliers(mut self, suppliers: Arc<dyn CoupaSupplierProfiles>) -> Self {
        self.coupa_suppliers = Some(suppliers);
        self
    }

    /// The profile to send with: the configured one, else one made from the Coupa supplier
    /// record the envelope names.
    async fn partner_for(
        &self,
        env: &Envelope,
    ) -> Result<std::borrow::Cow<'_, PartnerProfile>, DeliveryError> {
        let partner_id = env.partner.as_deref().unwrap_or("");
        if let Some(p) = self.partners.by_id(partner_id) {
            return Ok(std::borrow::Cow::Borrowed(p));
        }
        let coupa_id = env
            .source
            .extra
            .get(COUPA_SUPPLIER_ID)
            .and_then(|v| v.parse::<u64>().ok());
        match (coupa_id, &self.coupa_suppliers) {
            (Some(id), Some(suppliers)) => suppliers
                .profile(id)
                .await?
                .map(std::borrow::Cow::Owned)
                .map_err(|reason| {
                    DeliveryError::permanent(format!(
                        "not sent: Coupa supplier {id} {reason}; change its PO method in Coupa or add a [[partners]] entry, then replay"
                    ))
                }),
            _ => Err(DeliveryError::permanent(format!(
                "no partner profile {partner_id:?} for this purchase order; add a [[partners]] entry"
            ))),
        }
    }

    /// The SMTP relay for partners whose channel is `email` (`[mailbox.smtp]`).
    pub fn with_mailer(mut self, mailer: Arc<adapter_email::SmtpMailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    fn encoder(&self, format: Format) -> Result<Arc<dyn Encode>, DeliveryError> {
        self.codecs.encoder(format).ok_or_else(|| {
            DeliveryError::permanent(format!("this gateway cannot write {format} documents"))
        })
    }

    fn encode(
        &self,
        format: Format,
        doc: &Document,
        partner: &PartnerProfile,
    ) -> Result<Vec<u8>, DeliveryError> {
        self.encoder(format)?
            .encode(std::slice::from_ref(doc), partner)
            .map_err(|e| {
                DeliveryError::permanent(format!(
                    "cannot write the PO as {format} for {}: {e}",
                    partner.id
                ))
            })
    }

    async fn send(
        &self,
        env: &Envelope,
        doc: &Document,
        partner: &PartnerProfile,
    ) -> Result<String, DeliveryError> {
        let channel = partner.outbound.as_ref().ok_or_else(|| {
            DeliveryError::permanent(format!(
                "partner {} has no [partners.outbound] channel; add one (cxml, x12_file, csv_file)",
                partner.id
            ))
        })?;
        let stem = file_stem(env, doc);
        match channel {
            OutboundChannel::Cxml { url } => {
                let body = self.encode(Format::Cxml, &with_stable_payload_id(env, doc), partner)?;
                post_cxml(&self.http, url, body).await
            }
            OutboundChannel::X12File { dir } => {
                let body = self.encode(Format::X12, doc, partner)?;
                let written = write_file(dir, &format!("{stem}.edi"), &body)?;
                // So the supplier's 997/999 can be matched to this PO (`partner_acks`).
                crate::partner_acks::remember_sent(
                    &self.ledger,
                    &partner.id,
                    &env.idempotency_key,
                    &body,
                );
                Ok(written)
            }
            OutboundChannel::CsvFile { dir } => {
                let body = self.encode(Format::Csv, doc, partner)?;
                write_file(dir, &format!("{stem}.csv"), &body)
            }
            OutboundChannel::Email { to } => {
                let mailer = self.mailer.as_ref().ok_or_else(|| {
                    DeliveryError::permanent(format!(
                        "partner {}'s channel is email but [mailbox.smtp] is not configured",
                        partner.id
                    ))
                })?;
                let sent =
                    crate::mailbox::send_po(mailer, &self.codecs, env, doc, partner, to, &stem)
                        .await?;
                if let Some(body) = &sent.x12 {
                    crate::partner_acks::remember_sent(
                        &self.ledger,
                        &partner.id,
                        &env.idempotency_key,
                        body,
                    );
                }
                Ok(sent.reference)
            }
        }
    }
}

/// `doc` with a payloadID made from its idempotency key (`adapter_cxml::encode::PAYLOAD_ID`):
/// every attempt at one PO version goes out under the same payloadID, so a supplier that took
/// an attempt whose answer never came back (a timeout, a dropped connection) can tell the
/// retry is the same order; each version and each `gateway resend` has a key, and so a
/// payloadID, of its own. Left as it is when its `cxml` extension is not an object.
fn with_stable_payload_id(env: &Envelope, doc: &Document) -> Document {
    let mut doc = doc.clone();
    let readable: String = env
        .idempotency_key
        .chars()
        .take(80)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '.'
            }
        })
        .collect();
    let fingerprint = crate::pipeline::content_fingerprint(env.idempotency_key.as_bytes());
    let id = format!(
        "{readable}.{}",
        fingerprint.get(..12).unwrap_or(&fingerprint)
    );
    let cxml = doc
        .extensions_mut()
        .entry("cxml".to_string())
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if let Some(cxml) = cxml.as_object_mut() {
        cxml.insert(
            adapter_cxml::encode::PAYLOAD_ID.to_string(),
            serde_json::Value::String(id),
        );
    }
    doc
}

/// The HTTP client documents to suppliers go out with (POs, notices): bounded by `timeout`,
/// naming the gateway and its version.
pub(crate) fn supplier_http(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("coupa-gateway/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// POSTs a cXML document to a supplier's URL; success only on a cXML 2xx Status
/// ([`crate::cxml_reply::judge`]).
pub(crate) async fn post_cxml(
    http: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
) -> Result<String, DeliveryError> {
    let response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
        .body(body)
        .send()
        .await
        .map_err(|e| DeliveryError::retryable(format!("POST {url}: {e}")))?;
    let status = response.status();
    let text = response
        .bytes()
        .await
        .map_err(|e| DeliveryError::retryable(format!("reading the answer of {url}: {e}")))?;
    crate::cxml_reply::judge(url, status.as_u16(), &text)
}

fn file_stem(env: &Envelope, doc: &Document) -> String {
    let version = match doc {
        Document::PurchaseOrder(po) => po.version.map(|v| format!("-v{v}")).unwrap_or_default(),
        Document::Invoice(_) => String::new(),
    };
    stem(doc.number(), &version, &env.doc_id)
}

/// `<number><version>-<first 8 of the doc id>`, safe as a file name in a partner's folder:
/// what the gateway writes there for one document (a PO, an 824 or notice about an invoice).
pub(crate) fn stem(number: &str, version: &str, doc_id: &str) -> String {
    let number: String = number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let short_id: String = doc_id.chars().take(8).collect();
    format!("{number}{version}-{short_id}")
}

/// Writes `body` into a partner's folder atomically; the path written.
pub(crate) fn write_file(dir: &str, name: &str, body: &[u8]) -> Result<String, DeliveryError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| DeliveryError::retryable(format!("cannot create {dir}: {e}")))?;
    write_atomically(Path::new(dir), name, body)
        .map(|p| p.display().to_string())
        .map_err(|e| DeliveryError::retryable(format!("cannot write {name} into {dir}: {e}")))
}

impl Outbound for SupplierDelivery {
    fn name(&self) -> &str {
        "supplier"
    }

    fn deliver<'a>(
        &'a self,
        env: &'a Envelope,
        doc: &'a Document,
    ) -> BoxFuture<'a, Result<Receipt, DeliveryError>> {
        async move {
            let already = self
                .ledger
                .entry(&env.idempotency_key)
                .ok()
                .flatten()
                .filter(|e| e.detail.starts_with(SENT));
            let (reference, already_present) = match already {
                Some(e) => (
                    e.detail
                        .trim_start_matches(SENT)
                        .trim_start_matches(": ")
                        .to_string(),
                    true,
                ),
                None => {
                    let partner = self.partner_for(env).await?;
                    let reference = self.send(env, doc, &partner).await?;
                    let _ = self.ledger.set_status(
                        &env.idempotency_key,
                        Status::Published,
                        &format!("{SENT}: {reference}"),
                    );
                    (reference, false)
                }
            };
            if let (Some(exporter), Some(id)) = (
                &self.exporter,
                env.source
                    .extra
                    .get(COUPA_PO_ID)
                    .and_then(|v| v.parse::<u64>().ok()),
            ) {
                exporter.mark_exported(id).await?;
            }
            Ok(Receipt {
                reference,
                already_present,
            })
        }
        .boxed()
    }
}
