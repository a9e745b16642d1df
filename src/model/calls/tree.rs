//! Cancellation down the call tree. With `cancel_on_timeout`, a caller that gives up
//! makes the callee drop its execution (`answers.rs`, `cancel_if_asked`); this file
//! carries the cancellation further, as gRPC's server context does: the dropped
//! execution's calls still out are cancelled with it, and each of their callees drops
//! its work in turn, whatever the policy of those inner calls (in gRPC an outgoing call
//! made with the server's context is cancelled when that context is; the deadline it
//! carries has passed anyway).
//!
//! The tree is kept only when some policy has `cancel_on_timeout` (no other path
//! cancels an execution): which calls each execution has out, and which execution
//! serves each direct call (a call without a policy has no attempt record to hold it).
//!
//! *Invariants*: an entry lives from the call's start (or its execution's link) to the
//! call's end (`complete_call` removes both), so the tree follows live calls; a
//! cancelled call ends once, failed `timeout` (gRPC's DEADLINE_EXCEEDED), after its
//! attempts gave back what they held and its callees dropped their work.

use super::{CallId, Calls};
use crate::metrics::Outcome;
use crate::model::World;
use crate::model::event::{ExecId, Parent};
use crate::spec::{Cause, ReplicaId};
use std::collections::{BTreeMap, BTreeSet};

/// An arena id as one ordered key (slot, then generation).
fn key<T>(id: crate::arena::Id<T>) -> u64 {
    (id.index as u64) << 32 | id.generation as u64
}

#[derive(Default)]
pub(super) struct Tree {
    /// (execution, call): the calls each execution has out.
    children: BTreeSet<(u64, u64)>,
    /// The execution serving each direct call an execution made, once its request
    /// arrived.
    direct_exec: BTreeMap<u64, ExecId>,
}

impl Calls {
    /// A call made by `parent` started (kept if its parent is an execution). Without a
    /// tree, one test inline; the bookkeeping out of line, off the hot path.
    #[inline(always)]
    pub(super) fn tree_started(&mut self, parent: Parent, call: CallId) {
        if self.tree.is_some() {
            self.tree_started_kept(parent, call);
        }
    }

    #[inline(never)]
    fn tree_started_kept(&mut self, parent: Parent, call: CallId) {
        if let (Some(t), Parent::Exec { exec }) = (&mut self.tree, parent) {
            t.children.insert((key(exec), key(call)));
        }
    }

    /// A call execution `exec` made ended: out of the tree.
    #[inline(always)]
    pub(super) fn tree_ended(&mut self, exec: ExecId, call: CallId) {
        if self.tree.is_some() {
            self.tree_ended_kept(exec, call);
        }
    }

    #[inline(never)]
    fn tree_ended_kept(&mut self, exec: ExecId, call: CallId) {
        if let Some(t) = &mut self.tree {
            t.children.remove(&(key(exec), key(call)));
            t.direct_exec.remove(&key(call));
        }
    }

    /// Direct call `call` is served by execution `exec`.
    #[inline(always)]
    pub(in crate::model) fn set_direct_exec(&mut self, call: CallId, exec: ExecId) {
        if self.tree.is_some() {
            self.set_direct_exec_kept(call, exec);
        }
    }

    /// Kept for a call an execution made (only those are cancelled down the tree).
    #[inline(never)]
    fn set_direct_exec_kept(&mut self, call: CallId, exec: ExecId) {
        let made_by_exec = self.calls.get(call).is_some_and(|c| matches!(c.parent, Parent::Exec { .. }));
        if let Some(t) = &mut self.tree
            && made_by_exec
        {
            t.direct_exec.insert(key(call), exec);
        }
    }

    /// The calls execution `exec` has out, by slot (deterministic).
    fn children_of(&self, exec: ExecId) -> Vec<CallId> {
        let Some(t) = &self.tree else { return Vec::new() };
        let k = key(exec);
        t.children
            .range((k, 0)..=(k, u64::MAX))
            .map(|&(_, c)| crate::arena::Id::from_parts((c >> 32) as u32, c as u32))
            .collect()
    }

    /// Every entry names a live call (and its parent): the tree follows live calls.
    pub(in crate::model) fn check_tree(&self, violations: &mut Vec<String>) {
        let Some(t) = &self.tree else { return };
        let id = |k: u64| crate::arena::Id::from_parts((k >> 32) as u32, k as u32);
        for &(e, c) in &t.children {
            let parent_ok = self.calls.get(id(c)).is_some_and(|call| match call.parent {
                Parent::Exec { exec } => key(exec) == e,
                _ => false,
            });
            if !parent_ok {
                violations
                    .push(format!("the call tree holds call {:?}, ended or not its execution's", id(c)));
            }
        }
        for &c in t.direct_exec.keys() {
            if !self.calls.contains(id(c)) {
                violations.push(format!("the call tree holds direct call {:?} after its end", id(c)));
            }
        }
    }
}

impl World<'_> {
    /// A dropped execution's calls still out are cancelled, and their callees drop
    /// their work (`servers::cancel_exec` calls this once the execution is gone).
    pub(in crate::model) fn cancel_children(&mut self, exec: ExecId) {
        for call in self.calls.children_of(exec) {
            self.cancel_call(call);
        }
    }

    /// Cancels a call whose caller was dropped: its attempts give back what they hold
    /// (their breaker permission without a result, as an abandoned attempt's), each
    /// callee drops its work, and the call ends failed `timeout`.
    fn cancel_call(&mut self, call_id: CallId) {
        let now = self.sched.now();
        let Some(c) = self.calls.calls.get_mut(call_id) else { return };
        if c.policy.is_none() {
            // A direct call: its balancer's outstanding count goes back now (no answer
            // will come to give it back), and its execution, if its request arrived, is
            // dropped.
            let replica = std::mem::replace(&mut c.replica, ReplicaId::MAX);
            let (client, target, caller_slot) = (c.client, c.target, c.caller_slot);
            if replica != ReplicaId::MAX {
                self.clients.release(client, target, caller_slot, now, Some(replica), None);
            }
            let exec = self.calls.tree.as_ref().and_then(|t| t.direct_exec.get(&key(call_id)).copied());
            if let Some(exec) = exec {
                self.cancel_exec(exec);
            }
        } else {
            self.abandon_live_then(call_id, true);
        }
        self.complete_call(call_id, Outcome::Failed(Cause::Timeout));
    }
}
