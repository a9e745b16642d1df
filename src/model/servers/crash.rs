//! A replica's crash: what it held fails, its queue empties, new connections are
//! refused until its restart (`Servers::restart`).

use crate::metrics::Outcome;
use crate::model::World;
use crate::model::event::ExecId;
use crate::spec::{Cause, ReplicaId};

impl World<'_> {
    /// A replica dies: everything it held fails with `unavailable` (the callers see the
    /// connection reset), and new connections are refused until it restarts.
    /// Returns the downtime epoch (the current one if the replica was already down).
    pub(in crate::model) fn kill(&mut self, replica: ReplicaId) -> u32 {
        if self.servers.replicas[replica as usize].down {
            return self.servers.replicas[replica as usize].epoch;
        }
        let now = self.sched.now();
        self.servers.replicas[replica as usize].down = true;
        // Compared by equality only (`Servers::restart`): wraps after 2^32 crashes.
        let r = &mut self.servers.replicas[replica as usize];
        r.epoch = r.epoch.wrapping_add(1);
        // First the consumers and orchestrators it hosted lose what they held, so that
        // the failures of its executions below reach nobody who still counts on them.
        // Only an orchestrator's replica has sagas to pause (no scan of every saga run).
        let svc = self.spec.replicas[replica as usize].service;
        if self.spec.sagas.iter().any(|sg| sg.orchestrator == svc) {
            self.sagas_on_crash(replica);
        }
        self.consumers_on_crash(replica);
        self.queue_consumers_down(replica);
        // An idle replica (the usual victim of a restart storm) holds nothing: no scan of
        // every execution alive (a long queue elsewhere made each restart cost its length).
        let victims: Vec<ExecId> = if self.servers.idle(replica) {
            Vec::new()
        } else {
            self.servers.execs.iter().filter(|(_, e)| e.replica == replica).map(|(id, _)| id).collect()
        };
        for id in victims {
            let Some(e) = self.servers.execs.remove(id) else { continue };
            if e.running {
                let r = &mut self.servers.replicas[replica as usize];
                r.busy -= 1;
                self.rec.workers(now, e.endpoint, r.service, -1);
            }
            self.rec.exec_end(e.endpoint, e.counted, now - e.arrived, Outcome::Failed(Cause::Unavailable));
            self.answer(e.origin, Outcome::Failed(Cause::Unavailable), e.endpoint, e.counted);
        }
        self.adaptive_restart(replica);
        let r = &mut self.servers.replicas[replica as usize];
        let n = (r.queue.len() - r.stale as usize) as u64;
        r.queue.clear();
        r.stale = 0;
        r.waiting = [0; 3];
        self.rec.dequeued(r.service, n);
        r.epoch
    }
}
