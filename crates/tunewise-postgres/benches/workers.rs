//! PostgreSQL storage benchmarks (not criterion: they measure many processes and one big load).
//!
//! ```sh
//! # both benchmarks, against $TUNEWISE_TEST_POSTGRES_URL (default: the local server's `test`)
//! cargo bench -p tunewise-postgres --bench workers
//! # options
//! cargo bench -p tunewise-postgres --bench workers -- --only workers --workers 8 --seconds 10
//! cargo bench -p tunewise-postgres --bench workers -- --only load --trials 100000
//! ```
//!
//! - `workers`: N worker processes (this binary again) run `Study::optimize` on one shared study
//!   with a trivial objective of ten parameters for S seconds. Prints trials per second in total,
//!   and write transactions per trial as the server counts them (transaction ids consumed). Then
//!   checks the guarantees over the final study: numbers dense, nothing left running, every
//!   acknowledged result stored with its attempt and value, none acknowledged twice, every value
//!   the objective's value of its stored parameters.
//! - `load`: a study of T complete trials of ten parameters; times a new storage loading the
//!   study with `Study::load` (which reads every trial into its cache) and `trials_since(0)`
//!   alone.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tunewise_bench::workload::{ten_params, ten_params_value};
use tunewise_core::rng::Rng;
use tunewise_core::{Budget, Flow, RandomSampler, Storage, Study, TrialState};
use tunewise_postgres::PostgresStorage;

const WORKER_ENV: &str = "TUNEWISE_PG_BENCH_WORKER";

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn url() -> String {
    std::env::var("TUNEWISE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn main() -> anyhow::Result<()> {
    if let Ok(spec) = std::env::var(WORKER_ENV) {
        return worker(&spec);
    }
    let only = arg("--only");
    if only.as_deref().map_or(true, |o| o == "workers") {
        let n: usize = arg("--workers").map_or(Ok(8), |v| v.parse())?;
        let seconds: u64 = arg("--seconds").map_or(Ok(10), |v| v.parse())?;
        workers(n, seconds)?;
    }
    if only.as_deref().map_or(true, |o| o == "ops") {
        ops(2000)?;
    }
    if only.as_deref().map_or(true, |o| o == "load") {
        let trials: u64 = arg("--trials").map_or(Ok(100_000), |v| v.parse())?;
        load(trials)?;
    }
    Ok(())
}

/// One worker process: optimize for the given time, then write `number attempt value` per
/// acknowledged trial.
fn worker(spec: &str) -> anyhow::Result<()> {
    let parts: Vec<&str> = spec.split('\u{1f}').collect();
    let [url, study, id, seconds, out] = parts.as_slice() else {
        anyhow::bail!("bad {WORKER_ENV}")
    };
    let storage = Arc::new(PostgresStorage::connect(url)?);
    let study = Study::builder()
        .name(*study)
        .storage(storage)
        .worker_id(*id)
        .sampler(RandomSampler::with_seed(Rng::os_seed()))
        .load()?;
    let acks = Arc::new(Mutex::new(Vec::new()));
    let sink = acks.clone();
    study.add_callback(move |_, t| {
        if let (TrialState::Complete, Some(v)) = (t.state, t.value()) {
            sink.lock().unwrap_or_else(|e| e.into_inner()).push((t.number, t.attempt, v));
        }
        Flow::Continue
    });
    study.optimize(ten_params, Budget::time(Duration::from_secs(seconds.parse()?)))?;
    let mut file = std::fs::File::create(out)?;
    for (n, a, v) in acks.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        writeln!(file, "{n} {a} {v:?}")?;
    }
    file.sync_all()?;
    Ok(())
}

/// Transaction ids consumed so far on the server: one per transaction that wrote.
fn xid(raw: &mut postgres::Client) -> anyhow::Result<i64> {
    Ok(raw.query_one("SELECT txid_current()", &[])?.get(0))
}

fn workers(n: usize, seconds: u64) -> anyhow::Result<()> {
    let url = url();
    let storage = Arc::new(PostgresStorage::connect(&url)?);
    let name = format!("bench-workers-{:016x}", Rng::os_seed());
    let study = Study::builder().name(&name).storage(storage.clone()).create()?;
    let dir = tempfile::tempdir()?;
    let mut raw = postgres::Client::connect(&url, postgres::NoTls)?;
    let xid_before = xid(&mut raw)?;
    let started = Instant::now();
    let children: Vec<_> = (0..n)
        .map(|i| {
            let out = dir.path().join(format!("acks-{i}"));
            let spec = [
                &url,
                &name,
                &format!("bench-{i}"),
                &seconds.to_string(),
                &out.display().to_string(),
            ]
            .map(|s| s.as_str())
            .join("\u{1f}");
            Command::new(std::env::current_exe()?)
                .env(WORKER_ENV, spec)
                .stdin(Stdio::null())
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    for mut c in children {
        let status = c.wait()?;
        anyhow::ensure!(status.success(), "a worker failed: {status}");
    }
    let wall = started.elapsed();
    let xids = xid(&mut raw)? - xid_before - 1;

    // The guarantees, over the final study.
    let trials = storage.trials_since(study.record().id, 0)?.trials;
    let mut by_number = BTreeMap::new();
    for t in &trials {
        anyhow::ensure!(
            by_number.insert(t.number, t.clone()).is_none(),
            "number {} twice",
            t.number
        );
    }
    anyhow::ensure!(by_number.keys().copied().eq(0..trials.len() as u64), "numbers are not dense");
    for t in &trials {
        anyhow::ensure!(t.state == TrialState::Complete, "trial {} is {}", t.number, t.state);
        anyhow::ensure!(t.params.len() == 10, "trial {} has {} params", t.number, t.params.len());
        anyhow::ensure!(
            ten_params_value(t) == t.value(),
            "trial {} value is not its objective's",
            t.number
        );
    }
    let mut acked = BTreeMap::new();
    for i in 0..n {
        let text = std::fs::read_to_string(dir.path().join(format!("acks-{i}")))?;
        for line in text.lines() {
            let mut p = line.split_whitespace();
            let (Some(number), Some(attempt), Some(value)) = (p.next(), p.next(), p.next()) else {
                anyhow::bail!("bad ack line {line}")
            };
            let (number, attempt, value): (u64, u32, f64) =
                (number.parse()?, attempt.parse()?, value.parse()?);
            let t = by_number.get(&number).ok_or_else(|| anyhow::anyhow!("ack {number} lost"))?;
            anyhow::ensure!(
                t.attempt == attempt && t.value() == Some(value),
                "ack {number} differs"
            );
            anyhow::ensure!(acked.insert(number, i).is_none(), "trial {number} acknowledged twice");
        }
    }
    anyhow::ensure!(
        acked.len() == trials.len(),
        "{} of {} trials acknowledged",
        acked.len(),
        trials.len()
    );

    // Throughput while all workers ran: first start to last end, as the database recorded them.
    let first = trials.iter().filter_map(|t| t.datetime_start).min();
    let last = trials.iter().filter_map(|t| t.datetime_complete).max();
    let span = match (first, last) {
        (Some(a), Some(b)) => (b - a).to_std()?.as_secs_f64(),
        _ => wall.as_secs_f64(),
    };
    let count = trials.len() as f64;
    println!("workers: {n} processes, {seconds} s each, trivial objective of 10 parameters");
    println!(
        "workers: {} trials; {:.0} trials/s in total ({:.1} s from first start to last end; \
         {:.0} trials/s over the whole {:.1} s including process start-up)",
        trials.len(),
        count / span,
        span,
        count / wall.as_secs_f64(),
        wall.as_secs_f64()
    );
    println!(
        "workers: {:.2} write transactions per trial (server transaction ids consumed: {xids})",
        xids as f64 / count
    );
    println!("workers: guarantees hold: numbers dense, all complete, {} acks match", acked.len());
    storage.delete_study(study.record().id)?;
    Ok(())
}

/// Mean time of each storage call of a trial's life, one thread, no contention.
fn ops(n: u32) -> anyhow::Result<()> {
    use tunewise_core::storage::{Lease, TrialFinish};
    use tunewise_core::{Distribution, Param};

    let url = url();
    let storage = PostgresStorage::connect(&url)?;
    let name = format!("bench-ops-{:016x}", Rng::os_seed());
    let st = storage.create_study(&name, &[tunewise_core::Direction::Minimize])?;
    let params: Vec<Param> = (0..10)
        .map(|i| Param {
            name: Arc::from(format!("p{i}")),
            distribution: Arc::new(Distribution::float(0.0, 1.0)),
            internal: 0.5,
        })
        .collect();
    let (mut since, mut start, mut finish) = (0.0, 0.0, 0.0);
    let mut cursor = 0;
    for i in 0..n {
        let t = Instant::now();
        cursor = storage.trials_since(st.id, cursor)?.cursor;
        let t1 = Instant::now();
        let trial = storage.start_trial(st.id, "w", Some(Duration::from_secs(60)))?;
        let t2 = Instant::now();
        let end = TrialFinish {
            state: TrialState::Complete,
            values: Some(vec![f64::from(i)]),
            constraints: Vec::new(),
            fail_reason: None,
            params: params.clone(),
        };
        storage.finish_trial(&Lease::of(st.id, &trial), &end)?;
        let t3 = Instant::now();
        if i >= 100 {
            since += (t1 - t).as_secs_f64();
            start += (t2 - t1).as_secs_f64();
            finish += (t3 - t2).as_secs_f64();
        }
    }
    let per = |x: f64| x / f64::from(n - 100) * 1e6;
    println!(
        "ops: one thread, mean per call: trials_since {:.0} us, start_trial {:.0} us, \
         finish_trial (10 params) {:.0} us",
        per(since),
        per(start),
        per(finish)
    );
    storage.delete_study(st.id)?;
    Ok(())
}

fn load(n: u64) -> anyhow::Result<()> {
    let url = url();
    let storage = Arc::new(PostgresStorage::connect(&url)?);
    let name = format!("bench-load-{:016x}", Rng::os_seed());
    let study = Study::builder()
        .name(&name)
        .storage(storage.clone())
        .sampler(RandomSampler::with_seed(7))
        .create()?;
    // 1,000 trials through the API, then copies of their rows (same shapes, same key ids) up to
    // n trials by SQL: filling 100,000 trials through the API would take most of a minute.
    let seed = 1000.min(n);
    study.optimize(ten_params, Budget::trials(seed as usize))?;
    let sid = study.record().id.0 as i64;
    let mut raw = postgres::Client::connect(&url, postgres::NoTls)?;
    let filled = Instant::now();
    raw.execute(
        "INSERT INTO tunewise_trials (study_id, number, state, attempt, seq, worker_id, \
             param_keys, param_values, objective_values, datetime_start, datetime_complete) \
         SELECT t.study_id, t.number + g * $2::bigint, t.state, t.attempt, t.seq + g * $2::bigint, t.worker_id, \
                t.param_keys, t.param_values, t.objective_values, t.datetime_start, \
                t.datetime_complete \
           FROM tunewise_trials t, generate_series(1, $3::bigint) AS g \
          WHERE t.study_id = $1 AND t.number + g * $2::bigint < $4",
        &[&sid, &(seed as i64), &((n / seed) as i64), &(n as i64)],
    )?;
    raw.execute(
        "UPDATE tunewise_studies SET next_number = $2, seq = $2::bigint + 1000 WHERE id = $1",
        &[&sid, &(n as i64)],
    )?;
    raw.batch_execute("ANALYZE tunewise_trials")?;
    eprintln!("load: filled {n} trials in {:.1} s", filled.elapsed().as_secs_f64());

    let mut opens = Vec::new();
    let mut reads = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let fresh = Arc::new(PostgresStorage::connect(&url)?);
        let loaded = Study::builder().name(&name).storage(fresh.clone()).load()?;
        let count = loaded.trials()?.len();
        opens.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(count as u64 == n, "loaded {count} of {n} trials");

        let other = PostgresStorage::connect(&url)?;
        let t = Instant::now();
        let all = other.trials_since(loaded.record().id, 0)?;
        reads.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(all.trials.len() as u64 == n && all.trials[5].params.len() == 10);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[0], v[v.len() / 2])
    };
    let (open_min, open_med) = median(&mut opens);
    let (read_min, read_med) = median(&mut reads);
    println!("load: study of {n} complete trials, 10 parameters each, 5 runs");
    println!(
        "load: connect + Study::load (every trial into the cache): min {:.0} ms, median {:.0} ms",
        open_min * 1e3,
        open_med * 1e3
    );
    println!(
        "load: trials_since(0) alone: min {:.0} ms, median {:.0} ms",
        read_min * 1e3,
        read_med * 1e3
    );
    if std::env::args().any(|a| a == "--keep") {
        println!("load: kept study '{name}'");
        return Ok(());
    }
    storage.delete_study(study.record().id)?;
    Ok(())
}
