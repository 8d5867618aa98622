//! Memory kept per completed trial: runs a study of the engine workload (ten parameters, seeded
//! random sampler, in-memory storage) and prints the live heap bytes per completed trial, storage
//! and the study's cache together, counted by a global allocator of our own.
//!
//! `cargo run --release -p tunewise-bench --bin memory_per_trial [-- TRIALS]` (default 100,000).
// The counting allocator must implement `GlobalAlloc`, an unsafe trait; this file is the only
// place in the workspace allowed to (the crate denies `unsafe_code` instead of forbidding it).
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use tunewise_bench::workload::{new_study, ten_params};
use tunewise_core::Budget;

/// The system allocator, counting live bytes and allocation calls.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees hold; the counters are plain atomics and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let trials: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse().map_err(|e| format!("TRIALS must be a whole number: {e}"))?,
        None => 100_000,
    };
    if trials == 0 {
        return Err("TRIALS must be at least 1".into());
    }
    let study = new_study()?;
    // Warm up: the first trials intern the names and distributions shared by all later ones.
    study.optimize(ten_params, Budget::trials(1))?;
    let live_before = LIVE.load(Ordering::SeqCst);
    let allocations_before = ALLOCATIONS.load(Ordering::SeqCst);
    let start = Instant::now();
    let report = study.optimize(ten_params, Budget::trials(trials))?;
    let elapsed = start.elapsed();
    let live_after = LIVE.load(Ordering::SeqCst);
    let allocations = ALLOCATIONS.load(Ordering::SeqCst) - allocations_before;
    let completed = study.trials()?.len() - 1;
    if report.trials != trials || completed != trials {
        return Err(format!("expected {trials} trials, ran {}", report.trials).into());
    }

    let bytes = live_after.saturating_sub(live_before) as f64;
    let n = trials as f64;
    println!("trials completed:        {trials} (10 parameters each)");
    println!("live heap growth:        {:.1} MiB", bytes / (1024.0 * 1024.0));
    println!("live bytes per trial:    {:.0} B ({:.2} KiB)", bytes / n, bytes / n / 1024.0);
    println!("allocations per trial:   {:.1}", allocations as f64 / n);
    println!(
        "for scale:               a trial record is {} B, each of its parameters {} B",
        std::mem::size_of::<tunewise_core::FrozenTrial>(),
        std::mem::size_of::<tunewise_core::Param>()
    );
    println!(
        "time per trial:          {:.2} µs (side note, counting allocator on; see the criterion bench)",
        elapsed.as_secs_f64() * 1e6 / n
    );
    Ok(())
}
