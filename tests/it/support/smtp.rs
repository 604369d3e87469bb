//! A minimal SMTP receiver for tests: speaks enough of RFC 5321 for a
//! client (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), refuses the first
//! `fail_first` messages with a transient 451, and keeps the rest.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

pub struct Receiver {
    pub port: u16,
    messages: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    pub async fn start(fail_first: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind SMTP receiver");
        let port = listener.local_addr().expect("local address").port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let kept = messages.clone();
        let refused = Arc::new(Mutex::new(0usize));
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (kept, refused) = (kept.clone(), refused.clone());
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 localhost test SMTP\r\n").await;
                    let mut envelope = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let command = line.to_ascii_uppercase();
                        let reply: &[u8] = if command.starts_with("EHLO") {
                            b"250-localhost\r\n250 8BITMIME\r\n"
                        } else if command.starts_with("HELO") || command.starts_with("NOOP") {
                            b"250 OK\r\n"
                        } else if command.starts_with("MAIL") || command.starts_with("RSET") {
                            envelope.clear();
                            b"250 OK\r\n"
                        } else if command.starts_with("RCPT") {
                            envelope.push_str(&format!("RCPT:{}\n", line.split_once(':').map_or("", |x| x.1)));
                            b"250 OK\r\n"
                        } else if command.starts_with("DATA") {
                            let _ = write.write_all(b"354 go ahead\r\n").await;
                            let mut data = envelope.clone();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            let fail = {
                                let mut n = refused.lock().expect("lock");
                                *n += 1;
                                *n <= fail_first
                            };
                            if fail {
                                b"451 try again later\r\n"
                            } else {
                                kept.lock().expect("lock").push(data);
                                b"250 queued\r\n"
                            }
                        } else if command.starts_with("QUIT") {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        } else {
                            b"502 not implemented\r\n"
                        };
                        if write.write_all(reply).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Receiver { port, messages }
    }

    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().expect("lock").clone()
    }
}
