//! Partition writes and point reads: CreatePartition, BatchCreatePartition and
//! GetPartition (GetPartitions, the listing, is with the tables in `catalog`).
//!
//! A partition needs an existing table and exactly one value per partition key; a
//! partition with the same values already there is `AlreadyExistsException` (one
//! `PartitionError` of a batch). The partition's database and table names are the
//! folded names of its table, its CatalogId the caller's account.

use weir_model::Timestamp;
use weir_model::operations::{BatchCreatePartition, CreatePartition, GetPartition};
use weir_model::shapes::{
    BatchCreatePartitionRequest, BatchCreatePartitionResponse, CreatePartitionRequest,
    CreatePartitionResponse, ErrorDetail, GetPartitionRequest, GetPartitionResponse, Partition,
    PartitionError, PartitionInput, Table,
};
use weir_store::{Scope, Transaction};

use super::catalog::database_in_catalog;
use super::{Handle, RequestContext};
use weir_catalog::tables::{self, fold};
use weir_resources::{ApiError, OrApiError};

/// Most partitions one BatchCreatePartition may create (the model's maximum).
const BATCH_CREATE_MAX: usize = 100;

/// The table a partition request names, after the database and table checks.
fn load_table(
    tx: &mut dyn Transaction,
    scope: &Scope,
    database: &str,
    name: &str,
) -> Result<Table, ApiError> {
    tables::require_database(tx, scope, database)?;
    Ok(tables::load_table(tx, scope, database, name)?
        .or_not_found(|| tables::table_not_found(name))?
        .value
        .table)
}

/// The partition `input` makes in `table`, or why it cannot be made.
fn new_partition(
    table: &Table,
    input: PartitionInput,
    account: &str,
    now: Timestamp,
) -> Result<Partition, ApiError> {
    let values = input.values.unwrap_or_default();
    let keys = table.partition_keys.as_deref().unwrap_or_default().len();
    if values.len() != keys {
        return Err(ApiError::InvalidInput(
            "The number of partition keys do not match the number of partition values".into(),
        ));
    }
    Ok(Partition {
        values: Some(values),
        database_name: table.database_name.clone(),
        table_name: table.name.clone(),
        creation_time: Some(now),
        last_access_time: input.last_access_time,
        storage_descriptor: input.storage_descriptor,
        parameters: input.parameters,
        last_analyzed_time: input.last_analyzed_time,
        catalog_id: Some(account.to_string()),
    })
}

/// Stores `partition` unless one with its values exists (`AlreadyExists`).
fn insert_partition(
    tx: &mut dyn Transaction,
    scope: &Scope,
    table_key: &str,
    partition: &Partition,
) -> Result<(), ApiError> {
    let record = tables::partition_record(partition)?;
    if tx.get_partition(scope, table_key, &record.key)?.is_some() {
        return Err(ApiError::AlreadyExists("Partition already exists.".into()));
    }
    tx.put_partition(scope, table_key, &record)?;
    Ok(())
}

impl Handle for CreatePartition {
    async fn handle(
        ctx: &RequestContext,
        input: CreatePartitionRequest,
    ) -> Result<CreatePartitionResponse, ApiError> {
        let database = database_in_catalog(
            &ctx.scope,
            input.catalog_id.as_deref(),
            input.database_name.as_deref(),
        )?;
        let name = fold(input.table_name.as_deref().unwrap_or_default());
        let partition_input = input.partition_input.unwrap_or_default();
        let (scope, now) = (ctx.scope.clone(), ctx.app.clock().now());
        ctx.app
            .write(move |tx| {
                let table = load_table(tx, &scope, &database, &name)?;
                let partition = new_partition(&table, partition_input, &scope.account, now)?;
                insert_partition(tx, &scope, &tables::table_key(&database, &name), &partition)
            })
            .await?;
        Ok(CreatePartitionResponse::default())
    }
}

impl Handle for BatchCreatePartition {
    async fn handle(
        ctx: &RequestContext,
        input: BatchCreatePartitionRequest,
    ) -> Result<BatchCreatePartitionResponse, ApiError> {
        let database = database_in_catalog(
            &ctx.scope,
            input.catalog_id.as_deref(),
            input.database_name.as_deref(),
        )?;
        let name = fold(input.table_name.as_deref().unwrap_or_default());
        let inputs = input.partition_input_list.unwrap_or_default();
        if inputs.len() > BATCH_CREATE_MAX {
            return Err(ApiError::InvalidInput(format!(
                "1 validation error detected: Value at 'partitionInputList' failed to satisfy \
                 constraint: Member must have length less than or equal to {BATCH_CREATE_MAX}"
            )));
        }
        let (scope, now) = (ctx.scope.clone(), ctx.app.clock().now());
        let errors = ctx
            .app
            .write(move |tx| {
                let table = load_table(tx, &scope, &database, &name)?;
                let table_key = tables::table_key(&database, &name);
                let mut errors = Vec::new();
                for partition_input in inputs {
                    let values = partition_input.values.clone();
                    let created = new_partition(&table, partition_input, &scope.account, now)
                        .and_then(|p| insert_partition(tx, &scope, &table_key, &p));
                    match created {
                        Ok(()) => {}
                        Err(error @ (ApiError::AlreadyExists(_) | ApiError::InvalidInput(_))) => {
                            errors.push(PartitionError {
                                partition_values: values,
                                error_detail: Some(ErrorDetail {
                                    error_code: Some(error.code().to_string()),
                                    error_message: Some(error.to_string()),
                                }),
                            });
                        }
                        Err(error) => return Err(error),
                    }
                }
                Ok(errors)
            })
            .await?;
        Ok(BatchCreatePartitionResponse {
            errors: (!errors.is_empty()).then_some(errors),
        })
    }
}

impl Handle for GetPartition {
    async fn handle(
        ctx: &RequestContext,
        input: GetPartitionRequest,
    ) -> Result<GetPartitionResponse, ApiError> {
        let database = database_in_catalog(
            &ctx.scope,
            input.catalog_id.as_deref(),
            input.database_name.as_deref(),
        )?;
        let name = fold(input.table_name.as_deref().unwrap_or_default());
        let values = input.partition_values.unwrap_or_default();
        let scope = ctx.scope.clone();
        let partition = ctx
            .app
            .read(move |tx| {
                load_table(tx, &scope, &database, &name)?;
                let key = tables::partition_key(&values);
                tx.get_partition(&scope, &tables::table_key(&database, &name), &key)?
                    .map(|record| tables::decode_partition(&record))
                    .transpose()?
                    .or_not_found(|| "Cannot find partition.".to_string())
            })
            .await?;
        Ok(GetPartitionResponse {
            partition: Some(partition),
        })
    }
}
