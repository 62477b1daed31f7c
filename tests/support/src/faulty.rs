//! A LibreTranslate server built on a raw [`tokio::net::TcpListener`], for faults
//! below HTTP that an axum emulator cannot produce: a connection reset in the
//! middle of a body, a reply trickled one byte a second, a gzip body that expands
//! to gigabytes, a body with no end, JSON cut short.
//!
//! It speaks just enough HTTP/1.1: reads one request (headers, then a
//! `Content-Length` body), answers `GET /languages` with Arabic, Persian and English,
//! and `POST /translate` (JSON, `q` an array or a string) with [`fake_translate`] or
//! the next scripted [`Fault`] (a queue consumed one per translate request, over a
//! default mode, as in [`super::server`]). A normal answer keeps the connection
//! open for the next request; a fault closes it.
//!
//! Every translate request is logged ([`Faulty::requests`]: the texts and the fault
//! it got). The server runs on its own runtime in a background thread, so tests that
//! run the real binary need no async; it stops when dropped.

use std::collections::VecDeque;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::emulator::fake_translate;

/// What one translate request gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A correct LibreTranslate answer.
    Normal,
    /// Status 200, headers and half of the promised `Content-Length` body, then a TCP
    /// reset (`SO_LINGER` 0).
    ResetMidBody,
    /// A correct answer written one byte a second.
    Trickle,
    /// A correct answer's head at once, then its body one byte a second.
    TrickleBody,
    /// Read the request, never answer (until the server drops).
    Hang,
    /// Status 200, `application/json`, the first half of a correct body (its
    /// `Content-Length` says so: the HTTP exchange is complete, the JSON is not).
    TruncatedJson,
    /// Status 200 with a proxy's HTML error page.
    HtmlOk,
    /// Status 200, `Content-Encoding: gzip`, chunked: a gzip stream of spaces that
    /// expands to this many bytes, compressed as the client reads.
    GzipBomb(u64),
    /// Status 200, chunked: a JSON-looking body of this many bytes.
    Huge(u64),
    /// This status with this body (`application/json`).
    Status(u16, String),
    /// A correct answer with one translation too few.
    WrongCount,
    /// The source texts as their own translations.
    Echo,
    /// Any request on any path but a languages one (a 404, so that the client goes
    /// on to translate; logged with the raw request as its one "text"):
    /// this status with the whole request as the body, request line, headers and
    /// body, as a careless server's error page might: every key the client sent,
    /// wherever it put it, comes back.
    Mirror(u16),
}

/// One translate request as seen.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The texts it asked for.
    pub texts: Vec<String>,
    /// What it got.
    pub fault: Fault,
    /// When it arrived.
    pub at: Instant,
}

struct State {
    queue: VecDeque<Fault>,
    mode: Fault,
    log: Vec<Seen>,
    /// Bytes of the biggest body a [`Fault::GzipBomb`] or [`Fault::Huge`] got out
    /// (decompressed size for the bomb) before the client hung up.
    streamed: u64,
}

struct Shared {
    state: Mutex<State>,
    closed: watch::Receiver<bool>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fault-injecting LibreTranslate server; stops when dropped.
pub struct Faulty {
    addr: SocketAddr,
    shared: Arc<Shared>,
    closed: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Faulty {
    /// Start on a runtime of its own, answering normally until scripted.
    pub fn start() -> Faulty {
        let (closed, rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                mode: Fault::Normal,
                log: Vec::new(),
                streamed: 0,
            }),
            closed: rx,
        });
        let (tx, ready) = std::sync::mpsc::channel();
        let for_thread = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("faulty server runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                tx.send(listener.local_addr().expect("address")).unwrap();
                accept(listener, for_thread).await;
            });
            rt.shutdown_timeout(Duration::from_millis(200));
        });
        let addr = ready.recv().expect("faulty server started");
        Faulty {
            addr,
            shared,
            closed,
            thread: Some(thread),
        }
    }

    /// Base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queue `f` for the next `n` translate requests not yet scripted.
    pub fn push_n(&self, f: Fault, n: usize) {
        self.shared.lock().queue.extend(std::iter::repeat_n(f, n));
    }

    /// What translate requests get once the queue is empty.
    pub fn set_mode(&self, f: Fault) {
        self.shared.lock().mode = f;
    }

    /// Every translate request so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.shared.lock().log.clone()
    }

    /// Texts of the requests that got [`Fault::Normal`].
    pub fn answered_texts(&self) -> Vec<String> {
        (self.requests().into_iter())
            .filter(|s| s.fault == Fault::Normal)
            .flat_map(|s| s.texts)
            .collect()
    }

    /// The most body bytes a bomb or huge reply got out before the client hung up.
    pub fn streamed(&self) -> u64 {
        self.shared.lock().streamed
    }
}

impl Drop for Faulty {
    fn drop(&mut self) {
        let _ = self.closed.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    let mut closed = shared.closed.clone();
    loop {
        tokio::select! {
            r = listener.accept() => {
                let Ok((stream, _)) = r else { continue };
                let s = shared.clone();
                tokio::spawn(async move {
                    let mut closed = s.closed.clone();
                    tokio::select! {
                        () = connection(stream, &s) => {}
                        _ = closed.wait_for(|c| *c) => {}
                    }
                });
            }
            _ = closed.wait_for(|c| *c) => return,
        }
    }
}

/// Serve requests on one connection until a fault closes it.
async fn connection(mut stream: TcpStream, shared: &Shared) {
    let mut buf = Vec::new();
    while let Some((head, body)) = read_request(&mut stream, &mut buf).await {
        let first = head.lines().next().unwrap_or("").to_string();
        let mirror = match shared.lock().mode {
            Fault::Mirror(code) => Some(code),
            _ => None,
        };
        let reply = if mirror.is_some() && first.contains("languages") {
            // No answer about languages: the client goes on to translate, with its key.
            Ok(response(404, "text/plain", b"Not Found"))
        } else if let Some(code) = mirror {
            let mut all = head.into_bytes();
            all.extend_from_slice(&body);
            shared.lock().log.push(Seen {
                texts: vec![String::from_utf8_lossy(&all).into_owned()],
                fault: Fault::Mirror(code),
                at: Instant::now(),
            });
            Ok(response(code, "text/plain", &all))
        } else if first.starts_with("GET /languages") {
            Ok(ok_json(&languages()))
        } else if first.starts_with("POST /translate") {
            translate(&mut stream, shared, &body).await
        } else {
            Ok(response(
                404,
                "application/json",
                br#"{"error":"Not Found"}"#,
            ))
        };
        match reply {
            Ok(bytes) => {
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Err(()) => return,
        }
    }
}

/// One request's head and body, or `None` at the end of the connection.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let len = (head.lines())
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < end + len {
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[end..end + len].to_vec();
    buf.drain(..end + len);
    Some((head, body))
}

/// A translate request: log it, then answer (`Ok`: bytes to write, connection
/// kept) or act out the fault (`Err`: the connection is done).
async fn translate(stream: &mut TcpStream, shared: &Shared, body: &[u8]) -> Result<Vec<u8>, ()> {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let texts: Vec<String> = match request.get("q") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => (a.iter())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let fault = {
        let mut st = shared.lock();
        let f = st.queue.pop_front().unwrap_or_else(|| st.mode.clone());
        st.log.push(Seen {
            texts: texts.clone(),
            fault: f.clone(),
            at: Instant::now(),
        });
        f
    };
    let batch = matches!(request.get("q"), Some(Value::Array(_)));
    let answer = |out: Vec<String>| {
        let t = if batch {
            json!(out)
        } else {
            json!(out.concat())
        };
        serde_json::to_vec(&json!({ "translatedText": t })).unwrap()
    };
    let good = answer(texts.iter().map(|t| fake_translate(t)).collect());
    match fault {
        Fault::Normal => Ok(ok_json(&good)),
        Fault::WrongCount => {
            let mut out: Vec<String> = texts.iter().map(|t| fake_translate(t)).collect();
            out.pop();
            Ok(ok_json(&answer(out)))
        }
        Fault::Echo => Ok(ok_json(&answer(texts))),
        Fault::Status(code, msg) => {
            let body = serde_json::to_vec(&json!({ "error": msg })).unwrap();
            Ok(response(code, "application/json", &body))
        }
        Fault::HtmlOk => Ok(response(
            200,
            "text/html",
            b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>",
        )),
        Fault::TruncatedJson => Ok(ok_json(&good[..good.len() / 2])),
        Fault::ResetMidBody => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                good.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&good[..good.len() / 2]).await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = stream.set_zero_linger();
            Err(())
        }
        Fault::Trickle | Fault::TrickleBody => {
            let whole = ok_json(&good);
            let at_once = if fault == Fault::Trickle {
                0
            } else {
                whole.len() - good.len()
            };
            if stream.write_all(&whole[..at_once]).await.is_err() {
                return Err(());
            }
            for &b in &whole[at_once..] {
                if stream.write_all(&[b]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(())
        }
        Fault::Hang => {
            let mut closed = shared.closed.clone();
            let _ = closed.wait_for(|c| *c).await;
            Err(())
        }
        Fault::GzipBomb(total) => {
            gzip_bomb(stream, shared, total).await;
            Err(())
        }
        Fault::Huge(total) => {
            huge(stream, shared, total).await;
            Err(())
        }
        Fault::Mirror(_) => Err(()),
    }
}

/// Write a chunked body of gzip-compressed spaces expanding to `total` bytes,
/// compressing one MiB at a time as the socket accepts it.
async fn gzip_bomb(stream: &mut TcpStream, shared: &Shared, total: u64) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n";
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let block = vec![b' '; 1 << 20];
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut produced = 0u64;
    let mut open = true;
    while produced < total && open {
        gz.write_all(&block).unwrap();
        produced += block.len() as u64;
        let out: Vec<u8> = gz.get_mut().drain(..).collect();
        // An empty chunk would end the body.
        if !out.is_empty() {
            open = write_chunk(stream, &out).await;
        }
        let mut st = shared.lock();
        st.streamed = st.streamed.max(produced);
    }
    if open {
        let rest = gz.finish().unwrap();
        let _ = write_chunk(stream, &rest).await && write_chunk(stream, &[]).await;
    }
}

/// Write a chunked body of `total` bytes (`["xxxx…`, never closed), 64 KiB at a time.
async fn huge(stream: &mut TcpStream, shared: &Shared, total: u64) {
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    if stream.write_all(head.as_bytes()).await.is_err() || !write_chunk(stream, b"[\"").await {
        return;
    }
    let block = vec![b'x'; 64 << 10];
    let mut sent = 0u64;
    while sent < total {
        if !write_chunk(stream, &block).await {
            break;
        }
        sent += block.len() as u64;
        let mut st = shared.lock();
        st.streamed = st.streamed.max(sent);
    }
}

/// One chunk of a chunked body (an empty one ends it); `false` once the peer is gone.
async fn write_chunk(stream: &mut TcpStream, data: &[u8]) -> bool {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    stream.write_all(&out).await.is_ok()
}

fn languages() -> Vec<u8> {
    let langs = [("ar", "Arabic"), ("en", "English"), ("fa", "Persian")];
    let all: Vec<Value> = (langs.iter())
        .map(|(code, name)| {
            let targets: Vec<&str> = langs
                .iter()
                .map(|(c, _)| *c)
                .filter(|c| c != code)
                .collect();
            json!({"code": code, "name": name, "targets": targets})
        })
        .collect();
    serde_json::to_vec(&all).unwrap()
}

fn ok_json(body: &[u8]) -> Vec<u8> {
    response(200, "application/json", body)
}

fn response(code: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {code} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}
