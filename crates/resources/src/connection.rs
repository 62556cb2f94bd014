//! Data Catalog connections: the stored `Connection` built from a `ConnectionInput`,
//! the checks beyond the model's constraints, what `HidePassword` hides and the
//! GetConnections filter.
//!
//! A connection is stored in its `Connection` wire form (kind `connection`, named after
//! it) with its tags in the record. Weir keeps connections for jobs to name and for
//! scripts to read (GetConnection); it never opens one itself, so it records every
//! connection as `READY`.

use weir_model::Timestamp;
use weir_model::shapes::{
    Connection, ConnectionInput, ConnectionStatus, ConnectionType, GetConnectionsFilter,
};

use crate::ApiError;

/// The EntityNotFoundException message for a missing connection.
pub fn not_found(name: &str) -> String {
    format!("Connection {name} not found.")
}

/// The AlreadyExistsException message for a taken connection name.
pub fn already_exists(name: &str) -> String {
    format!("Connection already exists with name {name}.")
}

/// The message of a run whose job names a connection that does not exist.
pub fn missing_for_run(name: &str) -> String {
    format!("Connection {name} does not exist.")
}

/// Builds the stored connection of a (model-validated) `input`. `created` is the
/// creation time to keep (an update keeps the original one), `now` the time of this
/// change.
pub fn build(
    input: ConnectionInput,
    created: Option<Timestamp>,
    now: Timestamp,
) -> Result<Connection, ApiError> {
    let properties = input.connection_properties.unwrap_or_default();
    if input.connection_type == Some(ConnectionType::Jdbc)
        && properties
            .get("JDBC_CONNECTION_URL")
            .is_none_or(|url| url.trim().is_empty())
    {
        return Err(ApiError::InvalidInput(
            "Validation for connection properties failed: a JDBC connection needs \
             JDBC_CONNECTION_URL."
                .into(),
        ));
    }
    Ok(Connection {
        name: input.name,
        description: input.description,
        connection_type: input.connection_type,
        match_criteria: input.match_criteria,
        connection_properties: Some(properties),
        spark_properties: input.spark_properties,
        athena_properties: input.athena_properties,
        python_properties: input.python_properties,
        physical_connection_requirements: input.physical_connection_requirements,
        creation_time: Some(created.unwrap_or(now)),
        last_updated_time: Some(now),
        status: Some(ConnectionStatus::Ready),
        ..Default::default()
    })
}

/// Whether a connection property holds a secret that `HidePassword` leaves out:
/// `PASSWORD`, `ENCRYPTED_PASSWORD` and the Kafka key and keystore passwords (every
/// key ending in `PASSWORD`).
pub fn is_password(key: &str) -> bool {
    key.ends_with("PASSWORD")
}

/// The connection as GetConnection/GetConnections answer it: without its passwords
/// when `hide` is set.
pub fn shown(mut connection: Connection, hide: bool) -> Connection {
    if hide && let Some(properties) = connection.connection_properties.as_mut() {
        properties.retain(|key, _| !is_password(key));
    }
    connection
}

/// Whether `connection` passes GetConnections' `filter`: the same connection type, and
/// every criterion of the filter among the connection's match criteria.
pub fn matches(connection: &Connection, filter: &GetConnectionsFilter) -> bool {
    if let Some(wanted) = &filter.connection_type
        && connection.connection_type.as_ref() != Some(wanted)
    {
        return false;
    }
    let own = connection.match_criteria.as_deref().unwrap_or_default();
    filter
        .match_criteria
        .as_deref()
        .unwrap_or_default()
        .iter()
        .all(|criterion| own.contains(criterion))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn input(kind: ConnectionType, properties: &[(&str, &str)]) -> ConnectionInput {
        ConnectionInput {
            name: Some("pg".into()),
            connection_type: Some(kind),
            match_criteria: Some(vec!["a".into(), "b".into()]),
            connection_properties: Some(
                properties
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn a_jdbc_connection_needs_its_url() {
        let now = Timestamp::from_millis(1_000);
        let err = build(input(ConnectionType::Jdbc, &[("USERNAME", "u")]), None, now)
            .expect_err("no url");
        assert_eq!(err.code(), "InvalidInputException");
        let built = build(
            input(ConnectionType::Jdbc, &[("JDBC_CONNECTION_URL", "jdbc:x")]),
            None,
            now,
        )
        .expect("valid");
        assert_eq!(built.creation_time, Some(now));
        assert_eq!(built.status, Some(ConnectionStatus::Ready));
        build(input(ConnectionType::Network, &[]), None, now).expect("no url needed");
    }

    #[test]
    fn hide_password_drops_every_password_property() {
        let now = Timestamp::from_millis(1_000);
        let connection = build(
            input(
                ConnectionType::Jdbc,
                &[
                    ("JDBC_CONNECTION_URL", "jdbc:x"),
                    ("USERNAME", "u"),
                    ("PASSWORD", "p"),
                    ("ENCRYPTED_PASSWORD", "e"),
                    ("KAFKA_SASL_SCRAM_PASSWORD", "k"),
                ],
            ),
            None,
            now,
        )
        .expect("valid");
        let hidden = shown(connection.clone(), true);
        let keys: Vec<_> = hidden
            .connection_properties
            .unwrap_or_default()
            .into_keys()
            .collect();
        assert_eq!(keys, ["JDBC_CONNECTION_URL", "USERNAME"]);
        assert_eq!(shown(connection.clone(), false), connection);
    }

    #[test]
    fn the_filter_matches_type_and_all_criteria() {
        let now = Timestamp::from_millis(1_000);
        let connection = build(input(ConnectionType::Network, &[]), None, now).expect("valid");
        let filter = |kind: Option<ConnectionType>, criteria: &[&str]| GetConnectionsFilter {
            connection_type: kind,
            match_criteria: Some(criteria.iter().map(|c| c.to_string()).collect()),
            ..Default::default()
        };
        assert!(matches(&connection, &GetConnectionsFilter::default()));
        assert!(matches(
            &connection,
            &filter(Some(ConnectionType::Network), &["a"])
        ));
        assert!(matches(&connection, &filter(None, &["a", "b"])));
        assert!(!matches(&connection, &filter(None, &["c"])));
        assert!(!matches(
            &connection,
            &filter(Some(ConnectionType::Jdbc), &[])
        ));
    }
}
