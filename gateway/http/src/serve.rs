//! The accept loop: plain TCP or TLS, HTTP/1.1 and HTTP/2, a header-read timeout (slow-header
//! clients are cut off, and so are connections that send nothing: the first request head must
//! be complete within the header timeout of the accept, TLS handshake included), a request
//! timeout, a bound on open connections (idle ones included:
//! past it new connections wait in the listen backlog, so thousands of idle sockets or HTTP/2
//! connections opened and left silent cannot exhaust memory or file descriptors), HTTP/2 pings
//! that close a connection whose peer stopped answering, and graceful shutdown (stop
//! accepting, let in-flight requests finish within the grace period).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::timeout::TimeoutLayer;

/// Listener options.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    /// How long in-flight requests may run after shutdown was asked for.
    pub grace: Duration,
    /// Connections open at once, idle ones included; more wait to be accepted.
    pub max_connections: usize,
}

/// HTTP/2: a ping after this much silence, and the connection closed when it is not answered
/// within [`H2_PING_TIMEOUT`].
const H2_PING_INTERVAL: Duration = Duration::from_secs(30);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);
/// HTTP/2 requests in flight on one connection.
const H2_MAX_STREAMS: u32 = 64;

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            tls: None,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            grace: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
) {
    #[allow(deprecated)]
    let app = app.layer(TimeoutLayer::new(options.request_timeout));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(H2_PING_INTERVAL))
        .keep_alive_timeout(H2_PING_TIMEOUT)
        .max_concurrent_streams(H2_MAX_STREAMS);
    let acceptor = options.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    let slots = Arc::new(tokio::sync::Semaphore::new(options.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        // A slot first: while every one is taken, connections wait in the listen backlog.
        let slot = tokio::select! {
            s = Arc::clone(&slots).acquire_owned() => s,
            _ = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // The deadline for the first request head runs from here, the TLS handshake included.
        let head_deadline = tokio::time::Instant::now() + options.header_timeout;
        let connection = Connection {
            builder: builder.clone(),
            app: app.clone(),
            watcher: graceful.watcher(),
            head_deadline,
            peer,
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _slot = slot;
            match acceptor {
                None => connection.drive(stream).await,
                Some(acceptor) => {
                    let tls = tokio::time::timeout_at(head_deadline, acceptor.accept(stream));
                    match tls.await {
                        Ok(Ok(tls)) => connection.drive(tls).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(options.grace) => {
            tracing::warn!("grace period over; closing remaining connections");
        }
    }
}

/// One accepted connection, ready to be served once its TLS handshake (if any) is done.
struct Connection {
    builder: Builder<TokioExecutor>,
    app: Router,
    watcher: Watcher,
    /// When the first complete request head must have arrived: `header_timeout` after the
    /// connection was accepted.
    head_deadline: tokio::time::Instant,
    peer: SocketAddr,
}

impl Connection {
    /// Serves `io` until it ends, or closes it at the head deadline when no complete request
    /// head arrived by then. hyper's own header timeout covers every later request of a
    /// keep-alive connection, but not the first: hyper-util reads the first bytes to tell
    /// HTTP/1 from HTTP/2 with no timeout at all, so a socket that never sent a byte held its
    /// slot for ever (and an HTTP/2 connection that sent only its preface, while it answered
    /// pings).
    async fn drive<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            builder,
            app,
            watcher,
            head_deadline,
            peer,
        } = self;
        // hyper calls the service once a request head is complete (HTTP/1 or an HTTP/2
        // stream's headers); that disarms the deadline.
        let heard = Arc::new(tokio::sync::Notify::new());
        let app = {
            let heard = Arc::clone(&heard);
            app.map_request(move |request: Request<Incoming>| {
                heard.notify_one();
                request
            })
        };
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(app))
            .into_owned();
        let conn = watcher.watch(conn);
        let no_head_in_time = async {
            if tokio::time::timeout_at(head_deadline, heard.notified())
                .await
                .is_ok()
            {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            ended = conn => {
                if let Err(e) = ended {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            }
            () = no_head_in_time => {
                tracing::debug!(%peer, "no complete request head within the header timeout; closing the connection");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    async fn get(addr: std::net::SocketAddr) -> std::io::Result<String> {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(b"GET /ping HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
            .await?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).await?;
        Ok(answer)
    }

    /// A server answering `GET /ping` with `pong` under `options`; send on the sender to stop
    /// it, then await the handle.
    async fn ping_server(
        options: ServeOptions,
    ) -> (
        std::net::SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let slow = options.header_timeout * 3;
        let app = Router::new()
            .route("/ping", axum::routing::get(|| async { "pong" }))
            .route(
                "/slow",
                axum::routing::get(move || async move {
                    tokio::time::sleep(slow).await;
                    "done"
                }),
            );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, app, options, async {
            let _ = stopped.await;
        }));
        (addr, stop, server)
    }

    /// A keep-alive connection left idle after its request is closed once the header timeout
    /// passes without a new request, so idle HTTP/1 connections do not stay open for ever.
    #[tokio::test]
    async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
        let (addr, stop, server) = ping_server(ServeOptions {
            header_timeout: Duration::from_millis(200),
            ..ServeOptions::default()
        })
        .await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /ping HTTP/1.1\r\nHost: gw\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
        // Nothing more is sent: the server ends the connection (end of stream), it does not
        // wait for ever. The outer bound only keeps a broken server from hanging the test.
        let after = tokio::time::timeout(Duration::from_secs(60), s.read(&mut buf)).await;
        assert!(matches!(after, Ok(Ok(0))), "{after:?}");
        let _ = stop.send(());
        server.await.unwrap();
    }

    /// Idle connections (sockets opened and left silent, as a flood of them or HTTP/2
    /// connections past their preface would be) hold a slot each; past `max_connections` a new
    /// connection is not served until one closes, so they cannot exhaust the process.
    #[tokio::test]
    async fn idle_connections_are_bounded_and_a_freed_slot_serves_the_next() {
        let (addr, stop, server) = ping_server(ServeOptions {
            header_timeout: Duration::from_secs(600),
            max_connections: 2,
            ..ServeOptions::default()
        })
        .await;
        assert!(
            get(addr).await.unwrap().ends_with("pong"),
            "served when free"
        );
        let idle = [
            TcpStream::connect(addr).await.unwrap(),
            TcpStream::connect(addr).await.unwrap(),
        ];
        let mut waiting = tokio::spawn(get(addr));
        // Both slots are held by the idle sockets: the request is not served meanwhile.
        let early = tokio::time::timeout(Duration::from_millis(300), &mut waiting).await;
        assert!(
            early.is_err(),
            "served past the connection bound: {early:?}"
        );
        drop(idle);
        let answer = waiting.await.unwrap().unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("pong"),
            "{answer}"
        );
        let _ = stop.send(());
        server.await.unwrap();
    }

    /// Reads until the server ends the connection; the guard only keeps a server that never
    /// does from hanging the test. Ok when it ended (end of stream, or a TLS stream cut
    /// without close_notify), with what was read.
    async fn read_to_end_of_stream(
        mut s: impl tokio::io::AsyncRead + Unpin,
    ) -> Result<Vec<u8>, String> {
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        let guard = tokio::time::Instant::now() + GUARD;
        loop {
            match tokio::time::timeout_at(guard, s.read(&mut buf)).await {
                Err(_) => return Err(format!("still open after {GUARD:?}; read {seen:?}")),
                Ok(Ok(0)) => return Ok(seen),
                Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(seen),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(seen),
                Ok(Err(e)) => return Err(format!("read failed: {e}")),
            }
        }
    }

    /// Generous against the 200 ms header timeouts below, but shorter than the HTTP/2 ping
    /// interval and timeout (50 s), so that closing a connection for not answering pings
    /// cannot pass for the header timeout.
    const GUARD: Duration = Duration::from_secs(20);

    /// Sockets opened and left silent (not one byte sent) take every slot; each is closed by
    /// the server once the header timeout passes, and the request waiting behind them is
    /// served. Before, hyper's header timeout started only with the first byte, so such
    /// sockets held their slots for ever and the gateway served nothing more.
    #[tokio::test]
    async fn silent_connections_are_closed_after_the_header_timeout_and_free_their_slots() {
        let (addr, stop, server) = ping_server(ServeOptions {
            header_timeout: Duration::from_millis(200),
            max_connections: 3,
            ..ServeOptions::default()
        })
        .await;
        let mut silent = Vec::new();
        for _ in 0..3 {
            silent.push(TcpStream::connect(addr).await.unwrap());
        }
        let waiting = tokio::spawn(get(addr));
        for s in silent {
            let seen = read_to_end_of_stream(s).await;
            assert!(matches!(&seen, Ok(b) if b.is_empty()), "{seen:?}");
        }
        let answer = tokio::time::timeout(GUARD, waiting)
            .await
            .expect("the waiting request was not served")
            .unwrap()
            .unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("pong"),
            "{answer}"
        );
        let _ = stop.send(());
        server.await.unwrap();
    }

    /// An HTTP/2 connection that sends its preface and settings but no request is closed at
    /// the header timeout too.
    #[tokio::test]
    async fn an_http2_connection_without_a_request_is_closed_after_the_header_timeout() {
        let (addr, stop, server) = ping_server(ServeOptions {
            header_timeout: Duration::from_millis(200),
            ..ServeOptions::default()
        })
        .await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .await
            .unwrap();
        // An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
        s.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
        let seen = read_to_end_of_stream(s).await;
        // The server's SETTINGS came (it spoke HTTP/2), then the end of the connection.
        assert!(
            matches!(&seen, Ok(b) if b.len() >= 9 && b[3] == 4),
            "{seen:?}"
        );
        let _ = stop.send(());
        server.await.unwrap();
    }

    /// The deadline is for the request head only: a request whose head came in time is
    /// answered however long its handler then takes (the request timeout bounds that).
    #[tokio::test]
    async fn a_request_whose_head_came_in_time_may_run_past_the_header_timeout() {
        let (addr, stop, server) = ping_server(ServeOptions {
            header_timeout: Duration::from_millis(200),
            ..ServeOptions::default()
        })
        .await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /slow HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let seen = read_to_end_of_stream(s).await.unwrap();
        let answer = String::from_utf8_lossy(&seen);
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("done"),
            "{answer}"
        );
        let _ = stop.send(());
        server.await.unwrap();
    }

    /// Over TLS the deadline covers the handshake and what follows it: a client that finishes
    /// the handshake and then sends nothing is closed, and frees the only slot for the next.
    #[tokio::test]
    async fn a_tls_connection_silent_after_its_handshake_is_closed_after_the_header_timeout() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = rustls_pki_types::PrivateKeyDer::Pkcs8(
            rustls_pki_types::PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()),
        );
        let server_config = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.cert.der().clone()], key)
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.cert.der().clone()).unwrap();
        let client_config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config));
        let (addr, stop, server) = ping_server(ServeOptions {
            tls: Some(Arc::new(server_config)),
            header_timeout: Duration::from_millis(200),
            max_connections: 1,
            ..ServeOptions::default()
        })
        .await;
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        let silent = connector
            .connect(name.clone(), TcpStream::connect(addr).await.unwrap())
            .await
            .expect("handshake");
        let seen = read_to_end_of_stream(silent).await;
        assert!(matches!(&seen, Ok(b) if b.is_empty()), "{seen:?}");

        let mut next = connector
            .connect(name, TcpStream::connect(addr).await.unwrap())
            .await
            .expect("handshake");
        next.write_all(b"GET /ping HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let seen = read_to_end_of_stream(next).await.unwrap();
        let answer = String::from_utf8_lossy(&seen);
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("pong"),
            "{answer}"
        );
        let _ = stop.send(());
        server.await.unwrap();
    }
}
