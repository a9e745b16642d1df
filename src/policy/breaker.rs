//! Circuit breakers: resilience4j's `CircuitBreakerStateMachine` (window style) and the
//! consecutive-failure breaker of pybreaker and Polly's basic circuit breaker.
//!
//! **Window style** (resilience4j 2.x, `automaticTransitionFromOpenToHalfOpenEnabled =
//! false`, its default):
//!
//! - CLOSED records every permitted call's outcome in a sliding window: COUNT_BASED, a
//!   ring buffer of the last N outcomes (resilience4j's `FixedSizeSlidingWindowMetrics`),
//!   or TIME_BASED, the calls of the last N seconds, aggregated in 1-second buckets keyed
//!   by `now / 1 s` (resilience4j's `SlidingTimeWindowMetrics`: the window is the
//!   current second plus the N−1 before it, so a call leaves it between N−1 and N
//!   seconds after it was recorded). A window that is not a whole number of seconds is
//!   rounded up to whole seconds (resilience4j sizes it in seconds); one shorter than a
//!   second is a single bucket of its own length; and, to bound memory, a window longer
//!   than an hour uses 3,600 equal buckets.
//! - After each recorded call the rates are evaluated, once the window holds at least
//!   `minimum_calls` calls (for COUNT_BASED, `min(minimum_calls, N)`, as
//!   resilience4j's `CircuitBreakerMetrics` does): the breaker opens when the failure
//!   rate ≥ `failure_rate_threshold` or the slow-call rate ≥ the slow threshold. A call is
//!   slow when its duration is strictly greater than `slow_call.duration`
//!   (resilience4j: `durationUnit.toNanos(duration) > slowCallDurationThresholdInNanos`);
//!   failed calls can be slow too (`SLOW_ERROR`). Without `slow_call`, slowness is not
//!   judged at all.
//! - OPEN refuses every call (not recorded) until `open_for` has passed since it opened;
//!   the first `try_acquire` strictly after `opened_at + open_for` (resilience4j's
//!   `clock.instant().isAfter(retryAfterWaitDuration)`) moves it to HALF_OPEN and takes
//!   a permit. Until a call arrives the state stays OPEN, and so does the open-time
//!   accounting.
//! - HALF_OPEN hands out `half_open_calls` permits; further calls are refused. Once that
//!   many outcomes are recorded, their rates are judged against the same thresholds:
//!   ≥ → OPEN again (a new `open_for`), otherwise CLOSED with a fresh, empty window
//!   (resilience4j's `CircuitBreakerMetrics.forHalfOpen` is a count window of
//!   `permittedNumberOfCallsInHalfOpenState` with that same minimum).
//!
//! **Consecutive style** (pybreaker's `CircuitBreaker(fail_max, reset_timeout,
//! success_threshold)`): CLOSED counts failures in a row (a success resets the count)
//! and opens at `failures`; OPEN refuses calls until `open_for` has passed, then lets the
//! next calls through in HALF_OPEN with no permit limit; `success_threshold` successes in
//! a row close it, and any failure reopens it. Polly's basic circuit breaker is the same
//! with a `success_threshold` of 1, except that it admits one trial call per break. Both
//! styles leave OPEN by the resilience4j rule above (strictly after `open_for`); pybreaker
//! would already let a call through at exactly `opened_at + open_for`, one nanosecond
//! earlier, which is not worth two rules.
//!
//! **Outcomes that arrive late.** The breaker does not know in which state a call was
//! permitted; like resilience4j, it files an outcome under the state it is in when the
//! outcome arrives. In OPEN the outcome is dropped (resilience4j's `OpenState.onError`
//! records it into metrics that are thrown away at the move to HALF_OPEN, so it never
//! counts). In HALF_OPEN it counts toward the trial, even for a call permitted while
//! CLOSED (resilience4j's `HalfOpenState.onError` records whatever it is given). In
//! CLOSED it enters the window, even for a call permitted during a trial that has
//! already ended. The caller must end every permitted call with exactly one
//! [`CircuitBreaker::on_result`] or [`CircuitBreaker::release`], or a HALF_OPEN trial can
//! wait forever for its outcomes, as resilience4j's does when `releasePermission` is
//! forgotten.

use crate::spec::{Breaker, BreakerWindow, NS_PER_S, Nanos};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    /// The time-series code: 0 closed, 1 half-open, 2 open.
    pub fn code(self) -> u8 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        }
    }
}

/// The transitions a breaker may make: closed→open, open→half-open, half-open→open,
/// half-open→closed.
pub fn is_legal(from: BreakerState, to: BreakerState) -> bool {
    use BreakerState::*;
    matches!((from, to), (Closed, Open) | (Open, HalfOpen) | (HalfOpen, Open) | (HalfOpen, Closed))
}

/// Most buckets of a TIME_BASED window (a window longer than this many seconds gets
/// wider buckets).
const MAX_BUCKETS: u64 = 3600;
/// The transition log keeps between `KEEP_TRANSITIONS` and twice that many of the latest
/// transitions; [`CircuitBreaker::transition_count`] counts all of them.
const KEEP_TRANSITIONS: usize = 64;

const FAILED: u8 = 1;
const SLOW: u8 = 2;

/// Running totals of a set of outcomes.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    calls: u64,
    failures: u64,
    slow: u64,
}

impl Tally {
    fn add(&mut self, o: u8) {
        self.calls += 1;
        self.failures += u64::from(o & FAILED != 0);
        self.slow += u64::from(o & SLOW != 0);
    }
    fn sub(&mut self, o: u8) {
        self.calls -= 1;
        self.failures -= u64::from(o & FAILED != 0);
        self.slow -= u64::from(o & SLOW != 0);
    }
    fn sub_tally(&mut self, t: &Tally) {
        self.calls -= t.calls;
        self.failures -= t.failures;
        self.slow -= t.slow;
    }
}

/// The CLOSED state's sliding window.
#[derive(Clone, Debug)]
enum Window {
    /// The last `size` outcomes. The ring grows as calls arrive, so a huge `size` costs
    /// memory only for calls actually recorded; once full, `next` is the oldest slot.
    Count { size: u32, ring: Vec<u8>, next: usize, total: Tally },
    /// Buckets of `width_ns` each, bucket `i` holding epoch `e` with `e % len == i`;
    /// `head` is the latest epoch seen.
    Time { width_ns: Nanos, buckets: Vec<Tally>, head: u64, total: Tally },
}

/// A time window of `len`: its buckets' width and their number (one per second, wider
/// past `MAX_BUCKETS` seconds).
fn time_buckets(len: Nanos) -> (Nanos, u64) {
    let len = len.max(1);
    let width_ns = if len < NS_PER_S { len } else { NS_PER_S.max(len.div_ceil(MAX_BUCKETS)) };
    (width_ns, len.div_ceil(width_ns).clamp(1, MAX_BUCKETS))
}

impl Window {
    fn new(w: BreakerWindow) -> Window {
        match w {
            BreakerWindow::Count(n) => {
                Window::Count { size: n.max(1), ring: Vec::new(), next: 0, total: Tally::default() }
            }
            BreakerWindow::Time(len) => {
                let (width_ns, n) = time_buckets(len);
                Window::Time {
                    width_ns,
                    buckets: vec![Tally::default(); n as usize],
                    head: 0,
                    total: Tally::default(),
                }
            }
        }
    }

    fn clear(&mut self) {
        match self {
            Window::Count { ring, next, total, .. } => {
                ring.clear();
                *next = 0;
                *total = Tally::default();
            }
            Window::Time { buckets, head, total, .. } => {
                buckets.iter_mut().for_each(|b| *b = Tally::default());
                *head = 0;
                *total = Tally::default();
            }
        }
    }

    /// Records one outcome at `now` and returns the window's totals.
    fn record(&mut self, now: Nanos, o: u8) -> Tally {
        match self {
            Window::Count { size, ring, next, total } => {
                if ring.len() < *size as usize {
                    ring.push(o);
                } else {
                    let old = std::mem::replace(&mut ring[*next], o);
                    total.sub(old);
                    *next = (*next + 1) % ring.len();
                }
                total.add(o);
                *total
            }
            Window::Time { width_ns, buckets, head, total } => {
                let n = buckets.len() as u64;
                let epoch = now / *width_ns;
                if epoch > *head {
                    // Empty the buckets of the epochs between the last one seen and this
                    // one: their slots held the epochs that have just left the window.
                    let steps = (epoch - *head).min(n);
                    for k in 1..=steps {
                        let b = &mut buckets[((*head + k) % n) as usize];
                        total.sub_tally(b);
                        *b = Tally::default();
                    }
                    *head = epoch;
                }
                // Time never goes backwards here; if it did, the call joins the latest
                // bucket rather than one that may already hold another epoch.
                buckets[(*head % n) as usize].add(o);
                total.add(o);
                *total
            }
        }
    }
}

#[derive(Clone, Debug)]
struct WindowStyle {
    window: Window,
    /// Effective minimum: at least 1, and for COUNT_BASED at most the window size.
    minimum_calls: u64,
    failure_rate_threshold: f64,
    slow_call: Option<(Nanos, f64)>,
    half_open_calls: u32,
    /// HALF_OPEN: permits not yet handed out.
    permits: u32,
    /// HALF_OPEN: outcomes of the trial so far.
    trial: Tally,
}

impl WindowStyle {
    /// Whether a set of outcomes is at or above a threshold (resilience4j's
    /// `checkIfThresholdsExceeded`, both rates `>=`). Both sides are correctly rounded
    /// quotients, so a rate exactly equal to the threshold compares equal.
    fn above(&self, t: &Tally) -> bool {
        let calls = t.calls as f64;
        if t.failures as f64 / calls >= self.failure_rate_threshold {
            return true;
        }
        match self.slow_call {
            Some((_, thr)) => t.slow as f64 / calls >= thr,
            None => false,
        }
    }

    fn outcome(&self, failure: bool, duration_ns: Nanos) -> u8 {
        let slow = matches!(self.slow_call, Some((d, _)) if duration_ns > d);
        (if failure { FAILED } else { 0 }) | (if slow { SLOW } else { 0 })
    }
}

#[derive(Clone, Debug)]
struct ConsecutiveStyle {
    failures: u32,
    success_threshold: u32,
    /// CLOSED: failures in a row.
    failure_run: u32,
    /// HALF_OPEN: successes in a row.
    success_run: u32,
}

#[derive(Clone, Debug)]
enum Style {
    Window(WindowStyle),
    Consecutive(ConsecutiveStyle),
}

/// One circuit breaker (one caller replica's, or one caller service's, to one target).
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    style: Style,
    state: BreakerState,
    open_for_ns: Nanos,
    /// When the current (or the last) OPEN period began.
    opened_at: Nanos,
    opened: u64,
    /// OPEN time of the periods already ended.
    closed_open_ns: Nanos,
    transitions: Vec<(Nanos, BreakerState, BreakerState)>,
    transition_count: u64,
}

impl CircuitBreaker {
    /// Bytes its sliding window allocates when it is made: a time window's buckets (a
    /// count window grows with the calls recorded, one byte each).
    pub fn window_bytes(spec: &Breaker) -> u64 {
        match *spec {
            Breaker::Window { window: BreakerWindow::Time(len), .. } => {
                time_buckets(len).1 * std::mem::size_of::<Tally>() as u64
            }
            _ => 0,
        }
    }

    pub fn new(spec: &Breaker) -> Self {
        let (style, open_for_ns) = match *spec {
            Breaker::Window {
                window,
                minimum_calls,
                failure_rate_threshold,
                slow_call,
                open_for_ns,
                half_open_calls,
            } => {
                let mut minimum_calls = u64::from(minimum_calls.max(1));
                if let BreakerWindow::Count(n) = window {
                    minimum_calls = minimum_calls.min(u64::from(n.max(1)));
                }
                let w = WindowStyle {
                    window: Window::new(window),
                    minimum_calls,
                    failure_rate_threshold,
                    slow_call,
                    half_open_calls: half_open_calls.max(1),
                    permits: 0,
                    trial: Tally::default(),
                };
                (Style::Window(w), open_for_ns)
            }
            Breaker::Consecutive { failures, open_for_ns, success_threshold } => {
                let c = ConsecutiveStyle {
                    failures: failures.max(1),
                    success_threshold: success_threshold.max(1),
                    failure_run: 0,
                    success_run: 0,
                };
                (Style::Consecutive(c), open_for_ns)
            }
        };
        CircuitBreaker {
            style,
            state: BreakerState::Closed,
            open_for_ns,
            opened_at: 0,
            opened: 0,
            closed_open_ns: 0,
            transitions: Vec::new(),
            transition_count: 0,
        }
    }

    /// A call wants to go out at `now`. Performs the lazy OPEN→HALF_OPEN transition (on
    /// the first call strictly after `opened_at + open_for`). Returns true if the call
    /// is permitted (in HALF_OPEN of the window style this takes one permit); false =
    /// short-circuited (`circuit_open`), and such calls are not recorded.
    pub fn try_acquire(&mut self, now: Nanos) -> bool {
        if self.state == BreakerState::Open {
            if now <= self.opened_at.saturating_add(self.open_for_ns) {
                return false;
            }
            self.enter_half_open(now);
        }
        match self.state {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen => match &mut self.style {
                Style::Window(w) => {
                    if w.permits > 0 {
                        w.permits -= 1;
                        true
                    } else {
                        false
                    }
                }
                Style::Consecutive(_) => true,
            },
        }
    }

    /// The outcome of a permitted call: `failure` (timeout, error, unavailable, rejected
    /// count as failures; declined does not and counts as a success) and its duration
    /// (for the slow-call rate). Filed under the current state (see the module header).
    pub fn on_result(&mut self, now: Nanos, failure: bool, duration_ns: Nanos) {
        match self.state {
            BreakerState::Open => {}
            BreakerState::Closed => {
                let open = match &mut self.style {
                    Style::Window(w) => {
                        let o = w.outcome(failure, duration_ns);
                        let t = w.window.record(now, o);
                        t.calls >= w.minimum_calls && w.above(&t)
                    }
                    Style::Consecutive(c) => {
                        if failure {
                            c.failure_run = c.failure_run.saturating_add(1);
                            c.failure_run >= c.failures
                        } else {
                            c.failure_run = 0;
                            false
                        }
                    }
                };
                if open {
                    self.enter_open(now);
                }
            }
            BreakerState::HalfOpen => {
                let next = match &mut self.style {
                    Style::Window(w) => {
                        let o = w.outcome(failure, duration_ns);
                        w.trial.add(o);
                        if w.trial.calls >= u64::from(w.half_open_calls) {
                            Some(if w.above(&w.trial) { BreakerState::Open } else { BreakerState::Closed })
                        } else {
                            None
                        }
                    }
                    Style::Consecutive(c) => {
                        if failure {
                            Some(BreakerState::Open)
                        } else {
                            c.success_run = c.success_run.saturating_add(1);
                            (c.success_run >= c.success_threshold).then_some(BreakerState::Closed)
                        }
                    }
                };
                match next {
                    Some(BreakerState::Open) => self.enter_open(now),
                    Some(BreakerState::Closed) => self.enter_closed(now),
                    _ => {}
                }
            }
        }
    }

    /// A permitted call ended without an outcome to record (abandoned): gives back a
    /// HALF_OPEN permit of the window style (never more than `half_open_calls`). Does
    /// nothing in any other state.
    pub fn release(&mut self, _now: Nanos) {
        if self.state == BreakerState::HalfOpen
            && let Style::Window(w) = &mut self.style
        {
            w.permits = w.permits.saturating_add(1).min(w.half_open_calls);
        }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// How many times it went to OPEN.
    pub fn opened(&self) -> u64 {
        self.opened
    }

    /// Total time spent OPEN up to `now`: from each opening to the move out of OPEN (to
    /// HALF_OPEN, which happens lazily, on the first call after `open_for`).
    pub fn open_ns(&self, now: Nanos) -> Nanos {
        let current = if self.state == BreakerState::Open { now.saturating_sub(self.opened_at) } else { 0 };
        self.closed_open_ns.saturating_add(current)
    }

    /// The latest transitions as `(time, from, to)`, oldest first: all of them while
    /// fewer than 128 have happened, then at least the last 64 (a bounded log; see
    /// [`Self::transition_count`]). Consecutive entries are always consecutive
    /// transitions.
    pub fn transitions(&self) -> &[(Nanos, BreakerState, BreakerState)] {
        &self.transitions
    }

    /// Every transition so far, including those dropped from [`Self::transitions`].
    pub fn transition_count(&self) -> u64 {
        self.transition_count
    }

    fn transition(&mut self, now: Nanos, to: BreakerState) {
        let from = self.state;
        debug_assert!(is_legal(from, to), "illegal breaker transition {from:?} -> {to:?}");
        if self.transitions.len() >= 2 * KEEP_TRANSITIONS {
            self.transitions.drain(..KEEP_TRANSITIONS);
        }
        self.transitions.push((now, from, to));
        self.transition_count += 1;
        self.state = to;
    }

    fn enter_open(&mut self, now: Nanos) {
        self.transition(now, BreakerState::Open);
        self.opened += 1;
        self.opened_at = now;
    }

    fn enter_half_open(&mut self, now: Nanos) {
        self.closed_open_ns = self.closed_open_ns.saturating_add(now.saturating_sub(self.opened_at));
        self.transition(now, BreakerState::HalfOpen);
        match &mut self.style {
            Style::Window(w) => {
                w.permits = w.half_open_calls;
                w.trial = Tally::default();
            }
            Style::Consecutive(c) => c.success_run = 0,
        }
    }

    fn enter_closed(&mut self, now: Nanos) {
        self.transition(now, BreakerState::Closed);
        match &mut self.style {
            Style::Window(w) => {
                w.window.clear();
                w.permits = 0;
                w.trial = Tally::default();
            }
            Style::Consecutive(c) => c.failure_run = 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BreakerState::*;

    const MS: Nanos = 1_000_000;
    const S: Nanos = NS_PER_S;

    fn count_breaker(n: u32, min: u32, half_open: u32) -> CircuitBreaker {
        CircuitBreaker::new(&Breaker::Window {
            window: BreakerWindow::Count(n),
            minimum_calls: min,
            failure_rate_threshold: 0.5,
            slow_call: None,
            open_for_ns: 10 * S,
            half_open_calls: half_open,
        })
    }

    /// One permitted call that ends at once.
    fn call(b: &mut CircuitBreaker, now: Nanos, failure: bool) -> bool {
        let ok = b.try_acquire(now);
        if ok {
            b.on_result(now, failure, MS);
        }
        ok
    }

    fn all_legal(b: &CircuitBreaker) {
        let t = b.transitions();
        for (i, &(at, from, to)) in t.iter().enumerate() {
            assert!(is_legal(from, to), "{from:?} -> {to:?}");
            if i > 0 {
                assert_eq!(t[i - 1].2, from, "transitions do not chain");
                assert!(t[i - 1].0 <= at, "transitions out of order");
            }
        }
        if let Some(last) = t.last() {
            assert_eq!(last.2, b.state());
        }
    }

    /// Opens a count breaker at time 0 with 5 failures (N = 10, min 5).
    fn opened_at_zero(half_open: u32) -> CircuitBreaker {
        let mut b = count_breaker(10, 5, half_open);
        for _ in 0..5 {
            call(&mut b, 0, true);
        }
        assert_eq!(b.state(), Open);
        b
    }

    #[test]
    fn codes_and_legality() {
        assert_eq!((Closed.code(), HalfOpen.code(), Open.code()), (0, 1, 2));
        let all = [Closed, Open, HalfOpen];
        let legal: Vec<_> = all
            .iter()
            .flat_map(|&a| all.iter().map(move |&b| (a, b)))
            .filter(|&(a, b)| is_legal(a, b))
            .collect();
        assert_eq!(legal, vec![(Closed, Open), (Open, HalfOpen), (HalfOpen, Closed), (HalfOpen, Open)]);
    }

    /// resilience4j, COUNT_BASED N=10, minimumNumberOfCalls=5, threshold 50: four
    /// failures then one success is 4/5 = 80% ≥ 50%, so the fifth call opens it.
    #[test]
    fn count_window_opens_after_minimum_calls() {
        let mut b = count_breaker(10, 5, 3);
        for i in 0..4 {
            assert!(call(&mut b, i * MS, true));
            assert_eq!(b.state(), Closed, "no judgement before minimum_calls");
        }
        assert!(call(&mut b, 4 * MS, false));
        assert_eq!(b.state(), Open);
        assert_eq!(b.opened(), 1);
        assert_eq!(b.transitions(), &[(4 * MS, Closed, Open)]);
        all_legal(&b);
    }

    #[test]
    fn count_window_below_threshold_stays_closed_and_slides() {
        let mut b = count_breaker(10, 5, 3);
        // F S S F S S S S S S: 2/10 = 20%.
        for (i, f) in
            [true, false, false, true, false, false, false, false, false, false].into_iter().enumerate()
        {
            call(&mut b, i as Nanos, f);
        }
        assert_eq!(b.state(), Closed);
        // Four more failures: the window is now S S S S S S F F F F = 40%.
        for i in 0..4 {
            call(&mut b, 100 + i, true);
        }
        assert_eq!(b.state(), Closed);
        // The fifth: 50% ≥ 50%.
        call(&mut b, 200, true);
        assert_eq!(b.state(), Open);
    }

    /// resilience4j caps minimumNumberOfCalls at the COUNT_BASED window size.
    #[test]
    fn minimum_calls_capped_at_count_window() {
        let mut b = count_breaker(4, 100, 3);
        for i in 0..3 {
            call(&mut b, i, true);
            assert_eq!(b.state(), Closed);
        }
        call(&mut b, 3, true);
        assert_eq!(b.state(), Open);
    }

    #[test]
    fn open_rejects_until_open_for_then_half_open_lazily() {
        let mut b = opened_at_zero(3);
        assert!(!b.try_acquire(5 * S));
        assert!(!b.try_acquire(10 * S), "at exactly open_for resilience4j still refuses (isAfter)");
        assert_eq!(b.state(), Open);
        // No call arrives for a while: the state stays OPEN, and so does the accounting.
        assert_eq!(b.state(), Open);
        assert_eq!(b.open_ns(15 * S), 15 * S);
        assert!(b.try_acquire(15 * S));
        assert_eq!(b.state(), HalfOpen);
        assert_eq!(b.open_ns(20 * S), 15 * S);
        assert_eq!(b.transitions(), &[(0, Closed, Open), (15 * S, Open, HalfOpen)]);
        all_legal(&b);
    }

    #[test]
    fn refused_calls_are_not_recorded() {
        let mut b = opened_at_zero(3);
        for i in 0..100 {
            assert!(!b.try_acquire(i * MS));
        }
        let after = 10 * S + 1;
        // Trial: three successes close it; the refused calls left no trace.
        for _ in 0..3 {
            assert!(call(&mut b, after, false));
        }
        assert_eq!(b.state(), Closed);
    }

    #[test]
    fn half_open_permits_limit_concurrent_calls() {
        let mut b = opened_at_zero(3);
        let t = 10 * S + 1;
        assert!(b.try_acquire(t));
        assert!(b.try_acquire(t));
        assert!(b.try_acquire(t));
        assert!(!b.try_acquire(t), "fourth concurrent trial call is refused");
        // An abandoned call gives its permit back, but never more than half_open_calls.
        b.release(t);
        assert!(b.try_acquire(t));
        assert!(!b.try_acquire(t));
        for _ in 0..10 {
            b.release(t);
        }
        for _ in 0..3 {
            assert!(b.try_acquire(t));
        }
        assert!(!b.try_acquire(t));
    }

    #[test]
    fn half_open_two_of_three_fail_reopens() {
        let mut b = opened_at_zero(3);
        let t = 10 * S + 1;
        for _ in 0..3 {
            assert!(b.try_acquire(t));
        }
        b.on_result(t + 1, true, MS);
        b.on_result(t + 2, false, MS);
        assert_eq!(b.state(), HalfOpen, "judged only once all 3 are recorded");
        b.on_result(t + 3, true, MS);
        assert_eq!(b.state(), Open);
        assert_eq!(b.opened(), 2);
        // A new open_for from the reopening.
        assert!(!b.try_acquire(t + 3 + 10 * S));
        assert!(b.try_acquire(t + 4 + 10 * S));
        assert_eq!(b.state(), HalfOpen);
        all_legal(&b);
    }

    #[test]
    fn half_open_one_of_three_fails_closes_with_fresh_window() {
        let mut b = opened_at_zero(3);
        let t = 10 * S + 1;
        call(&mut b, t, true);
        call(&mut b, t, false);
        call(&mut b, t, false);
        assert_eq!(b.state(), Closed);
        // Fresh window: the 5 failures that opened it are gone; 4 more do not reach the
        // minimum of 5.
        for _ in 0..4 {
            call(&mut b, t + 1, true);
        }
        assert_eq!(b.state(), Closed);
        call(&mut b, t + 1, true);
        assert_eq!(b.state(), Open);
        all_legal(&b);
    }

    #[test]
    fn slow_calls_open_without_failures() {
        let mut b = CircuitBreaker::new(&Breaker::Window {
            window: BreakerWindow::Count(10),
            minimum_calls: 5,
            failure_rate_threshold: 0.5,
            slow_call: Some((500 * MS, 0.8)),
            open_for_ns: 10 * S,
            half_open_calls: 2,
        });
        // A call of exactly the slow duration is not slow (resilience4j: `>`).
        for i in 0..5 {
            b.try_acquire(i);
            b.on_result(i, false, 500 * MS);
        }
        assert_eq!(b.state(), Closed);
        // Four slow calls and one fast: 4 slow of 10.
        for i in 0..4 {
            b.try_acquire(10 + i);
            b.on_result(10 + i, false, 500 * MS + 1);
        }
        b.try_acquire(20);
        b.on_result(20, false, MS);
        assert_eq!(b.state(), Closed);
        for i in 0..3 {
            b.try_acquire(30 + i);
            b.on_result(30 + i, false, 2 * S);
            assert_eq!(b.state(), Closed, "slow rate below 80%");
        }
        // The window is now [fast ×2, slow ×4, fast, slow ×3]: 7 slow of 10. One more
        // slow call pushes out a fast one: 8 of 10 = 80% ≥ 80%.
        b.try_acquire(40);
        b.on_result(40, false, 2 * S);
        assert_eq!(b.state(), Open);
        assert_eq!(b.opened(), 1);
        // In half-open, slow calls count too: 2 slow of 2 → open again.
        let t = 40 + 10 * S + 1;
        assert!(b.try_acquire(t));
        assert!(b.try_acquire(t));
        b.on_result(t + S, false, S);
        b.on_result(t + S, false, S);
        assert_eq!(b.state(), Open);
        all_legal(&b);
    }

    #[test]
    fn slow_failures_count_in_both_rates() {
        let mut b = CircuitBreaker::new(&Breaker::Window {
            window: BreakerWindow::Count(4),
            minimum_calls: 4,
            failure_rate_threshold: 1.0,
            slow_call: Some((100 * MS, 0.5)),
            open_for_ns: S,
            half_open_calls: 1,
        });
        b.on_result(0, true, 200 * MS); // slow error
        b.on_result(0, false, MS);
        b.on_result(0, false, MS);
        assert_eq!(b.state(), Closed);
        b.on_result(0, true, 200 * MS); // slow error: 2 slow of 4 = 50%
        assert_eq!(b.state(), Open);
    }

    #[test]
    fn time_window_forgets_old_calls() {
        let mut b = CircuitBreaker::new(&Breaker::Window {
            window: BreakerWindow::Time(10 * S),
            minimum_calls: 5,
            failure_rate_threshold: 0.5,
            slow_call: None,
            open_for_ns: 10 * S,
            half_open_calls: 3,
        });
        // Four failures in second 0.
        for i in 0..4 {
            call(&mut b, i * MS, true);
        }
        assert_eq!(b.state(), Closed);
        // At 9.9 s (epoch 9) they are still in the window: one success makes 4/5.
        let mut c = b.clone();
        call(&mut c, 9 * S + 900 * MS, false);
        assert_eq!(c.state(), Open);
        // At 10 s (epoch 10) bucket 0 has left the window: one failure is 1 call, below
        // the minimum.
        call(&mut b, 10 * S, true);
        assert_eq!(b.state(), Closed);
        for i in 0..3 {
            call(&mut b, 10 * S + i, false);
        }
        assert_eq!(b.state(), Closed, "1 failure of 4, below the minimum anyway");
        call(&mut b, 11 * S, false);
        assert_eq!(b.state(), Closed, "1 of 5 = 20%");
        // A long gap empties every bucket at once.
        for i in 0..4 {
            call(&mut b, 1000 * S + i, true);
        }
        assert_eq!(b.state(), Closed);
        call(&mut b, 1000 * S + 5, true);
        assert_eq!(b.state(), Open);
    }

    #[test]
    fn time_window_buckets_bounded() {
        // Sub-second window: one bucket of its own length.
        let mut b = CircuitBreaker::new(&Breaker::Window {
            window: BreakerWindow::Time(500 * MS),
            minimum_calls: 2,
            failure_rate_threshold: 1.0,
            slow_call: None,
            open_for_ns: S,
            half_open_calls: 1,
        });
        call(&mut b, 0, true);
        call(&mut b, 500 * MS, true); // next bucket: the first failure is gone
        assert_eq!(b.state(), Closed);
        call(&mut b, 999 * MS, true);
        assert_eq!(b.state(), Open);
        // Huge windows do not allocate per second.
        let b = CircuitBreaker::new(&Breaker::Window {
            window: BreakerWindow::Time(u64::MAX),
            minimum_calls: 1,
            failure_rate_threshold: 0.5,
            slow_call: None,
            open_for_ns: u64::MAX,
            half_open_calls: 1,
        });
        match &b.style {
            Style::Window(WindowStyle { window: Window::Time { buckets, .. }, .. }) => {
                assert!(buckets.len() as u64 <= MAX_BUCKETS)
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn declines_are_successes() {
        // The caller passes failure = false for a declined call: six declines and four
        // failures are 40%; one more failure pushes out a decline: 5 of 10 = 50%.
        let mut b = count_breaker(10, 5, 3);
        for i in 0..6 {
            call(&mut b, i, false); // declined
        }
        for i in 0..4 {
            call(&mut b, 10 + i, true);
        }
        assert_eq!(b.state(), Closed);
        call(&mut b, 20, true);
        assert_eq!(b.state(), Open);
    }

    #[test]
    fn late_results_follow_resilience4j() {
        let mut b = count_breaker(10, 5, 2);
        // Three slow calls permitted while CLOSED.
        for _ in 0..3 {
            assert!(b.try_acquire(0));
        }
        for _ in 0..5 {
            call(&mut b, 1, true);
        }
        assert_eq!(b.state(), Open);
        // One returns while OPEN: dropped (a failure here would change nothing either).
        b.on_result(2 * S, true, 2 * S);
        assert_eq!(b.state(), Open);
        // A trial of 2 begins; a CLOSED-era call returns during it and counts in it.
        let t = 10 * S + 2;
        assert!(b.try_acquire(t));
        assert!(b.try_acquire(t));
        b.on_result(t + 1, false, 11 * S);
        assert_eq!(b.state(), HalfOpen);
        b.on_result(t + 2, false, MS); // one trial call: 0 of 2 failed
        assert_eq!(b.state(), Closed);
        // The other trial call, and the last CLOSED-era one, return into the fresh
        // CLOSED window: 2 calls, below the minimum of 5.
        b.on_result(t + 3, true, MS);
        b.on_result(t + 4, true, 12 * S);
        assert_eq!(b.state(), Closed);
        for i in 0..3 {
            call(&mut b, t + 5 + i, true);
        }
        assert_eq!(b.state(), Open, "5 failures of 5 once the late ones count");
        all_legal(&b);
    }

    #[test]
    fn opened_and_open_ns_accounting() {
        let mut b = opened_at_zero(1);
        assert_eq!(b.opened(), 1);
        assert_eq!(b.open_ns(3 * S), 3 * S);
        // Half-open at 12 s, fails: open again at 12 s + 1 ms.
        assert!(b.try_acquire(12 * S));
        b.on_result(12 * S + MS, true, MS);
        assert_eq!(b.state(), Open);
        assert_eq!(b.opened(), 2);
        assert_eq!(b.open_ns(12 * S + MS), 12 * S);
        assert_eq!(b.open_ns(20 * S), 12 * S + (20 * S - 12 * S - MS));
        // Half-open at 30 s, succeeds: closed.
        assert!(b.try_acquire(30 * S));
        b.on_result(30 * S, false, MS);
        assert_eq!(b.state(), Closed);
        let total = 12 * S + (30 * S - 12 * S - MS);
        assert_eq!(b.open_ns(30 * S), total);
        assert_eq!(b.open_ns(100 * S), total);
        assert_eq!(b.transition_count(), 5);
        all_legal(&b);
    }

    #[test]
    fn transition_log_is_bounded() {
        let mut b = count_breaker(1, 1, 1);
        let mut t = 0;
        call(&mut b, t, true); // closed → open
        for _ in 0..1000 {
            t += 10 * S + 1;
            assert!(b.try_acquire(t)); // open → half-open
            b.on_result(t, true, MS); // half-open → open
        }
        assert_eq!(b.transition_count(), 2001);
        assert_eq!(b.opened(), 1001);
        assert!(b.transitions().len() >= KEEP_TRANSITIONS && b.transitions().len() <= 2 * KEEP_TRANSITIONS);
        assert_eq!(*b.transitions().last().unwrap(), (t, HalfOpen, Open));
        all_legal(&b);
    }

    fn consecutive(failures: u32, success_threshold: u32) -> CircuitBreaker {
        CircuitBreaker::new(&Breaker::Consecutive { failures, open_for_ns: 30 * S, success_threshold })
    }

    #[test]
    fn consecutive_opens_after_failures_in_a_row() {
        let mut b = consecutive(5, 2);
        for i in 0..4 {
            call(&mut b, i, true);
        }
        call(&mut b, 4, false); // a success resets the run
        for i in 0..4 {
            call(&mut b, 10 + i, true);
            assert_eq!(b.state(), Closed);
        }
        call(&mut b, 20, true);
        assert_eq!(b.state(), Open);
        assert!(!b.try_acquire(20 + 30 * S));
        all_legal(&b);
    }

    #[test]
    fn consecutive_half_open_closes_after_success_threshold() {
        let mut b = consecutive(5, 2);
        for i in 0..5 {
            call(&mut b, i, true);
        }
        let t = 4 + 30 * S + 1;
        // No permit limit in half-open.
        for _ in 0..20 {
            assert!(b.try_acquire(t));
        }
        assert_eq!(b.state(), HalfOpen);
        b.on_result(t, false, MS);
        assert_eq!(b.state(), HalfOpen);
        b.on_result(t, false, MS);
        assert_eq!(b.state(), Closed);
        // Closed again with a fresh failure count.
        for i in 0..4 {
            call(&mut b, t + i, true);
        }
        assert_eq!(b.state(), Closed);
        all_legal(&b);
    }

    #[test]
    fn consecutive_failure_in_half_open_reopens() {
        let mut b = consecutive(5, 2);
        for i in 0..5 {
            call(&mut b, i, true);
        }
        let t = 4 + 30 * S + 1;
        call(&mut b, t, false);
        call(&mut b, t, true);
        assert_eq!(b.state(), Open);
        assert_eq!(b.opened(), 2);
        assert_eq!(b.open_ns(t), t - 4);
        all_legal(&b);
    }

    #[test]
    fn degenerate_specs_do_not_panic() {
        for spec in [
            Breaker::Window {
                window: BreakerWindow::Count(0),
                minimum_calls: 0,
                failure_rate_threshold: 0.0,
                slow_call: Some((0, 0.0)),
                open_for_ns: 0,
                half_open_calls: 0,
            },
            Breaker::Window {
                window: BreakerWindow::Time(0),
                minimum_calls: 0,
                failure_rate_threshold: 1.0,
                slow_call: None,
                open_for_ns: u64::MAX,
                half_open_calls: u32::MAX,
            },
            Breaker::Consecutive { failures: 0, open_for_ns: 0, success_threshold: 0 },
            Breaker::Consecutive { failures: u32::MAX, open_for_ns: u64::MAX, success_threshold: u32::MAX },
        ] {
            let mut b = CircuitBreaker::new(&spec);
            for i in 0..200u64 {
                let now = i * 7 * MS;
                if b.try_acquire(now) {
                    match i % 3 {
                        0 => b.on_result(now, true, i * MS),
                        1 => b.on_result(now, false, u64::MAX),
                        _ => b.release(now),
                    }
                }
            }
            b.try_acquire(u64::MAX);
            b.on_result(u64::MAX, true, u64::MAX);
            let _ = b.open_ns(u64::MAX);
            all_legal(&b);
        }
    }
}
