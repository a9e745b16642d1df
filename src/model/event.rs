//! The vocabulary the rooms share: the events the dispatcher routes, who waits for a
//! call (`Parent`) or an execution (`Origin`), and the typed ids of the arenas.

use crate::arena::Id;
use crate::engine::{Event, Words};
use crate::metrics::Outcome;
use crate::spec::{Cause, ReplicaId};

pub(super) type CallId = Id<super::calls::Call>;
pub(super) type AttId = Id<super::calls::Attempt>;
pub(super) type ExecId = Id<super::servers::Exec>;
pub(super) type SagaRunId = Id<super::sagas::SagaRun>;

/// Every event of the model. Each variant is handled by one room (see `World::handle`).
#[derive(Clone, Copy, Debug)]
pub(super) enum Ev {
    /// The next arrival of an open workload.
    Arrival {
        wl: u32,
    },
    /// A closed workload's user sends its next request.
    UserSend {
        wl: u32,
        user: u32,
    },
    /// An attempt's request reaches the callee replica.
    AttemptArrive {
        att: AttId,
    },
    /// A direct call's request (no policy, no attempt record) reaches the callee replica.
    CallArrive {
        call: CallId,
    },
    /// An execution finished its own latency or a `work` step.
    ExecWake {
        exec: ExecId,
    },
    /// `ExecWake` of an execution that serves a direct call, with that call's slot, so
    /// that both records are fetched from memory at once: with a million requests in
    /// flight each is a cache miss, and the call's could otherwise only start once the
    /// execution's had named it.
    CallExecWake {
        exec: ExecId,
        call: u32,
    },
    /// An attempt's answer reaches its caller (or a local refusal: breaker, bulkhead,
    /// no replica).
    Response {
        att: AttId,
        outcome: Outcome,
    },
    /// A direct call's answer reaches its caller (or its local refusal: no replica).
    CallResponse {
        call: CallId,
        outcome: Outcome,
    },
    /// An attempt's per-try timeout.
    AttemptTimeout {
        att: AttId,
    },
    /// A bulkhead waiter's `max_wait` ran out.
    BulkheadExpire {
        att: AttId,
    },
    /// A bulkhead waiter got its permit: send it.
    Admit {
        att: AttId,
    },
    /// A caller's reserved rate-limit permission is due: on to the bulkhead.
    RateLimitPass {
        att: AttId,
    },
    /// A call's backoff ended: send the next attempt.
    RetryFire {
        call: CallId,
    },
    /// A call's hedging delay ended: send another attempt if no answer came.
    HedgeFire {
        call: CallId,
        try_no: u32,
    },
    /// A call's overall deadline.
    CallDeadline {
        call: CallId,
    },
    FaultStart {
        fault: u32,
    },
    FaultEnd {
        fault: u32,
    },
    /// A crashed (or liveness-killed) replica comes back, if it is still in the
    /// downtime `epoch` this restart was scheduled for.
    Restart {
        replica: ReplicaId,
        epoch: u32,
    },
    /// A topic's outbox relay wakes up.
    RelayTick {
        topic: u32,
    },
    /// A failed message's backoff ended: deliver it again.
    ConsumerRetry {
        group: u32,
        part: u32,
        epoch: u32,
    },
    /// A group reassigns its partitions among its live consumers.
    Rebalance {
        group: u32,
    },
    /// A consumer commits its offsets (Kafka's auto-commit).
    CommitTick {
        group: u32,
        consumer: u32,
        epoch: u32,
    },
    /// A saga's retriable step or persistent compensation is tried again.
    SagaRetry {
        saga: SagaRunId,
        epoch: u32,
    },
    /// A health probe of one replica.
    Probe {
        replica: ReplicaId,
    },
    /// A handler's answer reaches its consumer. Delivered as an event, never inline, so
    /// that a backlog whose handler fails at once is drained one event at a time rather
    /// than by a recursion as deep as the backlog (`kick → arrive → answer → kick`).
    ConsumerAnswer {
        group: u32,
        part: u32,
        epoch: u32,
        outcome: Outcome,
    },
    /// A work queue's handler answers its consumer (an event, for the reason above).
    QueueAnswer {
        queue: u32,
        consumer: u32,
        slot: u32,
        outcome: Outcome,
    },
    /// A receive's visibility timeout runs out; `receipt` is the message's at that receive.
    VisibilityExpire {
        queue: u32,
        slot: u32,
        receipt: u32,
    },
    /// A work queue's outbox relay wakes up.
    QueueRelayTick {
        queue: u32,
    },
    /// An autoscaler's reconciliation (`autoscale/`).
    HpaSync {
        scaler: u32,
    },
    /// A scaled-up replica's startup is over; `tag` is its slot's at the scale-up.
    ScaleReady {
        replica: ReplicaId,
        tag: u32,
    },
    /// A draining replica is looked at: off once it holds nothing.
    DrainCheck {
        replica: ReplicaId,
        tag: u32,
    },
}

// The scheduler moves events by value and a call carries its parent: neither grows
// with a wider field unnoticed (a saga's `epoch` is 32 bits and still fits).
const _: () = assert!(std::mem::size_of::<Ev>() == 16);
const _: () = assert!(std::mem::size_of::<Parent>() == 16);

/// Who made a call, and gets its outcome.
#[derive(Clone, Copy, Debug)]
pub(super) enum Parent {
    /// A workload's request; `user` is the closed-loop user, or `u32::MAX`.
    Root { wl: u32, user: u32 },
    /// A synchronous step of an execution.
    Exec { exec: ExecId },
    /// A saga's action (`comp` false) or compensation of step `step`; `epoch` is the
    /// saga's when the call was made (a resumed durable saga ignores older answers).
    Saga { saga: SagaRunId, step: u16, comp: bool, epoch: u32 },
}

/// Who is waiting for an execution's answer.
#[derive(Clone, Copy, Debug)]
pub(super) enum Origin {
    /// A call's attempt (a synchronous request).
    Attempt(AttId),
    /// A direct call, which carries its one attempt itself (no policy; `calls/direct.rs`).
    Call(CallId),
    /// A consumer handling a message of a group's partition; `epoch` is the partition's,
    /// so that the answer of a consumer that has since lost the partition is ignored.
    Consumer { group: u32, part: u32, epoch: u32 },
    /// A work queue's consumer handling the message in `slot` (held until it answers).
    Queue { queue: u32, consumer: u32, slot: u32 },
}

impl Origin {
    /// The origin in two words, to pass it by value in registers (see `World::arrive`).
    #[inline(always)]
    pub(super) fn to_words(self) -> Words {
        match self {
            Origin::Attempt(att) => words(0, 0, att.index, att.generation, 0),
            Origin::Call(call) => words(1, 0, call.index, call.generation, 0),
            Origin::Consumer { group, part, epoch } => words(2, 0, group, part, epoch),
            Origin::Queue { queue, consumer, slot } => words(3, 0, queue, consumer, slot),
        }
    }

    #[inline(always)]
    pub(super) fn from_words(w: Words) -> Origin {
        let (a, b, c) = ((w.0 >> 32) as u32, w.1 as u32, (w.1 >> 32) as u32);
        match w.0 & 0xFF {
            0 => Origin::Attempt(Id::from_parts(a, b)),
            1 => Origin::Call(Id::from_parts(a, b)),
            2 => Origin::Consumer { group: a, part: b, epoch: c },
            _ => Origin::Queue { queue: a, consumer: b, slot: c },
        }
    }
}

// ---- the event as the queue keeps it --------------------------------------------------

/// An outcome in a byte: 0 and 1 a success (degraded or not), 2 + the cause a failure.
#[inline(always)]
fn outcome_code(o: Outcome) -> u64 {
    match o {
        Outcome::Ok { degraded } => u64::from(degraded),
        Outcome::Failed(c) => 2 + c as u64,
    }
}

#[inline(always)]
fn outcome_of(code: u64) -> Outcome {
    match code {
        0 | 1 => Outcome::Ok { degraded: code == 1 },
        c => Outcome::Failed(Cause::ALL[(c - 2) as usize]),
    }
}

/// The words of an event: the variant's tag in bits 0..8 of the first, an outcome in
/// bits 8..16, and up to three `u32` fields, `a` in the first word's high half, `b`
/// and `c` in the second's halves (an arena id takes two: index, then generation).
#[inline(always)]
fn words(tag: u64, outcome: u64, a: u32, b: u32, c: u32) -> Words {
    Words(tag | outcome << 8 | u64::from(a) << 32, u64::from(b) | u64::from(c) << 32)
}

impl Event for Ev {
    #[inline(always)]
    fn pack(self) -> Words {
        use Ev::*;
        match self {
            Arrival { wl } => words(0, 0, wl, 0, 0),
            UserSend { wl, user } => words(1, 0, wl, user, 0),
            AttemptArrive { att } => words(2, 0, att.index, att.generation, 0),
            CallArrive { call } => words(3, 0, call.index, call.generation, 0),
            ExecWake { exec } => words(4, 0, exec.index, exec.generation, 0),
            CallExecWake { exec, call } => words(5, 0, exec.index, exec.generation, call),
            Response { att, outcome } => words(6, outcome_code(outcome), att.index, att.generation, 0),
            CallResponse { call, outcome } => words(7, outcome_code(outcome), call.index, call.generation, 0),
            AttemptTimeout { att } => words(8, 0, att.index, att.generation, 0),
            BulkheadExpire { att } => words(9, 0, att.index, att.generation, 0),
            Admit { att } => words(10, 0, att.index, att.generation, 0),
            RateLimitPass { att } => words(11, 0, att.index, att.generation, 0),
            RetryFire { call } => words(12, 0, call.index, call.generation, 0),
            HedgeFire { call, try_no } => words(13, 0, call.index, call.generation, try_no),
            CallDeadline { call } => words(14, 0, call.index, call.generation, 0),
            FaultStart { fault } => words(15, 0, fault, 0, 0),
            FaultEnd { fault } => words(16, 0, fault, 0, 0),
            Restart { replica, epoch } => words(17, 0, replica, epoch, 0),
            RelayTick { topic } => words(18, 0, topic, 0, 0),
            ConsumerRetry { group, part, epoch } => words(19, 0, group, part, epoch),
            Rebalance { group } => words(20, 0, group, 0, 0),
            CommitTick { group, consumer, epoch } => words(21, 0, group, consumer, epoch),
            SagaRetry { saga, epoch } => words(22, 0, saga.index, saga.generation, epoch),
            Probe { replica } => words(23, 0, replica, 0, 0),
            ConsumerAnswer { group, part, epoch, outcome } => {
                words(24, outcome_code(outcome), group, part, epoch)
            }
            QueueAnswer { queue, consumer, slot, outcome } => {
                words(25, outcome_code(outcome), queue, consumer, slot)
            }
            VisibilityExpire { queue, slot, receipt } => words(26, 0, queue, slot, receipt),
            QueueRelayTick { queue } => words(27, 0, queue, 0, 0),
            HpaSync { scaler } => words(28, 0, scaler, 0, 0),
            ScaleReady { replica, tag } => words(29, 0, replica, tag, 0),
            DrainCheck { replica, tag } => words(30, 0, replica, tag, 0),
        }
    }

    #[inline(always)]
    fn unpack(w: Words) -> Ev {
        use Ev::*;
        let (a, b, c) = ((w.0 >> 32) as u32, w.1 as u32, (w.1 >> 32) as u32);
        let outcome = || outcome_of((w.0 >> 8) & 0xFF);
        match w.0 & 0xFF {
            0 => Arrival { wl: a },
            1 => UserSend { wl: a, user: b },
            2 => AttemptArrive { att: Id::from_parts(a, b) },
            3 => CallArrive { call: Id::from_parts(a, b) },
            4 => ExecWake { exec: Id::from_parts(a, b) },
            5 => CallExecWake { exec: Id::from_parts(a, b), call: c },
            6 => Response { att: Id::from_parts(a, b), outcome: outcome() },
            7 => CallResponse { call: Id::from_parts(a, b), outcome: outcome() },
            8 => AttemptTimeout { att: Id::from_parts(a, b) },
            9 => BulkheadExpire { att: Id::from_parts(a, b) },
            10 => Admit { att: Id::from_parts(a, b) },
            11 => RateLimitPass { att: Id::from_parts(a, b) },
            12 => RetryFire { call: Id::from_parts(a, b) },
            13 => HedgeFire { call: Id::from_parts(a, b), try_no: c },
            14 => CallDeadline { call: Id::from_parts(a, b) },
            15 => FaultStart { fault: a },
            16 => FaultEnd { fault: a },
            17 => Restart { replica: a, epoch: b },
            18 => RelayTick { topic: a },
            19 => ConsumerRetry { group: a, part: b, epoch: c },
            20 => Rebalance { group: a },
            21 => CommitTick { group: a, consumer: b, epoch: c },
            22 => SagaRetry { saga: Id::from_parts(a, b), epoch: c },
            23 => Probe { replica: a },
            24 => ConsumerAnswer { group: a, part: b, epoch: c, outcome: outcome() },
            25 => QueueAnswer { queue: a, consumer: b, slot: c, outcome: outcome() },
            26 => VisibilityExpire { queue: a, slot: b, receipt: c },
            27 => QueueRelayTick { queue: a },
            28 => HpaSync { scaler: a },
            29 => ScaleReady { replica: a, tag: b },
            30 => DrainCheck { replica: a, tag: b },
            t => unreachable!("no event has tag {t}: packed by Ev::pack"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant, with fields that tell each apart (and at their widths).
    fn every_variant() -> Vec<Ev> {
        fn id<T>(i: u32, g: u32) -> Id<T> {
            Id::from_parts(i, g)
        }
        let failed = |k: usize| Outcome::Failed(Cause::ALL[k % Cause::COUNT]);
        let m = u32::MAX;
        vec![
            Ev::Arrival { wl: m },
            Ev::UserSend { wl: 1, user: m },
            Ev::AttemptArrive { att: id(m, 3) },
            Ev::CallArrive { call: id(4, m) },
            Ev::ExecWake { exec: id(5, 6) },
            Ev::CallExecWake { exec: id(7, 8), call: m },
            Ev::Response { att: id(9, 10), outcome: Outcome::Ok { degraded: true } },
            Ev::CallResponse { call: id(11, 12), outcome: failed(7) },
            Ev::AttemptTimeout { att: id(13, 14) },
            Ev::BulkheadExpire { att: id(15, 16) },
            Ev::Admit { att: id(17, 18) },
            Ev::RateLimitPass { att: id(19, 20) },
            Ev::RetryFire { call: id(21, 22) },
            Ev::HedgeFire { call: id(23, 24), try_no: m },
            Ev::CallDeadline { call: id(25, 26) },
            Ev::FaultStart { fault: 27 },
            Ev::FaultEnd { fault: m },
            Ev::Restart { replica: 28, epoch: m },
            Ev::RelayTick { topic: 29 },
            Ev::ConsumerRetry { group: 30, part: 31, epoch: m },
            Ev::Rebalance { group: 32 },
            Ev::CommitTick { group: 33, consumer: 34, epoch: m },
            Ev::SagaRetry { saga: id(35, 36), epoch: m },
            Ev::Probe { replica: 37 },
            Ev::ConsumerAnswer { group: 38, part: 39, epoch: m, outcome: failed(0) },
            Ev::QueueAnswer { queue: 40, consumer: 41, slot: m, outcome: Outcome::OK },
            Ev::VisibilityExpire { queue: 42, slot: 43, receipt: m },
            Ev::QueueRelayTick { queue: 44 },
            Ev::HpaSync { scaler: 45 },
            Ev::ScaleReady { replica: 46, tag: m },
            Ev::DrainCheck { replica: 47, tag: m },
        ]
    }

    #[test]
    fn every_origin_comes_back_from_its_words() {
        for o in [
            Origin::Attempt(Id::from_parts(u32::MAX, 1)),
            Origin::Call(Id::from_parts(2, u32::MAX)),
            Origin::Consumer { group: 3, part: 4, epoch: u32::MAX },
            Origin::Queue { queue: 5, consumer: 6, slot: u32::MAX },
        ] {
            assert_eq!(format!("{:?}", Origin::from_words(o.to_words())), format!("{o:?}"));
        }
    }

    #[test]
    fn every_event_comes_back_from_its_words_as_it_went_in() {
        let all = every_variant();
        let mut tags: Vec<u64> = all.iter().map(|e| e.pack().0 & 0xFF).collect();
        tags.sort_unstable();
        tags.dedup();
        // Tags 0, 1, ... with none twice: the list has every variant `unpack` knows.
        assert_eq!(tags, (0..all.len() as u64).collect::<Vec<_>>());
        assert!(std::panic::catch_unwind(|| Ev::unpack(Words(all.len() as u64, 0))).is_err());
        for e in all {
            assert_eq!(format!("{:?}", Ev::unpack(e.pack())), format!("{e:?}"));
        }
        // Every outcome, in the variants that carry one.
        let outcomes = [Outcome::Ok { degraded: false }, Outcome::Ok { degraded: true }]
            .into_iter()
            .chain(Cause::ALL.map(Outcome::Failed));
        for o in outcomes {
            let e = Ev::Response { att: Id::from_parts(1, 2), outcome: o };
            assert!(matches!(Ev::unpack(e.pack()), Ev::Response { outcome, .. } if outcome == o));
        }
    }
}
