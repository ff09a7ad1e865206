//! E-mail: invoices in from a mailbox (IMAP or Maildir), purchase orders out by SMTP.
