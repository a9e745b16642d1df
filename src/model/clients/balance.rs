//! The balancers: which target replica a call goes to (round robin, random, least
//! outstanding, power of two choices) among those the caller may use.

use super::least::NONE;
use super::{ClientSlot, Clients};
use crate::rng::Rng;
use crate::spec::{LoadBalancer, Nanos, ReplicaId};
use rand::RngExt;

impl Clients {
    /// Picks a target replica for a call from `caller_slot` among the target service's
    /// replicas that are `ready` and not ejected by this caller's outlier detector
    /// (`None` if there is none). `changes` is
    /// `Health::changes`: round robin's turn (and least outstanding's tie-break) starts
    /// again from a random eligible replica whenever the ready set changed since the
    /// caller's last pick, or the caller's outlier detector ejected a ready replica or
    /// ended a ready replica's ejection, as gRPC's round_robin rebuilds its picker at a
    /// random index of the ready subchannels on every state change (an ejection is one,
    /// gRFC A50); in between, the turn takes the eligible replicas in order, each once a
    /// round.
    pub(in crate::model) fn pick(
        &mut self,
        client: u32,
        caller_slot: u32,
        now: Nanos,
        changes: u64,
        ready: impl Fn(ReplicaId) -> bool,
    ) -> Option<ReplicaId> {
        let block = &mut self.blocks[client as usize];
        let (n, first) = (block.n_replicas, block.first_replica);
        let slot_ix = block.slot_ix(caller_slot);
        let slot = &mut block.slots[slot_ix];
        let eligible = |r: u32, slot: &mut ClientSlot| -> bool {
            ready(first + r) && !slot.outlier.as_mut().is_some_and(|o| o.is_ejected(r, now))
        };
        let local = match block.lb {
            LoadBalancer::RoundRobin if n == 1 => {
                // One replica: the same turn as below, without the division.
                slot.rr = slot.rr.wrapping_add(1);
                if !eligible(0, slot) {
                    return None;
                }
                0
            }
            LoadBalancer::RoundRobin => {
                let moved = now >= slot.recheck && settle(slot, now, first, &ready);
                let r = turn(slot, n, changes, moved, &mut block.turn_rng, eligible)?;
                slot.rr = r.wrapping_add(1);
                r
            }
            // Random and p2c draw among the replicas the caller may use, as Envoy draws
            // from its healthy hosts and gRPC from its ready subchannels: a draw that
            // lands on another is made again among the eligible ones (taking the next
            // eligible one instead gave it the share of every replica down before it).
            LoadBalancer::Random => {
                let r = block.rng.random_range(0..n);
                if eligible(r, slot) {
                    r
                } else {
                    let ok: Vec<u32> = (0..n).filter(|&x| eligible(x, slot)).collect();
                    *ok.get(block.rng.random_range(0..ok.len().max(1)))?
                }
            }
            LoadBalancer::LeastOutstanding if slot.least.is_some() => {
                // As below, from the index (`least.rs`): O(log n) rather than O(n).
                let moved = now >= slot.recheck && settle(slot, now, first, &ready);
                least_from_index(slot, n, changes, moved, now, first, &ready, &mut block.turn_rng)?
            }
            LoadBalancer::LeastOutstanding => {
                // Fewest outstanding; ties go round robin so that no replica is favoured
                // (from a random eligible replica when the turn is on another, as above).
                let moved = now >= slot.recheck && settle(slot, now, first, &ready);
                let start = turn(slot, n, changes, moved, &mut block.turn_rng, eligible)?;
                slot.rr = start.wrapping_add(1);
                let mut best: Option<u32> = None;
                for k in 0..n {
                    let r = (start + k) % n;
                    if eligible(r, slot)
                        && best.is_none_or(|b| slot.outstanding[r as usize] < slot.outstanding[b as usize])
                    {
                        best = Some(r);
                    }
                }
                best?
            }
            LoadBalancer::P2c => {
                let two = |rng: &mut Rng, n: u32| {
                    let a = rng.random_range(0..n);
                    let b = if n > 1 { rng.random_range(0..n - 1) } else { a };
                    (a, if n > 1 && b >= a { b + 1 } else { b })
                };
                let (mut a, mut b) = two(&mut block.rng, n);
                if !(eligible(a, slot) && eligible(b, slot)) {
                    let ok: Vec<u32> = (0..n).filter(|&x| eligible(x, slot)).collect();
                    if ok.is_empty() {
                        return None;
                    }
                    let (i, j) = two(&mut block.rng, ok.len() as u32);
                    (a, b) = (ok[i as usize], ok[j as usize]);
                }
                if slot.outstanding[b as usize] < slot.outstanding[a as usize] { b } else { a }
            }
        };
        if !slot.outstanding.is_empty() {
            slot.outstanding[local as usize] += 1;
        }
        Some(first + local)
    }
}

/// Looks at the ejections the caller's outlier detector made or ended since its last
/// look (`ejections.rs`): whether the caller's eligible set moved.
fn settle(slot: &mut ClientSlot, now: Nanos, first: ReplicaId, ready: &impl Fn(ReplicaId) -> bool) -> bool {
    let Some(o) = &mut slot.outlier else {
        slot.recheck = Nanos::MAX;
        return false;
    };
    let (outstanding, least) = (&slot.outstanding, &mut slot.least);
    let (moved, next) = o.settle(
        now,
        |r| ready(first + r),
        |r| {
            if let Some(l) = least {
                // Its ejection is over: it counts again if it is ready.
                l.tree.set(r, if ready(first + r) { outstanding[r as usize] } else { NONE });
            }
        },
    );
    slot.recheck = next;
    moved
}

/// Least outstanding's pick from the slot's index: the same replica as the scan in
/// `pick` (the turn's replica found as `turn` finds it, then the first replica with the
/// fewest outstanding from it on), with the index's leaf of the chosen one counted up.
#[allow(clippy::too_many_arguments)]
fn least_from_index(
    slot: &mut ClientSlot,
    n: u32,
    changes: u64,
    moved: bool,
    now: Nanos,
    first: ReplicaId,
    ready: &impl Fn(ReplicaId) -> bool,
    rng: &mut Rng,
) -> Option<u32> {
    let (least, outstanding, outlier) = (&mut slot.least, &slot.outstanding, &mut slot.outlier);
    let l = least.as_mut().expect("called with an index");
    if l.seen != changes {
        // Readiness moved: read it again, with the ejections as they stand.
        l.seen = changes;
        l.tree.rebuild(outstanding.len() as u32, |r| {
            let ejected = outlier.as_mut().is_some_and(|o| o.is_ejected(r, now));
            if ready(first + r) && !ejected { outstanding[r as usize] } else { NONE }
        });
    }
    let start = if moved || slot.seen != changes {
        slot.seen = changes;
        l.tree.nth_eligible(n, |k| rng.random_range(0..k.max(1)))?
    } else {
        l.tree.first_from(slot.rr % n, n, NONE - 1)?
    };
    slot.rr = start.wrapping_add(1);
    let fewest = l.tree.min(0, n);
    let best = l.tree.first_from(start, n, fewest).expect("the turn's replica is eligible");
    l.tree.set(best, fewest + 1);
    Some(best)
}

/// The replica whose turn it is in a caller's round: from a random eligible replica when
/// the ready set changed since the caller's last pick, or `moved` says its outlier
/// detector moved a replica in or out (gRPC's picker rebuilt at a random index), else
/// the first eligible one from the caller's turn on. `None` when no replica is eligible.
pub(super) fn turn(
    slot: &mut ClientSlot,
    n: u32,
    changes: u64,
    moved: bool,
    rng: &mut Rng,
    mut eligible: impl FnMut(u32, &mut ClientSlot) -> bool,
) -> Option<u32> {
    if moved || slot.seen != changes {
        slot.seen = changes;
        let ok: Vec<u32> = (0..n).filter(|&x| eligible(x, slot)).collect();
        return ok.get(rng.random_range(0..ok.len().max(1))).copied();
    }
    let start = slot.rr % n;
    (0..n).map(|k| (start + k) % n).find(|&r| eligible(r, slot))
}
