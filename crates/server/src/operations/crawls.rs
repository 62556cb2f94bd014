//! Crawl operations (spec §7, Appendix A.5): StartCrawler, StopCrawler, ListCrawls,
//! GetCrawlerMetrics. The crawl itself lives in [`crate::crawler`].
//!
//! ListCrawls returns the history newest first; `Filters` combine with AND:
//! `CRAWL_ID` and `STATE` take `EQ`/`NE`; `START_TIME`, `END_TIME` and `DPU_HOUR` take
//! every operator. Times are epoch milliseconds, epoch seconds (values below 10^11,
//! fractions allowed) or ISO 8601 (`2024-05-01`, `2024-05-01T10:00:00Z`, with
//! fraction or `±hh:mm` offset). A crawl without an end never matches an `END_TIME`
//! filter; `DPUHour` is not reported and compares as 0.

use weir_model::operations::{GetCrawlerMetrics, ListCrawls, StartCrawler, StopCrawler};
use weir_model::shapes::{
    Crawler, CrawlerMetrics, CrawlsFilter, GetCrawlerMetricsRequest, GetCrawlerMetricsResponse,
    ListCrawlsRequest, ListCrawlsResponse, StartCrawlerRequest, StartCrawlerResponse,
    StopCrawlerRequest, StopCrawlerResponse,
};
use weir_store::Kind;

use super::{Handle, RequestContext};
use crate::crawler::runtime::{self, Entry};
use crate::crawler::{EPOCH, lifecycle};
use crate::protocol::ApiError;
use crate::resources::pagination::name_page;
use crate::resources::stored;

/// ListCrawls page size when MaxResults is absent.
const LIST_CRAWLS_DEFAULT: usize = 100;
/// GetCrawlerMetrics page size when MaxResults is absent (the model's maximum).
const METRICS_DEFAULT: usize = 1000;

impl Handle for StartCrawler {
    async fn handle(
        ctx: &RequestContext,
        input: StartCrawlerRequest,
    ) -> Result<StartCrawlerResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        let s3_root = ctx.app.config().s3_dir.clone();
        lifecycle::start(
            ctx.app.db().clone(),
            ctx.app.clock().clone(),
            ctx.scope.clone(),
            name,
            s3_root,
        )
        .await?;
        Ok(StartCrawlerResponse::default())
    }
}

impl Handle for StopCrawler {
    async fn handle(
        ctx: &RequestContext,
        input: StopCrawlerRequest,
    ) -> Result<StopCrawlerResponse, ApiError> {
        let name = input.name.unwrap_or_default();
        lifecycle::stop(ctx.app.db(), ctx.app.clock(), ctx.scope.clone(), name).await?;
        Ok(StopCrawlerResponse::default())
    }
}

impl Handle for ListCrawls {
    async fn handle(
        ctx: &RequestContext,
        input: ListCrawlsRequest,
    ) -> Result<ListCrawlsResponse, ApiError> {
        let name = input.crawler_name.unwrap_or_default();
        let filters = input
            .filters
            .unwrap_or_default()
            .into_iter()
            .map(Filter::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let limit = input
            .max_results
            .map_or(LIST_CRAWLS_DEFAULT, |n| usize::try_from(n).unwrap_or(1));
        let scope = ctx.scope.clone();
        let key = name.clone();
        let entries = ctx
            .app
            .read(move |tx| {
                let crawler = stored::load::<Crawler>(tx, &scope, Kind::Crawler, &key)?
                    .ok_or_else(|| ApiError::EntityNotFound(lifecycle::missing_message(&key)))?;
                Ok(runtime::load(tx, &scope, &crawler.value)?.view(&EPOCH))
            })
            .await?;
        let matching: Vec<Entry> = entries
            .into_iter()
            .filter(|e| filters.iter().all(|f| f.matches(e)))
            .collect();
        let context = format!(
            "ListCrawls/{}/{}/{name}",
            ctx.scope.account, ctx.scope.region
        );
        let tokens = ctx.app.tokens();
        let start = match tokens.cursor(&context, input.next_token.as_deref())? {
            Some(after) => matching
                .iter()
                .position(|e| e.crawl_id == after)
                .map_or(matching.len(), |i| i + 1),
            None => 0,
        };
        let end = matching.len().min(start.saturating_add(limit));
        let page = &matching[start..end];
        let next_token = (end < matching.len())
            .then(|| page.last().map(|e| tokens.issue(&context, &e.crawl_id)))
            .flatten();
        Ok(ListCrawlsResponse {
            crawls: Some(page.iter().map(|e| runtime::render(e, &name)).collect()),
            next_token,
        })
    }
}

impl Handle for GetCrawlerMetrics {
    async fn handle(
        ctx: &RequestContext,
        input: GetCrawlerMetricsRequest,
    ) -> Result<GetCrawlerMetricsResponse, ApiError> {
        let now = ctx.app.clock().now_millis();
        let scope = ctx.scope.clone();
        let app = ctx.app.clone();
        let limit = input
            .max_results
            .map_or(METRICS_DEFAULT, |n| usize::try_from(n).unwrap_or(1));
        let context = format!("GetCrawlerMetrics/{}/{}", scope.account, scope.region);
        ctx.app
            .read(move |tx| {
                let one = |tx: &mut dyn weir_store::Transaction,
                           crawler: &Crawler|
                 -> Result<CrawlerMetrics, ApiError> {
                    let name = crawler.name.clone().unwrap_or_default();
                    let view = runtime::load(tx, &scope, crawler)?.view(&EPOCH);
                    Ok(runtime::metrics(&name, &view, now))
                };
                let mut metrics = Vec::new();
                let next_token = match input.crawler_name_list {
                    Some(names) => {
                        for name in names {
                            if let Some(c) =
                                stored::load::<Crawler>(tx, &scope, Kind::Crawler, &name)?
                            {
                                metrics.push(one(tx, &c.value)?);
                            }
                        }
                        None
                    }
                    None => {
                        let page = name_page(
                            tx,
                            app.tokens(),
                            &context,
                            &scope,
                            Kind::Crawler,
                            input.next_token.as_deref(),
                            limit,
                        )?;
                        for record in page.records {
                            let crawler = stored::decode::<Crawler>(record)?;
                            metrics.push(one(tx, &crawler.value)?);
                        }
                        page.next_token
                    }
                };
                Ok(GetCrawlerMetricsResponse {
                    crawler_metrics_list: Some(metrics),
                    next_token,
                })
            })
            .await
    }
}

/// A parsed `CrawlsFilter`.
#[derive(Debug, Clone, PartialEq)]
struct Filter {
    field: Field,
    operator: Operator,
}

#[derive(Debug, Clone, PartialEq)]
enum Field {
    CrawlId(String),
    State(String),
    StartTime(i64),
    EndTime(i64),
    DpuHour(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Operator {
    fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Operator::Gt => ordering == Greater,
            Operator::Ge => ordering != Less,
            Operator::Lt => ordering == Less,
            Operator::Le => ordering != Greater,
            Operator::Eq => ordering == Equal,
            Operator::Ne => ordering != Equal,
        }
    }
}

impl Filter {
    fn parse(filter: CrawlsFilter) -> Result<Filter, ApiError> {
        let invalid = |m: String| ApiError::InvalidInput(m);
        let field = filter.field_name.unwrap_or_default();
        let operator = match filter.filter_operator.as_deref().unwrap_or("EQ") {
            "GT" => Operator::Gt,
            "GE" => Operator::Ge,
            "LT" => Operator::Lt,
            "LE" => Operator::Le,
            "EQ" => Operator::Eq,
            "NE" => Operator::Ne,
            other => return Err(invalid(format!("Unknown filter operator {other}."))),
        };
        let value = filter.field_value.unwrap_or_default();
        let equality = matches!(operator, Operator::Eq | Operator::Ne);
        let time = |v: &str| {
            parse_time(v).ok_or_else(|| invalid(format!("Invalid time value for {field}: {v}")))
        };
        let field = match field.as_str() {
            "CRAWL_ID" | "STATE" if !equality => {
                return Err(invalid(format!("{field} filters support only EQ and NE.")));
            }
            "CRAWL_ID" => Field::CrawlId(value),
            "STATE" => Field::State(value.to_ascii_uppercase()),
            "START_TIME" => Field::StartTime(time(&value)?),
            "END_TIME" => Field::EndTime(time(&value)?),
            "DPU_HOUR" => Field::DpuHour(
                value
                    .trim()
                    .parse()
                    .map_err(|_| invalid(format!("Invalid number for DPU_HOUR: {value}")))?,
            ),
            "" => return Err(invalid("A crawls filter needs a FieldName.".into())),
            other => return Err(invalid(format!("Unknown filter field {other}."))),
        };
        Ok(Filter { field, operator })
    }

    fn matches(&self, entry: &Entry) -> bool {
        let ordering = match &self.field {
            Field::CrawlId(id) => entry.crawl_id.cmp(id),
            Field::State(state) => entry.state.as_str().cmp(state.as_str()),
            Field::StartTime(ms) => entry.started_ms.cmp(ms),
            Field::EndTime(ms) => match entry.ended_ms {
                Some(end) => end.cmp(ms),
                None => return false,
            },
            Field::DpuHour(value) => 0f64.total_cmp(value),
        };
        self.operator.holds(ordering)
    }
}

/// Epoch milliseconds of a filter time (module docs).
fn parse_time(value: &str) -> Option<i64> {
    let v = value.trim();
    if let Ok(n) = v.parse::<i64>() {
        return Some(if n.abs() < 100_000_000_000 {
            n * 1000
        } else {
            n
        });
    }
    if let Ok(x) = v.parse::<f64>() {
        return x.is_finite().then(|| (x * 1000.0).round() as i64);
    }
    let b = v.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = v.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * 86_400_000;
    if b.len() == 10 {
        return Some(ms);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    ms += (num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)?) * 1000;
    let mut rest = &v[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        let text = format!("{:0<3}", &fraction[..digits.min(3)]);
        ms += text.parse::<i64>().ok()?;
        rest = &fraction[digits..];
    }
    match rest {
        "" | "Z" | "z" => Some(ms),
        offset
            if offset.len() == 6 && matches!(&offset[..1], "+" | "-") && &offset[3..4] == ":" =>
        {
            let hours: i64 = offset[1..3].parse().ok()?;
            let minutes: i64 = offset[4..6].parse().ok()?;
            let shift = (hours * 60 + minutes) * 60_000;
            Some(if offset.starts_with('+') {
                ms - shift
            } else {
                ms + shift
            })
        }
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crawler::runtime::CrawlState;

    fn filter(field: &str, op: &str, value: &str) -> Result<Filter, ApiError> {
        Filter::parse(CrawlsFilter {
            field_name: Some(field.into()),
            filter_operator: Some(op.into()),
            field_value: Some(value.into()),
        })
    }

    #[test]
    fn times_parse_in_every_accepted_form() {
        assert_eq!(parse_time("1700000000000"), Some(1_700_000_000_000));
        assert_eq!(parse_time("1700000000"), Some(1_700_000_000_000));
        assert_eq!(parse_time("1700000000.5"), Some(1_700_000_000_500));
        assert_eq!(parse_time("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(1_700_000_000_000));
        assert_eq!(
            parse_time("2023-11-14T22:13:20.25Z"),
            Some(1_700_000_000_250)
        );
        assert_eq!(
            parse_time("2023-11-15T00:13:20+02:00"),
            Some(1_700_000_000_000)
        );
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2023-13-01"), None);
    }

    #[test]
    fn filters_compare_fields() {
        let entry = Entry {
            crawl_id: "abc".into(),
            state: CrawlState::Completed,
            started_ms: 1_700_000_000_000,
            ended_ms: Some(1_700_000_002_000),
            error: None,
            changes: None,
        };
        let ok = |f: Result<Filter, ApiError>| f.expect("valid").matches(&entry);
        assert!(ok(filter("STATE", "EQ", "completed")));
        assert!(!ok(filter("STATE", "NE", "COMPLETED")));
        assert!(ok(filter("CRAWL_ID", "EQ", "abc")));
        assert!(ok(filter("START_TIME", "GE", "1700000000000")));
        assert!(!ok(filter("START_TIME", "GT", "1700000000")));
        assert!(ok(filter("END_TIME", "LT", "2023-11-14T22:13:22.001Z")));
        assert!(ok(filter("DPU_HOUR", "LE", "0")));
        assert!(filter("STATE", "GT", "RUNNING").is_err());
        assert!(filter("START_TIME", "EQ", "soon").is_err());
        let running = Entry {
            ended_ms: None,
            ..entry.clone()
        };
        assert!(
            !filter("END_TIME", "GT", "0")
                .expect("valid")
                .matches(&running)
        );
    }
}
