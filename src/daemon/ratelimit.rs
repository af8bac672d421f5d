//! Warnings that a hostile client or a starved system could repeat without
//! end (refused reverses, accept failures) are logged at most `burst` times a
//! window; the rest are counted, logged at debug level, and summed up.

use std::fmt::Display;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `burst` lines per `window`; the rest are counted and summarised.
pub struct RateLimit {
    burst: u32,
    window: Duration,
    /// What the lines are about, for the summary ("refused reverses").
    what: &'static str,
    state: Mutex<Window>,
}

struct Window {
    start: Instant,
    logged: u32,
    suppressed: u64,
}

impl RateLimit {
    /// A limiter allowing `burst` lines about `what` per `window`.
    pub fn new(burst: u32, window: Duration, what: &'static str) -> RateLimit {
        RateLimit {
            burst,
            window,
            what,
            state: Mutex::new(Window {
                start: Instant::now(),
                logged: 0,
                suppressed: 0,
            }),
        }
    }

    /// Logs `message` as a warning, unless too many were logged lately.
    pub fn warn(&self, message: impl Display) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.start.elapsed() >= self.window {
            self.summarise(&mut s);
            s.start = Instant::now();
            s.logged = 0;
        }
        if s.logged < self.burst {
            s.logged += 1;
            log::warn!("{message}");
        } else {
            s.suppressed += 1;
            log::debug!("not logged as a warning: {message}");
        }
    }

    /// Logs how many lines were held back since the last summary; call at stop.
    pub fn flush(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.summarise(&mut s);
    }

    fn summarise(&self, s: &mut Window) {
        if s.suppressed > 0 {
            log::warn!(
                "{} more {} not logged in the last {} s",
                s.suppressed,
                self.what,
                s.start.elapsed().as_secs().max(1)
            );
            s.suppressed = 0;
        }
    }
}
