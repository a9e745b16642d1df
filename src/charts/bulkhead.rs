//! The bulkheads on the services chart: per call edge whose policy has one, the permits
//! in use and the attempts waiting for one at the end of each interval (the series'
//! `bulkhead_in_use` and `bulkhead_waiting`, summed over the caller's replicas), with
//! the limit drawn as a grey line.

use super::axis::Axis;
use super::data::{column_values, times_s, total_max};
use super::panel::{Layer, Panel, Window};
use super::style::{GREY, ORANGE, SKY};
use crate::metrics::{Scope, Series};
use crate::spec::{Scope as PolicyScope, Spec};

/// Two panels per bulkhead (caller, target service, policy) with a column: permits in
/// use (with the limit) and attempts waiting. Edges to other endpoints of the same
/// service under the same policy share the bulkhead, so it is drawn once, named
/// `CALLER->SERVICE/POLICY` as the breakers are.
pub(super) fn bulkhead_panels(spec: &Spec, series: &Series, dur_s: f64, windows: &[Window]) -> Vec<Panel> {
    let xs = times_s(series);
    let policies = crate::model::edge_bulkhead_policy(spec);
    let mut panels = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (e, p) in spec.edges.iter().zip(policies) {
        let Some((p, pol)) = p.map(|p| (p, &spec.policies[p as usize])) else { continue };
        let Some(bh) = &pol.bulkhead else { continue };
        if series.column(Scope::Call, &e.name, "bulkhead_in_use").is_none() {
            continue;
        }
        let target = &spec.services[spec.endpoints[e.target as usize].service as usize].name;
        let caller = e.name.split("->").next().unwrap_or_default();
        let name = format!("{caller}->{target}/{}", pol.name);
        if !seen.insert((e.caller, spec.endpoints[e.target as usize].service, p, caller.to_string())) {
            continue;
        }
        // The limit of all the instances the column sums: one per caller replica, or one
        // shared by the caller's replicas.
        let instances = match e.caller {
            Some(c) if pol.scope == PolicyScope::Replica => spec.services[c as usize].replicas,
            _ => 1,
        };
        let limit = f64::from(bh.max_concurrent) * f64::from(instances);
        let used = column_values(series, Scope::Call, &e.name, "bulkhead_in_use");
        let waiting = column_values(series, Scope::Call, &e.name, "bulkhead_waiting");
        let mut up = Panel::new(
            Axis::time(dur_s),
            Axis::count(total_max(&used).max(limit), "permits"),
            windows.to_vec(),
        );
        up.heading = Some(if instances > 1 {
            format!("{name}: permits in use (limit {} × {instances})", bh.max_concurrent)
        } else {
            format!("{name}: permits in use (limit {})", bh.max_concurrent)
        });
        let ends = (xs.first().copied().unwrap_or(0.0), xs.last().copied().unwrap_or(dur_s));
        up.layers.push(Layer::Line { pts: vec![(ends.0, limit), (ends.1, limit)], color: GREY, width: 1 });
        up.layers.push(Layer::Line { pts: xs.iter().copied().zip(used).collect(), color: ORANGE, width: 2 });
        let mut wp =
            Panel::new(Axis::time(dur_s), Axis::count(total_max(&waiting), "waiting"), windows.to_vec());
        wp.heading = Some(format!("{name}: attempts waiting"));
        wp.layers.push(Layer::Line { pts: xs.iter().copied().zip(waiting).collect(), color: SKY, width: 2 });
        for p in [&mut up, &mut wp] {
            p.window_labels = false;
        }
        panels.push(up);
        panels.push(wp);
    }
    panels
}
