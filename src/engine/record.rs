//! What the lookups of one call did, for the metrics and the log.

use std::cell::{Cell, RefCell};

use super::{Answer, Direction, Outcome};
use crate::srs::ReverseError;

/// A reverse refused for a reason an honest address never gives (see
/// [`Answer::suspicious`]), with the address, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The address as the client sent it.
    pub address: String,
    /// Why it was refused.
    pub why: ReverseError,
}

/// What the lookups of one call did: answers by direction and outcome, and
/// the suspicious refusals. A connection reads it after each call; it is
/// never shared between threads.
#[derive(Debug, Default)]
pub struct Record {
    counts: [[Cell<u32>; 4]; 2],
    refusals: RefCell<Vec<Refusal>>,
}

impl Record {
    /// Counts one answer in `direction`.
    pub fn count(&self, direction: Direction, outcome: Outcome) {
        let cell = &self.counts[direction as usize][outcome as usize];
        cell.set(cell.get().saturating_add(1));
    }

    /// How many answers in `direction` ended in `outcome`.
    pub fn counted(&self, direction: Direction, outcome: Outcome) -> u32 {
        self.counts[direction as usize][outcome as usize].get()
    }

    /// Takes the suspicious refusals noted so far, oldest first.
    pub fn take_refusals(&self) -> Vec<Refusal> {
        self.refusals.take()
    }

    pub(super) fn note(&self, direction: Direction, address: &str, answer: &Answer) {
        self.count(direction, Outcome::of(answer));
        if let Some(why) = answer.suspicious() {
            self.refusals.borrow_mut().push(Refusal {
                address: address.to_owned(),
                why,
            });
        }
    }
}
