//! Tag operations on Glue ARNs (spec §10).

use weir_model::operations::{GetTags, TagResource, UntagResource};
use weir_model::shapes::{
    GetTagsRequest, GetTagsResponse, TagResourceRequest, TagResourceResponse, UntagResourceRequest,
    UntagResourceResponse,
};
use weir_store::Transaction;

use super::{Handle, RequestContext};
use weir_resources::ApiError;
use weir_resources::{arn, tags};

/// Reads the tags of the resource named by `text`, or ENF. An ARN of another
/// account or region names nothing the caller can see, so it is ENF as well.
fn resolve(
    tx: &mut dyn Transaction,
    ctx_scope: &weir_store::Scope,
    text: &str,
) -> Result<weir_store::Record, ApiError> {
    let target = arn::parse(text)?;
    let not_found = || ApiError::EntityNotFound(format!("Resource {text} does not exist."));
    if &target.scope != ctx_scope {
        return Err(not_found());
    }
    tx.get(&target.scope, target.kind, &target.name)?
        .ok_or_else(not_found)
}

impl Handle for TagResource {
    async fn handle(
        ctx: &RequestContext,
        input: TagResourceRequest,
    ) -> Result<TagResourceResponse, ApiError> {
        let scope = ctx.scope.clone();
        let resource = input.resource_arn.unwrap_or_default();
        let add = input.tags_to_add.unwrap_or_default();
        ctx.app
            .write(move |tx| {
                let mut record = resolve(tx, &scope, &resource)?;
                record.tags.extend(add);
                tags::check(&record.tags)?;
                let target = arn::parse(&resource)?;
                tx.update(&target.scope, target.kind, &record)?;
                Ok(())
            })
            .await?;
        Ok(TagResourceResponse::default())
    }
}

impl Handle for UntagResource {
    async fn handle(
        ctx: &RequestContext,
        input: UntagResourceRequest,
    ) -> Result<UntagResourceResponse, ApiError> {
        let scope = ctx.scope.clone();
        let resource = input.resource_arn.unwrap_or_default();
        let remove = input.tags_to_remove.unwrap_or_default();
        ctx.app
            .write(move |tx| {
                let mut record = resolve(tx, &scope, &resource)?;
                for key in &remove {
                    record.tags.remove(key);
                }
                let target = arn::parse(&resource)?;
                tx.update(&target.scope, target.kind, &record)?;
                Ok(())
            })
            .await?;
        Ok(UntagResourceResponse::default())
    }
}

impl Handle for GetTags {
    async fn handle(
        ctx: &RequestContext,
        input: GetTagsRequest,
    ) -> Result<GetTagsResponse, ApiError> {
        let scope = ctx.scope.clone();
        let resource = input.resource_arn.unwrap_or_default();
        let record = ctx
            .app
            .read(move |tx| resolve(tx, &scope, &resource))
            .await?;
        Ok(GetTagsResponse {
            tags: Some(record.tags),
        })
    }
}
