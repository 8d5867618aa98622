//! Serves a running trial to its program, for `tunewise suggest` and `tunewise report`
//! (define-by-run from the program).
//!
//! While the program runs, the trial listens on a fresh Unix domain socket in a private temporary
//! directory, whose path the program gets in `TUNEWISE_SOCKET`. Protocol (docs/cli.md): per
//! connection, one JSON request on one line, then one JSON response on one line.
//!
//! The trial belongs to the thread that evaluates it, so requests are answered on that thread,
//! between its checks on the program ([`Server::serve`]).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use serde::{Deserialize, Serialize};
use tunewise::{Distribution, ParamValue, Trial};

/// The environment variable that gives a trial's program the path of its socket.
pub const SOCKET_ENV: &str = "TUNEWISE_SOCKET";

/// The longest request line read (a categorical with many choices fits easily).
const MAX_REQUEST_BYTES: u64 = 1 << 20;

/// How long a connection may take to send its request, or to take its response (the trial's
/// program is not watched meanwhile: a client sends its request as soon as it is connected).
const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// What a program asks of its trial: one JSON object per connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// The value of a parameter (sampled the first time, the same value after).
    Suggest {
        /// The parameter's name.
        name: String,
        /// Its distribution, as tunewise serializes it:
        /// `{"type": "float", "low": 1e-5, "high": 0.1, "log": true}`.
        distribution: Distribution,
    },
    /// Intermediate values (one per objective) at a step; the answer says whether to stop.
    Report {
        /// The step (epoch, fold…).
        step: u64,
        /// One value per objective.
        values: Vec<f64>,
    },
}

/// The answer to one request: `ok` and `value` (suggest) or `prune` (report), or `error`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Response {
    /// Whether the request succeeded.
    pub ok: bool,
    /// The parameter's value (suggest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ParamValue>,
    /// Whether the program should stop because the trial is pruned (report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune: Option<bool>,
    /// What went wrong, for the user (when `ok` is false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Response {
    fn error(message: impl Into<String>) -> Response {
        Response { error: Some(message.into()), ..Response::default() }
    }
}

/// What the program did to its trial through the socket.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The step at which the pruner said stop: the trial ends pruned, whatever the program does.
    pub pruned_at: Option<u64>,
}

/// Answers one request with the trial: the study's sampler for a new parameter, the study's
/// pruner after a report. Once pruned, every later report answers prune as well.
pub fn answer(trial: &mut Trial, request: Request, outcome: &mut Outcome) -> Response {
    match request {
        Request::Suggest { name, distribution } => match trial.suggest(&name, distribution) {
            Ok(value) => Response { ok: true, value: Some(value), ..Response::default() },
            Err(e) => Response::error(e.to_string()),
        },
        Request::Report { step, values } => {
            if values.is_empty() {
                return Response::error("a report needs at least one value (one per objective)");
            }
            match report(trial, step, &values, outcome.pruned_at.is_some()) {
                Ok(prune) => {
                    if prune && outcome.pruned_at.is_none() {
                        outcome.pruned_at = Some(step);
                    }
                    Response { ok: true, prune: Some(prune), ..Response::default() }
                }
                Err(e) => Response::error(e.to_string()),
            }
        }
    }
}

/// Reports, then asks the pruner (unless the trial is already pruned).
fn report(trial: &mut Trial, step: u64, values: &[f64], pruned: bool) -> tunewise::Result<bool> {
    trial.report_values(step, values)?;
    Ok(pruned || trial.should_prune()?)
}

/// The private directory (mode 0700) that holds the sockets of one run's trials, created at the
/// first trial and removed with the run. One directory per run rather than per trial: creating
/// and removing a directory per trial cost 3–4 ms on an ext4 `/tmp` (a socket file: 0.04 ms).
#[derive(Default)]
pub struct SocketDir {
    dir: OnceLock<std::result::Result<tempfile::TempDir, String>>,
    sockets: AtomicU64,
}

impl SocketDir {
    /// A fresh socket for one trial, listening until dropped.
    pub fn server(&self, trial: u64) -> Result<Server> {
        let dir = self.dir.get_or_init(|| {
            tempfile::Builder::new().prefix("tunewise-").tempdir().map_err(|e| {
                format!(
                    "cannot create the directory of the trials' sockets in {}: {e}; set TMPDIR \
                     to a writable directory",
                    std::env::temp_dir().display()
                )
            })
        });
        let dir = dir.as_ref().map_err(|e| anyhow!("{e}"))?;
        let k = self.sockets.fetch_add(1, Ordering::Relaxed);
        let path = dir.path().join(format!("trial-{trial}-{k}.sock"));
        let listener = UnixListener::bind(&path).with_context(|| {
            format!(
                "cannot listen on the trial's socket {} (a Unix socket path is limited to about \
                 100 bytes: set TMPDIR to a short directory such as /tmp)",
                path.display()
            )
        })?;
        let server = Server { listener, path };
        server.listener.set_nonblocking(true).context("cannot set up the trial's socket")?;
        Ok(server)
    }
}

/// One trial's socket, listening from [`SocketDir::server`] until dropped (which removes it).
///
/// Connections are accepted without blocking by the thread that evaluates the trial, between its
/// checks on the program: no thread is started per trial, and a quick program that never asks
/// costs one `accept` per check.
pub struct Server {
    listener: UnixListener,
    path: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Server {
    /// The socket's path (for `TUNEWISE_SOCKET`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Answers every request waiting on the socket with `answer`; returns whether there was one.
    pub fn serve(&self, answer: &mut dyn FnMut(Request) -> Response) -> bool {
        let mut served = false;
        // Anything but a connection (none waiting, or out of file descriptors) waits for the
        // next check.
        while let Ok((stream, _)) = self.listener.accept() {
            served = true;
            respond(stream, answer);
        }
        served
    }
}

/// Reads one request from a connection and writes its response.
fn respond(mut stream: UnixStream, answer: &mut dyn FnMut(Request) -> Response) {
    // Some systems hand out accepted connections non-blocking like their listener.
    let ready = stream.set_nonblocking(false).is_ok()
        && stream.set_read_timeout(Some(IO_TIMEOUT)).is_ok()
        && stream.set_write_timeout(Some(IO_TIMEOUT)).is_ok();
    let response = match read_request(&stream) {
        Ok(request) if ready => answer(request),
        Ok(_) => Response::error("cannot set up the connection to the trial's socket"),
        Err(message) => Response::error(message),
    };
    let mut line = serde_json::to_string(&response).unwrap_or_else(|e| {
        format!("{{\"ok\":false,\"error\":\"cannot encode the response: {e}\"}}")
    });
    line.push('\n');
    // A program that left without reading its answer is not the trial's problem.
    let _ = stream.write_all(line.as_bytes());
}

fn read_request(stream: &UnixStream) -> std::result::Result<Request, String> {
    let mut line = String::new();
    BufReader::new(stream.take(MAX_REQUEST_BYTES))
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the request: {e}"))?;
    serde_json::from_str(line.trim()).map_err(|e| {
        format!(
            "invalid request {:?}: {e}; send one JSON object on one line, as docs/cli.md \
             (protocol) describes",
            line.trim()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_as_documented() {
        let r: Request = serde_json::from_str(
            r#"{"op":"suggest","name":"lr","distribution":{"type":"float","low":1e-5,"high":0.1,"log":true}}"#,
        )
        .expect("float");
        assert_eq!(
            r,
            Request::Suggest {
                name: "lr".into(),
                distribution: Distribution::float_log(1e-5, 0.1)
            }
        );
        let r: Request = serde_json::from_str(
            r#"{"op":"suggest","name":"n","distribution":{"type":"int","low":1,"high":9,"step":2}}"#,
        )
        .expect("int");
        assert_eq!(
            r,
            Request::Suggest { name: "n".into(), distribution: Distribution::int_step(1, 9, 2) }
        );
        let r: Request = serde_json::from_str(
            r#"{"op":"suggest","name":"o","distribution":{"type":"categorical","choices":["a",2,true]}}"#,
        )
        .expect("categorical");
        let want = Distribution::categorical([
            ParamValue::from("a"),
            ParamValue::Int(2),
            ParamValue::Bool(true),
        ]);
        assert_eq!(r, Request::Suggest { name: "o".into(), distribution: want });
        let r: Request =
            serde_json::from_str(r#"{"op":"report","step":3,"values":[0.5]}"#).expect("report");
        assert_eq!(r, Request::Report { step: 3, values: vec![0.5] });
    }

    #[test]
    fn responses_write_as_documented() {
        let r = Response { ok: true, value: Some(ParamValue::Float(0.5)), ..Response::default() };
        assert_eq!(serde_json::to_string(&r).expect("json"), r#"{"ok":true,"value":0.5}"#);
        let r = Response { ok: true, prune: Some(true), ..Response::default() };
        assert_eq!(serde_json::to_string(&r).expect("json"), r#"{"ok":true,"prune":true}"#);
        let r = Response::error("bad");
        assert_eq!(serde_json::to_string(&r).expect("json"), r#"{"ok":false,"error":"bad"}"#);
    }
}
