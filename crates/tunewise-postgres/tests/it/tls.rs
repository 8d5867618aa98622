//! TLS (feature `tls`): a private server with `ssl = on`, a certificate authority and a server
//! certificate made by the `openssl` command, and an access file that refuses connections
//! without TLS, so that a working connection proves TLS was used.

use std::path::Path;
use std::process::Command;

use tunewise_core::storage::{Lease, TrialFinish};
use tunewise_core::{Direction, Error, Storage, TrialState};
use tunewise_postgres::PostgresStorage;

use crate::common::{self, PrivateServer};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("run openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA (`NAME.pem`, `NAME.key`) in `dir`.
fn make_ca(dir: &Path, name: &str) {
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    let subject = format!("/CN=tunewise test {name}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-subj",
            &subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// A server certificate for 127.0.0.1 and localhost (`server.crt`, `server.key`) signed by `ca`.
fn make_server_cert(dir: &Path, ca: &str) {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n\
         basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n",
    )
    .expect("write the extensions");
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

#[test]
fn tls_connections_verify_the_server_and_work() {
    let test = "tls_connections_verify_the_server_and_work";
    if common::url(test).is_none() {
        return;
    }
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipped {test}: no openssl command to make certificates");
        return;
    }
    let setup = |server: &PrivateServer| {
        let dir = server.dir();
        make_ca(dir, "ca");
        make_ca(dir, "other-ca");
        make_server_cert(dir, "ca");
        let data = server.data_dir();
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n\
             hostnossl all all 127.0.0.1/32 reject\n",
        )
        .expect("write pg_hba.conf");
        // The server refuses a key that others may read.
        let status =
            Command::new("chmod").arg("600").arg(dir.join("server.key")).status().expect("chmod");
        assert!(status.success());
    };
    let dir_conf = |d: &Path| {
        format!(
            "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
            d.join("server.crt").display(),
            d.join("server.key").display()
        )
    };
    let Some(server) = PrivateServer::start_with(test, &dir_conf, &setup) else { return };
    let ca = server.dir().join("ca.pem");
    let base = format!("postgres://postgres@127.0.0.1:{}/postgres", server.port);

    let url = format!("{base}?sslmode=require&sslrootcert={}", ca.display());
    let s = PostgresStorage::connect(&url).expect("a TLS connection with the right CA");
    let st = s.create_study("tls", &[Direction::Minimize]).expect("create over TLS");
    let t = s.start_trial(st.id, "w", None).expect("start over TLS");
    let end = TrialFinish {
        state: TrialState::Complete,
        values: Some(vec![0.5]),
        constraints: Vec::new(),
        fail_reason: None,
        params: Vec::new(),
    };
    s.finish_trial(&Lease::of(st.id, &t), &end).expect("finish over TLS");
    assert_eq!(s.trial(st.id, 0).expect("read").values, Some(vec![0.5]));

    // The CA given to the builder instead of the URL; verify-full is read as require.
    let s2 = PostgresStorage::builder(&format!("{base}?sslmode=verify-full"))
        .ca_file(&ca)
        .connect()
        .expect("a TLS connection with the CA from the builder");
    assert!(s2.find_study("tls").expect("find").is_some());

    // Without TLS the server refuses (so the connections above did use TLS).
    let plain = PostgresStorage::connect(&format!("{base}?sslmode=disable"));
    assert!(matches!(&plain, Err(Error::Storage(m)) if m.contains("no encryption")), "{plain:?}");

    // A certificate that the trusted CA did not sign is refused, with the reason.
    let other = server.dir().join("other-ca.pem");
    let wrong = PostgresStorage::connect(&format!(
        "{base}?sslmode=require&sslrootcert={}",
        other.display()
    ));
    eprintln!("wrong CA: {wrong:?}");
    assert!(
        matches!(&wrong, Err(Error::Storage(m)) if m.to_lowercase().contains("certificate")),
        "{wrong:?}"
    );
    // The webpki roots do not trust a private CA either.
    let roots = PostgresStorage::connect(&format!("{base}?sslmode=require"));
    assert!(roots.is_err(), "a private CA must not be trusted by the webpki roots");
}
