//! Autoscaling on the services chart: per autoscaled service, its replicas in service
//! (the series' `replicas`) against the scale its HPA asked for (`desired_replicas`,
//! starting replicas included), between `min_replicas` and `max_replicas` (grey); and
//! the utilisation of the workers in service (the series' utilisation is against all
//! `max_replicas` slots: × slots ÷ replicas in service) against the target when the
//! metric is `utilization` (grey).

use super::axis::Axis;
use super::data::{column_values, times_s, total_max};
use super::panel::{Layer, Panel, Window};
use super::style::{BLUE, GREEN, GREY, ORANGE};
use crate::metrics::{Scope, Series};
use crate::policy::hpa::ScaleMetric;
use crate::spec::Spec;

pub(super) fn autoscale_panels(spec: &Spec, series: &Series, dur_s: f64, windows: &[Window]) -> Vec<Panel> {
    let xs = times_s(series);
    let ends = (xs.first().copied().unwrap_or(0.0), xs.last().copied().unwrap_or(dur_s));
    let flat = |y: f64| Layer::Line { pts: vec![(ends.0, y), (ends.1, y)], color: GREY, width: 1 };
    let mut panels = Vec::new();
    for s in &spec.services {
        let Some(a) = &s.autoscale else { continue };
        if series.column(Scope::Service, &s.name, "replicas").is_none() {
            continue;
        }
        let serving = column_values(series, Scope::Service, &s.name, "replicas");
        let desired = column_values(series, Scope::Service, &s.name, "desired_replicas");
        let (min, max) = (f64::from(a.params.min), f64::from(a.params.max));
        let mut rp = Panel::new(
            Axis::time(dur_s),
            Axis::count(max.max(total_max(&desired)), "replicas"),
            windows.to_vec(),
        );
        rp.heading = Some(format!(
            "{}: replicas in service (blue), asked for (orange); grey: {} to {}",
            s.name, a.params.min, a.params.max
        ));
        rp.layers.push(flat(min));
        rp.layers.push(flat(max));
        rp.layers.push(Layer::Line {
            pts: xs.iter().copied().zip(desired).collect(),
            color: ORANGE,
            width: 2,
        });
        rp.layers.push(Layer::Line {
            pts: xs.iter().copied().zip(serving.iter().copied()).collect(),
            color: BLUE,
            width: 2,
        });
        let slots = f64::from(s.replicas.max(1));
        let util: Vec<f64> = column_values(series, Scope::Service, &s.name, "utilization")
            .into_iter()
            .zip(&serving)
            .map(|(u, r)| if *r > 0.0 { 100.0 * u * slots / r } else { f64::NAN })
            .collect();
        let target = matches!(a.metric, ScaleMetric::Utilization).then_some(a.target);
        let top = total_max(&util).max(target.unwrap_or(0.0));
        let mut up = Panel::new(Axis::time(dur_s), Axis::linear(top, 100.0, "busy (%)"), windows.to_vec());
        up.heading = Some(match target {
            Some(t) => format!("{}: utilisation of the replicas in service (grey: target {t} %)", s.name),
            None => format!("{}: utilisation of the replicas in service (%)", s.name),
        });
        if let Some(t) = target {
            up.layers.push(flat(t));
        }
        up.layers.push(Layer::Line { pts: xs.iter().copied().zip(util).collect(), color: GREEN, width: 2 });
        for p in [&mut rp, &mut up] {
            p.window_labels = false;
        }
        panels.push(rp);
        panels.push(up);
    }
    panels
}
