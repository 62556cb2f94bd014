//! Crawl operations (spec §7, Appendix A.5): StartCrawler, StopCrawler, ListCrawls,
//! GetCrawlerMetrics. The crawl itself lives in [`weir_catalog`].
//!
//! ListCrawls returns the history newest first; `Filters` combine with AND:
//! `CRAWL_ID` and `STATE` take `EQ`/`NE`; `START_TIME`, `END_TIME` and `DPU_HOUR` take
//! every operator. Times are epoch milliseconds, epoch seconds (values below 10^11,
//! fractions allowed) or ISO 8601 (`2024-05-01`, `2024-05-01T10:00:00Z`, with
//! fraction or `±hh:mm` offset); a malformed or impossible time (`2023-02-30`, `24:00`)
//! is InvalidInputException. A crawl without an end never matches an `END_TIME`
//! filter; `DPUHour` is not reported and compares as 0.

use weir_model::operations::{GetCrawlerMetrics, ListCrawls, StartCrawler, StopCrawler};
use weir_model::shapes::{
    Crawler, CrawlerHistoryState, CrawlerMetrics, CrawlsFilter, FieldName, FilterOperator,
    GetCrawlerMetricsRequest, GetCrawlerMetricsResponse, ListCrawlsRequest, ListCrawlsResponse,
    StartCrawlerRequest, StartCrawlerResponse, StopCrawlerRequest, StopCrawlerResponse,
};
use weir_store::Kind;

use super::{Handle, RequestContext};
use weir_catalog::lifecycle;
use weir_catalog::runtime::{self, Entry};
use weir_resources::ApiError;
use weir_resources::calendar::{days_from_civil, days_in_month};
use weir_resources::pagination::name_page;
use weir_resources::replica;
use weir_resources::stored;

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
        let s3_root = ctx.app.settings().s3_dir.clone();
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
                let holders = replica::holders(tx)?;
                Ok(runtime::load(tx, &scope, &crawler.value)?.view(&holders))
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
                let holders = replica::holders(tx)?;
                let one = |tx: &mut dyn weir_store::Transaction,
                           crawler: &Crawler|
                 -> Result<CrawlerMetrics, ApiError> {
                    let name = crawler.name.clone().unwrap_or_default();
                    let view = runtime::load(tx, &scope, crawler)?.view(&holders);
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
                            app.tokens(),
                            &context,
                            input.next_token.as_deref(),
                            limit,
                            |after, n| tx.list(&scope, Kind::Crawler, after, n),
                            |record| record.name.as_str(),
                        )?;
                        for record in page.items {
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
    State(CrawlerHistoryState),
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
        let Some(field) = filter.field_name else {
            return Err(invalid("A crawls filter needs a FieldName.".into()));
        };
        let operator = match filter.filter_operator.unwrap_or(FilterOperator::Eq) {
            FilterOperator::Gt => Operator::Gt,
            FilterOperator::Ge => Operator::Ge,
            FilterOperator::Lt => Operator::Lt,
            FilterOperator::Le => Operator::Le,
            FilterOperator::Eq => Operator::Eq,
            FilterOperator::Ne => Operator::Ne,
            FilterOperator::Unknown(other) => {
                return Err(invalid(format!("Unknown filter operator {other}.")));
            }
        };
        let value = filter.field_value.unwrap_or_default();
        let equality = matches!(operator, Operator::Eq | Operator::Ne);
        let time = |v: &str| {
            parse_time(v).ok_or_else(|| {
                invalid(format!(
                    "Invalid time value for {field}: {v}. Use epoch milliseconds, epoch \
                     seconds or ISO 8601 (2024-05-01T10:00:00Z)."
                ))
            })
        };
        let field = match &field {
            FieldName::CrawlId | FieldName::State if !equality => {
                return Err(invalid(format!("{field} filters support only EQ and NE.")));
            }
            FieldName::CrawlId => Field::CrawlId(value),
            FieldName::State => Field::State(CrawlerHistoryState::from(
                value.to_ascii_uppercase().as_str(),
            )),
            FieldName::StartTime => Field::StartTime(time(&value)?),
            FieldName::EndTime => Field::EndTime(time(&value)?),
            FieldName::DpuHour => Field::DpuHour(
                value
                    .trim()
                    .parse()
                    .map_err(|_| invalid(format!("Invalid number for DPU_HOUR: {value}")))?,
            ),
            FieldName::Unknown(other) => {
                return Err(invalid(format!("Unknown filter field {other}.")));
            }
        };
        Ok(Filter { field, operator })
    }

    fn matches(&self, entry: &Entry) -> bool {
        let ordering = match &self.field {
            Field::CrawlId(id) => entry.crawl_id.cmp(id),
            Field::State(state) => {
                // States have no order: only EQ and NE take them (`parse`).
                let equal = entry.state.history_state() == *state;
                return equal == (self.operator == Operator::Eq);
            }
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

/// Epoch milliseconds of a filter time (module docs); `None` when it is malformed or
/// out of range.
fn parse_time(value: &str) -> Option<i64> {
    let v = value.trim();
    if let Ok(n) = v.parse::<i64>() {
        return Some(if n.unsigned_abs() < 100_000_000_000 {
            n * 1000
        } else {
            n
        });
    }
    if let Ok(seconds) = v.parse::<f64>() {
        let ms = (seconds * 1000.0).round();
        // Beyond ±9·10^18 ms the value is not an i64 (and not a date anyone means).
        return (ms.is_finite() && ms.abs() < 9.0e18).then_some(ms as i64);
    }
    parse_iso(v.as_bytes())
}

/// `YYYY-MM-DD`, optionally followed by `THH:MM:SS` (`T`, `t` or a space), a fraction
/// of a second and `Z` or `±hh:mm`. The grammar is ASCII, so the text is read as
/// bytes: no offset can fall inside a multi-byte character.
fn parse_iso(b: &[u8]) -> Option<i64> {
    let (date, time) = b.split_at_checked(10)?;
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *date else {
        return None;
    };
    let (year, month, day) = (
        number(&[y0, y1, y2, y3])?,
        number(&[m0, m1])?,
        number(&[d0, d1])?,
    );
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * 86_400_000;
    let Some((clock, mut rest)) = time.split_at_checked(9) else {
        return time.is_empty().then_some(ms);
    };
    let [b'T' | b't' | b' ', h0, h1, b':', n0, n1, b':', s0, s1] = *clock else {
        return None;
    };
    let (hours, minutes, seconds) = (number(&[h0, h1])?, number(&[n0, n1])?, number(&[s0, s1])?);
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    ms += (hours * 3600 + minutes * 60 + seconds) * 1000;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        let (digits, after) = fraction.split_at(digits);
        if digits.is_empty() {
            return None;
        }
        ms += digits
            .iter()
            .chain(b"00")
            .take(3)
            .fold(0, |acc, d| acc * 10 + i64::from(d - b'0'));
        rest = after;
    }
    match *rest {
        [] | [b'Z' | b'z'] => Some(ms),
        [sign @ (b'+' | b'-'), h0, h1, b':', m0, m1] => {
            let (hours, minutes) = (number(&[h0, h1])?, number(&[m0, m1])?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let shift = (hours * 60 + minutes) * 60_000;
            Some(if sign == b'+' { ms - shift } else { ms + shift })
        }
        _ => None,
    }
}

/// The value of a short run of ASCII digits (`None` if any byte is not a digit).
fn number(digits: &[u8]) -> Option<i64> {
    digits.iter().try_fold(0, |acc, d| {
        d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use weir_catalog::runtime::CrawlState;
    use weir_resources::calendar;

    fn filter(field: FieldName, op: FilterOperator, value: &str) -> Result<Filter, ApiError> {
        Filter::parse(CrawlsFilter {
            field_name: Some(field),
            filter_operator: Some(op),
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
        assert_eq!(parse_time("2023-02-29"), None);
        assert_eq!(parse_time("2023-11-14T24:00:00Z"), None);
        assert_eq!(parse_time("2023-11-14T22:13:20.Z"), None);
        assert_eq!(parse_time("2023-11-14T22:13:20+02:60"), None);
        assert_eq!(parse_time("1e300"), None);
    }

    #[test]
    fn malformed_times_are_rejected_without_panicking() {
        // The first two once panicked: a slice inside 'é'.
        for value in [
            "2024-01-01T00:00:00\u{e9}:abc",
            "2024-01-01T00:00:00+0\u{e9}:0",
            "2024-01-01T00:00:00.\u{e9}",
            "2024-\u{e9}-01",
        ] {
            let err = filter(FieldName::StartTime, FilterOperator::Gt, value).expect_err(value);
            assert_eq!(err.code(), "InvalidInputException", "{value}");
            assert!(err.to_string().contains(value), "{err}");
        }
        // Once `i64::MIN.abs()`, an overflow.
        assert_eq!(parse_time("-9223372036854775808"), Some(i64::MIN));
    }

    /// ISO 8601 text of `ms` shown at UTC offset `offset_min`, with `fraction` digits.
    fn iso(ms: i64, offset_min: i64, fraction: usize) -> String {
        let local = ms + offset_min * 60_000;
        let (y, m, d) = calendar::civil_from_days(local.div_euclid(86_400_000));
        let of_day = local.rem_euclid(86_400_000);
        let (h, mi, s) = (of_day / 3_600_000, of_day / 60_000 % 60, of_day / 1000 % 60);
        let millis = format!("{:03}", of_day % 1000);
        let fraction = match fraction {
            0 => String::new(),
            n => format!(".{:0<n$}", &millis[..n.min(3)]),
        };
        let zone = match offset_min {
            0 => "Z".to_string(),
            o => format!(
                "{}{:02}:{:02}",
                if o < 0 { '-' } else { '+' },
                o.abs() / 60,
                o.abs() % 60
            ),
        };
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}{fraction}{zone}")
    }

    /// 0001-01-02 to 9999-12-30: any offset keeps the local date four digits long.
    const FIRST_MS: i64 = -62_135_510_400_000;
    const LAST_MS: i64 = 253_402_128_000_000;

    proptest! {
        #[test]
        fn time_parser_never_panics(text in "\\PC{0,40}") {
            let _ = parse_time(&text);
        }

        #[test]
        fn time_parser_never_panics_near_the_grammar(
            text in "[0-9T:.+\\-Zz \u{e9}\u{1F600}]{0,32}"
        ) {
            let _ = parse_time(&text);
        }

        #[test]
        fn valid_times_round_trip(
            ms in FIRST_MS..LAST_MS,
            offset_min in -(23 * 60 + 59)..=(23 * 60 + 59i64),
            digits in 0usize..=6,
        ) {
            // The text keeps `digits` digits of the fraction: milliseconds beyond are lost.
            let unit = 10i64.pow(3 - digits.min(3) as u32);
            let shown = ms - ms.rem_euclid(unit);
            prop_assert_eq!(parse_time(&iso(ms, offset_min, digits)), Some(shown));
            if ms.unsigned_abs() >= 100_000_000_000 {
                prop_assert_eq!(parse_time(&ms.to_string()), Some(ms));
            }
            let seconds = ms.div_euclid(1000);
            if seconds.unsigned_abs() < 100_000_000_000 {
                prop_assert_eq!(parse_time(&seconds.to_string()), Some(seconds * 1000));
                if ms >= 0 {
                    let text = format!("{seconds}.{:03}", ms % 1000);
                    prop_assert_eq!(parse_time(&text), Some(ms));
                }
            }
        }
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
        assert!(ok(filter(
            FieldName::State,
            FilterOperator::Eq,
            "completed"
        )));
        assert!(!ok(filter(
            FieldName::State,
            FilterOperator::Ne,
            "COMPLETED"
        )));
        assert!(ok(filter(FieldName::CrawlId, FilterOperator::Eq, "abc")));
        assert!(ok(filter(
            FieldName::StartTime,
            FilterOperator::Ge,
            "1700000000000"
        )));
        assert!(!ok(filter(
            FieldName::StartTime,
            FilterOperator::Gt,
            "1700000000"
        )));
        assert!(ok(filter(
            FieldName::EndTime,
            FilterOperator::Lt,
            "2023-11-14T22:13:22.001Z"
        )));
        assert!(ok(filter(FieldName::DpuHour, FilterOperator::Le, "0")));
        assert!(filter(FieldName::State, FilterOperator::Gt, "RUNNING").is_err());
        assert!(filter(FieldName::StartTime, FilterOperator::Eq, "soon").is_err());
        let running = Entry {
            ended_ms: None,
            ..entry.clone()
        };
        assert!(
            !filter(FieldName::EndTime, FilterOperator::Gt, "0")
                .expect("valid")
                .matches(&running)
        );
    }
}
