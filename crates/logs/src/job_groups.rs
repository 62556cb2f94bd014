//! Where a job run's output goes, as AWS Glue names it: Spark jobs (`glueetl`,
//! `gluestreaming`) log stdout to `/aws-glue/jobs/output` and stderr to
//! `/aws-glue/jobs/error`, Python shell jobs to `/aws-glue/python-jobs/output` and
//! `/aws-glue/python-jobs/error`; `--custom-logGroup-prefix` replaces the base and
//! `--continuous-log-logGroup` names one group for both. The stream is the JobRunId.

use std::collections::BTreeMap;

/// The log group of the crawls' lines (the stream is the crawler's name).
pub const CRAWLER_LOG_GROUP: &str = "/aws-glue/crawlers";

/// The groups of a job run's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobLogGroups {
    /// What GetJobRun answers as `LogGroupName`: the base the groups derive from.
    pub base: String,
    /// The group of stdout.
    pub output: String,
    /// The group of stderr.
    pub error: String,
}

impl JobLogGroups {
    /// The groups of a run of a job of Command.Name `command` run with `arguments`
    /// (the job's default arguments overlaid by the run's).
    pub fn of(command: &str, arguments: &BTreeMap<String, String>) -> Self {
        let default_base = if command == "pythonshell" {
            "/aws-glue/python-jobs"
        } else {
            "/aws-glue/jobs"
        };
        let base = arguments
            .get("--custom-logGroup-prefix")
            .filter(|prefix| !prefix.is_empty())
            .map_or(default_base, String::as_str)
            .trim_end_matches('/')
            .to_string();
        match arguments
            .get("--continuous-log-logGroup")
            .filter(|group| !group.is_empty())
        {
            Some(group) => Self {
                base,
                output: group.clone(),
                error: group.clone(),
            },
            None => Self {
                output: format!("{base}/output"),
                error: format!("{base}/error"),
                base,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn groups_follow_the_command_and_the_arguments() {
        let spark = JobLogGroups::of("glueetl", &args(&[]));
        assert_eq!(spark.output, "/aws-glue/jobs/output");
        assert_eq!(spark.error, "/aws-glue/jobs/error");
        assert_eq!(spark.base, "/aws-glue/jobs");
        let shell = JobLogGroups::of("pythonshell", &args(&[]));
        assert_eq!(shell.output, "/aws-glue/python-jobs/output");
        let custom = JobLogGroups::of("glueetl", &args(&[("--custom-logGroup-prefix", "/team/")]));
        assert_eq!(custom.error, "/team/error");
        assert_eq!(custom.base, "/team");
        let one = JobLogGroups::of(
            "gluestreaming",
            &args(&[("--continuous-log-logGroup", "/x")]),
        );
        assert_eq!((one.output.as_str(), one.error.as_str()), ("/x", "/x"));
    }
}
