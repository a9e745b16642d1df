//! A service's `adaptive_concurrency` (docs/scenario-format.md, Adaptive concurrency):
//! Envoy's gradient controller, its keys and defaults.

use super::{P, R, fmt_f};
use crate::policy::adaptive::{Adaptive, GradientParams};
use crate::scenario::raw::{RawAdaptive, RawGradient};

impl R<'_> {
    pub(super) fn adaptive(&mut self, a: &RawAdaptive, path: &P) -> Adaptive {
        match a {
            RawAdaptive::Gradient(g) => Adaptive::Gradient(self.gradient(g, &path.k("gradient"))),
        }
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
