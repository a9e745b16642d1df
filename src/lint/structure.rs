//! Rules about how data and services are laid out: `shared-database`, `dual-write`,
//! `saga-no-compensation`, `single-replica`.

use serde_json::json;

use super::graph::{Graph, endpoint_path, service_path};
use super::{Finding, Related};
use crate::scenario::pointer::escape;
use crate::spec::{ServiceKind, Step};

/// A service of kind `database` called by endpoints (or saga orchestrators) of two or
/// more other services.
pub fn shared_database(g: &Graph, out: &mut Vec<Finding>) {
    let spec = g.spec;
    for (d, svc) in spec.services.iter().enumerate() {
        if svc.kind != ServiceKind::Database {
            continue;
        }
        // Each calling service once, at its first call into the database, in file order;
        // a saga's compensations are calls of its orchestrator too.
        let in_db = |t: u32| spec.endpoints[t as usize].service as usize == d;
        let mut callers: Vec<(u32, String)> = Vec::new();
        let mut add = |caller: u32, path: String| {
            if caller as usize != d && !callers.iter().any(|(c, _)| *c == caller) {
                callers.push((caller, path));
            }
        };
        for (s, site) in g.sites.iter().enumerate() {
            if let Some(caller) = g.caller_service(s)
                && site.targets.iter().any(|(t, _)| in_db(*t))
            {
                add(caller, site.path.clone());
            }
        }
        for saga in &spec.sagas {
            for (i, st) in saga.steps.iter().enumerate() {
                if st.compensation.is_some_and(in_db) {
                    add(saga.orchestrator, format!("/sagas/{}/steps/{i}/compensation", escape(&saga.name)));
                }
            }
        }
        if callers.len() < 2 {
            continue;
        }
        let names: Vec<String> = callers.iter().map(|(c, _)| format!("`{}`", g.svc_name(*c))).collect();
        let related = callers
            .iter()
            .map(|(c, path)| Related {
                path: path.clone(),
                message: format!("`{}` calls the database here", g.svc_name(*c)),
            })
            .collect();
        out.push(Finding {
            rule: super::rules::rule("shared-database").expect("rule"),
            path: service_path(spec, d as u32),
            message: format!(
                "database `{}` is shared by {} services: {}",
                svc.name,
                callers.len(),
                names.join(", ")
            ),
            notes: Vec::new(),
            related,
            facts: json!({
                "database": svc.name,
                "services": callers.iter().map(|(c, _)| g.svc_name(*c)).collect::<Vec<_>>(),
            }),
        });
    }
}

/// A `publish` or `enqueue` without the outbox after a call into a database, in one endpoint.
pub fn dual_write(g: &Graph, out: &mut Vec<Finding>) {
    let spec = g.spec;
    for (e, ep) in spec.endpoints.iter().enumerate() {
        let mut db_call: Option<usize> = None;
        for (k, step) in ep.steps.iter().enumerate() {
            let sent = match step {
                Step::Publish { topic, outbox: false } => {
                    Some(("publishes to", &spec.topics[*topic as usize].name))
                }
                Step::Enqueue { queue, outbox: false } => {
                    Some(("enqueues to", &spec.queues[*queue as usize].name))
                }
                _ => None,
            };
            if let Some((verb, topic)) = sent
                && let Some(s) = db_call
            {
                let (t, _) = g.sites[s]
                    .targets
                    .iter()
                    .find(|(t, _)| is_db(g, *t))
                    .copied()
                    .expect("a database target");
                out.push(Finding {
                    rule: super::rules::rule("dual-write").expect("rule"),
                    path: format!("{}/steps/{k}", endpoint_path(spec, e as u32)),
                    message: format!(
                        "`{}` {verb} `{topic}` without the outbox after writing to `{}`",
                        ep.name,
                        g.ep_name(t)
                    ),
                    notes: vec![format!(
                        "if the broker of `{topic}` is unreachable, the write to `{}` stands and the message is lost (or the request fails although its data was written)",
                        g.svc_name(spec.endpoints[t as usize].service)
                    )],
                    related: vec![Related {
                        path: g.sites[s].path.clone(),
                        message: format!("the database call to `{}`", g.ep_name(t)),
                    }],
                    facts: json!({"endpoint": ep.name, "topic": topic, "database_call": g.ep_name(t)}),
                });
            }
            if db_call.is_none() {
                db_call = g.steps[e][k]
                    .iter()
                    .copied()
                    .find(|&s| g.sites[s].targets.iter().any(|(t, _)| is_db(g, *t)));
            }
        }
    }
}

fn is_db(g: &Graph, t: u32) -> bool {
    g.spec.services[g.spec.endpoints[t as usize].service as usize].kind == ServiceKind::Database
}

/// A saga step before the pivot (or, without a pivot, before the last step: the last
/// step that can fail for good) with no compensation.
pub fn saga_no_compensation(g: &Graph, out: &mut Vec<Finding>) {
    for saga in &g.spec.sagas {
        let (last, what) = match saga.steps.iter().position(|s| s.pivot) {
            Some(p) => (p, "the pivot"),
            None => (saga.steps.len().saturating_sub(1), "the last step (the saga has no pivot)"),
        };
        for (i, st) in saga.steps.iter().enumerate().take(last) {
            if st.compensation.is_some() {
                continue;
            }
            let pivot = &saga.steps[last].name;
            out.push(Finding {
                rule: super::rules::rule("saga-no-compensation").expect("rule"),
                path: format!("/sagas/{}/steps/{i}", escape(&saga.name)),
                message: format!(
                    "step `{}` of saga `{}` has no compensation, but a later step can still fail",
                    st.name, saga.name
                ),
                notes: vec![format!(
                    "when `{pivot}` ({what}) or a step before it fails, the effect of `{}` ({}) is left behind",
                    st.name,
                    g.ep_name(st.action)
                )],
                related: vec![Related {
                    path: format!("/sagas/{}/steps/{last}", escape(&saga.name)),
                    message: format!("`{pivot}`: {what}"),
                }],
                facts: json!({"saga": saga.name, "step": st.name, "pivot": pivot}),
            });
        }
    }
}

/// A service with one replica that some workload needs (reaches through required calls
/// only).
pub fn single_replica(g: &Graph, out: &mut Vec<Finding>) {
    let spec = g.spec;
    for (s, svc) in spec.services.iter().enumerate() {
        // An autoscaled service has `max_replicas` slots; it can shrink to `min_replicas`.
        let fewest = svc.autoscale.as_ref().map_or(svc.replicas, |a| a.params.min);
        if fewest != 1 {
            continue;
        }
        let needed_by: Vec<&str> = g
            .roots
            .iter()
            .zip(&g.needs_service)
            .filter(|(_, need)| need[s])
            .map(|(r, _)| g.workload_name(r.workload))
            .collect();
        if needed_by.is_empty() {
            continue;
        }
        let quoted: Vec<String> = needed_by.iter().map(|w| format!("`{w}`")).collect();
        out.push(Finding {
            rule: super::rules::rule("single-replica").expect("rule"),
            path: match svc.autoscale {
                Some(_) => format!("{}/autoscale/min_replicas", service_path(spec, s as u32)),
                None => format!("{}/replicas", service_path(spec, s as u32)),
            },
            message: match svc.autoscale {
                Some(_) => format!(
                    "`{}` can scale down to one replica (min_replicas 1), and the requests of {} need it",
                    svc.name,
                    quoted.join(", ")
                ),
                None => format!(
                    "`{}` runs one replica, and the requests of {} need it",
                    svc.name,
                    quoted.join(", ")
                ),
            },
            notes: vec![format!(
                "no optional branch leads around `{}`: when its replica is down, these requests fail",
                svc.name
            )],
            related: Vec::new(),
            facts: json!({"service": svc.name, "workloads": needed_by}),
        });
    }
}
