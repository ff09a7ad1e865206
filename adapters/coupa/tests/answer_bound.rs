//! Coupa's answers are read with a bound ([`adapter_coupa::transport::MAX_ANSWER_BYTES`]): an
//! endpoint streaming an endless answer (a misconfigured proxy, a hostile host behind the
//! configured URL) fails the call, naming the bound, instead of filling the gateway's memory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use adapter_coupa::transport::MAX_ANSWER_BYTES;
use adapter_coupa::{CoupaClient, CoupaClientConfig, CoupaError, PoQuery};
use gateway_core::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Far more than the bound, finite only so that a client reading without one fails the
/// assertions below rather than the machine.
const HUGE: usize = 4 * MAX_ANSWER_BYTES;

/// What the fake Coupa answers on one route.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// A token, as Coupa's token endpoint gives it.
    Token,
    /// 200 with a chunked body of [`HUGE`] bytes.
    Endless,
    /// 200 announcing `Content-Length: 10 GB`, then nothing (the connection held).
    Announced,
}

/// Reads one request (head, then `Content-Length` bytes of body); its path.
async fn read_request(s: &mut TcpStream) -> std::io::Result<String> {
    let mut request = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(String::new());
        }
        request.extend_from_slice(&buf[..n]);
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                return Ok(path);
            }
        }
    }
}

/// Body bytes the fake wrote on its last endless answer, and whether it wrote them all (false:
/// the client hung up first).
type Written = (usize, bool);

/// Answers one connection: `token` for the token endpoint, `api` for anything else.
async fn answer(mut s: TcpStream, token: Answer, api: Answer) -> std::io::Result<Option<Written>> {
    let path = read_request(&mut s).await?;
    let how = if path.starts_with("/oauth2/token") {
        token
    } else {
        api
    };
    match how {
        Answer::Token => {
            let body = r#"{"access_token":"t0k3n","token_type":"bearer","expires_in":86400}"#;
            s.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
            .await?;
            Ok(None)
        }
        Answer::Endless => {
            s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            )
            .await?;
            let filler = vec![b' '; 64 * 1024];
            let frame = [
                format!("{:x}\r\n", filler.len()).as_bytes(),
                &filler,
                b"\r\n",
            ]
            .concat();
            let mut written = 0;
            while written < HUGE {
                if s.write_all(&frame).await.is_err() {
                    return Ok(Some((written, false)));
                }
                written += filler.len();
            }
            let _ = s.write_all(b"0\r\n\r\n").await;
            Ok(Some((written, true)))
        }
        Answer::Announced => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n")
                .await?;
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf).await;
            Ok(None)
        }
    }
}

/// A fake Coupa on localhost answering `token` and `api`; its base URL, and a receiver of what
/// each endless answer wrote.
async fn fake_coupa(
    token: Answer,
    api: Answer,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<Written>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                if let Ok(Some(written)) = answer(s, token, api).await {
                    let _ = tx.send(written);
                }
            });
        }
    });
    (base, rx)
}

/// One attempt per call (the bound is what is tested, not the retry loop); the timeout only
/// keeps a client reading without a bound from hanging the test.
fn client(base: &str) -> CoupaClient {
    let mut c = CoupaClientConfig::new(base, "client", Secret::new("secret"));
    c.token_activation = Duration::ZERO;
    c.max_attempts = 1;
    c.timeout = Duration::from_secs(60);
    CoupaClient::new(c).unwrap()
}

fn assert_names_the_bound(err: &CoupaError) {
    let CoupaError::Transport {
        message,
        sent: true,
    } = err
    else {
        panic!("{err:?}");
    };
    assert!(
        message.contains(&format!("larger than {MAX_ANSWER_BYTES} bytes")),
        "{message}"
    );
    assert!(
        err.is_retryable() && err.is_ambiguous(),
        "retryable, and Coupa may have acted: {err:?}"
    );
}

/// A page of purchase orders that never ends: the call fails at the bound, and the client
/// stopped reading (the endpoint could not write it all).
#[tokio::test]
async fn an_api_answer_over_the_bound_fails_the_call_naming_the_bound() {
    let (base, mut written) = fake_coupa(Answer::Token, Answer::Endless).await;
    let err = client(&base)
        .purchase_orders_page(&PoQuery::default(), 0)
        .await
        .unwrap_err();
    assert_names_the_bound(&err);
    let (bytes, finished) = written.recv().await.unwrap();
    assert!(
        !finished && bytes < HUGE,
        "the client read the whole answer ({bytes} bytes)"
    );
}

/// The token endpoint's answer is read with the same bound.
#[tokio::test]
async fn a_token_answer_over_the_bound_fails_the_call_naming_the_bound() {
    let (base, mut written) = fake_coupa(Answer::Endless, Answer::Token).await;
    let err = client(&base)
        .purchase_orders_page(&PoQuery::default(), 0)
        .await
        .unwrap_err();
    assert_names_the_bound(&err);
    let (bytes, finished) = written.recv().await.unwrap();
    assert!(!finished && bytes < HUGE, "read it all ({bytes} bytes)");
}

/// An answer whose `Content-Length` is over the bound fails at once, without waiting for it.
#[tokio::test]
async fn an_answer_announced_over_the_bound_is_not_read() {
    let (base, _) = fake_coupa(Answer::Token, Answer::Announced).await;
    let err = client(&base)
        .purchase_orders_page(&PoQuery::default(), 0)
        .await
        .unwrap_err();
    assert_names_the_bound(&err);
}
