//! Time as a parameter: domain code asks a [`Clock`] instead of reading the
//! system time, so tests can pin and move it.

use chrono::{DateTime, Utc};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// Monotonic time, for intervals kept in memory (rate budgets, cache
    /// ages): it never goes back when the wall clock is set.
    fn instant(&self) -> Instant {
        Instant::now()
    }
}

/// The real wall clock, used by the server and the CLI.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug)]
pub struct FixedClock {
    wall: Mutex<DateTime<Utc>>,
    started: Instant,
    /// How far `advance` has moved monotonic time.
    moved: Mutex<Duration>,
}

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self { wall: Mutex::new(at), started: Instant::now(), moved: Mutex::new(Duration::ZERO) }
    }

    /// Moves the clock forward (or the wall clock back, with a negative
    /// duration: monotonic time never goes back).
    pub fn advance(&self, by: chrono::Duration) {
        *self.wall.lock().unwrap_or_else(|e| e.into_inner()) += by;
        if let Ok(forward) = by.to_std() {
            *self.moved.lock().unwrap_or_else(|e| e.into_inner()) += forward;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.wall.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn instant(&self) -> Instant {
        self.started + *self.moved.lock().unwrap_or_else(|e| e.into_inner())
    }
}
