//! The rule table: every rule's id, default severity, what it says, why it matters, the
//! fix, and the real-world guidance it follows. `docs/lint.md` says the same at length;
//! the SARIF output's `tool.driver.rules` is built from this table.

/// How serious a finding is. `Error` findings fail `faultline lint` under the default
/// `--deny error`; `Warning` findings fail it only under `--deny warning`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One rule.
#[derive(Debug)]
pub struct Rule {
    /// The id written in `lint.allow` and shown as `warning[id]`.
    pub id: &'static str,
    pub severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix it.
    pub help: &'static str,
    /// The published guidance the rule follows (an absolute URL: SARIF's `helpUri`).
    pub guidance: &'static str,
}

/// Calls per request above which `chatty-endpoint` fires: at 99.9% success per call,
/// ten calls already make 99.0% (0.999^10), and ten round trips at 1 ms each are 10 ms
/// of a request's budget spent on the network alone.
pub const CHATTY_THRESHOLD: f64 = 10.0;

/// Depth (synchronous calls in sequence, the client's own request included) at which
/// `sync-chain-depth` fires: A → B → C → D.
pub const CHAIN_DEPTH: usize = 4;

/// Every rule, in the order of `docs/lint.md`.
pub const RULES: [Rule; 12] = [
    Rule {
        id: "shared-database",
        severity: Severity::Warning,
        summary: "a service of kind `database` is called by endpoints of two or more services",
        why: "services that share a database are coupled through its schema and its load: one service's migration, lock or slow query is every sharer's outage, and none of them can be deployed or scaled alone",
        help: "give each service its own database and let the others ask its owner through its API (or subscribe to its events)",
        guidance: "https://microservices.io/patterns/data/database-per-service.html",
    },
    Rule {
        id: "sync-chain-depth",
        severity: Severity::Warning,
        summary: "a synchronous call path of depth 4 or more from a workload",
        why: "every synchronous hop adds its latency and its failure chance to the request, and holds a worker on every service above it while it waits: the availability of the chain is the product of its links'",
        help: "shorten the chain: call in parallel what does not depend on each other, move work off the request path behind a topic, or keep a local copy of the data the deep hops fetch",
        guidance: "https://learn.microsoft.com/en-us/azure/architecture/microservices/design/interservice-communication",
    },
    Rule {
        id: "no-circuit-breaker",
        severity: Severity::Warning,
        summary: "a call with retries or a timeout but no circuit breaker, between services other workloads also depend on",
        why: "when the callee fails slowly, every call waits out its timeout (and its retries) and holds a worker of the caller meanwhile: the caller's workers run out and the failure spreads to the other workloads that share the caller or the callee",
        help: "add a `circuit_breaker` to the call's policy, so that calls fail fast while the callee is unhealthy (a `bulkhead` also keeps the caller's other work alive)",
        guidance: "https://martinfowler.com/bliki/CircuitBreaker.html",
    },
    Rule {
        id: "no-timeout",
        severity: Severity::Warning,
        summary: "a synchronous call with no timeout and no deadline",
        why: "a call without a timeout waits as long as the callee takes: a hung callee holds the caller's worker forever, and the caller's queue grows until it fails too",
        help: "give the call a policy with a `timeout` (per attempt) or a `deadline` (the whole call), a little above the callee's p99",
        guidance: "https://aws.amazon.com/builders-library/timeouts-retries-and-backoff-with-jitter/",
    },
    Rule {
        id: "timeout-inversion",
        severity: Severity::Error,
        summary: "a callee's timeout budget (attempts × timeout + backoff) is at least its caller's timeout or deadline",
        why: "the caller gives up while the callee is still waiting on (and retrying) the call below: the work goes on for nobody, and the caller's own retry starts a second copy of it",
        help: "make each layer's budget smaller than the timeout of the layer above it (or propagate the deadline and set `cancel_on_timeout`)",
        guidance: "https://grpc.io/docs/guides/deadlines/",
    },
    Rule {
        id: "retry-amplification",
        severity: Severity::Warning,
        summary: "retries at several layers of one path multiply the attempts that reach the leaf",
        why: "when the leaf fails, each layer retries the layer below: 3 attempts at 3 layers send 27 requests to the failing service for one user request, which keeps it down",
        help: "retry at one layer only (usually the one nearest the failure), and give the others one attempt",
        guidance: "https://sre.google/sre-book/addressing-cascading-failures/",
    },
    Rule {
        id: "retry-without-backoff",
        severity: Severity::Warning,
        summary: "a policy that retries at once, with no wait between attempts",
        why: "retries without a wait arrive while the callee is still overloaded, all at once from every caller: they turn a short failure into a retry storm",
        help: "add a `backoff` (exponential, with `jitter: \"full\"`) to the policy's `retry`",
        guidance: "https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/",
    },
    Rule {
        id: "retry-without-budget",
        severity: Severity::Warning,
        summary: "a policy that retries with no retry budget",
        why: "without a budget every failing call makes all its attempts, so when the callee fails the load on it is multiplied by max_attempts exactly when it can least take it (a metastable failure)",
        help: "add a `budget` to the policy's `retry` (Finagle's default: 20% of calls, 10 retries per second)",
        guidance: "https://twitter.github.io/finagle/guide/Clients.html#retries",
    },
    Rule {
        id: "saga-no-compensation",
        severity: Severity::Error,
        summary: "a saga step before the pivot has no compensation",
        why: "when a later step fails, the saga undoes what it did by running compensations in reverse order; a step without one leaves its effect behind (an order reserved, a card charged) for a saga that did not happen",
        help: "give the step a `compensation` endpoint that undoes its action (or move it after the pivot as a retriable step)",
        guidance: "https://microservices.io/patterns/data/saga.html",
    },
    Rule {
        id: "dual-write",
        severity: Severity::Error,
        summary: "an endpoint publishes without the outbox after a database call",
        why: "the database write and the publish are two writes that can fail apart: when the broker is down the data is written but never announced (or the request fails although its data was written)",
        help: "write the message in the same transaction as the data: set `\"outbox\": true` on the publish step (the transactional outbox)",
        guidance: "https://microservices.io/patterns/data/transactional-outbox.html",
    },
    Rule {
        id: "chatty-endpoint",
        severity: Severity::Warning,
        summary: "more than 10 expected calls per request below one endpoint",
        why: "each remote call adds a round trip and a failure chance: at 99.9% success per call, 10 calls give 99.0% and 50 give 95.1%, and the tail latency is that of the slowest call",
        help: "fetch in bulk (one call that returns many items instead of one call per item), cache what is read on every request, or denormalise the data the endpoint needs",
        guidance: "https://learn.microsoft.com/en-us/azure/architecture/antipatterns/chatty-io/",
    },
    Rule {
        id: "single-replica",
        severity: Severity::Warning,
        summary: "a service with one replica on a required synchronous path",
        why: "one replica is a single point of failure: a crash, a deploy or a node drain takes down every workload whose requests need it",
        help: "run at least two replicas (three to survive one failure during a rolling update), or make the call `optional` if the request can do without it",
        guidance: "https://kubernetes.io/docs/tasks/run-application/configure-pdb/",
    },
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The ids of every rule, in table order (for `lint.allow` and the JSON Schema).
pub fn ids() -> impl Iterator<Item = &'static str> {
    RULES.iter().map(|r| r.id)
}
