//! The engine: one clock and one event queue.
//!
//! The engine knows nothing of services. Time is an integer count of nanoseconds;
//! events are ordered by `(time, sequence number)`, the sequence being the order of
//! scheduling, so ties break by insertion order and never by memory address or hash
//! order (NeXosim keys its scheduler by `(time, counter)`, SimPy by `(time, priority,
//! id)`). Model code gets `now` and `schedule`, never a wall clock.
//! (Random streams live in `rng`, arenas in `arena`.)
//!
//! # The structure, and why (issue 10)
//!
//! Fixed-delay timers go to FIFO *lanes* (sorted for free; their fronts in a small heap
//! of their own). Events scheduled at `now` (zero delay: refusals, admissions, answers
//! without a network hop) go to a FIFO of their own, `at_now`: each has the largest key
//! at `now` so far, so the FIFO is sorted, and a pop compares its front with the two
//! other tops instead of sifting it up and down the heap (callgrind against the
//! adaptive queue alone: saga -9.4%, topic -3.7%; mmc +0.7%, chain +1.9%,
//! chain-policies +1.7%, where such events are rare and the check is paid on every
//! pop). Every other event goes to the *main queue*, which is adaptive:
//!
//! - a binary heap (`MinHeap`) while it holds at most [`RADIX_ABOVE`] (4096) events. The model's
//!   pending sets in `benches/engine.rs` never pass 256 events in the main queue, and
//!   there the binary heap costs fewer instructions: an always-radix build ran the M/M/4,
//!   chain and chain-with-policies benchmarks in 5.7%, 7.7% and 6.8% more instructions
//!   (callgrind), for 1.0% and 4.0% fewer on topic and saga; no size threshold separates
//!   those, so the heap stays the small-set structure. Hold benchmark at N = 100: 297
//!   instructions per hold operation against 335 for the radix heap.
//! - a radix heap (`Radix`) above that, back to the binary heap below
//!   [`BINARY_BELOW`] (1024; the gap keeps a set that hovers around a threshold from
//!   converting back and forth). A binary heap's pop walks `log2 N` levels of a
//!   `32 N`-byte array, a cache miss per level once the set outgrows the caches; the
//!   radix heap touches a handful of buckets whatever N. `benches/hold.rs` (criterion,
//!   ns per hold operation, binary heap against adaptive; two cores shared with other
//!   builds, so the absolute figures are noisy): N = 10^2: 43 against 45 (binary in
//!   both); N = 10^4: 88 against 46; N = 10^6: 1,446 against 61. With a quarter of the
//!   events in lanes: 44 / 38, 65 / 44, 656 / 53. In instructions the radix heap is
//!   not cheaper below a million (470 against 431 per operation at 10^4, 486 against
//!   562 at 10^6): its gain is memory traffic.
//!
//! The radix heap needs monotone keys, which a simulation has (nothing is scheduled
//! before `now`). Which structure holds the events changes nothing in the order: both
//! give the smallest `(time, seq)` (tested against a sorted map, across conversions).
//! The key is two `u64` compared as one `u128` (15% fewer instructions per hold
//! operation in the binary heap than comparing the pair field by field: 437 against
//! 517 at N = 10^4), without the `u128` field's 16-byte alignment.

use crate::time::Nanos;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::marker::PhantomData;

/// A key: `(time, seq)` in two `u64` halves (8-byte alignment keeps an entry at 32 bytes
/// for the model's events, where a `u128` field would pad it to 48), compared as one
/// `u128` (one wide compare instead of two branches).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Key {
    time: Nanos,
    seq: u64,
}

impl Key {
    #[inline(always)]
    fn packed(self) -> u128 {
        ((self.time as u128) << 64) | self.seq as u128
    }
}

impl PartialOrd for Key {
    #[inline(always)]
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    #[inline(always)]
    fn cmp(&self, o: &Self) -> Ordering {
        self.packed().cmp(&o.packed())
    }
}

/// An event as the queue keeps it: two words, which the model's event type packs its
/// variant and fields into ([`Event`]).
///
/// Why not the event itself: an enum is built a field at a time in memory (a tag byte,
/// a `u32`, ...), then copied into the queue in one 16-byte load, which the store
/// buffer cannot forward from several smaller stores: the load waits until they are
/// written to the cache, some ten cycles, on every event scheduled. Returned beside its
/// time in an `Option`, the event was copied again in two overlapping halves, with the
/// same stall. `perf` (cpu-clock) put those copies at 9% of an M/M/c run's samples in
/// the main loop and 11% and 34% of those of the handlers that schedule the two events
/// of a request. Packed, an event is two integers computed in registers, and stays
/// there until it is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Words(pub u64, pub u64);

/// An event type the scheduler can hold: packed into [`Words`] when scheduled, unpacked
/// when taken. `unpack(pack(e))` must be `e`.
pub trait Event: Copy {
    fn pack(self) -> Words;
    fn unpack(w: Words) -> Self;
}

impl Event for u64 {
    #[inline(always)]
    fn pack(self) -> Words {
        Words(self, 0)
    }
    #[inline(always)]
    fn unpack(w: Words) -> Self {
        w.0
    }
}

impl Event for (u64, u64) {
    #[inline(always)]
    fn pack(self) -> Words {
        Words(self.0, self.1)
    }
    #[inline(always)]
    fn unpack(w: Words) -> Self {
        (w.0, w.1)
    }
}

impl Event for char {
    #[inline(always)]
    fn pack(self) -> Words {
        Words(u64::from(u32::from(self)), 0)
    }
    #[inline(always)]
    fn unpack(w: Words) -> Self {
        char::from_u32(w.0 as u32).expect("a packed char")
    }
}

/// A scheduled event.
#[derive(Clone, Copy)]
struct Entry {
    key: Key,
    ev: Words,
}

/// An event in the binary heap.
#[derive(Clone, Copy)]
struct HeapEntry {
    key: Key,
    ev: Words,
}

/// A FIFO of entries: a vector read from `head` on.
///
/// `VecDeque::push_back` is out of line and takes the entry by reference, so the
/// caller built it on the stack a field at a time and the push read it back in 16-byte
/// loads the store buffer cannot forward (`perf`: 2.8% of the 3-stage chain's samples,
/// where every answer without a network hop goes through `at_now`). `Vec::push` stores
/// it from registers. The vector is emptied when the FIFO is, and its read part is
/// dropped once it is half the vector, so memory follows the entries held.
#[derive(Default)]
struct Fifo {
    v: Vec<Entry>,
    head: usize,
}

impl Fifo {
    #[inline(always)]
    fn push_back(&mut self, e: Entry) {
        self.v.push(e);
    }

    #[inline(always)]
    fn front(&self) -> Option<&Entry> {
        self.v.get(self.head)
    }

    #[inline(always)]
    fn back(&self) -> Option<&Entry> {
        if self.head < self.v.len() { self.v.last() } else { None }
    }

    #[inline(always)]
    fn pop_front(&mut self) -> Option<Entry> {
        let e = *self.v.get(self.head)?;
        self.head += 1;
        if self.head == self.v.len() {
            self.v.clear();
            self.head = 0;
        } else if self.head >= 1024 && self.head * 2 >= self.v.len() {
            self.drop_read();
        }
        Some(e)
    }

    #[cold]
    #[inline(never)]
    fn drop_read(&mut self) {
        self.v.drain(..self.head);
        self.head = 0;
    }

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.head == self.v.len()
    }

    fn len(&self) -> usize {
        self.v.len() - self.head
    }

    fn retain(&mut self, keep: impl FnMut(&Entry) -> bool) {
        self.drop_read();
        self.v.retain(keep);
    }

    fn shrink_to(&mut self, n: usize) {
        self.v.shrink_to(n);
    }
}

/// A binary min-heap of entries by key.
///
/// `std`'s `BinaryHeap` sifts an element by reading it back from its slot: after the
/// slot was written a word at a time, that 16-byte read cannot be forwarded from the
/// store buffer and waits for the stores (`perf`: 2.7% of an M/M/c run's samples on
/// the one load, after the top was replaced). Here the element being placed stays in
/// registers until its slot is found; only entries written long before are read.
#[derive(Default)]
struct MinHeap {
    v: Vec<HeapEntry>,
}

impl MinHeap {
    fn with_capacity(n: usize) -> Self {
        MinHeap { v: Vec::with_capacity(n) }
    }

    /// A heap of these entries (Floyd's bottom-up construction).
    fn from_vec(v: Vec<HeapEntry>) -> Self {
        let mut h = MinHeap { v };
        for i in (0..h.v.len() / 2).rev() {
            let e = h.v[i];
            h.sift_down(i, e);
        }
        h
    }

    fn into_vec(self) -> Vec<HeapEntry> {
        self.v
    }

    #[inline(always)]
    fn len(&self) -> usize {
        self.v.len()
    }

    #[inline(always)]
    fn peek(&self) -> Option<&HeapEntry> {
        self.v.first()
    }

    #[inline(always)]
    fn push(&mut self, e: HeapEntry) {
        let mut pos = self.v.len();
        self.v.push(e);
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if e.key < self.v[parent].key {
                self.v[pos] = self.v[parent];
                pos = parent;
            } else {
                break;
            }
        }
        self.v[pos] = e;
    }

    fn pop(&mut self) -> Option<HeapEntry> {
        let last = self.v.pop()?;
        match self.v.first() {
            None => Some(last),
            Some(&top) => {
                self.sift_down(0, last);
                Some(top)
            }
        }
    }

    /// Replaces the smallest entry with `e` (the heap is not empty).
    #[inline(always)]
    fn replace_top(&mut self, e: HeapEntry) {
        self.sift_down(0, e);
    }

    /// Places `e` at `pos` or below, moving smaller children up.
    #[inline(always)]
    fn sift_down(&mut self, mut pos: usize, e: HeapEntry) {
        let n = self.v.len();
        loop {
            let mut child = 2 * pos + 1;
            if child >= n {
                break;
            }
            if child + 1 < n && self.v[child + 1].key < self.v[child].key {
                child += 1;
            }
            if self.v[child].key < e.key {
                self.v[pos] = self.v[child];
                pos = child;
            } else {
                break;
            }
        }
        self.v[pos] = e;
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

/// A radix heap on the time (Ahuja, Mehlhorn, Orlin and Tarjan, 1990), ties by `seq`.
///
/// It needs monotone keys, which a simulation has: nothing is scheduled before `now`,
/// and `last` (the time every entry is compared with) never exceeds `now`. Bucket 0
/// (`zero`) holds the entries at exactly `last`, sorted by `seq`; bucket `b` (1..=64,
/// stored at `b - 1`) holds those whose time first differs from `last` at bit `b - 1`.
/// When `zero` runs dry, the lowest non-empty bucket is emptied: `last` becomes its
/// minimum (kept per bucket, so it is known without a scan) and its entries fall into
/// lower buckets. An entry only ever moves down, so it moves at most 64 times, and
/// in practice a few: a push and a pop cost O(1) amortised, whatever the pending set.
struct Radix {
    /// Entries held.
    len: usize,
    last: Nanos,
    /// Entries at time `last`, in `seq` order (new ones have the largest `seq`).
    zero: VecDeque<Entry>,
    buckets: [Vec<Entry>; 64],
    /// The smallest time in each bucket (`Nanos::MAX` when empty).
    mins: [Nanos; 64],
    /// Bit `b` set when `buckets[b]` is not empty.
    nonempty: u64,
}

impl Radix {
    fn new(last: Nanos) -> Self {
        Radix {
            len: 0,
            last,
            zero: VecDeque::new(),
            buckets: std::array::from_fn(|_| Vec::new()),
            mins: [Nanos::MAX; 64],
            nonempty: 0,
        }
    }

    #[inline(always)]
    fn push(&mut self, e: Entry) {
        self.len += 1;
        self.place(e);
    }

    /// Puts `e` in its bucket.
    #[inline(always)]
    fn place(&mut self, e: Entry) {
        debug_assert!(e.key.time >= self.last, "a radix heap takes no key below its last");
        let x = e.key.time ^ self.last;
        if x == 0 {
            self.zero.push_back(e);
        } else {
            let b = 63 - x.leading_zeros() as usize;
            self.buckets[b].push(e);
            self.mins[b] = self.mins[b].min(e.key.time);
            self.nonempty |= 1 << b;
        }
    }

    /// The smallest time pending.
    #[inline(always)]
    fn min_time(&self) -> Option<Nanos> {
        if !self.zero.is_empty() {
            Some(self.last)
        } else if self.nonempty != 0 {
            Some(self.mins[self.nonempty.trailing_zeros() as usize])
        } else {
            None
        }
    }

    /// Moves the lowest bucket down, so that `zero` holds the smallest time. Only
    /// called when the smallest time is about to become `now`.
    #[inline(never)]
    fn refill(&mut self) {
        debug_assert!(self.zero.is_empty() && self.nonempty != 0);
        let b = self.nonempty.trailing_zeros() as usize;
        self.last = self.mins[b];
        self.mins[b] = Nanos::MAX;
        self.nonempty &= !(1 << b);
        let mut v = std::mem::take(&mut self.buckets[b]);
        for e in v.drain(..) {
            self.place(e);
        }
        self.buckets[b] = v;
        if self.zero.len() > 1 {
            self.zero.make_contiguous().sort_unstable_by_key(|e| e.key.seq);
        }
    }

    /// The smallest key (refilling `zero` if needed).
    #[inline(always)]
    fn peek_key(&mut self) -> Option<Key> {
        if self.zero.is_empty() {
            if self.nonempty == 0 {
                return None;
            }
            self.refill();
        }
        self.zero.front().map(|e| e.key)
    }

    #[inline(always)]
    fn pop(&mut self) -> Option<Entry> {
        if self.zero.is_empty() {
            if self.nonempty == 0 {
                return None;
            }
            self.refill();
        }
        self.len -= 1;
        self.zero.pop_front()
    }

    /// Shows `ahead` the events that will most likely be taken next, once a refill has
    /// put the smallest in `zero`: the rest of `zero`, and the lowest bucket if it holds
    /// at most [`AHEAD`] entries (a larger one is refilled, and looked at, again before
    /// its entries come up). Called after a pop that refilled, so each entry is shown
    /// about once, an event or so before it is taken.
    #[inline(always)]
    fn look_ahead<E: Event>(&self, ahead: &impl Fn(&E)) {
        for e in self.zero.iter().take(AHEAD) {
            ahead(&E::unpack(e.ev));
        }
        if self.nonempty != 0 {
            let v = &self.buckets[self.nonempty.trailing_zeros() as usize];
            if v.len() <= AHEAD {
                for e in v {
                    ahead(&E::unpack(e.ev));
                }
            }
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&Words) -> bool) -> usize {
        let mut dropped = 0;
        let n = self.zero.len();
        self.zero.retain(|e| keep(&e.ev));
        dropped += n - self.zero.len();
        self.nonempty = 0;
        for (b, v) in self.buckets.iter_mut().enumerate() {
            let n = v.len();
            v.retain(|e| keep(&e.ev));
            dropped += n - v.len();
            v.shrink_to(v.len().max(16) * 2);
            self.mins[b] = v.iter().map(|e| e.key.time).min().unwrap_or(Nanos::MAX);
            if !v.is_empty() {
                self.nonempty |= 1 << b;
            }
        }
        self.len -= dropped;
        dropped
    }

    fn drain_into(&mut self, out: &mut Vec<HeapEntry>) {
        out.extend(self.zero.drain(..).map(|e| HeapEntry { key: e.key, ev: e.ev }));
        for v in &mut self.buckets {
            out.extend(v.drain(..).map(|e| HeapEntry { key: e.key, ev: e.ev }));
        }
        self.mins = [Nanos::MAX; 64];
        self.nonempty = 0;
        self.len = 0;
    }
}

/// Which structure holds the events that are not in a lane.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum QueueKind {
    /// A binary heap below [`RADIX_ABOVE`] pending events, a radix heap above, back to
    /// the binary heap below [`BINARY_BELOW`] (the default).
    Adaptive,
    /// Always the binary heap (the structure before issue 10; for benchmarks and tests).
    Binary,
    /// Always the radix heap (for benchmarks and tests).
    Radix,
}

/// Pending events in the main queue above which the adaptive queue moves to the radix
/// heap.
pub const RADIX_ABOVE: usize = 4096;
/// Pending events below which the adaptive queue moves back to the binary heap.
pub const BINARY_BELOW: usize = 1024;
/// The most entries of a bucket the radix heap shows its caller ahead of time
/// (`Radix::look_ahead`).
const AHEAD: usize = 32;

enum Main {
    Binary(MinHeap),
    Radix(Box<Radix>),
}

/// The event queue and the clock.
///
/// Besides the main queue, there are *lanes*: FIFO queues for events that are always
/// scheduled the same delay ahead (a policy's timeout, say). Such events arrive in time
/// order, so a lane keeps them sorted for free, and the main queue stays small: a run
/// with a 1 s timeout at 10,000 calls per second would otherwise carry 10,000 pending
/// timeouts in the heap and pay for them on every pop. Each non-empty lane's front sits
/// in a second, small heap of fronts (one entry per lane), so choosing the next event
/// costs one comparison of the two tops however many lanes there are, and taking
/// a lane's event costs O(log lanes). Lanes change nothing in the order: every pop takes
/// the smallest `(time, seq)`.
///
/// Events that can no longer do anything (the timeout of an attempt that was answered)
/// can be dropped with [`Scheduler::compact`], so that memory follows live work.
pub struct Scheduler<E> {
    main: Main,
    /// The sizes of the main queue at which it changes structure (`usize::MAX` and 0
    /// when its kind is fixed).
    radix_above: usize,
    binary_below: usize,
    lanes: Vec<Fifo>,
    /// One entry per non-empty lane: its front's key.
    fronts: BinaryHeap<Front>,
    now: Nanos,
    seq: u64,
    processed: u64,
    /// Events scheduled at `now` (a zero delay), in `seq` order. Each has the largest key
    /// so far at `now`, so a FIFO keeps them sorted; and the clock cannot move past `now`
    /// while one is pending, so they are all at `now`.
    at_now: Fifo,
    /// Events pending in the main queue and the lanes.
    pending: usize,
    /// The binary heap's top was taken (by `take`) but is still in the heap: the next
    /// `push_main` writes over it and sifts down once, where a pop and a push would
    /// each sift (a handler usually schedules one event after it is taken). Any other
    /// look at the main queue first removes it (`settle`).
    hole: bool,
    kind: PhantomData<fn(E) -> E>,
}

impl<E: Event> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Event> Scheduler<E> {
    pub fn new() -> Self {
        Self::with_queue(QueueKind::Adaptive)
    }

    /// A scheduler whose main queue is of the given kind (the order of events is the
    /// same whatever the kind; only the speed differs).
    pub fn with_queue(kind: QueueKind) -> Self {
        let main = match kind {
            QueueKind::Radix => Main::Radix(Box::new(Radix::new(0))),
            _ => Main::Binary(MinHeap::with_capacity(1024)),
        };
        let (radix_above, binary_below) =
            if kind == QueueKind::Adaptive { (RADIX_ABOVE, BINARY_BELOW) } else { (usize::MAX, 0) };
        Scheduler {
            main,
            radix_above,
            binary_below,
            lanes: Vec::new(),
            fronts: BinaryHeap::new(),
            now: 0,
            seq: 0,
            processed: 0,
            at_now: Fifo::default(),
            pending: 0,
            hole: false,
            kind: PhantomData,
        }
    }

    /// Adds a lane for events scheduled a fixed delay ahead; returns its index.
    pub fn add_lane(&mut self) -> u32 {
        self.lanes.push(Fifo::default());
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
    /// not (a bug), the event goes to the main queue instead and order is still exact.
    #[inline]
    pub fn after_in_lane(&mut self, lane: u32, delay: Nanos, ev: E) {
        let ev = ev.pack();
        let time = self.now.saturating_add(delay);
        let key = self.next_key(time);
        let q = &mut self.lanes[lane as usize];
        match q.back() {
            None => {
                q.push_back(Entry { key, ev });
                self.fronts.push(Front { key, lane });
            }
            Some(b) if b.key <= key => q.push_back(Entry { key, ev }),
            Some(_) => self.push_main(key, ev),
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
    #[inline(always)]
    pub fn at(&mut self, at: Nanos, ev: E) {
        let ev = ev.pack();
        if at <= self.now {
            let key = self.next_key(self.now);
            self.push_now(key, ev);
        } else {
            let key = self.next_key(at);
            self.push_main(key, ev);
        }
    }

    /// Schedules `ev` after `delay`.
    #[inline(always)]
    pub fn after(&mut self, delay: Nanos, ev: E) {
        self.at(self.now.saturating_add(delay), ev)
    }

    #[inline(always)]
    fn push_now(&mut self, key: Key, ev: Words) {
        self.at_now.push_back(Entry { key, ev });
    }

    #[inline(always)]
    fn push_main(&mut self, key: Key, ev: Words) {
        match &mut self.main {
            Main::Binary(h) => {
                if self.hole {
                    self.hole = false;
                    h.replace_top(HeapEntry { key, ev });
                } else {
                    h.push(HeapEntry { key, ev });
                    if h.len() > self.radix_above {
                        self.switch_to_radix();
                    }
                }
            }
            Main::Radix(r) => r.push(Entry { key, ev }),
        }
    }

    /// Removes the binary heap's taken top, if `take` left it there.
    #[inline(always)]
    fn settle(&mut self) {
        if self.hole {
            self.hole = false;
            if let Main::Binary(h) = &mut self.main {
                h.pop();
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn switch_to_radix(&mut self) {
        self.settle();
        let mut r = Box::new(Radix::new(self.now));
        if let Main::Binary(h) = &mut self.main {
            for e in std::mem::take(h).into_vec() {
                r.push(Entry { key: e.key, ev: e.ev });
            }
        }
        // The heap's order is not `seq` order among the events at `now`.
        r.zero.make_contiguous().sort_unstable_by_key(|e| e.key.seq);
        self.main = Main::Radix(r);
    }

    #[cold]
    #[inline(never)]
    fn switch_to_binary(&mut self) {
        if let Main::Radix(r) = &mut self.main {
            let mut v = Vec::with_capacity(r.len.max(1024));
            r.drain_into(&mut v);
            self.main = Main::Binary(MinHeap::from_vec(v));
        }
    }

    /// The smallest time in the main queue.
    #[inline(always)]
    fn main_min_time(&self) -> Option<Nanos> {
        match &self.main {
            Main::Binary(h) => h.peek().map(|e| e.key.time),
            Main::Radix(r) => r.min_time(),
        }
    }

    /// Whether the next event is a lane's front rather than the main queue's.
    #[inline(always)]
    fn next_is_lane(&mut self) -> Option<bool> {
        let f = self.fronts.peek().map(|f| f.key);
        match &mut self.main {
            Main::Binary(h) => match (h.peek(), f) {
                (None, None) => None,
                (Some(_), None) => Some(false),
                (None, Some(_)) => Some(true),
                (Some(e), Some(fk)) => Some(fk < e.key),
            },
            Main::Radix(r) => {
                let Some(fk) = f else { return if r.len == 0 { None } else { Some(false) } };
                let Some(m) = r.min_time() else { return Some(true) };
                Some(match fk.time.cmp(&m) {
                    Ordering::Less => true,
                    Ordering::Greater => false,
                    // A tie in time: the smallest `seq` at that time decides. This refills
                    // bucket 0 at `m`, which is then the next `now` whichever event wins.
                    Ordering::Equal => r.peek_key().is_some_and(|k| fk < k),
                })
            }
        }
    }

    /// The time of the next event, if any.
    #[inline(always)]
    pub fn peek_time(&mut self) -> Option<Nanos> {
        self.settle();
        if !self.at_now.is_empty() {
            return Some(self.now);
        }
        match (self.main_min_time(), self.fronts.peek()) {
            (None, None) => None,
            (Some(m), None) => Some(m),
            (None, Some(f)) => Some(f.key.time),
            (Some(m), Some(f)) => Some(m.min(f.key.time)),
        }
    }

    /// Takes the next event and advances the clock to it.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        self.take(0, false, &|_| {}).map(|(t, w)| (t, E::unpack(w)))
    }

    /// Takes the next event if it is due before `end` (and advances the clock to it);
    /// `None`, leaving the clock and the queue as they are, if none is. One look at the
    /// queue where `peek_time` then `pop` looked twice (the simulation's main loop).
    #[inline(always)]
    pub fn pop_before(&mut self, end: Nanos) -> Option<(Nanos, E)> {
        self.take(end, true, &|_| {}).map(|(t, w)| (t, E::unpack(w)))
    }

    /// `pop_before`, showing `ahead` the events likely to be taken soon (a few at a
    /// time, each about once), so that the caller can start fetching the records they
    /// name while it handles this one. Only a large pending set (the radix heap) looks
    /// ahead: a small one's records are in the cache already. The order of events is
    /// the same as `pop_before`'s.
    ///
    /// The event is returned in its [`Words`] (`E::unpack` reads it): the caller's
    /// dispatch on the event's kind can then be the unpacking's own, one indirect jump
    /// per event where an unpacked event made two (the first mispredicted as often as
    /// the kinds of events interleave at random: 3% of an M/M/c run's samples).
    #[inline(always)]
    pub fn pop_before_ahead(&mut self, end: Nanos, ahead: &impl Fn(&E)) -> Option<(Nanos, Words)> {
        self.take(end, true, ahead)
    }

    /// `pop` (`bounded` false) or `pop_before(end)`.
    #[inline(always)]
    fn take(&mut self, end: Nanos, bounded: bool, ahead: &impl Fn(&E)) -> Option<(Nanos, Words)> {
        self.settle();
        if let Some(&e) = self.at_now.front() {
            // Another event at `now` with a smaller `seq`, in the main queue or a lane?
            let main_first = match &mut self.main {
                Main::Binary(h) => h.peek().is_some_and(|m| m.key < e.key),
                Main::Radix(r) => r.min_time() == Some(self.now) && r.peek_key().is_some_and(|k| k < e.key),
            };
            if !main_first && self.fronts.peek().is_none_or(|f| f.key > e.key) {
                if bounded && e.key.time >= end {
                    return None;
                }
                self.at_now.pop_front();
                self.processed += 1;
                self.pending -= 1;
                return Some((e.key.time, e.ev));
            }
        }
        if bounded
            && let Main::Radix(r) = &self.main
            && r.min_time().unwrap_or(Nanos::MAX).min(self.fronts.peek().map_or(Nanos::MAX, |f| f.key.time))
                >= end
        {
            // Before `next_is_lane`, whose tie-break may refill the radix heap at the next
            // time: past `end`, that would be a `last` beyond the clock, which stays put.
            return None;
        }
        let (key, ev) = if self.next_is_lane()? {
            if bounded && self.fronts.peek().is_some_and(|f| f.key.time >= end) {
                return None;
            }
            let f = self.fronts.pop().expect("checked above");
            let q = &mut self.lanes[f.lane as usize];
            let e = q.pop_front().expect("a lane in the fronts heap has a front");
            if let Some(next) = q.front() {
                self.fronts.push(Front { key: next.key, lane: f.lane });
            }
            (e.key, e.ev)
        } else {
            match &mut self.main {
                Main::Binary(h) => {
                    let e = h.peek().expect("checked above");
                    if bounded && e.key.time >= end {
                        return None;
                    }
                    // Left in place: the next push writes over it (see `hole`).
                    self.hole = true;
                    (e.key, e.ev)
                }
                Main::Radix(r) => {
                    if bounded && r.min_time().is_some_and(|m| m >= end) {
                        return None;
                    }
                    let refills = r.zero.is_empty();
                    let e = r.pop().expect("checked above");
                    if refills {
                        r.look_ahead(ahead);
                    }
                    if r.len < self.binary_below {
                        self.switch_to_binary();
                    }
                    (e.key, e.ev)
                }
            }
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
        let mut keep = |w: &Words| keep(&E::unpack(*w));
        self.settle();
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
        let n = self.at_now.len();
        self.at_now.retain(|e| keep(&e.ev));
        dropped += n - self.at_now.len();
        let main_dropped = match &mut self.main {
            Main::Binary(h) => {
                let mut v = std::mem::take(h).into_vec();
                let n = v.len();
                v.retain(|e| keep(&e.ev));
                *h = MinHeap::from_vec(v);
                n - h.len()
            }
            Main::Radix(r) => r.retain(keep),
        };
        dropped += main_dropped;
        self.pending = before - dropped;
        if matches!(&self.main, Main::Radix(r) if r.len < self.binary_below) {
            self.switch_to_binary();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::rng_stream;
    use rand::RngExt;

    /// The FIFO keeps its order through its compactions (the read part dropped at 1,024
    /// and at half the vector), its emptying and `retain`.
    #[test]
    fn a_fifo_keeps_its_order_through_its_compactions() {
        let e = |i: u64| Entry { key: Key { time: i, seq: i }, ev: Words(i, !i) };
        let (mut f, mut reference) = (Fifo::default(), std::collections::VecDeque::new());
        let mut next = 0u64;
        for round in 0..40u64 {
            for _ in 0..(round * 97) % 3000 {
                f.push_back(e(next));
                reference.push_back(next);
                next += 1;
            }
            for _ in 0..(round * 61) % 2500 {
                assert_eq!(f.pop_front().map(|x| x.key.seq), reference.pop_front());
            }
            if round % 9 == 8 {
                f.retain(|x| x.key.seq % 3 != 0);
                reference.retain(|x| x % 3 != 0);
            }
            assert_eq!(f.len(), reference.len());
            assert_eq!(f.front().map(|x| x.key.seq), reference.front().copied());
            assert_eq!(f.back().map(|x| x.key.seq), reference.back().copied());
            assert!(f.v.len() <= 2 * reference.len().max(1024), "{} kept for {}", f.v.len(), reference.len());
        }
        while let Some(x) = reference.pop_front() {
            let got = f.pop_front().expect("as many as the reference");
            assert_eq!((got.key.seq, got.ev), (x, Words(x, !x)));
        }
        assert!(f.is_empty() && f.pop_front().is_none() && f.back().is_none());
    }

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
    /// interleavings of heap events, events in many lanes, pops and compactions, for
    /// every kind of main queue.
    #[test]
    fn lanes_and_compaction_keep_the_reference_order() {
        for kind in [QueueKind::Adaptive, QueueKind::Binary, QueueKind::Radix] {
            let mut rng = rng_stream(7, "test/scheduler");
            for round in 0..50 {
                let n_lanes = 1 + round % 70;
                // Small delays (many ties in time) and nanosecond-wide ones.
                let span = if round % 2 == 0 { 500 } else { 1 << 40 };
                let _ = reference_run(kind, &mut rng, n_lanes, span, 5000, [3, 3, 3, 1]);
            }
        }
    }

    /// The same with large pending sets, so that the adaptive queue moves to the radix
    /// heap and back (compactions drop it below the threshold).
    #[test]
    fn large_pending_sets_keep_the_reference_order() {
        for kind in [QueueKind::Adaptive, QueueKind::Radix] {
            let mut rng = rng_stream(8, "test/scheduler-large");
            let mut shown = 0;
            for round in 0..6 {
                let span = [200, 1 << 20, 1 << 50][round % 3];
                // Mostly pushes, then mostly pops: the set grows past `RADIX_ABOVE`,
                // then drains below `BINARY_BELOW`.
                shown += reference_run(kind, &mut rng, 1 + round, span, 30_000, [5, 3, 2, 0]);
                shown += reference_run(kind, &mut rng, 3, span, 30_000, [4, 2, 3, 1]);
            }
            // The radix heap looks ahead (the binary heap, small, has no need to).
            assert!(shown > 1000, "{kind:?} showed {shown} events ahead");
        }
    }

    /// One random run against the reference; `weights` are those of heap pushes, lane
    /// pushes, pops and compactions.
    fn reference_run(
        kind: QueueKind,
        rng: &mut crate::rng::Rng,
        n_lanes: usize,
        span: u64,
        steps: usize,
        weights: [u32; 4],
    ) -> usize {
        use std::collections::BTreeMap;
        let mut shown_total = 0;
        let mut s: Scheduler<u64> = Scheduler::with_queue(kind);
        let delays: Vec<Nanos> = (0..n_lanes).map(|_| rng.random_range(0..span * 2)).collect();
        for _ in 0..n_lanes {
            s.add_lane();
        }
        let mut reference: BTreeMap<(Nanos, u64), u64> = BTreeMap::new();
        let mut seq = 0u64;
        let mut id = 0u64;
        let total: u32 = weights.iter().sum();
        for step in 0..steps {
            let mut w = rng.random_range(0..total);
            let mut op = 0;
            while w >= weights[op] {
                w -= weights[op];
                op += 1;
            }
            // Pops only in the second half of a run that grows in the first.
            if weights[3] == 0 && step > steps / 2 {
                op = 2;
            }
            match op {
                0 => {
                    let d = if rng.random_range(0..8) == 0 { 0 } else { rng.random_range(0..span) };
                    seq += 1;
                    id += 1;
                    reference.insert((s.now() + d, seq), id);
                    if rng.random_range(0..2) == 0 {
                        s.after(d, id);
                    } else {
                        s.at(s.now() + d, id);
                    }
                }
                1 => {
                    let l = rng.random_range(0..n_lanes);
                    seq += 1;
                    id += 1;
                    reference.insert((s.now() + delays[l], seq), id);
                    s.after_in_lane(l as u32, delays[l], id);
                }
                2 if rng.random_range(0..2) == 0 => {
                    let want = reference.pop_first().map(|((t, _), v)| (t, v));
                    assert_eq!(s.pop(), want, "{kind:?}");
                }
                2 => {
                    // The main loop's way: the first event only if it is due before `end`.
                    let (now, end) = (s.now(), s.now() + rng.random_range(0..span));
                    let want =
                        reference.first_key_value().map(|((t, _), v)| (*t, *v)).filter(|(t, _)| *t < end);
                    if want.is_some() {
                        reference.pop_first();
                    }
                    // Looking ahead changes nothing in the order, and shows only events
                    // still pending, a few at a time.
                    let shown = std::cell::RefCell::new(Vec::new());
                    assert_eq!(
                        s.pop_before_ahead(end, &|v: &u64| shown.borrow_mut().push(*v))
                            .map(|(t, w)| (t, u64::unpack(w))),
                        want,
                        "{kind:?}"
                    );
                    let shown = shown.into_inner();
                    shown_total += shown.len();
                    assert!(shown.len() <= 2 * AHEAD, "{} events shown at once", shown.len());
                    if !shown.is_empty() && rng.random_range(0..16) == 0 {
                        let pending: std::collections::BTreeSet<u64> = reference.values().copied().collect();
                        assert!(
                            shown.iter().all(|v| pending.contains(v)),
                            "an event shown ahead is not pending"
                        );
                    }
                    if want.is_none() {
                        assert_eq!(s.now(), now, "pop_before moved the clock without taking an event");
                    }
                }
                _ => {
                    // Drop the events with odd ids, as a model drops stale timers.
                    s.compact(|v| v % 2 == 0);
                    reference.retain(|_, v| *v % 2 == 0);
                }
            }
            assert_eq!(s.pending(), reference.len());
            // Not after every step: a look at the queue settles a taken top that the next
            // push would otherwise write over (`hole`), and both ways must be exercised.
            if rng.random_range(0..4) == 0 {
                assert_eq!(s.peek_time(), reference.first_key_value().map(|((t, _), _)| *t));
            }
        }
        while let Some(want) = reference.pop_first() {
            assert_eq!(s.pop(), Some((want.0.0, want.1)), "{kind:?}");
        }
        assert_eq!(s.pop(), None);
        shown_total
    }
}
