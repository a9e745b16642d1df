//! A semaphore bulkhead, after resilience4j's `SemaphoreBulkhead` (`maxConcurrentCalls`,
//! `maxWaitDuration`) and Python's `asyncio.Semaphore`: at most `max` permits out; a
//! caller that finds none waits in arrival order (fair, as resilience4j's
//! `fairCallHandling` and asyncio's FIFO waiters), or is refused at once when the wait is
//! zero. A waiter that gave up (its wait expired, its timeout fired, its caller went
//! away) stays queued until it reaches the head or the queue is pruned; the caller says
//! which waiters still want a permit.
//!
//! Where the per-try timeout starts relative to the wait is the caller's business (see
//! `spec::Bulkhead::timeout_covers_wait`); this machine only hands out permits.
//!
//! *Invariant*: `in_use <= max` after every operation; `max_in_use` is the largest
//! `in_use` ever seen, so a test or an end-of-run check can assert it against `max`.

use std::collections::VecDeque;

/// What the bulkhead says to a caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A permit is taken.
    Permit,
    /// No permit, and the caller does not wait (`max_wait` 0).
    Full,
    /// Queued for a permit.
    Wait,
}

/// One bulkhead instance; `W` identifies a waiter.
#[derive(Clone, Debug)]
pub struct Bulkhead<W> {
    max: u32,
    in_use: u32,
    max_in_use: u32,
    waiting: VecDeque<W>,
    /// `waiting`'s length at which the waiters that gave up are dropped.
    compact_at: usize,
}

impl<W: Copy> Bulkhead<W> {
    pub fn new(max: u32) -> Self {
        Bulkhead { max: max.max(1), in_use: 0, max_in_use: 0, waiting: VecDeque::new(), compact_at: 64 }
    }

    /// A caller wants a permit; `no_wait` when its policy does not wait (`max_wait` 0);
    /// `wanted` tells which queued waiters still want one (for pruning).
    pub fn enter(&mut self, no_wait: bool, w: W, wanted: impl Fn(W) -> bool) -> Entry {
        if self.in_use < self.max {
            self.take();
            return Entry::Permit;
        }
        if no_wait {
            return Entry::Full;
        }
        if self.waiting.len() >= self.compact_at {
            // Drop the waiters that gave up, so that memory follows live ones.
            self.waiting.retain(|x| wanted(*x));
            self.compact_at = (self.waiting.len() * 2).max(64);
        }
        self.waiting.push_back(w);
        Entry::Wait
    }

    fn take(&mut self) {
        self.in_use += 1;
        self.max_in_use = self.max_in_use.max(self.in_use);
    }

    /// Gives a permit back and hands it to the longest waiter still `wanted`, if any:
    /// returns that waiter.
    pub fn release(&mut self, mut wanted: impl FnMut(W) -> bool) -> Option<W> {
        self.in_use = self.in_use.saturating_sub(1);
        while let Some(next) = self.waiting.pop_front() {
            if wanted(next) {
                self.take();
                return Some(next);
            }
        }
        None
    }

    /// Permits out now.
    pub fn in_use(&self) -> u32 {
        self.in_use
    }

    /// The most permits ever out at once.
    pub fn max_in_use(&self) -> u32 {
        self.max_in_use
    }

    pub fn max(&self) -> u32 {
        self.max
    }

    /// Waiters that still want a permit (walks the queue: for an interval's figure).
    pub fn waiting(&self, wanted: impl Fn(W) -> bool) -> u32 {
        self.waiting.iter().filter(|w| wanted(**w)).count() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_up_to_max_then_waits_in_arrival_order() {
        let mut b: Bulkhead<u32> = Bulkhead::new(2);
        let all = |_| true;
        assert_eq!(b.enter(false, 1, all), Entry::Permit);
        assert_eq!(b.enter(false, 2, all), Entry::Permit);
        assert_eq!(b.enter(false, 3, all), Entry::Wait);
        assert_eq!(b.enter(false, 4, all), Entry::Wait);
        assert_eq!((b.in_use(), b.waiting(all)), (2, 2));
        assert_eq!(b.release(|_| true), Some(3));
        assert_eq!(b.release(|_| true), Some(4));
        assert_eq!(b.in_use(), 2);
        assert_eq!(b.release(|_| true), None);
        assert_eq!(b.release(|_| true), None);
        assert_eq!((b.in_use(), b.max_in_use()), (0, 2));
    }

    #[test]
    fn no_wait_refuses_when_full() {
        let mut b: Bulkhead<u32> = Bulkhead::new(1);
        assert_eq!(b.enter(true, 1, |_| true), Entry::Permit);
        assert_eq!(b.enter(true, 2, |_| true), Entry::Full);
        assert_eq!(b.waiting(|_| true), 0);
    }

    #[test]
    fn waiters_that_gave_up_are_skipped_and_pruned() {
        let mut b: Bulkhead<u32> = Bulkhead::new(1);
        assert_eq!(b.enter(false, 0, |_| true), Entry::Permit);
        // 200 waiters, the even ones give up: the queue is pruned as it grows.
        for w in 1..=200 {
            assert_eq!(b.enter(false, w, |x| x % 2 == 1), Entry::Wait);
        }
        assert!(b.waiting.len() < 200, "pruned: {}", b.waiting.len());
        assert_eq!(b.waiting(|x| x % 2 == 1), 100);
        assert_eq!(b.release(|x| x % 2 == 1), Some(1));
        assert_eq!(b.release(|x| x % 2 == 1), Some(3));
        assert!(b.max_in_use() <= b.max());
    }

    #[test]
    fn never_above_its_limit_on_a_random_sequence() {
        use rand::RngExt;
        let mut rng = crate::rng::rng_stream(7, "bulkhead-test");
        let mut b: Bulkhead<u32> = Bulkhead::new(3);
        let mut held = 0u32;
        for i in 0..10_000 {
            if rng.random_bool(0.5) {
                if b.enter(rng.random_bool(0.2), i, |_| true) == Entry::Permit {
                    held += 1;
                }
            } else if held > 0 && b.release(|_| true).is_none() {
                held -= 1;
            }
            assert!(b.in_use() <= 3 && b.in_use() == held);
        }
        assert_eq!(b.max_in_use(), 3);
    }
}
