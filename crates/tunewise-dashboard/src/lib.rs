//! The live web dashboard of tunewise studies, served by `tunewise dashboard`.
//!
//! # Concept map
//!
//! - [`router`] builds the [axum](https://docs.rs/axum) `Router` of the dashboard over any
//!   [`Storage`]: a studies page, a page per study (summary, figures, trial table), a JSON API,
//!   CSV export and live updates. [`serve`] runs it until Ctrl-C or SIGTERM.
//! - The server keeps one cached snapshot per study, refreshed incrementally with
//!   [`Storage::trials_since`] at most once per [`Options::refresh_interval`] however many
//!   browsers poll: a 50,000-trial study is read once, then only its changes.
//! - Figures are computed, downsampled ([`Options::max_points`]) and drawn as SVG on the server
//!   with tunewise-plot, once per (kind, options, change cursor); the table is filtered,
//!   sorted and paged on the server. The browser never receives every trial.
//! - Read-only by default: the write endpoints (delete a study, enqueue a trial) answer 403
//!   unless [`Options::allow_writes`] is set.
//! - The pages are hand-written HTML, CSS and JavaScript compiled into the binary: no build
//!   step, no CDN, they work offline; every URL they use is relative, so the dashboard works
//!   behind a proxy under a URL prefix ([`Options::url_prefix`]).
//!
//! The HTTP interface and the page's structure are documented in `docs/dashboard.md`.
//!
//! # Quick start
//!
//! ```no_run
//! use std::sync::Arc;
//! use tunewise_core::InMemoryStorage;
//! use tunewise_dashboard::{serve, Options};
//!
//! let storage = Arc::new(InMemoryStorage::new());
//! serve(storage, Options::default(), "127.0.0.1", 8080, |url| println!("serving {url}"))?;
//! # Ok::<(), tunewise_dashboard::Error>(())
//! ```
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod error;
mod figures;
mod hub;
mod routes;
mod table;

use std::net::{TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use tunewise_core::Storage;

pub use error::Error;

/// How the dashboard serves.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Options {
    /// The path prefix every page and endpoint is under (`/p`), or empty for none; see
    /// [`normalize_prefix`].
    pub url_prefix: String,
    /// Whether the write endpoints (delete a study, enqueue a trial) work; otherwise they
    /// answer 403.
    pub allow_writes: bool,
    /// About how many points a figure keeps (default 2,000); the history's best-so-far line
    /// stays exact.
    pub max_points: usize,
    /// The shortest time between two reads of a study's changes from the storage (default
    /// 500 ms), however many clients ask.
    pub refresh_interval: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            url_prefix: String::new(),
            allow_writes: false,
            max_points: 2000,
            refresh_interval: Duration::from_millis(500),
        }
    }
}

impl Options {
    /// These options with the URL prefix `prefix`, normalized (see [`normalize_prefix`]).
    pub fn url_prefix(mut self, prefix: &str) -> Result<Options, Error> {
        self.url_prefix = normalize_prefix(prefix)?;
        Ok(self)
    }

    /// These options with the write endpoints allowed (or not).
    pub fn allow_writes(mut self, allow: bool) -> Options {
        self.allow_writes = allow;
        self
    }

    /// These options with at most about `n` points per figure (at least 10).
    pub fn max_points(mut self, n: usize) -> Options {
        self.max_points = n.max(10);
        self
    }

    /// These options with a storage refresh at most every `interval`.
    pub fn refresh_interval(mut self, interval: Duration) -> Options {
        self.refresh_interval = interval;
        self
    }
}

/// A URL prefix as the router uses it: a leading slash, no trailing one (`p/` → `/p`,
/// `/` or empty → no prefix). A prefix with characters that have a meaning in a URL (`?`,
/// `#`, `%`, `{`, `}`, spaces) is refused.
pub fn normalize_prefix(prefix: &str) -> Result<String, Error> {
    let trimmed = prefix.trim().trim_matches('/');
    if let Some(c) = trimmed.chars().find(|c| "?#%{}\\".contains(*c) || c.is_whitespace()) {
        return Err(Error::InvalidOptions(format!(
            "the URL prefix '{prefix}' contains '{c}'; give a path such as /tunewise"
        )));
    }
    if trimmed.split('/').any(|s| s.is_empty() || s == "." || s == "..") && !trimmed.is_empty() {
        return Err(Error::InvalidOptions(format!(
            "the URL prefix '{prefix}' has an empty, '.' or '..' segment; give a path such as \
             /tunewise"
        )));
    }
    Ok(if trimmed.is_empty() { String::new() } else { format!("/{trimmed}") })
}

/// The dashboard's router over `storage`. Storage calls run on tokio's blocking threads, so
/// the router needs a tokio runtime with them (any multi-thread runtime, or
/// `current_thread` with the default blocking pool).
pub fn router(storage: Arc<dyn Storage>, options: Options) -> axum::Router {
    // Never shut down: whoever serves this router stops it.
    let (tx, rx) = tokio::sync::watch::channel(false);
    router_with_shutdown(storage, options, rx, Some(tx))
}

fn router_with_shutdown(
    storage: Arc<dyn Storage>,
    options: Options,
    shutdown: tokio::sync::watch::Receiver<bool>,
    never: Option<tokio::sync::watch::Sender<bool>>,
) -> axum::Router {
    let hub = Arc::new(hub::Hub::new(storage, options.refresh_interval));
    routes::routes(Arc::new(routes::App { hub, options, shutdown, _never: never }))
}

/// Serves the dashboard on `host:port` (port 0: a free port) until Ctrl-C or SIGTERM.
/// `ready` is called with the dashboard's URL (`http://HOST:PORT/PREFIX/`) once it accepts
/// connections. Blocks; returns `Ok` after a clean shutdown.
pub fn serve(
    storage: Arc<dyn Storage>,
    options: Options,
    host: &str,
    port: u16,
    ready: impl FnOnce(&str),
) -> Result<(), Error> {
    let shown =
        if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let bind_error = |source: std::io::Error| {
        let hint = match source.kind() {
            std::io::ErrorKind::AddrInUse => {
                "another program uses that port: give another with --port, or --port 0 for a free one"
            }
            std::io::ErrorKind::PermissionDenied => {
                "ports below 1024 need privileges: give a port of 1024 or more with --port"
            }
            _ => "fix --host (an address of this machine, such as 127.0.0.1) or --port",
        };
        Error::Bind { addr: shown.clone(), source, hint: hint.to_owned() }
    };
    let addrs: Vec<_> = (host, port).to_socket_addrs().map_err(&bind_error)?.collect();
    let listener = TcpListener::bind(&addrs[..]).map_err(&bind_error)?;
    listener.set_nonblocking(true).map_err(Error::Server)?;
    let local = listener.local_addr().map_err(Error::Server)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(Error::Server)?;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let mut stopped = rx.clone();
    let prefix = options.url_prefix.clone();
    let hub = Arc::new(hub::Hub::new(storage, options.refresh_interval));
    let app = routes::routes(Arc::new(routes::App {
        hub: hub.clone(),
        options,
        shutdown: rx,
        _never: None,
    }));
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).map_err(Error::Server)?;
        ready(&format!("http://{local}{prefix}/"));
        // Read every study once in the background, so that the first page is quick even for
        // a large study; a failure here is shown by the page that asks again.
        tokio::spawn(async move {
            if let Ok(studies) = hub.list().await {
                for s in studies {
                    let _ = hub.study(&s.name).await;
                }
            }
        });
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            stop_signal().await;
            let _ = tx.send(true);
        });
        // Open connections get a moment to finish after the signal, then the server stops.
        let grace = async move {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        };
        tokio::select! {
            r = async move { server.await } => r.map_err(Error::Server),
            () = grace => Ok(()),
        }
    })?;
    // Blocking storage reads still running are not waited for.
    runtime.shutdown_timeout(Duration::from_millis(500));
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_normalized() {
        assert_eq!(normalize_prefix("").unwrap(), "");
        assert_eq!(normalize_prefix("/").unwrap(), "");
        assert_eq!(normalize_prefix("p").unwrap(), "/p");
        assert_eq!(normalize_prefix("/p/").unwrap(), "/p");
        assert_eq!(normalize_prefix(" /a/b/ ").unwrap(), "/a/b");
        assert!(normalize_prefix("/a?b").unwrap_err().to_string().contains("'?'"));
        assert!(normalize_prefix("/a//b").is_err());
        assert!(normalize_prefix("/a/../b").is_err());
    }

    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        send_sync::<Options>();
        send_sync::<Error>();
    }
}
