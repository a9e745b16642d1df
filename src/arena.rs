//! Generation-checked arenas with typed ids.
//!
//! An [`Arena<T>`] hands out [`Id<T>`]s: an id names the slot and the slot's
//! generation, so a stale id (its slot freed and reused) is detected instead of touching
//! the wrong object, and an id of one kind cannot index an arena of another (an
//! `Id<Call>` is not an `Id<Attempt>`: the compiler says so).
//!
//! *Invariant*: an id is handed out once. A slot whose generation has reached
//! `u32::MAX` is retired when it is freed instead of wrapping to 0, so a stale id held
//! by an event (a timer, a queue entry) can never name a later value, however long the
//! run (a slot reused 2^32 times costs one slot, 4 billion reuses later).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

/// A generation-checked id into an [`Arena<T>`].
pub struct Id<T> {
    pub index: u32,
    pub generation: u32,
    kind: PhantomData<fn() -> T>,
}

impl<T> Id<T> {
    /// An id that names no value (generation `u32::MAX` is never handed out before
    /// four billion reuses of slot `u32::MAX`): a placeholder in fixed arrays.
    pub const NONE: Id<T> = Id { index: u32::MAX, generation: u32::MAX, kind: PhantomData };

    fn new(index: u32, generation: u32) -> Id<T> {
        Id { index, generation, kind: PhantomData }
    }

    /// The id with these parts (an id taken apart and put back together, as the event
    /// queue keeps events as plain words: `engine::Event`).
    #[inline(always)]
    pub fn from_parts(index: u32, generation: u32) -> Id<T> {
        Id::new(index, generation)
    }
}

// Manual impls: derives would demand `T: Clone`, `T: Eq`, ... of the values.
impl<T> Clone for Id<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Id<T> {}
impl<T> PartialEq for Id<T> {
    fn eq(&self, o: &Self) -> bool {
        self.index == o.index && self.generation == o.generation
    }
}
impl<T> Eq for Id<T> {}
impl<T> Hash for Id<T> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.index.hash(h);
        self.generation.hash(h);
    }
}
impl<T> fmt::Debug for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}.{}", self.index, self.generation)
    }
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// A vector of slots with a free list; ids carry the slot's generation.
pub struct Arena<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    live: usize,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena { slots: Vec::new(), free: Vec::new(), live: 0 }
    }
}

impl<T> Arena<T> {
    #[inline]
    pub fn insert(&mut self, value: T) -> Id<T> {
        self.live += 1;
        let index = match self.free.pop() {
            Some(index) => {
                let s = &mut self.slots[index as usize];
                s.generation = s.generation.wrapping_add(1);
                index
            }
            None => self.new_slot(),
        };
        // The value is written once, in place, whichever slot it takes.
        let s = &mut self.slots[index as usize];
        s.value = Some(value);
        Id::new(index, s.generation)
    }

    /// An empty slot at the end, at generation 0 (the free list is empty): out of the
    /// hot path.
    #[cold]
    #[inline(never)]
    fn new_slot(&mut self) -> u32 {
        // Index `u32::MAX` is `Id::NONE`'s: 4 billion values alive at once (hundreds
        // of GiB) would be needed to reach it; refuse rather than alias.
        let index = u32::try_from(self.slots.len()).ok().filter(|&i| i < u32::MAX).expect("arena full");
        self.slots.push(Slot { generation: 0, value: None });
        index
    }

    #[inline]
    pub fn get(&self, id: Id<T>) -> Option<&T> {
        let s = self.slots.get(id.index as usize)?;
        if s.generation == id.generation { s.value.as_ref() } else { None }
    }

    #[inline]
    pub fn get_mut(&mut self, id: Id<T>) -> Option<&mut T> {
        let s = self.slots.get_mut(id.index as usize)?;
        if s.generation == id.generation { s.value.as_mut() } else { None }
    }

    /// Removes and returns the value; `None` if the id is stale.
    pub fn remove(&mut self, id: Id<T>) -> Option<T> {
        let s = self.slots.get_mut(id.index as usize)?;
        if s.generation != id.generation {
            return None;
        }
        let v = s.value.take()?;
        // A slot at the last generation is retired: reusing it would wrap its
        // generation and let a stale id match again.
        if s.generation != u32::MAX {
            self.free.push(id.index);
        }
        self.live -= 1;
        Some(v)
    }

    pub fn contains(&self, id: Id<T>) -> bool {
        self.get(id).is_some()
    }

    /// Live values.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Slots ever allocated (the high-water mark of live values, plus the slots retired
    /// at the last generation: one per 4 billion reuses).
    pub fn capacity_used(&self) -> usize {
        self.slots.len()
    }

    /// Asks the processor to bring slot `index` into the cache, without waiting for it:
    /// a hint that reads and changes nothing. A caller about to read two records, the
    /// second named by the first, fetches both at once: with a million requests in
    /// flight each read is a cache miss, and two misses in flight together cost about
    /// one (`benches/peers/scaling.sh`).
    #[inline(always)]
    pub fn prefetch(&self, index: u32) {
        #[cfg(target_arch = "x86_64")]
        if let Some(s) = self.slots.get(index as usize) {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let p = (s as *const Slot<T>).cast::<i8>();
            let n = std::mem::size_of::<Slot<T>>();
            let mut off = 0;
            while off < n {
                // SAFETY: a prefetch dereferences nothing and cannot fault; every
                // address asked for lies inside the slot.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(off)) };
                off += 64;
            }
            // SAFETY: as above (the slot's last byte, on the line after the last step
            // when the slot straddles one more line than its size suggests).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(n - 1)) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = index;
    }

    /// Live values in slot order (deterministic).
    pub fn iter(&self) -> impl Iterator<Item = (Id<T>, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.value.as_ref().map(|v| (Id::new(i as u32, s.generation), v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_ids_are_detected() {
        let mut a = Arena::default();
        let x = a.insert(1);
        assert_eq!(a.remove(x), Some(1));
        let y = a.insert(2);
        assert_eq!(x.index, y.index);
        assert!(a.get(x).is_none());
        assert_eq!(a.get(y), Some(&2));
        assert_eq!(a.remove(x), None);
        assert_eq!(a.len(), 1);
    }

    /// A slot at its last generation: the generation does not wrap to 0 (where an id
    /// handed out 2^32 reuses ago would match the new value), the slot is retired and
    /// a fresh one is used; no id, old or new, names another value.
    #[test]
    fn a_slot_at_its_last_generation_is_retired_not_wrapped() {
        let mut a = Arena::default();
        let first = a.insert(0u64);
        a.remove(first);
        // Fast-forward slot 0 to just before the wrap, as 2^32 - 2 reuses would.
        a.slots[0].generation = u32::MAX - 2;
        let mut stale = vec![first, Id::new(0, u32::MAX - 2)];
        let mut last = None;
        for k in 1..=2u64 {
            let id = a.insert(k);
            assert_eq!(id.index, 0, "reuse {k} takes slot 0");
            assert_eq!(a.get(id), Some(&k));
            for s in &stale {
                assert!(a.get(*s).is_none(), "stale id {s:?} names a live value");
            }
            assert_eq!(a.remove(id), Some(k));
            stale.push(id);
            last = Some(id);
        }
        assert_eq!(last.unwrap().generation, u32::MAX);
        // Slot 0 is retired: the next value goes to a new slot, generation 0, and the
        // ids of slot 0's past (generation 0 included) stay stale.
        let fresh = a.insert(99);
        assert_eq!((fresh.index, fresh.generation), (1, 0));
        for s in &stale {
            assert!(a.get(*s).is_none() && !a.contains(*s), "stale id {s:?} matched after retirement");
            assert_eq!(a.remove(*s), None);
        }
        assert_eq!(a.len(), 1);
        assert_eq!(a.capacity_used(), 2);
        assert_eq!(a.iter().map(|(id, v)| (id, *v)).collect::<Vec<_>>(), vec![(fresh, 99)]);
        assert!(!a.contains(Id::NONE));
    }
}
