//! Tags and epochs compared by equality only (a topic partition's and consumer's epoch,
//! an autoscaled slot's tag): each wraps at its width (`bump`), and the rooms that use
//! them say why a stale event's tag cannot come round again while it is pending. In the
//! tests they start where a test puts them, near `u32::MAX`, and count their wraps
//! (`testing::starting_at`), so that a run across the width can be held to the run
//! from 0.

/// The next tag: wraps.
#[inline]
pub(super) fn bump(tag: &mut u32) {
    *tag = tag.wrapping_add(1);
    #[cfg(test)]
    testing::bumped(*tag);
}

/// Where tags start: 0, except in the tests that start them near their width.
#[cfg(not(test))]
#[inline(always)]
pub(super) fn first() -> u32 {
    0
}
#[cfg(test)]
pub(super) use testing::first;

#[cfg(test)]
pub(super) mod testing {
    use std::cell::Cell;

    // Thread-local, so tests running at once do not see each other's.
    thread_local! {
        static START: Cell<u32> = const { Cell::new(0) };
        static WRAPS: Cell<u64> = const { Cell::new(0) };
    }

    pub(in crate::model) fn first() -> u32 {
        START.with(Cell::get)
    }

    pub(super) fn bumped(tag: u32) {
        if tag == 0 {
            WRAPS.with(|w| w.set(w.get() + 1));
        }
    }

    /// Runs `f` with every tag starting at `start`; returns what it returned and how
    /// many tags wrapped to 0 meanwhile.
    pub(in crate::model) fn starting_at<T>(start: u32, f: impl FnOnce() -> T) -> (T, u64) {
        START.with(|c| c.set(start));
        WRAPS.with(|w| w.set(0));
        let out = f();
        START.with(|c| c.set(0));
        (out, WRAPS.with(Cell::get))
    }
}
