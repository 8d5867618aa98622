use std::process::Command;

fn bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tunewise-bench"))
}

#[test]
fn run_then_report_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs.jsonl");
    let out = bench()
        .args(["run", "--functions", "branin,zdt1", "--samplers", "random,tpe"])
        .args(["--seed-list", "4,5", "--budget", "10", "--threads", "2", "--out"])
        .arg(&runs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&runs).unwrap();
    assert_eq!(text.lines().count(), 2 * 2 * 2);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!([4, 5].contains(&v["seed"].as_u64().unwrap()));
    }
    let out = bench().arg("report").arg(&runs).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("| function | tunewise random | tunewise tpe |"), "{table}");
    assert!(table.contains("| branin |") && table.contains("| zdt1 |"), "{table}");
}

#[test]
fn bad_flags_fail_and_name_the_flag() {
    let out = bench().args(["run", "--samplers", "nope"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--samplers"));
    let out = bench().args(["run", "--budget", "ten"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--budget"));
    assert!(bench().arg("--help").output().unwrap().status.success());
}
