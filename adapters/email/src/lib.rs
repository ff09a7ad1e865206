//! E-mail: invoices in from a mailbox (a Maildir, read by the server), purchase orders out by
//! SMTP.
//!
//! - [`EmailCodec`] is a [`gateway_core::Decode`] for whole RFC 5322 messages: it finds every
//!   attachment that is cXML, X12 or CSV and decodes it with the codecs the server hands in
//!   (this crate never imports another adapter). Documents carry the `From` address as sender
//!   and `Message-ID` + attachment SHA-256 as source key, so the ledger catches a message that
//!   arrives twice.
//! - [`sender`] maps a `From` address to a partner through the profile's `[email]` allow-list
//!   and checks `Authentication-Results` when the profile asks for it; when several partners
//!   list the address (an invoicing service sending for several suppliers),
//!   [`EmailCodec::route`] lets the mail's documents say which partner it is for.
//! - [`outbound`] renders a purchase order as a mail (text + HTML summary that says plainly
//!   when the order is changed or cancelled and gives the ship-to's address, the terms and
//!   the need-by dates; the PO in the partner's format attached, written without any secret
//!   of the profile, [`without_secrets`]) and sends it with `lettre` over SMTP.
//! - [`imap`] reads unseen messages from an IMAP mailbox (`async-imap` over rustls) and marks
//!   them seen or quarantines them only when told, after the bus confirmed.

pub mod attachment;
pub mod decoder;
pub mod imap;
pub mod message;
pub mod outbound;
mod po_summary;
pub mod related;
mod route;
pub mod sender;
pub mod supporting;

pub use decoder::{EmailCodec, X12Attachment};
pub use imap::{Fetched, ImapConfig, ImapError, ImapInbox, ImapSecurity};
pub use message::{Limits, MailError, ParsedMail};

pub use outbound::{
    MailFile, NoticeMail, PoMail, RenderError, SmtpConfig, SmtpFailure, SmtpMailer, SmtpSecurity,
    SmtpSetupError, po_format, render_notice_mail, render_notice_mail_with, render_po_mail,
    without_secrets,
};
pub use route::MAX_SHARED;
pub use sender::{ForeignDocument, SenderError, check_sender, find_partner, find_partners};

/// The mail library, for callers that build or inspect messages themselves (tests).
pub use lettre;
