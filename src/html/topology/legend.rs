//! The legend under the topology drawing: what each shape and arrow means, naming
//! only what the drawing holds. Topics and work queues are both drawn as pills
//! (`NodeKind::Topic`), told apart by their second line (`topic · 3 partitions`,
//! `queue · visibility 30s` or `queue · acks`); the legend names each kind present.

use crate::spec::Spec;

/// The legend's HTML paragraph for `spec`'s drawing.
pub fn legend(spec: &Spec) -> String {
    let (topics, queues) = (!spec.topics.is_empty(), !spec.queues.is_empty());
    let mut s = String::from(
        "<p class=\"legend\"><span class=\"lg client\">client</span> a workload's callers \
         <span class=\"lg svc\">service</span> replicas × workers ",
    );
    if topics {
        s.push_str("<span class=\"lg topic\">topic</span> a Kafka topic · partitions ");
    }
    if queues {
        s.push_str("<span class=\"lg topic\">queue</span> a work queue · visibility timeout or acks ");
    }
    s.push_str(
        "<span class=\"lg call\">call</span> labelled endpoint · policy: timeout, tries, breaker \
         <span class=\"lg opt\">optional call</span>",
    );
    let message = match (topics, queues) {
        (true, true) => Some("publish or enqueue, or delivery to a consumer group or queue consumer"),
        (true, false) => Some("publish or delivery to a consumer group"),
        (false, true) => Some("enqueue or delivery to a queue consumer"),
        (false, false) => None,
    };
    if let Some(m) = message {
        s.push_str(" <span class=\"lg msg\">message</span> ");
        s.push_str(m);
    }
    s.push_str("</p>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::legend;
    use crate::scenario::{LoadOptions, load_file};

    fn of(name: &str) -> String {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(format!("{name}.json"));
        legend(&load_file(&path, &LoadOptions::default()).unwrap())
    }

    #[test]
    fn the_legend_names_queues_as_queues_and_topics_as_topics() {
        let q = of("email-queue");
        assert!(q.contains(">queue</span> a work queue") && !q.contains(">topic</span>"), "{q}");
        assert!(q.contains("enqueue or delivery to a queue consumer"), "{q}");
        let t = of("order-events");
        assert!(t.contains(">topic</span> a Kafka topic") && !t.contains(">queue</span>"), "{t}");
        let plain = of("cascade");
        assert!(!plain.contains(">topic</span>") && !plain.contains(">message</span>"), "{plain}");
        assert!(plain.contains(">client</span>") && plain.contains(">call</span>"));
    }
}
