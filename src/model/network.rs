//! The network room: one path per ordered (caller, callee) service pair, with its
//! latency, its loss (the link's and active `loss` faults'), and the partitions that
//! cut it. A message on a path is delayed, or lost.
//!
//! *Invariant*: a path is cut exactly while at least one active partition separates
//! its ends (`cut` counts them); fault loss is added at a fault's start and taken away
//! at its end.

use crate::dist::Dist;
use crate::rng::{Rng, rng_stream};
use crate::spec::{Nanos, ServiceId, Spec};
use rand::RngExt;
use std::collections::BTreeMap;

/// The path of a workload's client: no network hop (the request is at the replica at
/// once).
pub(super) const NO_NET: u32 = u32::MAX;

struct Path {
    from: ServiceId,
    to: ServiceId,
    latency: Option<Dist>,
    /// The delay of every message when the latency is fixed (none, or a constant: no
    /// draw is made either way), so that the hot path samples nothing.
    fixed: Option<Nanos>,
    loss_p: f64,
    /// Extra loss from active `loss` faults.
    fault_loss_p: f64,
    /// Active partitions that cut this path.
    cut: u32,
    rng: Rng,
}

#[derive(Default)]
pub(super) struct Network {
    paths: Vec<Path>,
    index: BTreeMap<(ServiceId, ServiceId), u32>,
}

impl Network {
    /// The path from one service to another, made on first use (in scenario order, so
    /// the random streams are the same whatever else the scenario holds).
    pub(super) fn path_for(&mut self, spec: &Spec, from: ServiceId, to: ServiceId) -> u32 {
        let paths = &mut self.paths;
        *self.index.entry((from, to)).or_insert_with(|| {
            let link = spec.network.links.iter().find(|l| l.from == from && l.to == to);
            let latency =
                link.and_then(|l| l.latency.clone()).or_else(|| spec.network.default_latency.clone());
            let loss_p = link.map(|l| l.loss_p).unwrap_or(0.0);
            let name =
                format!("network/{}->{}", spec.services[from as usize].name, spec.services[to as usize].name);
            let mut rng = rng_stream(spec.seed, &name);
            let fixed = match &latency {
                None => Some(0),
                // A constant's sample is the constant, rounded; it draws nothing.
                Some(d @ Dist::Constant(_)) => Some(d.sample(&mut rng)),
                Some(_) => None,
            };
            paths.push(Path { from, to, latency, fixed, loss_p, fault_loss_p: 0.0, cut: 0, rng });
            (paths.len() - 1) as u32
        })
    }

    /// The delay of one message on a path, or `None` if the message is lost (link loss,
    /// a `loss` fault, or a partition).
    #[inline]
    pub(super) fn delay(&mut self, net: u32) -> Option<Nanos> {
        let n = &mut self.paths[net as usize];
        if n.cut > 0 {
            return None;
        }
        let loss = n.loss_p + n.fault_loss_p;
        if loss > 0.0 && n.rng.random::<f64>() < loss {
            return None;
        }
        if let Some(d) = n.fixed {
            return Some(d);
        }
        Some(n.latency.as_ref().map(|d| d.sample(&mut n.rng)).unwrap_or(0))
    }

    /// A `loss` fault from `from` to `to` starts (`sign` 1) or ends (-1).
    pub(super) fn fault_loss(&mut self, from: ServiceId, to: ServiceId, p: f64, sign: f64) {
        for n in &mut self.paths {
            if n.from == from && n.to == to {
                n.fault_loss_p = if sign > 0.0 { n.fault_loss_p + p } else { (n.fault_loss_p - p).max(0.0) };
            }
        }
    }

    /// A partition between the service sets `a` and `b` starts (`delta` 1) or ends (-1).
    pub(super) fn partition(&mut self, a: &[ServiceId], b: &[ServiceId], delta: i32) {
        for n in &mut self.paths {
            let across =
                (a.contains(&n.from) && b.contains(&n.to)) || (b.contains(&n.from) && a.contains(&n.to));
            if across {
                n.cut = n.cut.saturating_add_signed(delta);
            }
        }
    }
}
