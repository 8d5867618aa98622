//! Locking shared by the crate's mutexes.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, taking over a lock poisoned by a panic on another thread. Every mutex in this
/// crate guards either a cache or buffer (any state it is left in is valid) or state whose
/// critical sections leave it consistent before anything can panic, so the data stays usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
