//! IMAP inbox: unseen messages fetched without marking them (`BODY.PEEK[]`), marked `\Seen` only
//! when the caller says the bus has every document, or moved to a quarantine folder with a
//! reason note beside them. A crash before the mark leaves the message unseen, so it is read
//! again and the ledger's idempotency keys keep it from creating anything twice.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use gateway_core::Secret;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// How the IMAP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImapSecurity {
    /// Plain IMAP: only for a server on loopback.
    None,
    /// Implicit TLS (IMAPS, port 993 by default), rustls with the webpki roots plus `ca_file`.
    #[default]
    Tls,
}

/// The invoice inbox (`[mailbox.imap]` in `gateway.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    pub host: String,
    /// Default: 143 without TLS, 993 with TLS.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: ImapSecurity,
    pub username: String,
    pub password: Secret,
    #[serde(default = "default_inbox")]
    pub mailbox: String,
    /// Created when missing.
    #[serde(default = "default_quarantine")]
    pub quarantine_folder: String,
    /// Extra PEM CA certificate to trust (a private server).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// Messages read per poll at most, so one poll stays short.
    #[serde(default = "default_batch")]
    pub max_per_poll: usize,
}

fn default_inbox() -> String {
    "INBOX".into()
}
fn default_quarantine() -> String {
    "quarantine".into()
}
fn default_timeout() -> u64 {
    30_000
}
fn default_batch() -> usize {
    50
}

/// What went wrong talking to the server. Always retryable (the messages stay unseen), except
/// that a login refused needs the configuration fixed.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("IMAP {server}: cannot connect: {message}")]
    Connect { server: String, message: String },
    #[error("IMAP {server}: TLS: {message}")]
    Tls { server: String, message: String },
    #[error("IMAP {server}: login as {user} refused: {message}")]
    Login {
        server: String,
        user: String,
        message: String,
    },
    #[error("IMAP {server}: {command}: {message}")]
    Command {
        server: String,
        command: &'static str,
        message: String,
    },
    #[error("IMAP {server}: no answer within {ms} ms")]
    Timeout { server: String, ms: u64 },
}

/// The byte stream under the IMAP session: plain TCP or TLS.
pub trait ImapIo: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> ImapIo for T {}

type Session = async_imap::Session<Box<dyn ImapIo>>;

/// A logged-in session on the invoice mailbox.
pub struct ImapInbox {
    session: Session,
    cfg: ImapConfig,
    server: String,
}

impl std::fmt::Debug for ImapInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapInbox")
            .field("server", &self.server)
            .field("mailbox", &self.cfg.mailbox)
            .finish_non_exhaustive()
    }
}

/// One unseen message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub uid: u32,
    /// `None` when the message is larger than the limit (it was not downloaded).
    pub raw: Option<Vec<u8>>,
    pub size: Option<u32>,
}

impl ImapInbox {
    /// Connects, logs in and selects the mailbox.
    pub async fn connect(cfg: &ImapConfig) -> Result<Self, ImapError> {
        let port = cfg.port.unwrap_or(match cfg.security {
            ImapSecurity::None => 143,
            ImapSecurity::Tls => 993,
        });
        let server = format!("{}:{port}", cfg.host);
        let limit = Duration::from_millis(cfg.timeout_ms.max(100));
        let timeout = |server: &str| ImapError::Timeout {
            server: server.to_string(),
            ms: cfg.timeout_ms,
        };
        let tcp = tokio::time::timeout(limit, TcpStream::connect((cfg.host.as_str(), port)))
            .await
            .map_err(|_| timeout(&server))?
            .map_err(|e| ImapError::Connect {
                server: server.clone(),
                message: e.to_string(),
            })?;
        let io: Box<dyn ImapIo> = match cfg.security {
            ImapSecurity::None => Box::new(tcp),
            ImapSecurity::Tls => Box::new(tls(cfg, &server, tcp, limit).await?),
        };
        let mut client = async_imap::Client::new(io);
        let greeting = tokio::time::timeout(limit, client.read_response())
            .await
            .map_err(|_| timeout(&server))?;
        if !matches!(greeting, Ok(Some(_))) {
            return Err(ImapError::Connect {
                server,
                message: "no greeting".into(),
            });
        }
        let mut session =
            tokio::time::timeout(limit, client.login(&cfg.username, cfg.password.expose()))
                .await
                .map_err(|_| timeout(&server))?
                .map_err(|(e, _)| ImapError::Login {
                    server: server.clone(),
                    user: cfg.username.clone(),
                    message: e.to_string(),
                })?;
        session
            .select(&cfg.mailbox)
            .await
            .map_err(|e| command(&server, "SELECT", e))?;
        Ok(ImapInbox {
            session,
            cfg: cfg.clone(),
            server,
        })
    }

    /// UIDs of unseen messages, oldest first, at most `max_per_poll`.
    pub async fn unseen(&mut self) -> Result<Vec<u32>, ImapError> {
        let mut uids: Vec<u32> = self
            .session
            .uid_search("UNSEEN")
            .await
            .map_err(|e| command(&self.server, "UID SEARCH", e))?
            .into_iter()
            .collect();
        uids.sort_unstable();
        uids.truncate(self.cfg.max_per_poll);
        Ok(uids)
    }

    /// Downloads one message without setting `\Seen`, unless it is larger than `max_bytes`.
    pub async fn fetch(&mut self, uid: u32, max_bytes: usize) -> Result<Fetched, ImapError> {
        let size = {
            let mut stream = self
                .session
                .uid_fetch(uid.to_string(), "RFC822.SIZE")
                .await
                .map_err(|e| command(&self.server, "UID FETCH", e))?;
            let mut size = None;
            while let Some(f) = stream.next().await {
                let f = f.map_err(|e| command(&self.server, "UID FETCH", e))?;
                if f.uid == Some(uid) || f.uid.is_none() {
                    size = size.or(f.size);
                }
            }
            size
        };
        if size.is_some_and(|s| usize::try_from(s).map_or(true, |s| s > max_bytes)) {
            return Ok(Fetched {
                uid,
                raw: None,
                size,
            });
        }
        let mut stream = self
            .session
            .uid_fetch(uid.to_string(), "BODY.PEEK[]")
            .await
            .map_err(|e| command(&self.server, "UID FETCH", e))?;
        let mut raw = None;
        while let Some(f) = stream.next().await {
            let f = f.map_err(|e| command(&self.server, "UID FETCH", e))?;
            if raw.is_none()
                && let Some(body) = f.body()
            {
                raw = Some(body.to_vec());
            }
        }
        Ok(Fetched { uid, raw, size })
    }

    /// Marks the message seen: the bus has every document from it.
    pub async fn mark_seen(&mut self, uid: u32) -> Result<(), ImapError> {
        self.store(uid, "+FLAGS.SILENT (\\Seen)").await
    }

    async fn store(&mut self, uid: u32, what: &str) -> Result<(), ImapError> {
        let mut stream = self
            .session
            .uid_store(uid.to_string(), what)
            .await
            .map_err(|e| command(&self.server, "UID STORE", e))?;
        while let Some(r) = stream.next().await {
            r.map_err(|e| command(&self.server, "UID STORE", e))?;
        }
        Ok(())
    }

    /// Moves the message to the quarantine folder, with a note saying why appended beside it.
    pub async fn quarantine(&mut self, uid: u32, reason: &str) -> Result<(), ImapError> {
        let folder = self.cfg.quarantine_folder.clone();
        // CREATE fails when the folder exists; that is fine
        let _ = self.session.create(&folder).await;
        let note = format!(
            "From: coupa-gateway <gateway@localhost>\r\nSubject: quarantined message (UID {uid})\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
            reason.replace('\n', "\r\n")
        );
        self.session
            .append(&folder, Some("(\\Seen)"), None, note.as_bytes())
            .await
            .map_err(|e| command(&self.server, "APPEND", e))?;
        self.session
            .uid_copy(uid.to_string(), &folder)
            .await
            .map_err(|e| command(&self.server, "UID COPY", e))?;
        self.store(uid, "+FLAGS.SILENT (\\Seen \\Deleted)").await?;
        let stream = self
            .session
            .expunge()
            .await
            .map_err(|e| command(&self.server, "EXPUNGE", e))?;
        let _: Vec<_> = stream.collect().await;
        Ok(())
    }

    pub async fn logout(mut self) {
        let _ = self.session.logout().await;
    }
}

fn command(server: &str, command: &'static str, e: async_imap::error::Error) -> ImapError {
    ImapError::Command {
        server: server.to_string(),
        command,
        message: e.to_string(),
    }
}

async fn tls(
    cfg: &ImapConfig,
    server: &str,
    tcp: TcpStream,
    limit: Duration,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ImapError> {
    let err = |message: String| ImapError::Tls {
        server: server.to_string(),
        message,
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &cfg.ca_file {
        use rustls_pki_types::pem::PemObject;
        let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|e| err(format!("ca_file {}: {e}", path.display())))?;
        for c in certs {
            let c = c.map_err(|e| err(format!("ca_file {}: {e}", path.display())))?;
            roots
                .add(c)
                .map_err(|e| err(format!("ca_file {}: {e}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from(cfg.host.clone())
        .map_err(|e| err(format!("{}: {e}", cfg.host)))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    tokio::time::timeout(limit, connector.connect(name, tcp))
        .await
        .map_err(|_| ImapError::Timeout {
            server: server.to_string(),
            ms: cfg.timeout_ms,
        })?
        .map_err(|e| err(e.to_string()))
}
