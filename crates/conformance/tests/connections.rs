//! Data Catalog connections through aws-sdk-glue: CreateConnection, GetConnection with
//! HidePassword, GetConnections with a filter and the SDK paginator, UpdateConnection,
//! DeleteConnection and BatchDeleteConnection. The full matrix is in
//! tests/python/test_connections.py.

use aws_sdk_glue::types::{ConnectionInput, ConnectionPropertyKey, ConnectionType};
use weir_conformance::{WeirServer, expect_error, ok};

fn jdbc(name: &str, url: &str) -> ConnectionInput {
    ConnectionInput::builder()
        .name(name)
        .connection_type(ConnectionType::Jdbc)
        .connection_properties(ConnectionPropertyKey::JdbcConnectionUrl, url)
        .connection_properties(ConnectionPropertyKey::UserName, "etl")
        .connection_properties(ConnectionPropertyKey::Password, "s3cret")
        .match_criteria("nightly")
        .build()
        .expect("a complete ConnectionInput")
}

#[tokio::test]
async fn connections_round_trip() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    for i in 0..3 {
        let out = ok(glue
            .create_connection()
            .connection_input(jdbc(&format!("pg-{i}"), "jdbc:postgresql://h/db"))
            .send()
            .await);
        assert_eq!(
            out.create_connection_status().map(|s| s.as_str()),
            Some("READY")
        );
    }

    let shown = ok(glue.get_connection().name("pg-0").send().await)
        .connection
        .expect("Connection member");
    let properties = shown.connection_properties().expect("properties");
    assert_eq!(
        properties
            .get(&ConnectionPropertyKey::Password)
            .map(String::as_str),
        Some("s3cret")
    );
    let hidden = ok(glue
        .get_connection()
        .name("pg-0")
        .hide_password(true)
        .send()
        .await)
    .connection
    .expect("Connection member");
    let properties = hidden.connection_properties().expect("properties");
    assert!(!properties.contains_key(&ConnectionPropertyKey::Password));
    assert_eq!(
        properties
            .get(&ConnectionPropertyKey::JdbcConnectionUrl)
            .map(String::as_str),
        Some("jdbc:postgresql://h/db")
    );

    let pages: Vec<_> = glue
        .get_connections()
        .filter(
            aws_sdk_glue::types::GetConnectionsFilter::builder()
                .connection_type(ConnectionType::Jdbc)
                .build(),
        )
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let names: Vec<String> = pages
        .into_iter()
        .flat_map(|page| ok(page).connection_list.unwrap_or_default())
        .filter_map(|c| c.name)
        .collect();
    assert_eq!(names, ["pg-0", "pg-1", "pg-2"]);

    ok(glue
        .update_connection()
        .name("pg-0")
        .connection_input(jdbc("pg-0", "jdbc:mysql://other/db"))
        .send()
        .await);
    let updated = ok(glue.get_connection().name("pg-0").send().await)
        .connection
        .expect("Connection member");
    assert_eq!(
        updated
            .connection_properties()
            .and_then(|p| p.get(&ConnectionPropertyKey::JdbcConnectionUrl))
            .map(String::as_str),
        Some("jdbc:mysql://other/db")
    );

    ok(glue
        .delete_connection()
        .connection_name("pg-0")
        .send()
        .await);
    let err = expect_error(
        glue.get_connection().name("pg-0").send().await,
        "EntityNotFoundException",
    );
    assert!(err.is_entity_not_found_exception());

    let out = ok(glue
        .batch_delete_connection()
        .connection_name_list("pg-1")
        .connection_name_list("ghost")
        .connection_name_list("pg-2")
        .send()
        .await);
    assert_eq!(out.succeeded(), ["pg-1", "pg-2"]);
    let errors = out.errors().expect("Errors member");
    assert_eq!(
        errors.get("ghost").and_then(|e| e.error_code()),
        Some("EntityNotFoundException")
    );
}
