//! A TCP proxy between the storage and the server that can cut a connection right after the
//! server committed a write (before its answer reaches the client), refuse connections (a server
//! gone away), or swallow answers (a server that hangs).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// What the proxy does with the next bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Forward everything.
    Forward = 0,
    /// Cut the connection at the next answer to an executed statement (it starts with
    /// BindComplete, `'2'`: the server has run the statement and, outside a transaction block,
    /// committed it before answering), dropping that answer; then forward again.
    CutAfterCommit = 1,
    /// Close every connection, and every new one at once.
    Down = 2,
    /// Forward requests but swallow every answer.
    Blackhole = 3,
}

struct Shared {
    mode: AtomicU8,
    stop: AtomicBool,
    cuts: AtomicUsize,
    streams: Mutex<Vec<TcpStream>>,
}

/// The proxy; stops when dropped.
pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
    upstream: String,
    url: String,
}

fn mode(shared: &Shared) -> Mode {
    match shared.mode.load(Ordering::SeqCst) {
        1 => Mode::CutAfterCommit,
        2 => Mode::Down,
        3 => Mode::Blackhole,
        _ => Mode::Forward,
    }
}

fn close(a: &TcpStream, b: &TcpStream) {
    let _ = a.shutdown(Shutdown::Both);
    let _ = b.shutdown(Shutdown::Both);
}

impl Proxy {
    /// A proxy in front of the server of `url`; [`url`](Self::url) is the same URL through it.
    pub fn start(url: &str) -> Proxy {
        let config = postgres::Config::from_str(url).expect("parse the test URL");
        let host = match config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            _ => "127.0.0.1".to_owned(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let upstream = format!("{host}:{port}");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let local = listener.local_addr().expect("proxy address").port();
        let user = config.get_user().unwrap_or("postgres");
        let password = config
            .get_password()
            .map(|p| format!(":{}", String::from_utf8_lossy(p)))
            .unwrap_or_default();
        let db = config.get_dbname().unwrap_or(user);
        let proxied = format!("postgres://{user}{password}@127.0.0.1:{local}/{db}");
        let shared = Arc::new(Shared {
            mode: AtomicU8::new(Mode::Forward as u8),
            stop: AtomicBool::new(false),
            cuts: AtomicUsize::new(0),
            streams: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        let up = upstream.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                if mode(&s) == Mode::Down {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&up) else { continue };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                {
                    let mut streams = s.streams.lock().unwrap();
                    streams.push(client.try_clone().unwrap());
                    streams.push(server.try_clone().unwrap());
                }
                // Client to server: forwarded as is.
                let (mut from, mut to) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    loop {
                        match from.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if to.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    close(&from, &to);
                });
                // Server to client: where the faults happen.
                let (mut from, mut to) = (server, client);
                let s2 = s.clone();
                thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    loop {
                        let n = match from.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        match mode(&s2) {
                            Mode::CutAfterCommit if buf[0] == b'2' => {
                                s2.mode.store(Mode::Forward as u8, Ordering::SeqCst);
                                s2.cuts.fetch_add(1, Ordering::SeqCst);
                                break;
                            }
                            Mode::Blackhole => continue,
                            Mode::Down => break,
                            _ => {
                                if to.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    close(&from, &to);
                });
            }
        });
        Proxy { port: local, shared, upstream, url: proxied }
    }

    /// The test database's URL through the proxy.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sets what the proxy does; `Down` also closes every open connection.
    pub fn set(&self, mode: Mode) {
        self.shared.mode.store(mode as u8, Ordering::SeqCst);
        if mode == Mode::Down {
            self.cut_all();
        }
    }

    /// How many answers `CutAfterCommit` has dropped.
    pub fn cuts(&self) -> usize {
        self.shared.cuts.load(Ordering::SeqCst)
    }

    /// Closes every open connection.
    pub fn cut_all(&self) {
        for s in self.shared.streams.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.cut_all();
        // Wake the accept loop so that it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}
