//! Shared helpers: the test database's URL, unique names, a private PostgreSQL server, the
//! guarantees worker's storage opener.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tunewise_core::rng::Rng;
use tunewise_core::Storage;
use tunewise_postgres::PostgresStorage;

/// The environment variable with the URL of the shared test database.
pub const URL_VAR: &str = "TUNEWISE_TEST_POSTGRES_URL";

/// The shared test database's URL, or `None` (after saying the test was skipped).
pub fn url(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!("skipped {test}: set {URL_VAR} to a PostgreSQL URL to run it");
            None
        }
    }
}

/// A storage on the shared test database.
pub fn storage(url: &str) -> Arc<PostgresStorage> {
    match PostgresStorage::connect(url) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("cannot connect to the test database: {e}"),
    }
}

/// A name no other run uses.
pub fn unique(tag: &str) -> String {
    format!("pgtest-{tag}-{:016x}", Rng::os_seed())
}

/// The storage a guarantees worker process opens: the first connection is retried for a while,
/// since a worker may start while the server restarts; then operations get a reconnect budget
/// long enough to ride out a restart.
pub fn open_worker_storage(url: &str) -> Arc<dyn Storage> {
    let started = Instant::now();
    loop {
        let built = PostgresStorage::builder(url)
            .reconnect_budget(Duration::from_secs(40))
            .statement_timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .connect();
        match built {
            Ok(s) => return Arc::new(s),
            Err(e) if started.elapsed() < Duration::from_secs(40) => {
                eprintln!("worker: connect failed ({e}); retrying");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => {
                eprintln!("worker: cannot connect: {e}");
                std::process::exit(3);
            }
        }
    }
}

/// Where Debian puts the server binaries: the newest `/usr/lib/postgresql/<version>/bin` with an
/// `initdb` in it.
fn debian_pg_bin() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"), |(_, bin)| bin)
}

/// A private PostgreSQL server in a temporary directory, on a free port, run as the `postgres`
/// user when this process is root (`initdb` refuses root). Stopped when dropped.
pub struct PrivateServer {
    dir: tempfile::TempDir,
    pub port: u16,
    bin: PathBuf,
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Runs a server binary, as `postgres` when root.
fn run_as_postgres(program: &Path, args: &[&str]) -> std::io::Result<Output> {
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program).args(args);
        cmd.output()
    } else {
        Command::new(program).args(args).output()
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

impl PrivateServer {
    /// Starts a new server with `extra` lines added to its configuration, or `None` (after
    /// saying why) when the PostgreSQL server binaries are not installed.
    pub fn start(test: &str, extra: &str) -> Option<PrivateServer> {
        Self::start_with(test, &|_| extra.to_owned(), &|_| {})
    }

    /// Like [`start`](Self::start), with configuration lines made from the server's directory,
    /// and `setup` run between `initdb` and the first start (to put certificates or an access
    /// file in place).
    pub fn start_with(
        test: &str,
        extra: &dyn Fn(&Path) -> String,
        setup: &dyn Fn(&PrivateServer),
    ) -> Option<PrivateServer> {
        let bin = std::env::var("TUNEWISE_TEST_PG_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|_| debian_pg_bin());
        if !bin.join("initdb").exists() {
            // CI must run these tests: there a missing server is a failure, not a skip.
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: no PostgreSQL server binaries in {} (set TUNEWISE_TEST_PG_BIN)",
                bin.display()
            );
            eprintln!("skipped {test}: no PostgreSQL server binaries in {}", bin.display());
            return None;
        }
        let dir = tempfile::Builder::new().prefix("tunewise-pg-").tempdir().expect("temp dir");
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown of the server's directory failed");
        }
        let data = dir.path().join("data");
        let data_s = data.to_str().expect("utf-8 path").to_owned();
        let out = run_as_postgres(
            &bin.join("initdb"),
            &["-D", &data_s, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
        )
        .expect("run initdb");
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let port = free_port();
        let conf = format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             max_connections = 60\nshared_buffers = 32MB\nfsync = on\n{}\n",
            dir.path().display(),
            extra(dir.path())
        );
        let conf_path = data.join("postgresql.conf");
        let mut all = std::fs::read_to_string(&conf_path).expect("read postgresql.conf");
        all.push_str(&conf);
        // Written by root when the test runs as root: the server only needs to read it.
        std::fs::write(&conf_path, all).expect("write postgresql.conf");
        let server = PrivateServer { dir, port, bin };
        setup(&server);
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(server.dir())
                .status()
                .expect("chown");
            assert!(status.success(), "chown of the server's directory failed");
        }
        server.ctl(&["start", "-w", "-t", "30"]);
        Some(server)
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A directory the test may use (owned by the server's user when root).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs `pg_ctl` with these arguments on this server; panics if it fails.
    pub fn ctl(&self, args: &[&str]) {
        let data = self.data_dir();
        let log = self.dir.path().join("server.log");
        let mut all: Vec<&str> = vec!["-D", data.to_str().expect("utf-8"), "-l"];
        all.push(log.to_str().expect("utf-8"));
        all.extend_from_slice(args);
        let out = run_as_postgres(&self.bin.join("pg_ctl"), &all).expect("run pg_ctl");
        assert!(
            out.status.success(),
            "pg_ctl {args:?} failed: {}{}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Stops the server (`-m immediate`: a crash, recovered from the WAL at the next start) and
    /// starts it again.
    pub fn crash_and_restart(&self) {
        self.ctl(&["stop", "-m", "immediate", "-w", "-t", "30"]);
        self.ctl(&["start", "-w", "-t", "60"]);
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = run_as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", data.to_str().unwrap_or(""), "stop", "-m", "immediate", "-w", "-t", "30"],
        );
    }
}
