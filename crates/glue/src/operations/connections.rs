//! Data Catalog connection operations (CreateConnection … BatchDeleteConnection).
//!
//! A connection is stored in its `Connection` wire form with its tags in the record
//! (`weir_resources::connection` holds the rules). The catalog is the caller's
//! account: a request naming another `CatalogId` finds nothing.

use weir_model::operations::{
    BatchDeleteConnection, CreateConnection, DeleteConnection, GetConnection, GetConnections,
    UpdateConnection,
};
use weir_model::shapes::{
    BatchDeleteConnectionRequest, BatchDeleteConnectionResponse, Connection, ConnectionStatus,
    CreateConnectionRequest, CreateConnectionResponse, DeleteConnectionRequest,
    DeleteConnectionResponse, ErrorDetail, GetConnectionRequest, GetConnectionResponse,
    GetConnectionsRequest, GetConnectionsResponse, UpdateConnectionRequest,
    UpdateConnectionResponse,
};
use weir_store::{Kind, Scope};

use super::{Handle, RequestContext};
use weir_resources::{ApiError, OrApiError};
use weir_resources::{connection, listing, stored, tags};

/// Page size of GetConnections when MaxResults is absent (the model's maximum).
const CONNECTIONS_PAGE_MAX: usize = 1000;

/// Checks a request's CatalogId: the catalog is the caller's account, and another id
/// names nothing, so the connection `name` is not found there.
fn in_catalog(scope: &Scope, catalog_id: Option<&str>, name: &str) -> Result<(), ApiError> {
    match catalog_id {
        Some(id) if id != scope.account => {
            Err(ApiError::EntityNotFound(connection::not_found(name)))
        }
        _ => Ok(()),
    }
}

impl Handle for CreateConnection {
    async fn handle(
        ctx: &RequestContext,
        input: CreateConnectionRequest,
    ) -> Result<CreateConnectionResponse, ApiError> {
        let connection_input = input.connection_input.unwrap_or_default();
        let name = connection_input.name.clone().unwrap_or_default();
        in_catalog(&ctx.scope, input.catalog_id.as_deref(), &name)?;
        let built = connection::build(connection_input, None, ctx.app.clock().now())?;
        let tags = input.tags.unwrap_or_default();
        tags::check(&tags)?;
        let record = stored::record(&name, None, &built, tags)?;
        let scope = ctx.scope.clone();
        let created = ctx
            .app
            .write(move |tx| Ok(tx.insert(&scope, Kind::Connection, &record)?))
            .await?;
        if !created {
            return Err(ApiError::AlreadyExists(connection::already_exists(&name)));
        }
        Ok(CreateConnectionResponse {
            create_connection_status: Some(ConnectionStatus::Ready),
        })
    }
}

impl Handle for GetConnection {
    async fn handle(
        ctx: &RequestContext,
        input: GetConnectionRequest,
    ) -> Result<GetConnectionResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        in_catalog(&ctx.scope, input.catalog_id.as_deref(), &name)?;
        let scope = ctx.scope.clone();
        let found = ctx
            .app
            .read(move |tx| {
                stored::load::<Connection>(tx, &scope, Kind::Connection, &name)?
                    .or_not_found(|| connection::not_found(&name))
            })
            .await?;
        Ok(GetConnectionResponse {
            connection: Some(connection::shown(
                found.value,
                input.hide_password.unwrap_or(false),
            )),
        })
    }
}

impl Handle for GetConnections {
    async fn handle(
        ctx: &RequestContext,
        input: GetConnectionsRequest,
    ) -> Result<GetConnectionsResponse, ApiError> {
        if input
            .catalog_id
            .as_deref()
            .is_some_and(|id| id != ctx.scope.account)
        {
            return Ok(GetConnectionsResponse {
                connection_list: Some(Vec::new()),
                next_token: None,
            });
        }
        let limit = input
            .max_results
            .map_or(CONNECTIONS_PAGE_MAX, |n| usize::try_from(n).unwrap_or(1));
        let filter = input.filter.unwrap_or_default();
        let scope = ctx.scope.clone();
        let app = ctx.app.clone();
        let context = format!("GetConnections/{}/{}", scope.account, scope.region);
        let next_token = input.next_token;
        let page = ctx
            .app
            .read(move |tx| {
                listing::filtered_page(
                    tx,
                    app.tokens(),
                    &context,
                    &scope,
                    Kind::Connection,
                    next_token.as_deref(),
                    limit,
                    |record| {
                        let stored = stored::decode::<Connection>(record.clone())?;
                        Ok(connection::matches(&stored.value, &filter))
                    },
                )
            })
            .await?;
        let hide = input.hide_password.unwrap_or(false);
        let connections = stored::decode_values::<Connection>(page.items)?
            .into_iter()
            .map(|c| connection::shown(c, hide))
            .collect();
        Ok(GetConnectionsResponse {
            connection_list: Some(connections),
            next_token: page.next_token,
        })
    }
}

impl Handle for UpdateConnection {
    async fn handle(
        ctx: &RequestContext,
        input: UpdateConnectionRequest,
    ) -> Result<UpdateConnectionResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        in_catalog(&ctx.scope, input.catalog_id.as_deref(), &name)?;
        let connection_input = input.connection_input.unwrap_or_default();
        let new_name = connection_input.name.clone().unwrap_or_default();
        let now = ctx.app.clock().now();
        let scope = ctx.scope.clone();
        ctx.app
            .write(move |tx| {
                let current = stored::load::<Connection>(tx, &scope, Kind::Connection, &name)?
                    .or_not_found(|| connection::not_found(&name))?;
                let changed =
                    connection::build(connection_input, current.value.creation_time, now)?;
                let record = stored::record(&new_name, None, &changed, current.tags)?;
                if new_name == name {
                    tx.update(&scope, Kind::Connection, &record)?;
                } else {
                    // A new name in ConnectionInput renames the connection.
                    if !tx.insert(&scope, Kind::Connection, &record)? {
                        return Err(ApiError::AlreadyExists(connection::already_exists(
                            &new_name,
                        )));
                    }
                    tx.delete(&scope, Kind::Connection, &name)?;
                }
                Ok(())
            })
            .await?;
        Ok(UpdateConnectionResponse::default())
    }
}

impl Handle for DeleteConnection {
    async fn handle(
        ctx: &RequestContext,
        input: DeleteConnectionRequest,
    ) -> Result<DeleteConnectionResponse, ApiError> {
        let name = input.connection_name.unwrap_or_default();
        in_catalog(&ctx.scope, input.catalog_id.as_deref(), &name)?;
        let scope = ctx.scope.clone();
        let key = name.clone();
        let deleted = ctx
            .app
            .write(move |tx| Ok(tx.delete(&scope, Kind::Connection, &key)?))
            .await?;
        if !deleted {
            return Err(ApiError::EntityNotFound(connection::not_found(&name)));
        }
        Ok(DeleteConnectionResponse::default())
    }
}

impl Handle for BatchDeleteConnection {
    async fn handle(
        ctx: &RequestContext,
        input: BatchDeleteConnectionRequest,
    ) -> Result<BatchDeleteConnectionResponse, ApiError> {
        let names = input.connection_name_list.unwrap_or_default();
        let other_catalog = input
            .catalog_id
            .as_deref()
            .is_some_and(|id| id != ctx.scope.account);
        let scope = ctx.scope.clone();
        let (succeeded, errors) = ctx
            .app
            .write(move |tx| {
                let mut succeeded = Vec::new();
                let mut errors = std::collections::BTreeMap::new();
                for name in names {
                    if !other_catalog && tx.delete(&scope, Kind::Connection, &name)? {
                        succeeded.push(name);
                    } else {
                        let detail = ErrorDetail {
                            error_code: Some("EntityNotFoundException".into()),
                            error_message: Some(connection::not_found(&name)),
                        };
                        errors.insert(name, detail);
                    }
                }
                Ok((succeeded, errors))
            })
            .await?;
        Ok(BatchDeleteConnectionResponse {
            succeeded: Some(succeeded),
            errors: Some(errors),
        })
    }
}
