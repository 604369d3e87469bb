//! A fake source API on a loopback port that misbehaves on demand: each
//! request is answered according to the current [`Fault`]. Written on raw
//! TCP so it can do what a well-behaved server library will not: cut a body
//! short, trickle it, reset the connection.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    Status500,
    Unavailable503RetryAfter,
    TooMany429WithReset,
    TooMany429Bare,
    TruncatedBody,
    InvalidJson,
    HtmlInsteadOfJson,
    FiftyMegabytes,
    Trickle,
    ConnectionReset,
}

impl Fault {
    pub const ALL: [Fault; 10] = [
        Fault::Status500,
        Fault::Unavailable503RetryAfter,
        Fault::TooMany429WithReset,
        Fault::TooMany429Bare,
        Fault::TruncatedBody,
        Fault::InvalidJson,
        Fault::HtmlInsteadOfJson,
        Fault::FiftyMegabytes,
        Fault::Trickle,
        Fault::ConnectionReset,
    ];
}

#[derive(Clone)]
pub struct FakeApi {
    pub addr: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    body: Arc<Mutex<String>>,
    requests: Arc<AtomicUsize>,
}

impl FakeApi {
    pub async fn start(body: String) -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = FakeApi {
            addr: listener.local_addr().unwrap(),
            fault: Arc::new(Mutex::new(Fault::None)),
            body: Arc::new(Mutex::new(body)),
            requests: Arc::new(AtomicUsize::new(0)),
        };
        let server = api.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move { server.answer(stream).await });
            }
        });
        api
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_fault(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
    }

    pub fn set_body(&self, body: String) {
        *self.body.lock().unwrap() = body;
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    async fn answer(&self, mut stream: TcpStream) {
        // Read the request head; the bodies of GETs are empty.
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
            if head.len() > 64 * 1024 {
                return;
            }
        }
        self.requests.fetch_add(1, Ordering::SeqCst);
        let fault = *self.fault.lock().unwrap();
        let body = self.body.lock().unwrap().clone();
        let simple = |status: &str, headers: &str, body: &str| {
            format!(
                "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        };
        let reply = match fault {
            Fault::None => simple("200 OK", "Content-Type: application/json\r\n", &body),
            Fault::Status500 => simple("500 Internal Server Error", "", "oops"),
            Fault::Unavailable503RetryAfter => simple("503 Service Unavailable", "Retry-After: 30\r\n", "maintenance"),
            Fault::TooMany429WithReset => simple(
                "429 Too Many Requests",
                "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 45\r\n",
                "{\"error\":\"slow down\"}",
            ),
            Fault::TooMany429Bare => simple("429 Too Many Requests", "", ""),
            Fault::InvalidJson => simple(
                "200 OK",
                "Content-Type: application/json\r\n",
                "{\"hits\": [{\"objectID\": ",
            ),
            Fault::HtmlInsteadOfJson => simple(
                "200 OK",
                "Content-Type: text/html\r\n",
                "<html><body><h1>Please enable cookies</h1></body></html>",
            ),
            Fault::TruncatedBody => {
                let half = &body[..body.len() / 2];
                let cut = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{half}",
                    body.len()
                );
                let _ = stream.write_all(cut.as_bytes()).await;
                return;
            }
            Fault::FiftyMegabytes => {
                // No Content-Length: the client must count as it reads.
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 1024 * 1024];
                for _ in 0..50 {
                    if stream.write_all(&chunk).await.is_err() {
                        return;
                    }
                }
                return;
            }
            Fault::Trickle => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for byte in body.bytes() {
                    if stream.write_all(&[byte]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                return;
            }
            Fault::ConnectionReset => {
                // Linger zero: closing sends a TCP reset instead of a FIN.
                let _ = stream.set_zero_linger();
                drop(stream);
                return;
            }
        };
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
    }
}
