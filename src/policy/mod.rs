//! Client-side resilience policies as pure, deterministic state machines.
//!
//! Each module copies the semantics of one real library, named in its header: retry
//! waits after the AWS "Exponential Backoff And Jitter" article (and tenacity for
//! `min`), circuit breakers after resilience4j (window style) and pybreaker (consecutive
//! style), the bulkhead after resilience4j's `SemaphoreBulkhead`, the retry budget after Finagle's `RetryBudget`, outlier detection after
//! Envoy's `consecutive_5xx`, rate limiters after Envoy's local rate limit and
//! resilience4j's `AtomicRateLimiter`, and health checking after Kubernetes probes and Envoy's
//! active health checker. One server-side machine sits here too: adaptive concurrency
//! (`adaptive/`), after Envoy's `adaptive_concurrency` gradient controller and Netflix
//! concurrency-limits' `AIMDLimit`.
//!
//! *Invariant*: nothing here reads a clock, schedules an event or draws from a random
//! stream of its own. The caller passes `now` (integer nanoseconds) and, where a draw is
//! needed, its own [`Rng`](crate::rng::Rng); the same inputs always give the same
//! outputs. No input the resolved spec allows makes any of these panic.

pub mod adaptive;
pub mod backoff;
pub mod breaker;
pub mod budget;
pub mod bulkhead;
pub mod health;
pub mod hpa;
pub mod outlier;
pub mod ratelimit;
