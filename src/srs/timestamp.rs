//! The SRS0 day stamp: days since the epoch modulo 1024, as two base32 characters.

use std::time::{SystemTime, UNIX_EPOCH};

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECONDS_PER_DAY: u64 = 86_400;
/// The stamp counts days modulo this.
pub const CYCLE: u16 = 1024;

/// A day on the 1024-day SRS cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Day(u16);

impl Day {
    /// The day `now` falls on (a time before 1970 counts as day 0).
    pub fn of(now: SystemTime) -> Day {
        let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Day(((secs / SECONDS_PER_DAY) % u64::from(CYCLE)) as u16)
    }

    /// The two-character stamp, upper case.
    pub fn encode(self) -> [u8; 2] {
        [
            BASE32[usize::from(self.0 >> 5)],
            BASE32[usize::from(self.0 & 31)],
        ]
    }

    /// Reads a stamp of exactly two base32 characters, in either case.
    pub fn decode(stamp: &[u8]) -> Option<Day> {
        let [hi, lo] = stamp else { return None };
        Some(Day(u16::from(value(*hi)?) << 5 | u16::from(value(*lo)?)))
    }

    /// Days from `self` to `later`, modulo 1024.
    pub fn days_until(self, later: Day) -> u16 {
        (later.0 + CYCLE - self.0) % CYCLE
    }
}

fn value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a'),
        b'2'..=b'7' => Some(c - b'2' + 26),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn day_20780_is_jm() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_435_200);
        assert_eq!(&Day::of(now).encode(), b"JM");
        assert_eq!(Day::decode(b"jm"), Some(Day::of(now)));
    }

    #[test]
    fn bad_stamps_are_refused() {
        for s in [&b""[..], b"J", b"JMA", b"J1", b"J="] {
            assert_eq!(Day::decode(s), None, "{s:?}");
        }
    }

    #[test]
    fn age_wraps_around_the_cycle() {
        assert_eq!(Day(1020).days_until(Day(3)), 7);
        assert_eq!(Day(3).days_until(Day(2)), 1023);
    }
}
