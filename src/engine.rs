//! The engine: one clock and one event queue.
//!
//! The engine knows nothing of services. Time is an integer count of nanoseconds;
//! events are ordered by `(time, sequence number)`, the sequence being the order of
//! scheduling, so ties break by insertion order and never by memory address or hash
//! order (NeXosim keys its scheduler by `(time, counter)`, SimPy by `(time, priority,
//! id)`). Model code gets `now` and `schedule`, never a wall clock.
//! (Random streams live in `rng`, arenas in `arena`.)

use crate::time::Nanos;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// A key: `(time, seq)` in two `u64` halves, compared as a pair (8-byte alignment keeps
/// an entry at 32 bytes for the model's events, where a `u128` would pad it to 48).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Key {
    time: Nanos,
    seq: u64,
}

/// A scheduled event in a lane.
#[derive(Clone, Copy)]
struct Entry<E> {
    key: Key,
    ev: E,
}

/// An event in the heap.
struct HeapEntry<E> {
    key: Key,
    ev: E,
}

impl<E> PartialEq for HeapEntry<E> {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl<E> Eq for HeapEntry<E> {}
impl<E> PartialOrd for HeapEntry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for HeapEntry<E> {
    // Reversed: BinaryHeap is a max-heap and we want the earliest first.
    #[inline]
    fn cmp(&self, o: &Self) -> Ordering {
        o.key.cmp(&self.key)
    }
}

/// The front of a non-empty lane, in the heap of fronts (earliest first).
#[derive(PartialEq, Eq)]
struct Front {
    key: Key,
    lane: u32,
}

impl PartialOrd for Front {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Front {
    #[inline]
    fn cmp(&self, o: &Self) -> Ordering {
        o.key.cmp(&self.key)
    }
}

/// The event queue and the clock.
///
/// Besides the heap, the queue has *lanes*: FIFO queues for events that are always
/// scheduled the same delay ahead (a policy's timeout, say). Such events arrive in time
/// order, so a lane keeps them sorted for free, and the main heap stays small: a run
/// with a 1 s timeout at 10,000 calls per second would otherwise carry 10,000 pending
/// timeouts in the heap and pay for them on every pop. Each non-empty lane's front sits
/// in a second, small heap of fronts (one entry per lane), so choosing the next event
/// costs one comparison of the two heaps' tops however many lanes there are, and taking
/// a lane's event costs O(log lanes). Lanes change nothing in the order: every pop takes
/// the smallest `(time, seq)`.
///
/// Events that can no longer do anything (the timeout of an attempt that was answered)
/// can be dropped with [`Scheduler::compact`], so that memory follows live work.
pub struct Scheduler<E> {
    heap: BinaryHeap<HeapEntry<E>>,
    lanes: Vec<VecDeque<Entry<E>>>,
    /// One entry per non-empty lane: its front's key.
    fronts: BinaryHeap<Front>,
    now: Nanos,
    seq: u64,
    processed: u64,
    /// Events pending in the heap and the lanes.
    pending: usize,
}

impl<E: Copy> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> Scheduler<E> {
    pub fn new() -> Self {
        Scheduler {
            heap: BinaryHeap::with_capacity(1024),
            lanes: Vec::new(),
            fronts: BinaryHeap::new(),
            now: 0,
            seq: 0,
            processed: 0,
            pending: 0,
        }
    }

    /// Adds a lane for events scheduled a fixed delay ahead; returns its index.
    pub fn add_lane(&mut self) -> u32 {
        self.lanes.push(VecDeque::new());
        (self.lanes.len() - 1) as u32
    }

    #[inline]
    fn next_key(&mut self, time: Nanos) -> Key {
        self.seq += 1;
        self.pending += 1;
        Key { time, seq: self.seq }
    }

    /// Schedules `ev` after `delay` in `lane`. The caller promises that every event of
    /// the lane is scheduled with the same delay, so the lane stays sorted; if it would
    /// not (a bug), the event goes to the heap instead and order is still exact.
    #[inline]
    pub fn after_in_lane(&mut self, lane: u32, delay: Nanos, ev: E) {
        let time = self.now.saturating_add(delay);
        let key = self.next_key(time);
        let q = &mut self.lanes[lane as usize];
        match q.back() {
            None => {
                q.push_back(Entry { key, ev });
                self.fronts.push(Front { key, lane });
            }
            Some(b) if b.key <= key => q.push_back(Entry { key, ev }),
            Some(_) => self.heap.push(HeapEntry { key, ev }),
        }
    }

    #[inline]
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// Events taken off the queue so far.
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// Events scheduled and not yet taken.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Schedules `ev` at absolute time `at` (clamped to now: the past cannot be changed).
    #[inline]
    pub fn at(&mut self, at: Nanos, ev: E) {
        let time = at.max(self.now);
        let key = self.next_key(time);
        self.heap.push(HeapEntry { key, ev });
    }

    /// Schedules `ev` after `delay`.
    #[inline]
    pub fn after(&mut self, delay: Nanos, ev: E) {
        self.at(self.now.saturating_add(delay), ev)
    }

    /// Whether the next event is a lane's front rather than the heap's top.
    #[inline(always)]
    fn next_is_lane(&self) -> Option<bool> {
        match (self.heap.peek(), self.fronts.peek()) {
            (None, None) => None,
            (Some(_), None) => Some(false),
            (None, Some(_)) => Some(true),
            (Some(h), Some(f)) => Some(f.key < h.key),
        }
    }

    /// The time of the next event, if any.
    #[inline(always)]
    pub fn peek_time(&self) -> Option<Nanos> {
        match self.next_is_lane()? {
            true => self.fronts.peek().map(|f| f.key.time),
            false => self.heap.peek().map(|e| e.key.time),
        }
    }

    /// Takes the next event and advances the clock to it.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        let (key, ev) = if self.next_is_lane()? {
            let f = self.fronts.pop().expect("checked above");
            let q = &mut self.lanes[f.lane as usize];
            let e = q.pop_front().expect("a lane in the fronts heap has a front");
            if let Some(next) = q.front() {
                self.fronts.push(Front { key: next.key, lane: f.lane });
            }
            (e.key, e.ev)
        } else {
            let e = self.heap.pop().expect("checked above");
            (e.key, e.ev)
        };
        debug_assert!(key.time >= self.now, "time went backwards");
        self.now = key.time;
        self.processed += 1;
        self.pending -= 1;
        Some((key.time, ev))
    }

    /// Drops every pending event for which `keep` is false. The caller promises that
    /// such an event would do nothing when taken (a timeout of finished work), so the
    /// order of the others, and the run, are unchanged; only `processed` counts fewer.
    pub fn compact(&mut self, mut keep: impl FnMut(&E) -> bool) {
        let before = self.pending;
        let mut dropped = 0;
        self.fronts.clear();
        for (i, q) in self.lanes.iter_mut().enumerate() {
            let n = q.len();
            q.retain(|e| keep(&e.ev));
            dropped += n - q.len();
            q.shrink_to(q.len().max(16) * 2);
            if let Some(f) = q.front() {
                self.fronts.push(Front { key: f.key, lane: i as u32 });
            }
        }
        let mut v = std::mem::take(&mut self.heap).into_vec();
        let n = v.len();
        v.retain(|e| keep(&e.ev));
        dropped += n - v.len();
        self.heap = BinaryHeap::from(v);
        self.pending = before - dropped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::rng_stream;
    use rand::RngExt;

    #[test]
    fn ties_break_by_insertion_order() {
        let mut s = Scheduler::new();
        s.at(10, 'b');
        s.at(5, 'a');
        s.at(10, 'c');
        s.at(10, 'd');
        let order: Vec<char> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['a', 'b', 'c', 'd']);
    }

    #[test]
    fn lanes_keep_the_exact_order_of_time_and_sequence() {
        let mut s = Scheduler::new();
        let lane = s.add_lane();
        s.after_in_lane(lane, 10, 'c'); // t=10, seq 1
        s.at(10, 'd'); // t=10, seq 2
        s.at(5, 'a');
        s.after_in_lane(lane, 10, 'e'); // t=10, seq 4
        s.at(7, 'b');
        let order: Vec<char> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['a', 'b', 'c', 'd', 'e']);
        assert_eq!(s.pending(), 0);
    }

    /// The queue against a reference (a sorted map of `(time, seq)`), over random
    /// interleavings of heap events, events in many lanes, pops and compactions.
    #[test]
    fn lanes_and_compaction_keep_the_reference_order() {
        use std::collections::BTreeMap;
        let mut rng = rng_stream(7, "test/scheduler");
        for round in 0..50 {
            let mut s: Scheduler<u64> = Scheduler::new();
            let n_lanes = 1 + round % 70;
            let delays: Vec<Nanos> = (0..n_lanes).map(|_| rng.random_range(0..1000)).collect();
            for _ in 0..n_lanes {
                s.add_lane();
            }
            let mut reference: BTreeMap<(Nanos, u64), u64> = BTreeMap::new();
            let mut seq = 0u64;
            let mut id = 0u64;
            for _ in 0..5000 {
                match rng.random_range(0..10) {
                    0..=2 => {
                        let d = rng.random_range(0..500);
                        seq += 1;
                        id += 1;
                        reference.insert((s.now() + d, seq), id);
                        s.after(d, id);
                    }
                    3..=5 => {
                        let l = rng.random_range(0..n_lanes);
                        seq += 1;
                        id += 1;
                        reference.insert((s.now() + delays[l], seq), id);
                        s.after_in_lane(l as u32, delays[l], id);
                    }
                    6..=8 => {
                        let want = reference.pop_first().map(|((t, _), v)| (t, v));
                        assert_eq!(s.pop(), want);
                    }
                    _ => {
                        // Drop the events with odd ids, as a model drops stale timers.
                        s.compact(|v| v % 2 == 0);
                        reference.retain(|_, v| *v % 2 == 0);
                    }
                }
                assert_eq!(s.pending(), reference.len());
                assert_eq!(s.peek_time(), reference.first_key_value().map(|((t, _), _)| *t));
            }
            while let Some(want) = reference.pop_first() {
                assert_eq!(s.pop(), Some((want.0.0, want.1)));
            }
            assert_eq!(s.pop(), None);
        }
    }
}
