//! A service's `adaptive_concurrency` (docs/scenario-format.md, Adaptive concurrency):
//! Envoy's gradient controller or Netflix's AIMD limit, their keys and defaults.

use super::{P, R, fmt_f};
use crate::policy::adaptive::{Adaptive, AimdParams, GradientParams};
use crate::scenario::raw::{RawAdaptive, RawAimd, RawGradient};

impl R<'_> {
    pub(super) fn adaptive(&mut self, a: &RawAdaptive, path: &P) -> Adaptive {
        match a {
            RawAdaptive::Gradient(g) => Adaptive::Gradient(self.gradient(g, &path.k("gradient"))),
            RawAdaptive::Aimd(a) => Adaptive::Aimd(self.aimd(a, &path.k("aimd"))),
        }
    }

    /// Netflix's `AIMDLimit.Builder`: its preconditions (a backoff ratio in [0.5, 1), a
    /// positive timeout) and, where Netflix only logs a warning, an initial limit outside
    /// [min_limit, max_limit], are located errors; so is a minimum of 0 (the limit could
    /// reach 0, after which nothing is admitted and no sample could raise it) and a
    /// minimum above the maximum.
    fn aimd(&mut self, a: &RawAimd, path: &P) -> AimdParams {
        let mut p = AimdParams::default();
        if let Some(n) = a.min_limit {
            p.min_limit = self.at_least(n, 1, &path.k("min_limit"));
        }
        if let Some(n) = a.max_limit {
            p.max_limit = self.at_least(n, 1, &path.k("max_limit"));
        }
        if let Some(r) = a.backoff_ratio {
            if !r.is_finite() || !(0.5..1.0).contains(&r) {
                let msg = format!(
                    "expected a backoff ratio of at least 0.5 and below 1 (Netflix's AIMDLimit checks \
                     [0.5, 1.0)), found {}",
                    fmt_f(r)
                );
                self.err(&path.k("backoff_ratio"), msg);
            } else {
                p.backoff_ratio = r;
            }
        }
        if let Some(d) = &a.timeout {
            p.timeout_ns = self.dur_pos(d, &path.k("timeout"));
        }
        if p.min_limit > p.max_limit {
            let msg = format!("min_limit {} is above max_limit {}", p.min_limit, p.max_limit);
            self.err(&path.k("min_limit"), msg);
            p.min_limit = p.max_limit;
        }
        match a.initial_limit {
            Some(n) if n < p.min_limit || n > p.max_limit => {
                let msg = format!(
                    "initial_limit {n} is outside [min_limit, max_limit] = [{}, {}]",
                    p.min_limit, p.max_limit
                );
                self.err(&path.k("initial_limit"), msg);
            }
            Some(n) => p.initial_limit = n,
            // Netflix's defaults (20 within [20, 200]); a default outside bounds the user
            // set is taken to the nearest bound rather than refused.
            None => p.initial_limit = p.initial_limit.clamp(p.min_limit, p.max_limit),
        }
        p
    }

    fn gradient(&mut self, g: &RawGradient, path: &P) -> GradientParams {
        let mut p = GradientParams::default();
        if let Some(c) = &g.concurrency_limit_params {
            let cp = path.k("concurrency_limit_params");
            if let Some(m) = c.max_concurrency_limit {
                p.max_limit = self.at_least(m, 1, &cp.k("max_concurrency_limit"));
            }
            if let Some(d) = &c.concurrency_update_interval {
                p.update_interval_ns = self.dur_pos(d, &cp.k("concurrency_update_interval")).max(1);
            }
        }
        if let Some(m) = &g.min_rtt_calc_params {
            let mp = path.k("min_rtt_calc_params");
            if let Some(d) = &m.interval {
                p.min_rtt_interval_ns = self.dur_pos(d, &mp.k("interval")).max(1);
            }
            if let Some(n) = m.request_count {
                p.request_count = self.at_least(n, 1, &mp.k("request_count"));
            }
            if let Some(j) = m.jitter {
                p.jitter = self.pct(j, &mp.k("jitter"));
            }
            if let Some(n) = m.min_concurrency {
                p.min_concurrency = self.at_least(n, 1, &mp.k("min_concurrency"));
            }
            if let Some(b) = m.buffer {
                p.buffer = self.pct(b, &mp.k("buffer"));
            }
        }
        if let Some(q) = g.sample_aggregate_percentile {
            let qp = path.k("sample_aggregate_percentile");
            if !q.is_finite() || q <= 0.0 || q > 100.0 {
                self.err(&qp, format!("expected a percentile above 0 and at most 100, found {}", fmt_f(q)));
            } else {
                p.percentile = q / 100.0;
            }
        }
        if p.min_concurrency > p.max_limit {
            self.err(
                &path.k("min_rtt_calc_params").k("min_concurrency"),
                format!(
                    "min_concurrency {} is above max_concurrency_limit {}: the limit could never reach it",
                    p.min_concurrency, p.max_limit
                ),
            );
            p.min_concurrency = p.max_limit;
        }
        p
    }
}
