//! The vocabulary the rooms share: the events the dispatcher routes, who waits for a
//! call (`Parent`) or an execution (`Origin`), and the typed ids of the arenas.

use crate::arena::Id;
use crate::metrics::Outcome;
use crate::spec::ReplicaId;

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
