//! `tunewise dashboard` through the real binary: the ready line, a page, a clean exit on
//! SIGINT, and its errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use super::{stderr, Setup};

const STUDY: &str = r#"
[study]
name = "dash"
storage = "sqlite://study.db"
seed = 3

[params.x]
type = "float"
low = 0.0
high = 1.0
"#;

/// GET `url` (http://HOST:PORT/PATH) with HTTP/1.0; the status line and the body.
fn get(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) =
        rest.split_once('/').map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = TcpStream::connect(host).expect("connect to the dashboard");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    (head.lines().next().unwrap_or("").to_owned(), body.to_owned())
}

#[cfg(unix)]
#[test]
fn dashboard_serves_the_study_until_sigint() {
    let setup = Setup::new(STUDY);
    let run = setup.run(&["-n", "4"], &["sh", "-c", "echo {x}"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("tunewise"))
        .current_dir(setup.path())
        .args(["dashboard", "--storage", "study.db", "--port", "0", "--url-prefix", "/tw/"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tunewise dashboard");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines.next().expect("a ready line").unwrap();
    let url_re = regex::Regex::new(r"http://\S+/").unwrap();
    let url = url_re.find(&ready).map(|m| m.as_str().to_owned());
    let Some(url) = url else {
        let _ = child.kill();
        panic!("no URL in the ready line: {ready}");
    };
    assert!(ready.starts_with("tunewise dashboard: serving http://127.0.0.1:"), "{ready}");
    assert!(ready.ends_with("/tw/ (read-only)"), "{ready}");
    let (status, page) = get(&url);
    assert!(status.contains(" 200 "), "{status}");
    assert!(page.contains(r#"data-page="studies""#));
    let (status, list) = get(&format!("{url}api/studies"));
    assert!(status.contains(" 200 "), "{status}");
    assert!(list.contains(r#""name":"dash""#) && list.contains(r#""n_trials":4"#), "{list}");
    let (status, _) = get(&format!("{url}api/studies/dash/delete"));
    assert!(status.contains(" 405 "), "GET on a POST endpoint: {status}");
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit 0 after SIGINT: {:?} {}", out.status, stderr(&out));
}

#[test]
fn dashboard_errors_are_clear_and_exit_1() {
    let setup = Setup::new(STUDY);
    let missing = Command::new(assert_cmd::cargo::cargo_bin("tunewise"))
        .current_dir(setup.path())
        .args(["dashboard", "--storage", "nothing.db", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    let err = stderr(&missing);
    assert!(err.contains("nothing.db") && err.contains("does not exist"), "{err}");
    assert!(!setup.path().join("nothing.db").exists(), "the dashboard creates no file");

    let run = setup.run(&["-n", "1"], &["sh", "-c", "echo {x}"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let busy = Command::new(assert_cmd::cargo::cargo_bin("tunewise"))
        .current_dir(setup.path())
        .args(["dashboard", "--storage", "study.db", "--port", &port])
        .output()
        .unwrap();
    assert_eq!(busy.status.code(), Some(1));
    let err = stderr(&busy);
    assert!(err.contains(&port) && err.contains("--port"), "{err}");

    let bad_prefix = Command::new(assert_cmd::cargo::cargo_bin("tunewise"))
        .current_dir(setup.path())
        .args(["dashboard", "--storage", "study.db", "--url-prefix", "/a?b"])
        .output()
        .unwrap();
    assert_eq!(bad_prefix.status.code(), Some(1));
    assert!(stderr(&bad_prefix).contains("--url-prefix"), "{}", stderr(&bad_prefix));
}
