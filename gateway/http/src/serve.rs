//! The accept loop: plain TCP or TLS, HTTP/1.1 and HTTP/2, a header-read timeout (slow-header
//! clients are cut off), a request timeout, a bound on open connections (idle ones included:
//! past it new connections wait in the listen backlog, so thousands of idle sockets or HTTP/2
//! connections opened and left silent cannot exhaust memory or file descriptors), HTTP/2 pings
//! that close a connection whose peer stopped answering, and graceful shutdown (stop
//! accepting, let in-flight requests finish within the grace period).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
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
        let service = TowerToHyperService::new(app.clone());
        let builder = builder.clone();
        match &acceptor {
            None => {
                let conn = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _slot = slot;
                    if let Err(e) = conn.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let header_timeout = options.header_timeout;
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let _slot = slot;
                    let tls =
                        match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake timed out");
                                return;
                            }
                        };
                    let conn = builder
                        .serve_connection_with_upgrades(TokioIo::new(tls), service)
                        .into_owned();
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(options.grace) => {
            tracing::warn!("grace period over; closing remaining connections");
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
        let app = Router::new().route("/ping", axum::routing::get(|| async { "pong" }));
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
}
