//! Generation-checked arenas with typed ids.
//!
//! An [`Arena<T>`] hands out [`Id<T>`]s: an id names the slot and the slot's
//! generation, so a stale id (its slot freed and reused) is detected instead of touching
//! the wrong object, and an id of one kind cannot index an arena of another (an
//! `Id<Call>` is not an `Id<Attempt>`: the compiler says so).

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
    pub fn insert(&mut self, value: T) -> Id<T> {
        self.live += 1;
        if let Some(index) = self.free.pop() {
            let s = &mut self.slots[index as usize];
            s.generation = s.generation.wrapping_add(1);
            s.value = Some(value);
            Id::new(index, s.generation)
        } else {
            let index = self.slots.len() as u32;
            self.slots.push(Slot { generation: 0, value: Some(value) });
            Id::new(index, 0)
        }
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
        self.free.push(id.index);
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

    /// Slots ever allocated (the high-water mark of live values).
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
}
