//! Connection options: the builder, URL handling and TLS.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::{Host, SslMode};
use tunewise_core::{Error, Result};

use crate::conn::{Settings, Tls};
use crate::PostgresStorage;

/// Builds a [`PostgresStorage`] with options beyond the URL; every option has a default.
///
/// ```no_run
/// use std::time::Duration;
/// use tunewise_postgres::PostgresStorage;
///
/// let storage = PostgresStorage::builder("postgres://tuner@db.example/studies")
///     .statement_timeout(Duration::from_secs(10))
///     .reconnect_budget(Duration::from_secs(120))
///     .connect()?;
/// # Ok::<(), tunewise_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct PostgresBuilder {
    url: String,
    statement_timeout: Duration,
    connect_timeout: Duration,
    reconnect_budget: Duration,
    keepalive_idle: Duration,
    max_connections: usize,
    schema: Option<String>,
    application_name: String,
    ca_file: Option<PathBuf>,
    read_only: bool,
}

impl PostgresBuilder {
    pub(crate) fn new(url: &str) -> Self {
        PostgresBuilder {
            url: url.to_owned(),
            statement_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            reconnect_budget: Duration::from_secs(60),
            keepalive_idle: Duration::from_secs(30),
            max_connections: 8,
            schema: None,
            application_name: "tunewise".to_owned(),
            ca_file: None,
            read_only: false,
        }
    }

    /// The server cancels any statement that runs longer (default 30 s); the client also gives
    /// up waiting for an answer after twice that (at most 10 s more) and treats the connection
    /// as broken.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Longest wait to open a connection (default 10 s; `connect_timeout=SECONDS` in the URL
    /// wins).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long an operation keeps reconnecting and retrying, with exponential backoff, while
    /// the server is unreachable or restarting (default 60 s); then it fails with an error that
    /// says so. The first connection of [`connect`](Self::connect) is not retried.
    pub fn reconnect_budget(mut self, budget: Duration) -> Self {
        self.reconnect_budget = budget;
        self
    }

    /// Idle time before TCP keepalive probes start (default 30 s; probes every 10 s, 3 lost
    /// probes close the connection). Unacknowledged data also closes it after this plus 30 s.
    pub fn keepalive_idle(mut self, idle: Duration) -> Self {
        self.keepalive_idle = idle;
        self
    }

    /// Connections this storage opens at most at once (default 8); threads beyond wait.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// Keeps tunewise's tables in this PostgreSQL schema (created if missing) instead of the
    /// first schema of the server's `search_path` (usually `public`).
    pub fn schema(mut self, schema: &str) -> Self {
        self.schema = Some(schema.to_owned());
        self
    }

    /// The `application_name` the server shows for these connections (default `tunewise`).
    pub fn application_name(mut self, name: &str) -> Self {
        self.application_name = name.to_owned();
        self
    }

    /// Trusts the certificate authorities of this PEM file instead of the webpki roots, for
    /// TLS connections (`sslmode=require`; needs the cargo feature `tls`). Same as
    /// `sslrootcert=FILE` in the URL.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Opens the storage for reading only (for the dashboard): every transaction of its
    /// connections is read-only on the server (`default_transaction_read_only`), so any write
    /// through it fails with an error that says so, and a database without the tunewise schema
    /// is refused instead of being given one.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    fn check(&self) -> Result<()> {
        let positive = [
            ("statement_timeout", self.statement_timeout),
            ("connect_timeout", self.connect_timeout),
            ("keepalive_idle", self.keepalive_idle),
        ];
        for (name, d) in positive {
            if d < Duration::from_millis(1) {
                return Err(Error::InvalidConfig(format!(
                    "PostgreSQL option {name} must be at least 1 ms, got {d:?}"
                )));
            }
        }
        if self.max_connections == 0 {
            return Err(Error::InvalidConfig(
                "PostgreSQL option max_connections must be at least 1".into(),
            ));
        }
        if let Some(s) = &self.schema {
            let ok = s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && s.len() <= 63;
            if !ok {
                return Err(Error::InvalidConfig(format!(
                    "PostgreSQL schema name '{s}': use lower-case letters, digits and '_' \
                     (at most 63, not starting with a digit)"
                )));
            }
        }
        Ok(())
    }

    /// Connects (once, without retrying), creates the schema if it is missing, and checks its
    /// version.
    pub fn connect(self) -> Result<PostgresStorage> {
        self.check()?;
        let (url, url_ca) = preprocess(&self.url)?;
        let mut config = tokio_postgres::Config::from_str(&url).map_err(|e| Error::StorageUrl {
            url: redact(&self.url),
            reason: format!("{e}; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"),
        })?;
        let target = target(&config);

        let ms = |d: Duration| d.as_millis().max(1);
        // Durable commits whatever the server's default: an acknowledged result must survive a
        // crash of the server.
        let mut options = format!(
            "-c synchronous_commit=on -c statement_timeout={} \
             -c idle_in_transaction_session_timeout={}",
            ms(self.statement_timeout),
            ms(self.statement_timeout * 2)
        );
        if let Some(s) = &self.schema {
            options.push_str(&format!(" -c search_path={s}"));
        }
        if self.read_only {
            options.push_str(" -c default_transaction_read_only=on");
        }
        // Options in the URL come last, so that they win.
        if let Some(user) = config.get_options() {
            options = format!("{options} {user}");
        }
        config.options(&options);
        if config.get_application_name().is_none() {
            config.application_name(&self.application_name);
        }
        // Timeouts given in the URL win over the builder's.
        let connect_timeout = match config.get_connect_timeout() {
            Some(t) => *t,
            None => {
                config.connect_timeout(self.connect_timeout);
                self.connect_timeout
            }
        };
        config.keepalives(true);
        if !self.url.contains("keepalives_idle=") {
            config.keepalives_idle(self.keepalive_idle);
        }
        if config.get_keepalives_interval().is_none() {
            config.keepalives_interval(Duration::from_secs(10));
        }
        if config.get_keepalives_retries().is_none() {
            config.keepalives_retries(3);
        }
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(self.keepalive_idle + Duration::from_secs(30));
        }

        let ca_file = self.ca_file.clone().or(url_ca);
        let tls = match config.get_ssl_mode() {
            SslMode::Require => tls(&self.url, ca_file.as_deref())?,
            _ => {
                config.ssl_mode(SslMode::Disable);
                Tls::None
            }
        };
        let settings = Settings {
            config,
            tls,
            request_deadline: self.statement_timeout
                + self.statement_timeout.min(Duration::from_secs(10)),
            // Connect timeout applies per address; the start-up exchange gets as long again.
            connect_deadline: connect_timeout * 2,
            reconnect_budget: self.reconnect_budget,
            max_connections: self.max_connections,
            target,
        };
        PostgresStorage::open(settings, self.schema, self.read_only)
    }
}

/// `host:port/database` of a configuration, for messages (never the password).
fn target(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().or(config.get_user()).unwrap_or("?");
    format!("{host}:{port}/{db}")
}

/// The URL with its password replaced by `***`, for messages.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // Key-value form: `host=… password=…`.
        return url
            .split(' ')
            .map(|kv| if kv.starts_with("password=") { "password=***" } else { kv })
            .collect::<Vec<_>>()
            .join(" ");
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Takes out of a URL what tokio-postgres does not read: `sslrootcert=FILE` (returned), and
/// `sslmode=verify-ca` / `verify-full` (read as `require`: the certificate is always verified).
fn preprocess(url: &str) -> Result<(String, Option<PathBuf>)> {
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let Some((base, query)) = url.split_once('?').filter(|_| is_url) else {
        return Ok((url.to_owned(), None));
    };
    let mut ca = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslrootcert", file)) => ca = Some(PathBuf::from(file)),
            Some(("sslmode", "verify-ca" | "verify-full")) => kept.push("sslmode=require"),
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    Ok((url, ca))
}

#[cfg(not(feature = "tls"))]
fn tls(url: &str, _ca: Option<&std::path::Path>) -> Result<Tls> {
    Err(Error::StorageUrl {
        url: redact(url),
        reason: "sslmode=require asks for TLS, but this build of tunewise-postgres has no TLS: \
                 enable its cargo feature `tls` (in the facade: `postgres-tls`)"
            .into(),
    })
}

#[cfg(feature = "tls")]
fn tls(url: &str, ca: Option<&std::path::Path>) -> Result<Tls> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    let fail = |reason: String| Error::StorageUrl { url: redact(url), reason };
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| fail(format!("cannot read the CA file {}: {e}", path.display())))?;
            for cert in certs {
                let cert = cert.map_err(|e| {
                    fail(format!("the CA file {} is not PEM certificates: {e}", path.display()))
                })?;
                roots.add(cert).map_err(|e| {
                    fail(format!("a certificate of {} is not usable: {e}", path.display()))
                })?;
            }
            if roots.is_empty() {
                return Err(fail(format!("the CA file {} holds no certificate", path.display())));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail(format!("TLS set-up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Tls::Rustls(tokio_postgres_rustls::MakeRustlsConnect::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<PostgresBuilder>();
        check::<PostgresStorage>();
        check::<crate::PostgresStats>();
    }

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(redact("postgres://u:secret@h:5/db?x=1"), "postgres://u:***@h:5/db?x=1");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("host=h user=u"), "host=h user=u");
        assert_eq!(redact("host=h password=pw user=u"), "host=h password=*** user=u");
    }

    #[test]
    fn preprocess_takes_out_what_tokio_postgres_does_not_read() {
        let (url, ca) =
            preprocess("postgres://u@h/db?sslmode=verify-full&sslrootcert=/tmp/ca.pem").unwrap();
        assert_eq!(url, "postgres://u@h/db?sslmode=require");
        assert_eq!(ca, Some(PathBuf::from("/tmp/ca.pem")));
        assert_eq!(preprocess("postgres://u@h/db").unwrap().0, "postgres://u@h/db");
    }
}
