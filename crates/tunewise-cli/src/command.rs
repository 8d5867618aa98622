//! The program a trial runs: its `{name}` templates, its environment, its score.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use tunewise::ParamValue;

use crate::config::ScoreRule;

/// Lines of standard error kept in a failed trial's message.
pub const STDERR_TAIL_LINES: usize = 20;

/// One piece of a templated argument.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Param(String),
}

/// A command line whose arguments may hold `{name}` placeholders (`{{` and `}}` for braces).
#[derive(Debug, Clone)]
pub struct Template {
    args: Vec<Vec<Piece>>,
}

impl Template {
    /// Parses the arguments; every placeholder must name one of `params`.
    pub fn parse(args: &[String], params: &[&str]) -> Result<Template> {
        let mut parsed = Vec::with_capacity(args.len());
        for arg in args {
            let pieces = pieces(arg)?;
            for p in &pieces {
                if let Piece::Param(name) = p {
                    if !params.contains(&name.as_str()) {
                        let known = if params.is_empty() {
                            "none: the study file defines no [params.NAME]".to_owned()
                        } else {
                            params.join(", ")
                        };
                        bail!(
                            "the command names the unknown parameter {{{name}}} (in {arg:?}); the \
                             parameters are: {known}"
                        );
                    }
                }
            }
            parsed.push(pieces);
        }
        if parsed.is_empty() {
            bail!(
                "no command to run: give it after `--` (tunewise run -- python train.py --lr {{lr}}) \
                 or as [command] args in the study file"
            );
        }
        Ok(Template { args: parsed })
    }

    /// The program (the first argument, which takes no placeholders).
    pub fn program(&self) -> String {
        self.render_arg(0, &BTreeMap::new())
    }

    fn render_arg(&self, i: usize, params: &BTreeMap<String, ParamValue>) -> String {
        let mut out = String::new();
        for p in &self.args[i] {
            match p {
                Piece::Text(t) => out.push_str(t),
                // A conditional parameter this trial did not use becomes the empty string.
                Piece::Param(name) => {
                    if let Some(v) = params.get(name) {
                        out.push_str(&v.to_string());
                    }
                }
            }
        }
        out
    }

    /// The arguments with this trial's values.
    pub fn render(&self, params: &BTreeMap<String, ParamValue>) -> Vec<String> {
        (0..self.args.len()).map(|i| self.render_arg(i, params)).collect()
    }
}

/// Splits an argument into text and placeholders. A placeholder is `{name}` with a name made of
/// letters, digits, `_`, `-` and `.` (starting with a letter or `_`); any other brace is text, so
/// shell code such as `f() { …; }` and `${HOME}` passes through unchanged.
fn pieces(arg: &str) -> Result<Vec<Piece>> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = arg;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("{{") || rest.starts_with("}}") {
            text.push(c);
            rest = &rest[2..];
            continue;
        }
        if c == '{' && !text.ends_with('$') {
            if let Some(name) = placeholder(&rest[1..]) {
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                rest = &rest[name.len() + 2..];
                out.push(Piece::Param(name.to_owned()));
                continue;
            }
        }
        text.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !text.is_empty() || out.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

/// The name of a placeholder whose `{` is just before `s`, if `s` starts with `name}`.
fn placeholder(s: &str) -> Option<&str> {
    let end = s.find('}')?;
    let name = &s[..end];
    let mut chars = name.chars();
    let first = chars.next()?;
    let ok = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    ok.then_some(name)
}

/// Finds the program as the operating system would (a path, or a name searched in `PATH`).
pub fn find_program(program: &str) -> Result<PathBuf> {
    let is_file = |p: &Path| p.is_file();
    if program.contains(std::path::MAIN_SEPARATOR) || program.contains('/') {
        let p = PathBuf::from(program);
        if is_file(&p) {
            return Ok(p);
        }
        bail!("the program '{program}' does not exist; check the command's first argument");
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(program);
            if is_file(&candidate) {
                return Ok(candidate);
            }
        }
    }
    bail!(
        "the program '{program}' was not found in PATH; check its spelling, install it, or give \
         its full path"
    )
}

/// The environment variable of a parameter: `TUNEWISE_PARAM_` and its name in upper case, with
/// characters other than letters, digits and `_` replaced by `_`.
pub fn env_name(param: &str) -> String {
    let mut s = String::from("TUNEWISE_PARAM_");
    s.extend(param.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    s
}

/// What went wrong with one run of the program (a failed trial).
#[derive(Debug)]
pub enum RunError {
    /// The program could not be started at all (a problem for the whole run).
    Spawn(String),
    /// The trial failed; the message is stored with it.
    Failed(String),
    /// Ctrl-C stopped the program.
    Interrupted,
}

/// Runs the program once and reads its score. Between checks on the program, `serve()` answers
/// what the program asked of its trial, if anything (it returns whether it did).
pub fn run_trial(
    argv: &[String],
    env: &[(String, String)],
    timeout: Option<Duration>,
    score: &ScoreRule,
    objectives: usize,
    interrupted: &AtomicBool,
    serve: &mut dyn FnMut() -> bool,
) -> std::result::Result<Vec<f64>, RunError> {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so that a timeout or Ctrl-C kills what it started as well (a shell
    // script's children would otherwise keep running and hold its output open).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .spawn()
        .map_err(|e| RunError::Spawn(format!("cannot start the program '{}': {e}", argv[0])))?;
    let out = child.stdout.take().map(reader);
    let err = child.stderr.take().map(reader);
    let status = wait(&mut child, timeout, interrupted, serve);
    let stdout = out.map(collect).unwrap_or_default();
    let stderr = err.map(collect).unwrap_or_default();
    let with_tail = |msg: String| RunError::Failed(with_stderr_tail(msg, &stderr));
    match status {
        Waited::Interrupted => return Err(RunError::Interrupted),
        Waited::TimedOut(t) => {
            return Err(with_tail(format!("timed out after {:?} and was killed", t)));
        }
        Waited::Error(e) => return Err(with_tail(format!("waiting for the program failed: {e}"))),
        Waited::Exited(s) if !s.success() => {
            return Err(with_tail(format!("the program exited with {s}")));
        }
        Waited::Exited(_) => {}
    }
    read_score(&stdout, score, objectives).map_err(with_tail)
}

type Output = (Arc<Mutex<Vec<u8>>>, std::thread::JoinHandle<()>);

/// Reads a pipe to its end on a thread, into a buffer that can be read before the end.
fn reader(mut r: impl Read + Send + 'static) -> Output {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let shared = buf.clone();
    let handle = std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = r.read(&mut chunk) {
            if n == 0 {
                break;
            }
            if let Ok(mut b) = shared.lock() {
                b.extend_from_slice(&chunk[..n]);
            }
        }
    });
    (buf, handle)
}

/// What a pipe gave. After the program's end, a process it left behind may still hold the pipe
/// open: wait for the end of output a little, then take what was read.
fn collect((buf, handle): Output) -> String {
    let deadline = Instant::now() + Duration::from_millis(200);
    while !handle.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(50));
    }
    if handle.is_finished() {
        let _ = handle.join();
    }
    let bytes = buf.lock().map(|b| b.clone()).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Kills the program and its process group.
fn kill(child: &mut Child) {
    #[cfg(unix)]
    {
        // `kill -KILL -- -PGID` reaches every process the program started (no unsafe code).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

enum Waited {
    Exited(std::process::ExitStatus),
    TimedOut(Duration),
    Interrupted,
    Error(std::io::Error),
}

fn wait(
    child: &mut Child,
    timeout: Option<Duration>,
    interrupted: &AtomicBool,
    serve: &mut dyn FnMut() -> bool,
) -> Waited {
    let started = Instant::now();
    let mut pause = Duration::from_micros(50);
    // The longest pause: shorter once the program talks to its trial (`tunewise suggest` /
    // `report`), so that its requests are answered within a millisecond or two.
    let mut longest = Duration::from_millis(20);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Waited::Exited(status),
            Ok(None) => {}
            Err(e) => return Waited::Error(e),
        }
        if interrupted.load(Ordering::SeqCst) {
            kill(child);
            return Waited::Interrupted;
        }
        if let Some(t) = timeout {
            if started.elapsed() >= t {
                kill(child);
                return Waited::TimedOut(t);
            }
        }
        if serve() {
            longest = Duration::from_millis(1);
            pause = pause.min(longest);
        }
        std::thread::sleep(pause);
        // Quick programs are where the command's own time shows: poll finely for their first
        // 50 ms (a `waitpid` and an `accept` each, cheap), then back off.
        if started.elapsed() > Duration::from_millis(50) {
            pause = (pause * 2).min(longest);
        }
    }
}

fn with_stderr_tail(msg: String, stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    if lines.is_empty() {
        return format!("{msg} (nothing on stderr)");
    }
    let tail = &lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..];
    format!("{msg}; last lines of stderr:\n{}", tail.join("\n"))
}

/// Reads the score from the program's standard output.
pub fn read_score(
    stdout: &str,
    rule: &ScoreRule,
    objectives: usize,
) -> std::result::Result<Vec<f64>, String> {
    let values = match rule {
        ScoreRule::LastLine => {
            let Some(line) = stdout.lines().rev().find(|l| !l.trim().is_empty()) else {
                return Err("the program printed no score (its stdout is empty)".into());
            };
            line.split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty())
                .map(|s| number(s, line))
                .collect::<std::result::Result<Vec<_>, _>>()?
        }
        ScoreRule::Json(key) => {
            let object = stdout.lines().rev().find_map(|l| {
                match serde_json::from_str::<serde_json::Value>(l.trim()) {
                    Ok(serde_json::Value::Object(o)) => Some(o),
                    _ => None,
                }
            });
            let Some(object) = object else {
                return Err("no line of the program's stdout is a JSON object (score = \
                            \"json:KEY\")"
                    .into());
            };
            match object.get(key) {
                None => {
                    return Err(format!("the program's last JSON object has no key '{key}'"));
                }
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .map(|v| json_number(v, key))
                    .collect::<std::result::Result<Vec<_>, _>>()?,
                Some(v) => vec![json_number(v, key)?],
            }
        }
        ScoreRule::Regex(re) => {
            let Some(caps) = re.captures_iter(stdout).last() else {
                return Err(format!("the program's stdout has no match of the score regex {re}"));
            };
            (1..caps.len())
                .map(|i| {
                    let text = caps.get(i).map_or("", |m| m.as_str());
                    number(text, text)
                })
                .collect::<std::result::Result<Vec<_>, _>>()?
        }
    };
    if values.len() != objectives {
        return Err(format!(
            "the program's score has {} value(s) but the study has {objectives} objective(s)",
            values.len()
        ));
    }
    Ok(values)
}

fn number(text: &str, line: &str) -> std::result::Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if !v.is_nan() => Ok(v),
        _ => Err(format!("the score {text:?} is not a number (from the output line {line:?})")),
    }
}

fn json_number(v: &serde_json::Value, key: &str) -> std::result::Result<f64, String> {
    v.as_f64().ok_or_else(|| format!("the JSON score '{key}' is {v}, not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_substitute_and_escape() {
        let args: Vec<String> =
            ["prog", "--lr={lr}", "{{x}}", "{layers}", "${HOME} { a b }"].map(String::from).into();
        let t = Template::parse(&args, &["lr", "layers"]).expect("valid");
        let mut p = BTreeMap::new();
        p.insert("lr".to_owned(), ParamValue::Float(0.5));
        p.insert("layers".to_owned(), ParamValue::Int(3));
        assert_eq!(t.render(&p), ["prog", "--lr=0.5", "{x}", "3", "${HOME} { a b }"]);
        let err = Template::parse(&args, &["lr"]).expect_err("unknown");
        assert!(err.to_string().contains("{layers}"), "{err}");
    }

    #[test]
    fn scores_by_rule() {
        let out = "epoch 1 loss=3\nepoch 2 loss=2.5\n{\"acc\": 0.9}\n0.25\n\n";
        assert_eq!(read_score(out, &ScoreRule::LastLine, 1), Ok(vec![0.25]));
        assert_eq!(read_score(out, &ScoreRule::Json("acc".into()), 1), Ok(vec![0.9]));
        let re = ScoreRule::parse("regex:loss=(\\S+)", 1).expect("valid");
        assert_eq!(read_score(out, &re, 1), Ok(vec![2.5]));
        assert!(read_score("abc\n", &ScoreRule::LastLine, 1).is_err());
        assert_eq!(read_score("1, 2\n", &ScoreRule::LastLine, 2), Ok(vec![1.0, 2.0]));
    }

    #[test]
    fn env_names_are_shell_safe() {
        assert_eq!(env_name("lr"), "TUNEWISE_PARAM_LR");
        assert_eq!(env_name("n-layers.1"), "TUNEWISE_PARAM_N_LAYERS_1");
    }
}
