//! The Data Catalog and crawls through aws-sdk-glue: database and table CRUD with AWS's
//! errors, the GetDatabases/GetTables paginators, BatchDeleteTable's Errors, and a crawl
//! of a local S3 tree (CSV with Hive partitions + JSON lines) read back with GetTables,
//! GetPartitions, ListCrawls and GetCrawlerMetrics. The full matrix is in
//! tests/python/test_catalog.py and tests/python/test_crawls.py.

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_glue::error::ProvideErrorMetadata;
use aws_sdk_glue::types::{
    Column, CrawlerHistoryState, CrawlerState, CrawlerTargets, DatabaseInput, LastCrawlStatus,
    S3Target, StorageDescriptor, TableInput,
};
use weir_conformance::{ACCOUNT_ID, WeirServer, expect_error, ok};

const ROLE: &str = "arn:aws:iam::123456789012:role/GlueCrawlerRole";
const DEADLINE: Duration = Duration::from_secs(60);

fn database(name: &str) -> DatabaseInput {
    DatabaseInput::builder()
        .name(name)
        .build()
        .expect("database input")
}

fn table(name: &str) -> TableInput {
    TableInput::builder()
        .name(name)
        .table_type("EXTERNAL_TABLE")
        .storage_descriptor(
            StorageDescriptor::builder()
                .columns(
                    Column::builder()
                        .name("id")
                        .r#type("bigint")
                        .build()
                        .expect("column"),
                )
                .location(format!("s3://lake/{name}/"))
                .build(),
        )
        .build()
        .expect("table input")
}

#[tokio::test]
async fn databases_and_tables() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue
        .create_database()
        .database_input(database("Lake"))
        .send()
        .await);
    let err = expect_error(
        glue.create_database()
            .database_input(database("lake"))
            .send()
            .await,
        "AlreadyExistsException",
    );
    assert_eq!(err.message(), Some("Database already exists."));
    let db = ok(glue.get_database().name("LAKE").send().await)
        .database
        .expect("Database");
    assert_eq!(db.name(), "lake");
    assert_eq!(db.catalog_id(), Some(ACCOUNT_ID));
    assert!(db.create_time().is_some());
    let err = expect_error(
        glue.get_database().name("nope").send().await,
        "EntityNotFoundException",
    );
    assert_eq!(err.message(), Some("Database nope not found."));

    for i in 0..5 {
        ok(glue
            .create_table()
            .database_name("lake")
            .table_input(table(&format!("t{i}")))
            .send()
            .await);
    }
    expect_error(
        glue.create_table()
            .database_name("lake")
            .table_input(table("t0"))
            .send()
            .await,
        "AlreadyExistsException",
    );
    let got = ok(glue
        .get_table()
        .database_name("lake")
        .name("t3")
        .send()
        .await)
    .table
    .expect("Table");
    assert_eq!(got.name(), "t3");
    assert_eq!(got.database_name(), Some("lake"));
    assert_eq!(got.version_id(), Some("0"));
    let err = expect_error(
        glue.get_table()
            .database_name("lake")
            .name("zz")
            .send()
            .await,
        "EntityNotFoundException",
    );
    assert_eq!(err.message(), Some("Table zz not found."));

    let pages: Vec<_> = glue
        .get_tables()
        .database_name("lake")
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 3);
    let names: Vec<String> = pages
        .into_iter()
        .flat_map(|p| ok(p).table_list.unwrap_or_default())
        .map(|t| t.name().to_string())
        .collect();
    assert_eq!(names, ["t0", "t1", "t2", "t3", "t4"]);

    let out = ok(glue
        .batch_delete_table()
        .database_name("lake")
        .tables_to_delete("t0")
        .tables_to_delete("ghost")
        .send()
        .await);
    let errors = out.errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].table_name(), Some("ghost"));
    let detail = errors[0].error_detail().expect("ErrorDetail");
    assert_eq!(detail.error_code(), Some("EntityNotFoundException"));

    ok(glue.delete_database().name("lake").send().await);
    ok(glue
        .create_database()
        .database_input(database("lake"))
        .send()
        .await);
    let left = ok(glue.get_tables().database_name("lake").send().await);
    assert!(
        left.table_list().is_empty(),
        "DeleteDatabase deleted the tables"
    );
}

fn put(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

#[tokio::test]
async fn a_crawl_fills_the_catalog() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let s3 = server.data_dir().join("s3");
    put(
        &s3,
        "lake/sales/year=2024/month=01/a.csv",
        "id,amount\n1,2.5\n",
    );
    put(
        &s3,
        "lake/sales/year=2024/month=02/b.csv",
        "id,amount\n2,3\n",
    );
    put(
        &s3,
        "lake/events/e.json",
        "{\"id\": 1, \"tags\": [\"a\"]}\n",
    );
    ok(glue
        .create_crawler()
        .name("lake")
        .role(ROLE)
        .database_name("catalog")
        .targets(
            CrawlerTargets::builder()
                .s3_targets(S3Target::builder().path("s3://lake/").build())
                .build(),
        )
        .send()
        .await);
    let err = expect_error(
        glue.stop_crawler().name("lake").send().await,
        "CrawlerNotRunningException",
    );
    assert!(err.message().is_some());
    expect_error(
        glue.start_crawler().name("ghost").send().await,
        "EntityNotFoundException",
    );
    ok(glue.start_crawler().name("lake").send().await);

    let started = Instant::now();
    let crawler = loop {
        let crawler = ok(glue.get_crawler().name("lake").send().await)
            .crawler
            .expect("Crawler");
        if crawler.state() == Some(&CrawlerState::Ready) && crawler.last_crawl().is_some() {
            break crawler;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "the crawl did not end: {crawler:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let last = crawler.last_crawl().expect("LastCrawl");
    assert_eq!(last.status(), Some(&LastCrawlStatus::Succeeded), "{last:?}");

    let tables = ok(glue.get_tables().database_name("catalog").send().await);
    let names: Vec<&str> = tables.table_list().iter().map(|t| t.name()).collect();
    assert_eq!(names, ["events", "sales"]);
    let sales = &tables.table_list()[1];
    let keys: Vec<&str> = sales.partition_keys().iter().map(|k| k.name()).collect();
    assert_eq!(keys, ["year", "month"]);
    let columns: Vec<(&str, Option<&str>)> = sales
        .storage_descriptor()
        .expect("StorageDescriptor")
        .columns()
        .iter()
        .map(|c| (c.name(), c.r#type()))
        .collect();
    assert_eq!(
        columns,
        [("id", Some("bigint")), ("amount", Some("double"))]
    );
    let parameters = sales.parameters().expect("Parameters");
    assert_eq!(
        parameters.get("classification").map(String::as_str),
        Some("csv")
    );
    let events = &tables.table_list()[0];
    let event_columns: Vec<Option<&str>> = events
        .storage_descriptor()
        .expect("StorageDescriptor")
        .columns()
        .iter()
        .map(|c| c.r#type())
        .collect();
    assert_eq!(event_columns, [Some("int"), Some("array<string>")]);

    let partitions = ok(glue
        .get_partitions()
        .database_name("catalog")
        .table_name("sales")
        .send()
        .await);
    let values: Vec<Vec<String>> = partitions
        .partitions()
        .iter()
        .map(|p| p.values().to_vec())
        .collect();
    assert_eq!(values, [vec!["2024", "01"], vec!["2024", "02"]]);

    let crawls = ok(glue.list_crawls().crawler_name("lake").send().await);
    assert_eq!(crawls.crawls().len(), 1);
    assert_eq!(
        crawls.crawls()[0].state(),
        Some(&CrawlerHistoryState::Completed)
    );
    let metrics = ok(glue
        .get_crawler_metrics()
        .crawler_name_list("lake")
        .send()
        .await);
    let m = &metrics.crawler_metrics_list()[0];
    assert_eq!(m.tables_created(), 2);
    assert_eq!(m.tables_updated(), 0);
}
