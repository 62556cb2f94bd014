//! Crawler definitions (glue-api.md §7): building the stored `Crawler` from
//! CreateCrawler and UpdateCrawler, AWS's defaults and the checks beyond the model.
//!
//! A new crawler is `READY`, `Version` 1, with `CreationTime` = `LastUpdated` = now,
//! `CrawlElapsedTime` 0, `Classifiers` `[]`, and the policies AWS fills in when they
//! are left out: `SchemaChangePolicy {UPDATE_IN_DATABASE, DEPRECATE_IN_DATABASE}`,
//! `RecrawlPolicy {CRAWL_EVERYTHING}`, `LineageConfiguration {DISABLE}`,
//! `LakeFormationConfiguration {false, ""}`. A `Schedule` string becomes
//! `Schedule {ScheduleExpression, State: SCHEDULED}` after its cron syntax is checked.
//! The runtime members (`State`, `LastCrawl`, `CrawlElapsedTime`) belong to the crawl
//! runner; the definition operations only read `State` (no update or delete while a
//! crawl runs).

use std::collections::BTreeMap;

use weir_model::Timestamp;
use weir_model::shapes::{
    Crawler, CrawlerLineageSettings, CrawlerState, CrawlerTargets, CreateCrawlerRequest,
    DeleteBehavior, LakeFormationConfiguration, LineageConfiguration, RecrawlBehavior,
    RecrawlPolicy, Schedule, ScheduleState, SchemaChangePolicy, UpdateBehavior,
    UpdateCrawlerRequest,
};

use crate::ApiError;
use crate::cron;
use weir_crawler::glob::Glob;

/// The EntityNotFoundException message for a missing crawler (as observed on AWS).
pub fn not_found(name: &str) -> String {
    format!("Crawler entry with name {name} does not exist")
}

/// The AlreadyExistsException message for a taken crawler name.
pub fn already_exists(name: &str) -> String {
    format!("Crawler with name {name} has already been created")
}

/// Builds the stored crawler of a CreateCrawler request and returns it with the
/// request's tags.
pub fn create(
    request: CreateCrawlerRequest,
    now: Timestamp,
) -> Result<(Crawler, BTreeMap<String, String>), ApiError> {
    let targets = request.targets.unwrap_or_default();
    check_targets(&targets)?;
    let mut crawler = Crawler {
        name: request.name,
        role: request.role,
        targets: Some(targets),
        database_name: request.database_name,
        description: request.description,
        classifiers: Some(request.classifiers.unwrap_or_default()),
        recrawl_policy: request.recrawl_policy,
        schema_change_policy: request.schema_change_policy,
        lineage_configuration: request.lineage_configuration,
        state: Some(CrawlerState::Ready),
        table_prefix: request.table_prefix,
        schedule: schedule(request.schedule.as_deref())?,
        crawl_elapsed_time: Some(0),
        creation_time: Some(now),
        last_updated: Some(now),
        last_crawl: None,
        version: Some(1),
        configuration: request.configuration,
        crawler_security_configuration: request.crawler_security_configuration,
        lake_formation_configuration: request.lake_formation_configuration,
        catalog_id: request.catalog_id,
    };
    fill_policies(&mut crawler);
    Ok((crawler, request.tags.unwrap_or_default()))
}

/// Applies UpdateCrawler: only the members given change (an empty `Schedule` string
/// removes the schedule); `Version` goes up by one and `LastUpdated` becomes `now`.
/// A crawler that is not READY cannot be updated (InvalidInputException, as observed).
pub fn update(
    crawler: &mut Crawler,
    request: UpdateCrawlerRequest,
    now: Timestamp,
) -> Result<(), ApiError> {
    if crawler
        .state
        .as_ref()
        .is_some_and(|s| *s != CrawlerState::Ready)
    {
        return Err(ApiError::InvalidInput(
            "Cannot update Crawler while running. Please stop crawl or wait until it completes to update."
                .into(),
        ));
    }
    if let Some(targets) = request.targets {
        check_targets(&targets)?;
        crawler.targets = Some(targets);
    }
    if let Some(expression) = request.schedule {
        crawler.schedule = schedule(Some(&expression))?;
    }
    macro_rules! replace {
        ($($member:ident),*) => {$(
            if request.$member.is_some() {
                crawler.$member = request.$member;
            }
        )*};
    }
    replace!(
        role,
        database_name,
        description,
        classifiers,
        table_prefix,
        schema_change_policy,
        recrawl_policy,
        lineage_configuration,
        lake_formation_configuration,
        configuration,
        crawler_security_configuration,
        catalog_id
    );
    fill_policies(crawler);
    crawler.version = Some(crawler.version.unwrap_or(1).saturating_add(1));
    crawler.last_updated = Some(now);
    Ok(())
}

/// At least one target, and each target names what it crawls.
fn check_targets(targets: &CrawlerTargets) -> Result<(), ApiError> {
    let invalid = |m: &str| Err(ApiError::InvalidInput(m.to_string()));
    let count = [
        targets.s3_targets.as_ref().map_or(0, Vec::len),
        targets.jdbc_targets.as_ref().map_or(0, Vec::len),
        targets.mongo_db_targets.as_ref().map_or(0, Vec::len),
        targets.dynamo_db_targets.as_ref().map_or(0, Vec::len),
        targets.catalog_targets.as_ref().map_or(0, Vec::len),
        targets.delta_targets.as_ref().map_or(0, Vec::len),
        targets.iceberg_targets.as_ref().map_or(0, Vec::len),
        targets.hudi_targets.as_ref().map_or(0, Vec::len),
    ]
    .iter()
    .sum::<usize>();
    if count == 0 {
        return invalid("Crawler must have at least one target.");
    }
    let empty = |s: &Option<String>| s.as_deref().is_none_or(str::is_empty);
    if targets.s3_targets.iter().flatten().any(|t| empty(&t.path)) {
        return invalid("S3 target path cannot be null or empty.");
    }
    let exclusions = targets.s3_targets.iter().flatten();
    for pattern in exclusions.flat_map(|t| t.exclusions.iter().flatten()) {
        Glob::new(pattern).map_err(|e| {
            ApiError::InvalidInput(format!("Invalid S3 target exclusion pattern: {e}"))
        })?;
    }
    if targets
        .jdbc_targets
        .iter()
        .flatten()
        .any(|t| empty(&t.connection_name))
    {
        return invalid("JDBC target connection name cannot be null or empty.");
    }
    if targets
        .dynamo_db_targets
        .iter()
        .flatten()
        .any(|t| empty(&t.path))
    {
        return invalid("DynamoDB target path cannot be null or empty.");
    }
    Ok(())
}

/// The `Schedule` structure of a schedule string; `None` or `""` means unscheduled.
fn schedule(expression: Option<&str>) -> Result<Option<Schedule>, ApiError> {
    match expression {
        None | Some("") => Ok(None),
        Some(expression) => {
            cron::parse_schedule(expression)?;
            Ok(Some(Schedule {
                schedule_expression: Some(expression.to_string()),
                state: Some(ScheduleState::Scheduled),
            }))
        }
    }
}

/// Fills the policy members AWS reports for crawlers created without them.
fn fill_policies(crawler: &mut Crawler) {
    let schema = crawler
        .schema_change_policy
        .get_or_insert_with(SchemaChangePolicy::default);
    schema
        .update_behavior
        .get_or_insert(UpdateBehavior::UpdateInDatabase);
    schema
        .delete_behavior
        .get_or_insert(DeleteBehavior::DeprecateInDatabase);
    crawler
        .recrawl_policy
        .get_or_insert_with(RecrawlPolicy::default)
        .recrawl_behavior
        .get_or_insert(RecrawlBehavior::CrawlEverything);
    crawler
        .lineage_configuration
        .get_or_insert_with(LineageConfiguration::default)
        .crawler_lineage_settings
        .get_or_insert(CrawlerLineageSettings::Disable);
    let lake = crawler
        .lake_formation_configuration
        .get_or_insert_with(LakeFormationConfiguration::default);
    lake.use_lake_formation_credentials.get_or_insert(false);
    lake.account_id.get_or_insert_with(String::new);
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_model::shapes::S3Target;

    fn request() -> CreateCrawlerRequest {
        CreateCrawlerRequest {
            name: Some("c1".into()),
            role: Some("role".into()),
            targets: Some(CrawlerTargets {
                s3_targets: Some(vec![S3Target {
                    path: Some("s3://bucket/prefix".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn now() -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000)
    }

    #[test]
    fn create_fills_state_version_and_policies() {
        let (crawler, _) = create(request(), now()).expect("valid");
        assert_eq!(crawler.state, Some(CrawlerState::Ready));
        assert_eq!(crawler.version, Some(1));
        assert_eq!(crawler.creation_time, Some(now()));
        assert_eq!(crawler.last_updated, Some(now()));
        assert_eq!(crawler.schedule, None);
        let schema = crawler.schema_change_policy.expect("filled");
        assert_eq!(
            schema.update_behavior,
            Some(UpdateBehavior::UpdateInDatabase)
        );
        assert_eq!(
            schema.delete_behavior,
            Some(DeleteBehavior::DeprecateInDatabase)
        );
    }

    #[test]
    fn create_checks_targets_and_schedule() {
        let mut none = request();
        none.targets = Some(CrawlerTargets::default());
        assert_eq!(
            create(none, now()).expect_err("no target").code(),
            "InvalidInputException"
        );
        let mut no_path = request();
        no_path.targets = Some(CrawlerTargets {
            s3_targets: Some(vec![S3Target::default()]),
            ..Default::default()
        });
        assert!(create(no_path, now()).is_err());
        let mut bad = request();
        bad.schedule = Some("every day".into());
        assert_eq!(
            create(bad, now()).expect_err("cron").code(),
            "InvalidInputException"
        );
        let excluding = |pattern: String| {
            let mut req = request();
            if let Some(targets) = req.targets.as_mut().and_then(|t| t.s3_targets.as_mut()) {
                targets[0].exclusions = Some(vec!["**.tmp".into(), pattern]);
            }
            create(req, now())
        };
        assert!(excluding("{a,b}".repeat(40)).is_ok());
        let absurd = excluding("{".repeat(40) + &"}".repeat(40)).expect_err("too deep");
        assert_eq!(absurd.code(), "InvalidInputException");
        assert!(excluding("x".repeat(5000)).is_err());
        let mut good = request();
        good.schedule = Some("cron(0 12 * * ? *)".into());
        let (crawler, _) = create(good, now()).expect("valid");
        let schedule = crawler.schedule.expect("scheduled");
        assert_eq!(schedule.state, Some(ScheduleState::Scheduled));
    }

    #[test]
    fn update_changes_only_given_members() {
        let mut req = request();
        req.description = Some("first".into());
        req.schedule = Some("cron(0 12 * * ? *)".into());
        let (mut crawler, _) = create(req, now()).expect("valid");
        let later = Timestamp::from_millis(1_700_000_100_000);
        update(
            &mut crawler,
            UpdateCrawlerRequest {
                name: Some("c1".into()),
                database_name: Some("db".into()),
                schedule: Some(String::new()),
                ..Default::default()
            },
            later,
        )
        .expect("valid");
        assert_eq!(crawler.description.as_deref(), Some("first"));
        assert_eq!(crawler.database_name.as_deref(), Some("db"));
        assert_eq!(crawler.schedule, None, "empty schedule unschedules");
        assert_eq!(crawler.version, Some(2));
        assert_eq!(crawler.last_updated, Some(later));
        assert_eq!(crawler.creation_time, Some(now()));

        crawler.state = Some(CrawlerState::Running);
        let err =
            update(&mut crawler, UpdateCrawlerRequest::default(), later).expect_err("running");
        assert_eq!(err.code(), "InvalidInputException");
    }
}
