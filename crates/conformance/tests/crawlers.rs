//! Crawlers as resources through aws-sdk-glue (spec §7, Appendix A.5): CreateCrawler
//! (READY, Version 1, policy defaults), UpdateCrawler as a partial update bumping Version
//! and LastUpdated, DeleteCrawler, GetCrawlers/ListCrawlers with the SDK paginators and a
//! tag filter, BatchGetCrawlers, and one error per operation family. The full matrix is
//! in tests/python/test_crawlers.py.

use std::collections::HashMap;

use aws_sdk_glue::error::ProvideErrorMetadata;
use aws_sdk_glue::types::{
    CatalogTarget, CrawlerState, CrawlerTargets, RecrawlBehavior, S3Target, ScheduleState,
    UpdateBehavior,
};
use weir_conformance::{ACCOUNT_ID, REGION, WeirServer, expect_error, ok, wait_for_clock_past};

const ROLE: &str = "arn:aws:iam::123456789012:role/GlueCrawlerRole";

fn crawler_arn(name: &str) -> String {
    format!("arn:aws:glue:{REGION}:{ACCOUNT_ID}:crawler/{name}")
}

fn s3(path: &str) -> CrawlerTargets {
    CrawlerTargets::builder()
        .s3_targets(S3Target::builder().path(path).build())
        .build()
}

async fn create(glue: &aws_sdk_glue::Client, name: &str) {
    ok(glue
        .create_crawler()
        .name(name)
        .role(ROLE)
        .targets(s3("s3://data/raw/"))
        .send()
        .await);
}

async fn get(glue: &aws_sdk_glue::Client, name: &str) -> aws_sdk_glue::types::Crawler {
    ok(glue.get_crawler().name(name).send().await)
        .crawler
        .expect("Crawler member")
}

#[tokio::test]
async fn create_then_get() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue
        .create_crawler()
        .name("raw")
        .role(ROLE)
        .targets(s3("s3://data/raw/"))
        .database_name("analytics")
        .description("crawls raw")
        .schedule("cron(15 12 * * ? *)")
        .table_prefix("raw_")
        .tags("team", "data")
        .send()
        .await);
    let crawler = get(&glue, "raw").await;
    assert_eq!(crawler.name(), Some("raw"));
    assert_eq!(crawler.role(), Some(ROLE));
    assert_eq!(crawler.targets(), Some(&s3("s3://data/raw/")));
    assert_eq!(crawler.database_name(), Some("analytics"));
    assert_eq!(crawler.description(), Some("crawls raw"));
    assert_eq!(crawler.table_prefix(), Some("raw_"));
    assert_eq!(crawler.state(), Some(&CrawlerState::Ready));
    assert_eq!(crawler.version(), 1);
    assert!(crawler.creation_time().is_some());
    assert_eq!(crawler.last_updated(), crawler.creation_time());
    let schedule = crawler.schedule().expect("Schedule");
    assert_eq!(schedule.schedule_expression(), Some("cron(15 12 * * ? *)"));
    assert_eq!(schedule.state(), Some(&ScheduleState::Scheduled));
    let policy = crawler.schema_change_policy().expect("SchemaChangePolicy");
    assert_eq!(
        policy.update_behavior(),
        Some(&UpdateBehavior::UpdateInDatabase)
    );
    assert_eq!(
        crawler.recrawl_policy().and_then(|p| p.recrawl_behavior()),
        Some(&RecrawlBehavior::CrawlEverything)
    );
    let tags = ok(glue
        .get_tags()
        .resource_arn(crawler_arn("raw"))
        .send()
        .await)
    .tags;
    assert_eq!(
        tags,
        Some(HashMap::from([("team".to_string(), "data".to_string())]))
    );
}

#[tokio::test]
async fn create_errors() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let err = expect_error(
        glue.create_crawler()
            .name("empty")
            .role(ROLE)
            .targets(CrawlerTargets::builder().build())
            .send()
            .await,
        "InvalidInputException",
    );
    assert!(err.is_invalid_input_exception());
    assert!(err.message().unwrap_or_default().contains("target"));

    create(&glue, "dup").await;
    let err = expect_error(
        glue.create_crawler()
            .name("dup")
            .role(ROLE)
            .targets(s3("s3://other/"))
            .send()
            .await,
        "AlreadyExistsException",
    );
    assert!(err.is_already_exists_exception());
}

#[tokio::test]
async fn update_is_partial_and_bumps_version() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue
        .create_crawler()
        .name("c")
        .role(ROLE)
        .targets(s3("s3://data/raw/"))
        .description("first")
        .database_name("db1")
        .send()
        .await);
    let created = get(&glue, "c").await;
    wait_for_clock_past(created.last_updated().expect("LastUpdated"));

    ok(glue
        .update_crawler()
        .name("c")
        .description("second")
        .send()
        .await);
    let updated = get(&glue, "c").await;
    assert_eq!(updated.description(), Some("second"));
    assert_eq!(updated.database_name(), Some("db1"), "not given = kept");
    assert_eq!(updated.targets(), created.targets());
    assert_eq!(updated.version(), 2);
    assert!(updated.last_updated() > created.last_updated());
    assert_eq!(updated.creation_time(), created.creation_time());

    let catalog = CrawlerTargets::builder()
        .catalog_targets(
            CatalogTarget::builder()
                .database_name("src")
                .tables("t")
                .build()
                .expect("CatalogTarget"),
        )
        .build();
    ok(glue
        .update_crawler()
        .name("c")
        .targets(catalog.clone())
        .send()
        .await);
    let third = get(&glue, "c").await;
    assert_eq!(third.targets(), Some(&catalog), "targets replaced");
    assert_eq!(third.version(), 3);

    let err = expect_error(
        glue.update_crawler()
            .name("ghost")
            .description("x")
            .send()
            .await,
        "EntityNotFoundException",
    );
    assert!(err.is_entity_not_found_exception());
    expect_error(
        glue.update_crawler()
            .name("c")
            .targets(CrawlerTargets::builder().build())
            .send()
            .await,
        "InvalidInputException",
    );
    assert_eq!(get(&glue, "c").await.version(), 3);
}

#[tokio::test]
async fn delete_and_get_missing() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    create(&glue, "c").await;
    ok(glue.delete_crawler().name("c").send().await);
    let err = expect_error(
        glue.get_crawler().name("c").send().await,
        "EntityNotFoundException",
    );
    assert!(err.is_entity_not_found_exception());
    assert_eq!(
        err.message(),
        Some("Crawler entry with name c does not exist")
    );
    let err = expect_error(
        glue.delete_crawler().name("c").send().await,
        "EntityNotFoundException",
    );
    assert!(err.is_entity_not_found_exception());
}

#[tokio::test]
async fn get_crawlers_and_list_crawlers_with_paginators() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let names: Vec<String> = (0..5).map(|i| format!("crawler-{i}")).collect();
    for (i, name) in names.iter().enumerate().rev() {
        let mut request = glue
            .create_crawler()
            .name(name)
            .role(ROLE)
            .targets(s3("s3://data/x/"));
        if i != 2 {
            request = request.tags("team", "data");
        }
        ok(request.send().await);
    }

    let pages: Vec<_> = glue
        .get_crawlers()
        .into_paginator()
        .page_size(2)
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("GetCrawlers pages");
    assert_eq!(
        pages.iter().map(|p| p.crawlers().len()).collect::<Vec<_>>(),
        [2, 2, 1]
    );
    let seen: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.crawlers())
        .filter_map(|c| c.name())
        .collect();
    assert_eq!(seen, names);

    let listed: Vec<String> = glue
        .list_crawlers()
        .tags("team", "data")
        .into_paginator()
        .page_size(1)
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("ListCrawlers pages")
        .into_iter()
        .flat_map(|p| p.crawler_names)
        .flatten()
        .collect();
    assert_eq!(listed, ["crawler-0", "crawler-1", "crawler-3", "crawler-4"]);

    let out = ok(glue
        .batch_get_crawlers()
        .crawler_names("crawler-1")
        .crawler_names("ghost")
        .send()
        .await);
    assert_eq!(out.crawlers().len(), 1);
    assert_eq!(out.crawlers()[0], get(&glue, "crawler-1").await);
    assert_eq!(out.crawlers_not_found(), ["ghost"]);
}
