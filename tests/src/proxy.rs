//! A small TCP fault proxy for the fault suite (a Toxiproxy-like helper in-process): it
//! forwards connections to an upstream address and, on command, adds latency, resets every
//! open connection (RST, as a dropped network does), black-holes traffic (bytes are read and
//! never forwarded, so the peer hangs until its own timeout or heartbeat fires) or refuses new
//! connections. Put it between the gateway and RabbitMQ (or Coupa) instead of stopping the
//! shared service other tests use.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does to traffic right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward bytes as they come.
    Forward,
    /// Forward each chunk after this delay.
    Latency(Duration),
    /// Accept and read, forward nothing: both peers see a silent link.
    Blackhole,
    /// Close new connections at once (with RST); open ones keep forwarding.
    Refuse,
}

#[derive(Debug)]
struct Shared {
    mode: watch::Sender<Mode>,
    /// Bumped by [`FaultProxy::reset_all`]; every pump watches it and closes with RST.
    generation: watch::Sender<u64>,
    accepted: AtomicU64,
    forwarded_bytes: AtomicU64,
    /// Chunks that arrived while black-holed (held, not forwarded).
    held_chunks: AtomicU64,
}

/// A running proxy; dropping it stops accepting (open connections end with their peers).
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl FaultProxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (mode, _) = watch::channel(Mode::Forward);
        let (generation, _) = watch::channel(0u64);
        let shared = Arc::new(Shared {
            mode,
            generation,
            accepted: AtomicU64::new(0),
            forwarded_bytes: AtomicU64::new(0),
            held_chunks: AtomicU64::new(0),
        });
        let s = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                s.accepted.fetch_add(1, Ordering::SeqCst);
                let s = Arc::clone(&s);
                tokio::spawn(async move { connection(client, upstream, s).await });
            }
        });
        Ok(FaultProxy {
            addr,
            upstream,
            shared,
            task: Mutex::new(Some(task)),
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where the proxy forwards to.
    pub fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    pub fn set_mode(&self, mode: Mode) {
        self.shared.mode.send_replace(mode);
    }

    pub fn mode(&self) -> Mode {
        *self.shared.mode.borrow()
    }

    /// Closes every open connection with a TCP reset, both sides.
    pub fn reset_all(&self) {
        self.shared.generation.send_modify(|g| *g += 1);
    }

    /// Connections accepted so far (a reconnect shows as a new one).
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Chunks that were held back by a black hole so far: a peer is waiting on a silent link.
    pub fn held_chunks(&self) -> u64 {
        self.shared.held_chunks.load(Ordering::SeqCst)
    }

    /// Bytes forwarded in either direction so far.
    pub fn forwarded_bytes(&self) -> u64 {
        self.shared.forwarded_bytes.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Ok(mut t) = self.task.lock()
            && let Some(t) = t.take()
        {
            t.abort();
        }
        self.reset_all();
    }
}

/// Sets SO_LINGER 0 so that closing the socket sends RST instead of FIN.
fn abortive(s: &TcpStream) {
    #[allow(deprecated)]
    let _ = s.set_linger(Some(Duration::ZERO));
}

async fn connection(client: TcpStream, upstream: SocketAddr, s: Arc<Shared>) {
    let _ = client.set_nodelay(true);
    if *s.mode.borrow() == Mode::Refuse {
        abortive(&client);
        return;
    }
    let mut generation = s.generation.subscribe();
    generation.mark_unchanged();
    let server = tokio::select! {
        c = TcpStream::connect(upstream) => match c {
            Ok(c) => c,
            Err(_) => { abortive(&client); return; }
        },
        _ = generation.changed() => { abortive(&client); return; }
    };
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pump(cr, sw, Arc::clone(&s));
    let down = pump(sr, cw, Arc::clone(&s));
    tokio::pin!(up, down);
    let mut up_done = false;
    let mut down_done = false;
    loop {
        tokio::select! {
            _ = generation.changed() => break,
            r = &mut up, if !up_done => {
                up_done = true;
                if r.is_none() || down_done { break; }
            }
            r = &mut down, if !down_done => {
                down_done = true;
                if r.is_none() || up_done { break; }
            }
        }
    }
    // Dropping the pumps drops the socket halves; with linger 0 that is an RST.
}

/// Copies `from` to `to` honouring the mode. Returns `Some(())` on a clean end of stream (FIN
/// passed on), `None` on an error. Both halves are set abortive before they drop on reset.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    s: Arc<Shared>,
) -> Option<()> {
    abortive_half(&from);
    let mut buf = vec![0u8; 16 * 1024];
    let mut mode_rx = s.mode.subscribe();
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) => {
                let _ = to.shutdown().await;
                return Some(());
            }
            Ok(n) => n,
            Err(_) => return None,
        };
        let mut held = false;
        loop {
            let mode = *mode_rx.borrow_and_update();
            match mode {
                Mode::Forward | Mode::Refuse => break,
                Mode::Latency(d) => {
                    tokio::time::sleep(d).await;
                    break;
                }
                Mode::Blackhole => {
                    // Hold the bytes until the mode changes (or a reset drops us).
                    if !held {
                        held = true;
                        s.held_chunks.fetch_add(1, Ordering::SeqCst);
                    }
                    if mode_rx.changed().await.is_err() {
                        return None;
                    }
                }
            }
        }
        let chunk = buf.get(..n)?;
        if to.write_all(chunk).await.is_err() {
            return None;
        }
        s.forwarded_bytes
            .fetch_add(u64::try_from(n).unwrap_or(0), Ordering::SeqCst);
    }
}

fn abortive_half(h: &tokio::net::tcp::OwnedReadHalf) {
    let s: &TcpStream = h.as_ref();
    abortive(s);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// An echo server on a free port.
    async fn echo() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = l.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    async fn roundtrip(s: &mut TcpStream, msg: &[u8]) -> std::io::Result<Vec<u8>> {
        s.write_all(msg).await?;
        let mut buf = vec![0u8; msg.len()];
        s.read_exact(&mut buf).await?;
        Ok(buf)
    }

    #[tokio::test]
    async fn forwards_resets_black_holes_and_refuses() {
        let proxy = FaultProxy::start(echo().await).await.unwrap();
        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(roundtrip(&mut c, b"hello").await.unwrap(), b"hello");
        assert!(proxy.forwarded_bytes() >= 10);

        // Reset: the open connection dies.
        proxy.reset_all();
        let mut buf = [0u8; 1];
        let r = c.read(&mut buf).await;
        assert!(matches!(r, Ok(0) | Err(_)), "{r:?}");

        // Black hole: bytes are held; after the mode changes they flow again.
        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(roundtrip(&mut c, b"a").await.unwrap(), b"a");
        proxy.set_mode(Mode::Blackhole);
        c.write_all(b"held").await.unwrap();
        while proxy.held_chunks() == 0 {
            tokio::task::yield_now().await;
        }
        proxy.set_mode(Mode::Forward);
        let mut got = [0u8; 4];
        c.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"held");

        // Refuse: new connections are closed at once.
        proxy.set_mode(Mode::Refuse);
        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        let r = roundtrip(&mut c, b"x").await;
        assert!(r.is_err(), "{r:?}");
        assert!(proxy.accepted() >= 3);
    }
}
