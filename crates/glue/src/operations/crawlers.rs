//! Crawler definition operations (spec §7, Appendix A.5). Crawls (StartCrawler,
//! StopCrawler, ListCrawls, GetCrawlerMetrics) live elsewhere.
//!
//! A crawler is stored in its `Crawler` wire form, runtime members included (`State`,
//! `LastCrawl`), with its tags in the record. Deleting a crawler that triggers still
//! name is allowed, as for jobs: the triggers keep the dangling name.

use std::collections::BTreeMap;

use weir_model::operations::{
    BatchGetCrawlers, CreateCrawler, DeleteCrawler, GetCrawler, GetCrawlers, ListCrawlers,
    UpdateCrawler,
};
use weir_model::shapes::{
    BatchGetCrawlersRequest, BatchGetCrawlersResponse, Crawler, CrawlerState, CreateCrawlerRequest,
    CreateCrawlerResponse, DeleteCrawlerRequest, DeleteCrawlerResponse, GetCrawlerRequest,
    GetCrawlerResponse, GetCrawlersRequest, GetCrawlersResponse, ListCrawlersRequest,
    ListCrawlersResponse, UpdateCrawlerRequest, UpdateCrawlerResponse,
};
use weir_store::Kind;

use super::{Handle, RequestContext};
use weir_resources::pagination::NamePage;
use weir_resources::{ApiError, OrApiError};
use weir_resources::{crawler, listing, stored, tags};

/// Page size of GetCrawlers when MaxResults is absent (the model's maximum).
const GET_CRAWLERS_MAX: usize = 1000;
/// Page size of ListCrawlers when MaxResults is absent (its output list holds ≤ 100).
const LIST_CRAWLERS_DEFAULT: usize = 100;

impl Handle for CreateCrawler {
    async fn handle(
        ctx: &RequestContext,
        input: CreateCrawlerRequest,
    ) -> Result<CreateCrawlerResponse, ApiError> {
        let name = input.name.clone().unwrap_or_default();
        let (definition, tags) = crawler::create(input, ctx.app.clock().now())?;
        tags::check(&tags)?;
        let record = stored::record(&name, None, &definition, tags)?;
        let scope = ctx.scope.clone();
        let created = ctx
            .app
            .write(move |tx| Ok(tx.insert(&scope, Kind::Crawler, &record)?))
            .await?;
        if !created {
            return Err(ApiError::AlreadyExists(crawler::already_exists(&name)));
        }
        Ok(CreateCrawlerResponse::default())
    }
}

impl Handle for UpdateCrawler {
    async fn handle(
        ctx: &RequestContext,
        input: UpdateCrawlerRequest,
    ) -> Result<UpdateCrawlerResponse, ApiError> {
        let now = ctx.app.clock().now();
        let name = input.name.clone().unwrap_or_default();
        let scope = ctx.scope.clone();
        ctx.app
            .write(move |tx| {
                let mut current = stored::load::<Crawler>(tx, &scope, Kind::Crawler, &name)?
                    .or_not_found(|| crawler::not_found(&name))?;
                crawler::update(&mut current.value, input, now)?;
                let record = stored::record(&name, None, &current.value, current.tags)?;
                tx.update(&scope, Kind::Crawler, &record)?;
                Ok(())
            })
            .await?;
        Ok(UpdateCrawlerResponse::default())
    }
}

impl Handle for DeleteCrawler {
    async fn handle(
        ctx: &RequestContext,
        input: DeleteCrawlerRequest,
    ) -> Result<DeleteCrawlerResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        let scope = ctx.scope.clone();
        ctx.app
            .write(move |tx| {
                let current = stored::load::<Crawler>(tx, &scope, Kind::Crawler, &name)?
                    .or_not_found(|| crawler::not_found(&name))?;
                if let Some(state) = &current.value.state
                    && *state != CrawlerState::Ready
                {
                    return Err(ApiError::CrawlerRunning(format!(
                        "Crawler {name} is {state}; stop it or wait until its crawl completes before deleting it."
                    )));
                }
                tx.delete(&scope, Kind::Crawler, &name)?;
                // Its crawl history goes with it.
                tx.delete(&scope, Kind::CrawlerRuntime, &name)?;
                Ok(())
            })
            .await?;
        Ok(DeleteCrawlerResponse::default())
    }
}

impl Handle for GetCrawler {
    async fn handle(
        ctx: &RequestContext,
        input: GetCrawlerRequest,
    ) -> Result<GetCrawlerResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        let scope = ctx.scope.clone();
        let found = ctx
            .app
            .read(move |tx| {
                stored::load::<Crawler>(tx, &scope, Kind::Crawler, &name)?
                    .or_not_found(|| crawler::not_found(&name))
            })
            .await?;
        Ok(GetCrawlerResponse {
            crawler: Some(found.value),
        })
    }
}

/// One name-ordered page of crawlers carrying all of `wanted` tags.
async fn page(
    ctx: &RequestContext,
    operation: &str,
    next_token: Option<String>,
    limit: usize,
    wanted: BTreeMap<String, String>,
) -> Result<NamePage<weir_store::Record>, ApiError> {
    let scope = ctx.scope.clone();
    let app = ctx.app.clone();
    let context = format!("{operation}/{}/{}", scope.account, scope.region);
    ctx.app
        .read(move |tx| {
            listing::filtered_page(
                tx,
                app.tokens(),
                &context,
                &scope,
                Kind::Crawler,
                next_token.as_deref(),
                limit,
                |record| Ok(listing::has_all_tags(&record.tags, &wanted)),
            )
        })
        .await
}

fn limit(max_results: Option<i32>, default: usize) -> usize {
    max_results.map_or(default, |n| usize::try_from(n).unwrap_or(1))
}

impl Handle for GetCrawlers {
    async fn handle(
        ctx: &RequestContext,
        input: GetCrawlersRequest,
    ) -> Result<GetCrawlersResponse, ApiError> {
        let limit = limit(input.max_results, GET_CRAWLERS_MAX);
        let page = page(ctx, "GetCrawlers", input.next_token, limit, BTreeMap::new()).await?;
        let crawlers = stored::decode_values::<Crawler>(page.items)?;
        Ok(GetCrawlersResponse {
            crawlers: Some(crawlers),
            next_token: page.next_token,
        })
    }
}

impl Handle for ListCrawlers {
    async fn handle(
        ctx: &RequestContext,
        input: ListCrawlersRequest,
    ) -> Result<ListCrawlersResponse, ApiError> {
        let limit = limit(input.max_results, LIST_CRAWLERS_DEFAULT);
        let wanted = input.tags.unwrap_or_default();
        let page = page(ctx, "ListCrawlers", input.next_token, limit, wanted).await?;
        Ok(ListCrawlersResponse {
            crawler_names: Some(page.items.into_iter().map(|r| r.name).collect()),
            next_token: page.next_token,
        })
    }
}

impl Handle for BatchGetCrawlers {
    async fn handle(
        ctx: &RequestContext,
        input: BatchGetCrawlersRequest,
    ) -> Result<BatchGetCrawlersResponse, ApiError> {
        let names = input.crawler_names.unwrap_or_default();
        let scope = ctx.scope.clone();
        let (found, missing) = ctx
            .app
            .read(move |tx| {
                stored::load_each(names, |name| {
                    Ok(stored::load::<Crawler>(tx, &scope, Kind::Crawler, name)?.map(|s| s.value))
                })
            })
            .await?;
        Ok(BatchGetCrawlersResponse {
            crawlers: Some(found),
            crawlers_not_found: (!missing.is_empty()).then_some(missing),
        })
    }
}
