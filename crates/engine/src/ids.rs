//! Deterministic identifiers: graph node ids, job run ids and crawl ids.
//!
//! Every id is a SHA-256 over its inputs joined with a NUL byte (a byte no Glue name may contain),
//! so two different inputs never collide by concatenation and a restarted driver re-derives the
//! very same id for the very same attempt (glue-api.md §4.2 for node ids, §4.3/§6.3 for `jr_` ids).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The kind of a node in a workflow graph (`Node.Type`, glue-api.md §4.2).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NodeKind {
    /// A trigger node.
    Trigger,
    /// A job node.
    Job,
    /// A crawler node.
    Crawler,
}

impl NodeKind {
    /// The wire spelling of the kind: `TRIGGER`, `JOB` or `CRAWLER`.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Trigger => "TRIGGER",
            NodeKind::Job => "JOB",
            NodeKind::Crawler => "CRAWLER",
        }
    }
}

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update([0u8]);
        }
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// The graph `UniqueId` of a node: `wnode_` + hex(SHA-256(workflow ‖ kind ‖ name)), 64 hex chars.
///
/// Stable across runs of a workflow, so `ResumeWorkflowRun` can take ids read from an earlier
/// run's graph (glue-api.md §4.2). The server's static graph must use this same function.
pub fn node_unique_id(workflow: &str, kind: NodeKind, name: &str) -> String {
    let d = digest(&[
        workflow.as_bytes(),
        kind.as_str().as_bytes(),
        name.as_bytes(),
    ]);
    format!("wnode_{}", hex::encode(d))
}

/// The id of a job run: `jr_` + hex(SHA-256(workflow run id ‖ job ‖ sequence ‖ attempt)).
///
/// `sequence` counts how many times the node was started by a trigger in this workflow run
/// (0 first); `attempt` is the retry number (0 first). Deterministic, so re-deriving it after a
/// crash names the same attempt and the driver can start it idempotently (glue-api.md §6.3).
pub fn job_run_id(workflow_run_id: &str, job: &str, sequence: u32, attempt: u32) -> String {
    let d = digest(&[
        workflow_run_id.as_bytes(),
        job.as_bytes(),
        sequence.to_string().as_bytes(),
        attempt.to_string().as_bytes(),
    ]);
    format!("jr_{}", hex::encode(d))
}

/// The id of a crawl: a UUID-shaped string (`8-4-4-4-12` lowercase hex, like
/// `CrawlerHistory.CrawlId`) derived from SHA-256(workflow run id ‖ crawler ‖ sequence).
pub fn crawl_id(workflow_run_id: &str, crawler: &str, sequence: u32) -> String {
    let d = digest(&[
        workflow_run_id.as_bytes(),
        b"crawl",
        crawler.as_bytes(),
        sequence.to_string().as_bytes(),
    ]);
    let h = hex::encode(&d[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let n = node_unique_id("wf", NodeKind::Job, "j1");
        assert_eq!(n.len(), 6 + 64);
        assert!(n.starts_with("wnode_"));
        assert_ne!(n, node_unique_id("wf", NodeKind::Crawler, "j1"));
        assert_ne!(
            node_unique_id("a", NodeKind::Job, "bc"),
            node_unique_id("ab", NodeKind::Job, "c")
        );
        let j = job_run_id("wr_1", "j1", 0, 0);
        assert_eq!(j.len(), 3 + 64);
        assert_eq!(j, job_run_id("wr_1", "j1", 0, 0));
        assert_ne!(j, job_run_id("wr_1", "j1", 0, 1));
        assert_ne!(j, job_run_id("wr_1", "j1", 1, 0));
        let c = crawl_id("wr_1", "c1", 0);
        assert_eq!(c.len(), 36);
        assert_eq!(c.matches('-').count(), 4);
    }
}
