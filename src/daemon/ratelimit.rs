//! Logging refused reverses without letting a flood of forgeries flood the log.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::srs::ReverseError;

/// At most `burst` lines per `window`; the rest are counted and summarised.
pub struct RateLimit {
    burst: u32,
    window: Duration,
    state: Mutex<(Instant, u32, u64)>,
}

impl RateLimit {
    /// A limiter allowing `burst` lines per `window`.
    pub fn new(burst: u32, window: Duration) -> RateLimit {
        RateLimit {
            burst,
            window,
            state: Mutex::new((Instant::now(), 0, 0)),
        }
    }

    /// Logs a refused reverse, unless too many were logged lately.
    pub fn log(&self, refusal: &ReverseError) {
        let Ok(mut s) = self.state.lock() else { return };
        let (start, count, suppressed) = &mut *s;
        if start.elapsed() >= self.window {
            if *suppressed > 0 {
                log::warn!(
                    "{suppressed} more refused reverses not logged in the last {} s",
                    self.window.as_secs()
                );
            }
            *start = Instant::now();
            *count = 0;
            *suppressed = 0;
        }
        if *count < self.burst {
            *count += 1;
            log::warn!("refused reverse: {refusal}");
        } else {
            *suppressed += 1;
        }
    }
}
