//! Serves a running trial to its program, for `tunewise suggest` and `tunewise report`
//! (define-by-run from the program).
//!
//! While the program runs, the trial listens on a Unix domain socket in a fresh private temporary
//! directory, whose path the program gets in `TUNEWISE_SOCKET`. Protocol (docs/cli.md): per
//! connection, one JSON request on one line, then one JSON response on one line.
//!
//! The trial belongs to the thread that evaluates it, so requests are answered on that thread:
//! a small thread accepts connections and reads each request, and the evaluating thread takes
//! them from a channel while it waits for the program ([`Server::serve`] instead of a sleep).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use tunewise::{Distribution, ParamValue, Trial};

/// The environment variable that gives a trial's program the path of its socket.
pub const SOCKET_ENV: &str = "TUNEWISE_SOCKET";

/// The longest request line read (a categorical with many choices fits easily).
const MAX_REQUEST_BYTES: u64 = 1 << 20;

/// How long a connection may take to send its request, or to take its response.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

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

/// A request read from a connection, with the connection to answer on.
struct Incoming {
    request: std::result::Result<Request, String>,
    stream: UnixStream,
}

/// One trial's socket: listening from [`Server::start`] until dropped (which removes it).
pub struct Server {
    path: PathBuf,
    requests: Receiver<Incoming>,
    stop: Arc<AtomicBool>,
    // Dropped after `Drop::drop` has woken the accepting thread: removes the directory.
    _dir: tempfile::TempDir,
}

impl Server {
    /// Creates a private directory with a socket in it and starts accepting connections.
    pub fn start() -> Result<Server> {
        let dir = tempfile::Builder::new().prefix("tunewise-").tempdir().with_context(|| {
            format!(
                "cannot create the trial's socket directory in {}; set TMPDIR to a writable \
                 directory",
                std::env::temp_dir().display()
            )
        })?;
        let path = dir.path().join("socket");
        let listener = UnixListener::bind(&path).with_context(|| {
            format!(
                "cannot listen on the trial's socket {} (a Unix socket path is limited to about \
                 100 bytes: set TMPDIR to a short directory such as /tmp)",
                path.display()
            )
        })?;
        let (sender, requests) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("tunewise-trial-socket".into())
            .spawn(move || accept(&listener, &sender, &stopped))
            .context("cannot start the thread that serves the trial's socket")?;
        Ok(Server { path, requests, stop, _dir: dir })
    }

    /// The socket's path (for `TUNEWISE_SOCKET`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits up to `timeout` for a request and answers it with `answer`; returns as soon as one
    /// request is answered, so the caller can check on its program between requests.
    pub fn serve(&self, timeout: Duration, answer: &mut dyn FnMut(Request) -> Response) {
        let mut incoming = match self.requests.recv_timeout(timeout) {
            Ok(incoming) => incoming,
            Err(RecvTimeoutError::Timeout) => return,
            // The accepting thread is gone (it cannot accept anymore): just wait.
            Err(RecvTimeoutError::Disconnected) => {
                std::thread::sleep(timeout);
                return;
            }
        };
        let response = match incoming.request {
            Ok(request) => answer(request),
            Err(message) => Response::error(message),
        };
        let mut line = serde_json::to_string(&response).unwrap_or_else(|e| {
            format!("{{\"ok\":false,\"error\":\"cannot encode the response: {e}\"}}")
        });
        line.push('\n');
        // A program that left without reading its answer is not the trial's problem.
        let _ = incoming.stream.write_all(line.as_bytes());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread, which sees `stop` and ends.
        let _ = UnixStream::connect(&self.path);
    }
}

/// Accepts connections and reads one request from each, until stopped or nobody listens.
fn accept(listener: &UnixListener, sender: &Sender<Incoming>, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else {
            // Out of file descriptors, say: try again shortly rather than spin.
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
        let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
        let request = read_request(&stream);
        if sender.send(Incoming { request, stream }).is_err() {
            return;
        }
    }
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
