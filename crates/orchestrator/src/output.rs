//! Job output into CloudWatch Logs: the follower of a run's `stdout` and `stderr`
//! ([`weir_logs::Follower`]) is started with the process (or when it is re-attached
//! after a restart) and finished when it ends, before its end is reported, so a run
//! seen ended has all its lines stored.

use weir_logs::{FollowTarget, Follower, JobLogGroups};

use super::Orchestrator;
use super::stored_run::{LaunchRecord, RunKey};

impl Orchestrator {
    /// What a follower of attempt `id` of `record` reads and where it writes.
    fn output_target(&self, key: &RunKey, id: &str, record: &LaunchRecord) -> FollowTarget {
        FollowTarget {
            scope: key.scope.clone(),
            job_name: record
                .arguments
                .get("--JOB_NAME")
                .cloned()
                .unwrap_or_default(),
            job_run_id: id.to_string(),
            run_dir: self.inner.runner.run_dir(id),
            groups: JobLogGroups::of(&record.command, &record.arguments),
        }
    }

    /// Starts following the output of attempt `id` while its process lives.
    pub(super) fn follow_output(&self, key: &RunKey, id: &str, record: &LaunchRecord) -> Follower {
        let target = self.output_target(key, id, record);
        Follower::start(self.inner.db.clone(), self.inner.clock.clone(), target)
    }

    /// Stores what is left of the output of attempt `id`, whose process ended while
    /// Weir was not running.
    pub(super) async fn drain_output(&self, key: &RunKey, id: &str, record: &LaunchRecord) {
        let target = self.output_target(key, id, record);
        Follower::drain(self.inner.db.clone(), self.inner.clock.clone(), target).await;
    }
}
