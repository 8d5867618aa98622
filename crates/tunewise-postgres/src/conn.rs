//! Connections: each a client with its own current-thread runtime, prepared statements and a
//! client-side deadline per request; a small pool; and the retry loop that reconnects with
//! exponential backoff when the server goes away.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row, Statement};

/// Why a request failed, as the retry loop sees it.
#[derive(Debug, Clone)]
pub(crate) enum Fail {
    /// The connection broke, timed out or the server is shutting down or starting: reconnect and
    /// retry. A write may have committed before the answer was lost.
    Connection(String),
    /// The server rolled the transaction back (deadlock, serialization failure) or turned the
    /// connection away (too many connections): retry; nothing was committed.
    Transient(String),
    /// An error the server raised: not retried.
    Db {
        /// SQLSTATE.
        code: String,
        /// The server's message.
        message: String,
        /// The server's detail and hint, if any.
        detail: String,
    },
    /// Anything else (a refused configuration, a decoding failure): not retried.
    Other(String),
    /// The retry loop gave up after its budget.
    Unavailable(String),
}

fn is_io(e: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

impl Fail {
    pub(crate) fn from_pg(e: tokio_postgres::Error) -> Fail {
        if let Some(db) = e.as_db_error() {
            let code = db.code().code().to_owned();
            let message = db.message().to_owned();
            if code.starts_with("08") || matches!(code.as_str(), "57P01" | "57P02" | "57P03") {
                return Fail::Connection(format!("{message} ({code})"));
            }
            if matches!(code.as_str(), "40001" | "40P01" | "53300") {
                return Fail::Transient(format!("{message} ({code})"));
            }
            let detail = [db.detail(), db.hint()].into_iter().flatten().collect::<Vec<_>>();
            return Fail::Db { code, message, detail: detail.join("; ") };
        }
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            let more = s.to_string();
            if !text.contains(&more) {
                text = format!("{text}: {more}");
            }
            source = s.source();
        }
        if text.starts_with("error performing TLS handshake") {
            // Not retried: a certificate does not fix itself.
            return Fail::Other(format!(
                "{text} (check the CA file given with sslrootcert or ca_file, and that the \
                 server's certificate names this host)"
            ));
        }
        if e.is_closed() || is_io(&e) || text.starts_with("timeout") {
            Fail::Connection(text)
        } else {
            Fail::Other(text)
        }
    }
}

/// How connections are made and how long things may take.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) tls: Tls,
    /// Longest wait for one request's answer, on the client's clock.
    pub(crate) request_deadline: Duration,
    /// Longest wait to open a connection (TCP, TLS and start-up).
    pub(crate) connect_deadline: Duration,
    /// How long a failing operation keeps reconnecting and retrying.
    pub(crate) reconnect_budget: Duration,
    /// Connections open at most at once.
    pub(crate) max_connections: usize,
    /// `host:port/database`, for messages.
    pub(crate) target: String,
}

/// The TLS connector, if the URL asked for TLS.
#[derive(Clone)]
pub(crate) enum Tls {
    /// Plain TCP (or a Unix socket).
    None,
    /// rustls.
    #[cfg(feature = "tls")]
    Rustls(tokio_postgres_rustls::MakeRustlsConnect),
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tls::None => f.write_str("none"),
            #[cfg(feature = "tls")]
            Tls::Rustls(_) => f.write_str("rustls"),
        }
    }
}

/// One open connection.
pub(crate) struct Conn {
    // Declared before the runtime: the client is dropped first.
    client: Client,
    statements: HashMap<&'static str, Statement>,
    deadline: Duration,
    rt: Runtime,
}

impl Conn {
    fn open(settings: &Settings) -> Result<Conn, Fail> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Fail::Other(format!("cannot start the I/O runtime: {e}")))?;
        let config = settings.config.clone();
        let tls = settings.tls.clone();
        let connect = async move {
            match tls {
                Tls::None => {
                    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
                    tokio::spawn(connection);
                    Ok::<_, tokio_postgres::Error>(client)
                }
                #[cfg(feature = "tls")]
                Tls::Rustls(tls) => {
                    let (client, connection) = config.connect(tls).await?;
                    tokio::spawn(connection);
                    Ok(client)
                }
            }
        };
        let deadline = settings.connect_deadline;
        let client = rt.block_on(async { tokio::time::timeout(deadline, connect).await });
        let client = match client {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => return Err(Fail::from_pg(e)),
            Err(_) => {
                return Err(Fail::Connection(format!("no answer within {deadline:?} (connect)")))
            }
        };
        Ok(Conn { client, statements: HashMap::new(), deadline: settings.request_deadline, rt })
    }

    /// Runs `fut` to completion within the request deadline.
    fn block<T>(
        &self,
        fut: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, Fail> {
        let deadline = self.deadline;
        match self.rt.block_on(async { tokio::time::timeout(deadline, fut).await }) {
            Ok(r) => r.map_err(Fail::from_pg),
            // The request may still run on the server: the connection is dropped (the caller
            // treats this as a broken connection) and the write counts as ambiguous.
            Err(_) => Err(Fail::Connection(format!("no answer within {deadline:?}"))),
        }
    }

    fn statement(&mut self, sql: &'static str) -> Result<Statement, Fail> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.block(self.client.prepare(sql))?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    /// Runs a prepared statement (prepared once per connection) and returns its rows.
    pub(crate) fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Fail> {
        let s = self.statement(sql)?;
        self.block(self.client.query(&s, params))
    }

    /// Runs a statement unprepared, in one round trip, planned for these very parameters: for a
    /// query whose best plan depends on its parameters (a prepared statement may switch to a
    /// generic plan that scans the whole study).
    pub(crate) fn query_typed(
        &mut self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), tokio_postgres::types::Type)],
    ) -> Result<Vec<Row>, Fail> {
        self.block(self.client.query_typed(sql, params))
    }

    /// Runs a statement that is not kept prepared.
    pub(crate) fn query_dyn(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Fail> {
        self.block(self.client.query(sql, params))
    }

    /// Runs statements without parameters (simple query protocol).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<(), Fail> {
        self.block(self.client.batch_execute(sql))
    }

    fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

/// Counters for benchmarks and tests.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) connects: AtomicU64,
    pub(crate) retries: AtomicU64,
}

/// Open connections, reused; at most `max_connections` at once.
pub(crate) struct Pool {
    pub(crate) settings: Settings,
    idle: Mutex<Vec<Conn>>,
    open: Mutex<usize>,
    freed: Condvar,
    pub(crate) counters: Counters,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("target", &self.settings.target)
            .field("open", &*lock(&self.open))
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data (a list of connections, a count) is consistent at every panic point.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Pool {
    pub(crate) fn new(settings: Settings) -> Pool {
        Pool {
            settings,
            idle: Mutex::new(Vec::new()),
            open: Mutex::new(0),
            freed: Condvar::new(),
            counters: Counters::default(),
        }
    }

    /// An idle connection, or a new one.
    fn checkout(&self) -> Result<Conn, Fail> {
        loop {
            while let Some(conn) = lock(&self.idle).pop() {
                if !conn.is_closed() {
                    return Ok(conn);
                }
                self.discard(conn);
            }
            let mut open = lock(&self.open);
            if *open < self.settings.max_connections {
                *open += 1;
                drop(open);
                self.counters.connects.fetch_add(1, Ordering::Relaxed);
                return Conn::open(&self.settings).inspect_err(|_| self.release_slot());
            }
            // Every connection is in use: wait for one to come back.
            let (guard, _) = self
                .freed
                .wait_timeout(open, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner());
            drop(guard);
        }
    }

    fn checkin(&self, conn: Conn) {
        if conn.is_closed() {
            return self.discard(conn);
        }
        lock(&self.idle).push(conn);
        self.freed.notify_one();
    }

    fn discard(&self, conn: Conn) {
        drop(conn);
        self.release_slot();
    }

    fn release_slot(&self) {
        let mut open = lock(&self.open);
        *open = open.saturating_sub(1);
        self.freed.notify_one();
    }

    /// After a connection error the idle connections are most likely broken too (a server
    /// restart closes them all): drop them rather than fail on each in turn.
    fn drop_idle(&self) {
        let idle = std::mem::take(&mut *lock(&self.idle));
        for conn in idle {
            self.discard(conn);
        }
    }

    /// Opens one connection now (the first connect: no retry, so that a wrong URL or a server
    /// that is not there fails at once).
    pub(crate) fn first(&self) -> Result<Conn, Fail> {
        self.checkout()
    }

    /// Gives back a connection taken with [`first`](Self::first).
    pub(crate) fn give_back(&self, conn: Conn) {
        self.checkin(conn)
    }

    /// Runs `op` on a connection, reconnecting and retrying on connection errors and transient
    /// errors with exponential backoff, within the reconnect budget.
    ///
    /// `op` gets `true` for its `retry` argument once an earlier try may have committed (its
    /// connection broke after the request was sent): it must then be idempotent, which the
    /// storage's operations make sure of with client-generated tokens.
    pub(crate) fn run<T>(
        &self,
        mut op: impl FnMut(&mut Conn, bool) -> Result<T, Fail>,
    ) -> Result<T, Fail> {
        let started = Instant::now();
        let budget = self.settings.reconnect_budget;
        let mut delay = Duration::from_millis(25);
        let mut ambiguous = false;
        let mut tries = 0u32;
        loop {
            tries += 1;
            let failure = match self.checkout() {
                Ok(mut conn) => match op(&mut conn, ambiguous) {
                    Ok(v) => {
                        self.checkin(conn);
                        return Ok(v);
                    }
                    Err(Fail::Connection(msg)) => {
                        self.discard(conn);
                        self.drop_idle();
                        ambiguous = true;
                        msg
                    }
                    Err(Fail::Transient(msg)) => {
                        self.checkin(conn);
                        msg
                    }
                    Err(other) => {
                        self.checkin(conn);
                        return Err(other);
                    }
                },
                Err(Fail::Connection(msg) | Fail::Transient(msg)) => msg,
                Err(other) => return Err(other),
            };
            let elapsed = started.elapsed();
            if elapsed + delay > budget {
                return Err(Fail::Unavailable(format!(
                    "PostgreSQL at {} did not answer after {tries} tries in {:.1} s \
                     (reconnect budget {:?}); last error: {failure}",
                    self.settings.target,
                    elapsed.as_secs_f64(),
                    budget
                )));
            }
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(jitter(delay));
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }
}

/// `d` scaled by a factor in [0.75, 1.25), so that workers cut off together do not all come back
/// at the same instant.
fn jitter(d: Duration) -> Duration {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos() as u64)
        .unwrap_or(0);
    let key = now ^ (u64::from(std::process::id()) << 32) ^ CALLS.fetch_add(1, Ordering::Relaxed);
    let r = tunewise_core::rng::mix64(key) % 1000;
    d.mul_f64(0.75 + r as f64 / 2000.0)
}
