//! The accept loop: plain TCP or TLS, HTTP/1.1 and HTTP/2, a header-read timeout (slow-header
//! clients are cut off, and so are connections that send nothing: the first request head must
//! be complete within the header timeout of the accept, TLS handshake included), a request
//! timeout for receiving the body (a slower sender gets 408 naming `[http] request_timeout_ms`;
//! the work on a body received in full is not bounded by it: each request's handler runs on a
//! task of its own, to its end, even when the sender stops waiting, so documents are never
//! left half taken), a bound on open connections (idle ones included:
//! past it new connections wait in the listen backlog, so thousands of idle sockets or HTTP/2
//! connections opened and left silent cannot exhaust memory or file descriptors), HTTP/2 pings
//! that close a connection whose peer stopped answering, HTTP/2 connections closed (GOAWAY)
//! once no stream has been open for the header timeout, as HTTP/1 keep-alive connections are
//! closed when no new request comes within it, and graceful shutdown (stop accepting, let
//! in-flight requests finish within the grace period, the work of senders that went away
//! included).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, Response, Version};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;
use tracing::Instrument;

/// Listener options.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// How long a request head may take, and how long a connection may stay idle: an
    /// HTTP/1 keep-alive connection with no new request within it is closed, and so is an
    /// HTTP/2 connection with no stream open for that long (GOAWAY, so a request the client
    /// sent meanwhile is still served). Otherwise an HTTP/2 client that keeps answering pings
    /// held its connection slot for ever.
    pub header_timeout: Duration,
    /// How long a request's body may take to arrive in full, counted from its head: a slower
    /// sender gets 408 naming `[http] request_timeout_ms`, before anything is taken. It does
    /// not bound the work on a body received in full: cutting that off (it used to) left
    /// documents claimed, or published with no answer, and the sender's resend made copies.
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
    // Told to every connection when shutdown starts (each then closes gracefully); closed
    // once every connection has ended, which is when draining is over.
    let (draining, _) = watch::channel(());
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
            slot: Arc::new(slot),
            builder: builder.clone(),
            app: app.clone(),
            draining: draining.subscribe(),
            idle_timeout: options.header_timeout,
            request_timeout: options.request_timeout,
            head_deadline,
            peer,
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
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
    let _ = draining.send(());
    tokio::select! {
        () = draining.closed() => {}
        _ = tokio::time::sleep(options.grace) => {
            tracing::warn!("grace period over; closing remaining connections");
        }
    }
}

/// One accepted connection, ready to be served once its TLS handshake (if any) is done.
struct Connection {
    /// Its place among `max_connections`, freed once the connection and the work of every
    /// request it carried have ended: a sender that posts and goes away, again and again,
    /// must not pile up work beyond the bound.
    slot: Arc<tokio::sync::OwnedSemaphorePermit>,
    builder: Builder<TokioExecutor>,
    app: Router,
    /// Changes when the server shuts down; held until the connection ends, so the server
    /// knows when draining is over.
    draining: watch::Receiver<()>,
    /// How long an HTTP/2 connection may have no stream open before it is closed.
    idle_timeout: Duration,
    /// How long each request's body may take to arrive ([`ServeOptions::request_timeout`]).
    request_timeout: Duration,
    /// When the first complete request head must have arrived: `header_timeout` after the
    /// connection was accepted.
    head_deadline: tokio::time::Instant,
    peer: SocketAddr,
}

/// The requests (HTTP/2 streams) open on one connection, and whether it speaks HTTP/2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Streams {
    open: usize,
    h2: bool,
}

/// One open request of a connection: counted from when hyper hands its head to the service
/// until its response body is sent to the end or dropped (the client reset the stream, the
/// connection ended), whichever way that happens.
#[derive(Debug)]
struct OpenStream(Arc<watch::Sender<Streams>>);

impl OpenStream {
    fn open(streams: &Arc<watch::Sender<Streams>>) -> Self {
        streams.send_modify(|s| s.open += 1);
        OpenStream(Arc::clone(streams))
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.send_modify(|s| s.open = s.open.saturating_sub(1));
    }
}

/// A response body that keeps its stream counted open until it is done: a response streamed
/// after its handler returned is still in flight.
#[derive(Debug)]
struct Counted {
    body: Body,
    _open: OpenStream,
}

impl hyper::body::Body for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request body that must arrive in full by a deadline (the request timeout from its head):
/// past it, reading fails with [`BodyTimedOut`], which the endpoints answer with 408 naming the
/// setting. Once the body has ended the deadline no longer matters: the work on it is not
/// bounded.
#[derive(Debug)]
struct Arriving {
    body: Incoming,
    by: tokio::time::Instant,
    limit: Duration,
    /// Made at the first wait, so a request without a body costs no timer.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Arriving {
    fn new(body: Incoming, by: tokio::time::Instant, limit: Duration) -> Self {
        Arriving {
            body,
            by,
            limit,
            timer: None,
        }
    }
}

/// A request body that did not arrive in full within the request timeout (`[http]
/// request_timeout_ms`, the duration it holds).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request body did not arrive in full within {} ms ([http] request_timeout_ms)", .0.as_millis())]
pub(crate) struct BodyTimedOut(pub(crate) Duration);

impl hyper::body::Body for Arriving {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(axum::BoxError::from))),
            Poll::Pending => {
                let by = this.by;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(by)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut(this.limit))))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Resolves once the connection has spoken HTTP/2 and had no stream open for `idle`; a
/// stream opened meanwhile starts the wait again when it ends. An HTTP/1 connection never
/// resolves it: hyper's header timeout closes those between requests.
async fn idle_http2(mut streams: watch::Receiver<Streams>, idle: Duration) {
    loop {
        if streams.wait_for(|s| s.h2 && s.open == 0).await.is_err() {
            // The counter went with the service: the connection is ending anyway.
            return std::future::pending().await;
        }
        tokio::select! {
            () = tokio::time::sleep(idle) => return,
            changed = streams.changed() => {
                if changed.is_err() {
                    return std::future::pending().await;
                }
            }
        }
    }
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
            slot,
            builder,
            app,
            mut draining,
            idle_timeout,
            request_timeout,
            head_deadline,
            peer,
        } = self;
        // hyper calls the service once a request head is complete (HTTP/1 or an HTTP/2
        // stream's headers); that disarms the deadline, counts the stream open, and starts
        // the time its body has to arrive.
        let heard = Arc::new(tokio::sync::Notify::new());
        let streams = Arc::new(watch::Sender::new(Streams::default()));
        let app = {
            let heard = Arc::clone(&heard);
            let seen = Arc::clone(&streams);
            let counted = Arc::clone(&streams);
            // Held by every request's work until it ends, so that draining waits for it and
            // the connection's slot stays taken.
            let working = (draining.clone(), slot);
            // Handlers running at once on this connection: as many as it may have streams
            // open, whether or not their senders still wait (a client resetting its HTTP/2
            // streams one after the other cannot start more work than that).
            let turns = Arc::new(tokio::sync::Semaphore::new(H2_MAX_STREAMS as usize));
            app.map_request(move |request: Request<Incoming>| {
                heard.notify_one();
                if request.version() == Version::HTTP_2 {
                    seen.send_if_modified(|s| !std::mem::replace(&mut s.h2, true));
                }
                let by = tokio::time::Instant::now() + request_timeout;
                request.map(|body| Body::new(Arriving::new(body, by, request_timeout)))
            })
            .map_future(move |response| {
                let open = OpenStream::open(&counted);
                // The handler on a task of its own: hyper drops this future when the sender
                // goes away (or resets its stream), and the work on what it sent must not
                // stop half way; its answer is sent if the sender is still there.
                let working = working.clone();
                let turns = Arc::clone(&turns);
                async move {
                    // Only fails once closed, which it never is.
                    let turn = turns.acquire_owned().await.ok();
                    let work = tokio::spawn(
                        async move {
                            let _held = (working, turn);
                            response.await
                        }
                        .in_current_span(),
                    );
                    let response: Response<Body> = match work.await {
                        Ok(Ok(response)) => response,
                        Ok(Err(never)) => match never {},
                        Err(e) => {
                            let id = crate::correlation_id();
                            tracing::error!(%peer, correlation_id = %id, error = %e, "request handler failed");
                            let mut failed = Response::new(Body::from(format!(
                                "the gateway failed on this request (correlation id {id}); what it took, if anything, is in its ledger: send it again and the answer says\n"
                            )));
                            *failed.status_mut() = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                            failed
                        }
                    };
                    Ok::<_, std::convert::Infallible>(
                        response.map(|body| Body::new(Counted { body, _open: open })),
                    )
                }
            })
        };
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(app))
            .into_owned();
        tokio::pin!(conn);
        let no_head_in_time = async {
            if tokio::time::timeout_at(head_deadline, heard.notified())
                .await
                .is_ok()
            {
                std::future::pending::<()>().await;
            }
        };
        tokio::pin!(no_head_in_time);
        let idle = idle_http2(streams.subscribe(), idle_timeout);
        tokio::pin!(idle);
        // Once asked to close (shutdown, or idle), the connection is polled on until hyper
        // has finished what is in flight: a graceful close never cuts a request.
        let mut closing = false;
        loop {
            tokio::select! {
                ended = conn.as_mut() => {
                    if let Err(e) = ended {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                () = &mut no_head_in_time => {
                    tracing::debug!(%peer, "no complete request head within the header timeout; closing the connection");
                    return;
                }
                _ = draining.changed(), if !closing => {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
                () = &mut idle, if !closing => {
                    tracing::debug!(%peer, "HTTP/2 connection without a stream for the header timeout; closing it (GOAWAY)");
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
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
    /// answered however long its handler then takes.
    #[tokio::test]
    async fn a_request_whose_head_came_in_time_may_run_past_the_header_timeout() {
        slow_get_is_answered_in_full(ServeOptions {
            header_timeout: Duration::from_millis(200),
            ..ServeOptions::default()
        })
        .await;
    }

    /// `GET /slow` on a server with `options` gets the whole answer.
    async fn slow_get_is_answered_in_full(options: ServeOptions) {
        let (addr, stop, server) = ping_server(options).await;
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

    /// The request timeout bounds receiving a request, not the work on it: a handler running
    /// three times as long is answered in full (it was cut off with an empty 408, its work
    /// dropped half way).
    #[tokio::test]
    async fn a_handler_running_past_the_request_timeout_is_answered() {
        slow_get_is_answered_in_full(ServeOptions {
            header_timeout: Duration::from_millis(200),
            request_timeout: Duration::from_millis(200),
            ..ServeOptions::default()
        })
        .await;
    }

    /// A sender that goes away while its request is handled does not cut the handler off: it
    /// runs to its end, and keeps the connection's slot taken until then, so senders posting
    /// and leaving cannot pile up work past `max_connections`. Before, the handler was
    /// dropped where it stood (documents claimed and never published, or published with their
    /// rows never settled) and the slot freed at once.
    #[tokio::test]
    async fn a_request_whose_sender_went_away_runs_to_its_end_holding_its_slot() {
        let entered = Arc::new(tokio::sync::Notify::new());
        let release = Arc::new(tokio::sync::Notify::new());
        let (done_tx, done) = tokio::sync::oneshot::channel::<()>();
        let done_tx = Arc::new(std::sync::Mutex::new(Some(done_tx)));
        let app = {
            let (entered, release) = (Arc::clone(&entered), Arc::clone(&release));
            Router::new()
                .route("/ping", axum::routing::get(|| async { "pong" }))
                .route(
                    "/hold",
                    axum::routing::get(move || async move {
                        entered.notify_one();
                        release.notified().await;
                        if let Some(tx) = done_tx.lock().unwrap().take() {
                            let _ = tx.send(());
                        }
                        "held"
                    }),
                )
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let options = ServeOptions {
            max_connections: 1,
            ..ServeOptions::default()
        };
        let server = tokio::spawn(serve(listener, app, options, async {
            let _ = stopped.await;
        }));

        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /hold HTTP/1.1\r\nHost: gw\r\n\r\n")
            .await
            .unwrap();
        entered.notified().await;
        drop(s);
        let mut waiting = tokio::spawn(get(addr));
        let early = tokio::time::timeout(Duration::from_millis(300), &mut waiting).await;
        assert!(
            early.is_err(),
            "the slot was freed while the work of the sender that left still ran: {early:?}"
        );
        release.notify_one();
        tokio::time::timeout(GUARD, done)
            .await
            .expect("the handler never finished")
            .expect("the handler was dropped before its end");
        let answer = tokio::time::timeout(GUARD, waiting)
            .await
            .expect("the slot was never freed")
            .unwrap()
            .unwrap();
        assert!(answer.ends_with("pong"), "{answer}");
        let _ = stop.send(());
        server.await.unwrap();
    }

    /// An HTTP/2 client connection to `addr` (prior knowledge, no TLS): the handle to send
    /// requests on, and the connection's task, which ends when the server closes it.
    async fn h2_client(
        addr: std::net::SocketAddr,
    ) -> (
        hyper::client::conn::http2::SendRequest<Body>,
        tokio::task::JoinHandle<Result<(), hyper::Error>>,
    ) {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let (send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
                .await
                .unwrap();
        (send, tokio::spawn(conn))
    }

    /// `GET path` on an HTTP/2 connection: the status and the body.
    async fn h2_get(
        send: &mut hyper::client::conn::http2::SendRequest<Body>,
        addr: std::net::SocketAddr,
        path: &str,
    ) -> (u16, String) {
        let request = Request::get(format!("http://{addr}{path}"))
            .body(Body::empty())
            .unwrap();
        let response = send.send_request(request).await.unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(Body::new(response.into_body()), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// An HTTP/2 connection left idle after its request is closed by the server (GOAWAY) once
    /// no stream has been open for the header timeout, and its slot serves the next client.
    /// Before, it kept its slot for as long as it answered pings, which an HTTP/2 client does
    /// by itself, so `max_connections` idle clients stopped the gateway serving anyone.
    #[tokio::test]
    async fn an_idle_http2_connection_is_closed_and_frees_its_slot() {
        let (addr, stop, server) = ping_server(ServeOptions {
            header_timeout: Duration::from_millis(200),
            max_connections: 1,
            ..ServeOptions::default()
        })
        .await;
        let (mut send, conn) = h2_client(addr).await;
        assert_eq!(h2_get(&mut send, addr, "/ping").await, (200, "pong".into()));
        // Nothing more is sent: the server ends the connection. The bound only keeps a server
        // that never does from hanging the test (it is shorter than the ping interval).
        let ended = tokio::time::timeout(GUARD, conn).await;
        assert!(matches!(ended, Ok(Ok(Ok(())))), "{ended:?}");
        let answer = tokio::time::timeout(GUARD, get(addr))
            .await
            .expect("the slot was not freed")
            .unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("pong"),
            "{answer}"
        );
        let _ = stop.send(());
        server.await.unwrap();
    }

    /// A stream in flight keeps its HTTP/2 connection open however long it runs past the idle
    /// time (three of them here): the request is answered in full, and only then, idle, is
    /// the connection closed.
    #[tokio::test]
    async fn an_http2_connection_with_a_request_in_flight_is_not_closed_for_idleness() {
        let (addr, stop, server) = ping_server(ServeOptions {
            header_timeout: Duration::from_millis(200),
            ..ServeOptions::default()
        })
        .await;
        let (mut send, conn) = h2_client(addr).await;
        assert_eq!(h2_get(&mut send, addr, "/ping").await, (200, "pong".into()));
        // Sent at once after the first, before any idle time has passed.
        assert_eq!(h2_get(&mut send, addr, "/slow").await, (200, "done".into()));
        let ended = tokio::time::timeout(GUARD, conn).await;
        assert!(matches!(ended, Ok(Ok(Ok(())))), "{ended:?}");
        let _ = stop.send(());
        server.await.unwrap();
    }

    /// Shutdown still drains an HTTP/2 request in flight: it is answered, then the connection
    /// and the server end.
    #[tokio::test]
    async fn shutdown_lets_an_http2_request_in_flight_finish() {
        let (addr, stop, server) = ping_server(ServeOptions {
            header_timeout: Duration::from_millis(200),
            ..ServeOptions::default()
        })
        .await;
        let (mut send, conn) = h2_client(addr).await;
        let request = Request::get(format!("http://{addr}/slow"))
            .body(Body::empty())
            .unwrap();
        let (entered_tx, entered) = tokio::sync::oneshot::channel::<()>();
        let answer = tokio::spawn(async move {
            let response = send.send_request(request);
            let _ = entered_tx.send(());
            let response = response.await.unwrap();
            axum::body::to_bytes(Body::new(response.into_body()), 1 << 20)
                .await
                .unwrap()
        });
        entered.await.unwrap();
        // Shutdown is asked for while the request runs (its handler takes 600 ms).
        let _ = stop.send(());
        let body = tokio::time::timeout(GUARD, answer).await.unwrap().unwrap();
        assert_eq!(&body[..], b"done");
        tokio::time::timeout(GUARD, server).await.unwrap().unwrap();
        let ended = tokio::time::timeout(GUARD, conn).await;
        assert!(ended.is_ok(), "{ended:?}");
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
