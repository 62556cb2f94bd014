//! AWS cron schedule expressions, as used by SCHEDULED triggers and crawler schedules
//! (glue-api.md §5.2): `cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)`,
//! evaluated in UTC.
//!
//! The syntax is EventBridge's (the one Glue documents under "Time-based schedules"):
//!
//! | field        | values                   | wildcards          |
//! |--------------|--------------------------|--------------------|
//! | minutes      | 0-59                     | `, - * /`          |
//! | hours        | 0-23                     | `, - * /`          |
//! | day-of-month | 1-31                     | `, - * ? / L W`    |
//! | month        | 1-12 or JAN-DEC          | `, - * /`          |
//! | day-of-week  | 1-7 or SUN-SAT (1 = SUN) | `, - * ? / L #`    |
//! | year         | 1970-2199                | `, - * /`          |
//!
//! Exactly one of day-of-month and day-of-week must be `?`. `L` alone is the last day of
//! the month (day-of-month) or Saturday (day-of-week); `LW` the last weekday of the month;
//! `15W` the weekday nearest the 15th (not leaving the month); `6L` the last Friday; `2#3`
//! the third Monday, and then the field's only expression (`3#1,6#3` is refused, as
//! EventBridge documents). A range whose start exceeds its end wraps around (`FRI-MON`).
//!
//! Not enforced: Glue's documented refusal of schedules that fire more often than every
//! five minutes — a local server is expected to run fast schedules in tests.

use crate::ApiError;
use crate::calendar::{civil_from_days, days_from_civil, days_in_month};

/// Last year an AWS cron expression may name.
const MAX_YEAR: i64 = 2199;
/// First year an AWS cron expression may name.
const MIN_YEAR: i64 = 1970;
const MONTH_NAMES: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAY_NAMES: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A parsed, valid AWS cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    minutes: Set,
    hours: Set,
    days: DaySpec,
    months: Set,
    years: Set,
}

/// Which of the two day fields constrains the schedule (the other one is `?`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum DaySpec {
    Month {
        days: Set,
        last: bool,
        last_weekday: bool,
        nearest_weekday: Vec<i64>,
    },
    Week {
        days: Set,
        last_of: Vec<i64>,
        /// `day#n`, which is then the field's only expression.
        nth: Option<(i64, i64)>,
    },
}

/// The allowed values of one field, indexed by value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Set(Vec<bool>);

impl Set {
    fn empty(max: i64) -> Self {
        Set(vec![false; usize::try_from(max + 1).unwrap_or(0)])
    }

    fn contains(&self, value: i64) -> bool {
        usize::try_from(value)
            .ok()
            .and_then(|i| self.0.get(i))
            .copied()
            .unwrap_or(false)
    }

    fn insert(&mut self, value: i64) {
        if let Some(slot) = usize::try_from(value).ok().and_then(|i| self.0.get_mut(i)) {
            *slot = true;
        }
    }
}

/// Parses `expr`; a syntax error is InvalidInputException naming the expression.
pub fn parse_schedule(expr: &str) -> Result<CronSchedule, ApiError> {
    CronSchedule::parse(expr).map_err(|detail| {
        ApiError::InvalidInput(format!("Invalid schedule expression: {expr}. {detail}"))
    })
}

impl CronSchedule {
    /// Parses `cron(min hour day-of-month month day-of-week year)`; the error says why not.
    pub fn parse(expr: &str) -> Result<Self, String> {
        let inner = expr
            .trim()
            .strip_prefix("cron(")
            .and_then(|rest| rest.strip_suffix(')'))
            .ok_or("A schedule must have the form cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>).")?;
        let fields: Vec<&str> = inner.split_whitespace().collect();
        let [minutes, hours, dom, month, dow, year] = fields[..] else {
            return Err(format!(
                "A cron expression has 6 fields, found {}.",
                fields.len()
            ));
        };
        let days = match (dom, dow) {
            ("?", "?") => return Err("Only one of day-of-month and day-of-week may be '?'.".into()),
            (_, "?") => parse_day_of_month(dom)?,
            ("?", _) => parse_day_of_week(dow)?,
            _ => {
                return Err(
                    "Day-of-month and day-of-week cannot both be specified; use '?' in one of them."
                        .into(),
                );
            }
        };
        Ok(CronSchedule {
            minutes: parse_set(minutes, "minutes", 0, 59, &[])?,
            hours: parse_set(hours, "hours", 0, 23, &[])?,
            days,
            months: parse_set(month, "month", 1, 12, MONTH_NAMES)?,
            years: parse_set(year, "year", MIN_YEAR, MAX_YEAR, &[])?,
        })
    }

    /// The first firing time strictly after `after_ms` (epoch milliseconds), in epoch
    /// milliseconds, or `None` if the schedule never fires again (e.g. its years passed).
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        let start = after_ms.div_euclid(60_000) + 1;
        let (mut y0, mut m0, mut d0) = civil_from_days(start.div_euclid(1440));
        let minute_of_day = start.rem_euclid(1440);
        let (mut h0, mut mi0) = (minute_of_day / 60, minute_of_day % 60);
        if y0 < MIN_YEAR {
            (y0, m0, d0, h0, mi0) = (MIN_YEAR, 1, 1, 0, 0);
        }
        for y in y0..=MAX_YEAR {
            if !self.years.contains(y) {
                continue;
            }
            let first_year = y == y0;
            for m in (if first_year { m0 } else { 1 })..=12 {
                if !self.months.contains(m) {
                    continue;
                }
                let first_month = first_year && m == m0;
                for d in (if first_month { d0 } else { 1 })..=days_in_month(y, m) {
                    if !self.day_matches(y, m, d) {
                        continue;
                    }
                    let first_day = first_month && d == d0;
                    for h in (if first_day { h0 } else { 0 })..24 {
                        if !self.hours.contains(h) {
                            continue;
                        }
                        let first_hour = first_day && h == h0;
                        for mi in (if first_hour { mi0 } else { 0 })..60 {
                            if self.minutes.contains(mi) {
                                let days = days_from_civil(y, m, d);
                                return Some(((days * 1440) + h * 60 + mi) * 60_000);
                            }
                        }
                    }
                }
            }
        }
        None
    }

    fn day_matches(&self, y: i64, m: i64, d: i64) -> bool {
        let dim = days_in_month(y, m);
        match &self.days {
            DaySpec::Month {
                days,
                last,
                last_weekday,
                nearest_weekday,
            } => {
                days.contains(d)
                    || (*last && d == dim)
                    || (*last_weekday && d == nearest_weekday_to(y, m, dim))
                    || nearest_weekday
                        .iter()
                        .any(|&n| n <= dim && d == nearest_weekday_to(y, m, n))
            }
            DaySpec::Week { days, last_of, nth } => {
                let wd = weekday(y, m, d);
                days.contains(wd)
                    || (last_of.contains(&wd) && d + 7 > dim)
                    || nth.is_some_and(|(w, n)| w == wd && (d - 1) / 7 + 1 == n)
            }
        }
    }
}

fn parse_day_of_month(field: &str) -> Result<DaySpec, String> {
    let mut plain = Vec::new();
    let (mut last, mut last_weekday, mut nearest_weekday) = (false, false, Vec::new());
    for item in field.split(',') {
        match item.to_ascii_uppercase().as_str() {
            "L" => last = true,
            "LW" => last_weekday = true,
            upper => match upper.strip_suffix('W') {
                Some(n) => nearest_weekday.push(number(n, "day-of-month", 1, 31, &[])?),
                None => plain.push(item),
            },
        }
    }
    let days = if plain.is_empty() {
        Set::empty(31)
    } else {
        parse_set(&plain.join(","), "day-of-month", 1, 31, &[])?
    };
    Ok(DaySpec::Month {
        days,
        last,
        last_weekday,
        nearest_weekday,
    })
}

fn parse_day_of_week(field: &str) -> Result<DaySpec, String> {
    if let Some((day, n)) = field.split_once('#') {
        if field.contains(',') {
            return Err(format!(
                "With '#', the day-of-week field may hold only one expression, not '{field}'."
            ));
        }
        let day = number(day, "day-of-week", 1, 7, DAY_NAMES)?;
        let n = number(n, "day-of-week '#'", 1, 5, &[])?;
        return Ok(DaySpec::Week {
            days: Set::empty(7),
            last_of: Vec::new(),
            nth: Some((day, n)),
        });
    }
    let mut plain = Vec::new();
    let mut last_of = Vec::new();
    for item in field.split(',') {
        let upper = item.to_ascii_uppercase();
        if upper == "L" {
            plain.push("7");
        } else if let Some(day) = upper.strip_suffix('L') {
            last_of.push(number(day, "day-of-week", 1, 7, DAY_NAMES)?);
        } else {
            plain.push(item);
        }
    }
    let days = if plain.is_empty() {
        Set::empty(7)
    } else {
        parse_set(&plain.join(","), "day-of-week", 1, 7, DAY_NAMES)?
    };
    Ok(DaySpec::Week {
        days,
        last_of,
        nth: None,
    })
}

/// Parses a comma-separated list of `*`, `n`, `a-b`, each optionally with `/step`.
fn parse_set(field: &str, what: &str, min: i64, max: i64, names: &[&str]) -> Result<Set, String> {
    let mut set = Set::empty(max);
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(number(step, what, 1, max - min + 1, &[])?)),
            None => (item, None),
        };
        let (start, end) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                number(a, what, min, max, names)?,
                number(b, what, min, max, names)?,
            )
        } else {
            let v = number(range, what, min, max, names)?;
            (v, if step.is_some() { max } else { v })
        };
        // A wrapping range (start > end) runs to the field's end and on from its start.
        let span = if start <= end {
            end - start
        } else {
            max - start + 1 + end - min
        };
        let step = step.unwrap_or(1);
        let mut offset = 0;
        while offset <= span {
            let mut value = start + offset;
            if value > max {
                value -= max - min + 1;
            }
            set.insert(value);
            offset += step;
        }
    }
    Ok(set)
}

/// One value of a field: a number within `min..=max`, or a name (index + `min`).
fn number(text: &str, what: &str, min: i64, max: i64, names: &[&str]) -> Result<i64, String> {
    let upper = text.to_ascii_uppercase();
    let value = match names.iter().position(|n| *n == upper) {
        Some(index) => i64::try_from(index).map_err(|e| e.to_string())? + min,
        None => text
            .parse::<i64>()
            .map_err(|_| format!("'{text}' is not a valid {what} value."))?,
    };
    if !(min..=max).contains(&value) {
        return Err(format!("{what} value {value} is outside {min}-{max}."));
    }
    Ok(value)
}

/// Day of the week, 1 = Sunday … 7 = Saturday (1970-01-01 was a Thursday).
fn weekday(y: i64, m: i64, d: i64) -> i64 {
    (days_from_civil(y, m, d) + 4).rem_euclid(7) + 1
}

/// The weekday (Mon–Fri) nearest to day `n` of the month, without leaving the month.
fn nearest_weekday_to(y: i64, m: i64, n: i64) -> i64 {
    let dim = days_in_month(y, m);
    match weekday(y, m, n) {
        7 if n == 1 => 3,
        7 => n - 1,
        1 if n == dim => n - 2,
        1 => n + 1,
        _ => n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(y: i64, m: i64, d: i64, h: i64, mi: i64) -> i64 {
        (days_from_civil(y, m, d) * 1440 + h * 60 + mi) * 60_000
    }

    fn next(expr: &str, after: i64) -> Option<i64> {
        CronSchedule::parse(expr).expect("valid").next_after(after)
    }

    #[test]
    fn weekdays() {
        assert_eq!(weekday(1970, 1, 1), 5, "Thursday");
        assert_eq!(weekday(2024, 2, 29), 5, "Thursday");
    }

    #[test]
    fn accepts_documented_examples() {
        for expr in [
            "cron(15 12 * * ? *)",
            "cron(0 18 ? * MON-FRI *)",
            "cron(0 8 1 * ? *)",
            "cron(0/15 * * * ? *)",
            "cron(0/10 * ? * MON-FRI *)",
            "cron(0/5 8-17 ? * MON-FRI *)",
            "cron(0 9 ? * 2#1 *)",
            "cron(0 10 L * ? *)",
            "cron(0 10 LW * ? *)",
            "cron(0 10 15W * ? *)",
            "cron(0 10 ? * 6L *)",
            "cron(*/5 * * JAN,FEB ? 2025-2030)",
            " cron(0  12 * * ? *) ",
        ] {
            assert!(CronSchedule::parse(expr).is_ok(), "{expr}");
        }
    }

    #[test]
    fn rejects_malformed_expressions() {
        for expr in [
            "",
            "rate(5 minutes)",
            "15 12 * * ? *",
            "cron(15 12 * * ?)",
            "cron(15 12 * * ? * *)",
            "cron(15 12 * * * *)",
            "cron(15 12 ? * ? *)",
            "cron(60 12 * * ? *)",
            "cron(15 24 * * ? *)",
            "cron(15 12 32 * ? *)",
            "cron(15 12 * 13 ? *)",
            "cron(15 12 ? * 8 *)",
            "cron(15 12 * * ? 2200)",
            "cron(15 12 * FOO ? *)",
            "cron(0/0 12 * * ? *)",
            "cron(15 12 ? * 2#6 *)",
            "cron(x 12 * * ? *)",
            // '#' allows one expression in day-of-week only (EventBridge's own example).
            "cron(0 9 ? * 3#1,6#3 *)",
            "cron(0 9 ? * 3#1,MON *)",
            "cron(0 9 ? * FRI,2#2 *)",
        ] {
            let err = parse_schedule(expr).expect_err(expr);
            assert_eq!(err.code(), "InvalidInputException", "{expr}");
        }
    }

    #[test]
    fn next_firing_times() {
        let noon = at(2024, 3, 10, 12, 15);
        assert_eq!(next("cron(15 12 * * ? *)", noon - 1), Some(noon));
        assert_eq!(
            next("cron(15 12 * * ? *)", noon),
            Some(at(2024, 3, 11, 12, 15))
        );
        assert_eq!(
            next("cron(0/15 * * * ? *)", at(2024, 3, 10, 12, 16)),
            Some(at(2024, 3, 10, 12, 30))
        );
        // 2024-03-10 is a Sunday: the next weekday 18:00 is Monday.
        assert_eq!(
            next("cron(0 18 ? * MON-FRI *)", noon),
            Some(at(2024, 3, 11, 18, 0))
        );
        assert_eq!(
            next("cron(0 10 L * ? *)", at(2024, 2, 1, 0, 0)),
            Some(at(2024, 2, 29, 10, 0))
        );
        // First Monday of April 2024 is the 1st; third Monday is the 15th.
        assert_eq!(
            next("cron(0 9 ? * 2#3 *)", at(2024, 4, 1, 0, 0)),
            Some(at(2024, 4, 15, 9, 0))
        );
        // Last Friday of March 2024 is the 29th.
        assert_eq!(
            next("cron(0 9 ? * 6L *)", at(2024, 3, 1, 0, 0)),
            Some(at(2024, 3, 29, 9, 0))
        );
        // 2024-06-15 is a Saturday → nearest weekday Friday 14th; 2024-06-01 Saturday → Monday 3rd.
        assert_eq!(
            next("cron(0 9 15W * ? *)", at(2024, 6, 1, 0, 0)),
            Some(at(2024, 6, 14, 9, 0))
        );
        assert_eq!(
            next("cron(0 9 1W * ? *)", at(2024, 5, 31, 0, 0)),
            Some(at(2024, 6, 3, 9, 0))
        );
        // Last weekday of August 2024 (31st is a Saturday) is Friday the 30th.
        assert_eq!(
            next("cron(0 9 LW * ? *)", at(2024, 8, 1, 0, 0)),
            Some(at(2024, 8, 30, 9, 0))
        );
        // Leap day only.
        assert_eq!(
            next("cron(0 0 29 FEB ? *)", at(2024, 3, 1, 0, 0)),
            Some(at(2028, 2, 29, 0, 0))
        );
        // Wrapping range FRI-MON includes Sunday.
        assert_eq!(
            next("cron(0 0 ? * FRI-MON *)", at(2024, 3, 9, 12, 0)),
            Some(at(2024, 3, 10, 0, 0))
        );
        // Past years never fire again.
        assert_eq!(next("cron(0 0 1 1 ? 2020)", at(2024, 1, 1, 0, 0)), None);
        assert_eq!(
            next("cron(0 0 1 1 ? 2020)", -5_000_000_000_000),
            Some(at(2020, 1, 1, 0, 0))
        );
    }

    /// A cron field as AWS reads it and as croner (Quartz weekdays) reads it.
    #[derive(Debug, Clone)]
    struct Field {
        aws: String,
        croner: String,
    }

    impl Field {
        fn same(text: String) -> Self {
            Field {
                aws: text.clone(),
                croner: text,
            }
        }
    }

    /// One list item with values within `min..=max` of a field whose whole range is
    /// `first..=last`: `n`, `a-b`, `n/step`, `a-b/step`, `*/step` (ranges never wrap:
    /// croner does not wrap them). `names` spells values by name on the AWS side;
    /// croner gets steps as explicit ranges (its `*` of years starts at year 1, AWS's
    /// at 1970).
    fn item(
        (min, max): (i64, i64),
        (first, last): (i64, i64),
        names: &'static [&'static str],
    ) -> impl Strategy<Value = Field> {
        let value = move |v: i64, named: bool| match usize::try_from(v - first) {
            Ok(i) if named && i < names.len() => names[i].to_string(),
            _ => v.to_string(),
        };
        (
            min..=max,
            min..=max,
            1..=(max - min).max(1),
            0..5u8,
            any::<bool>(),
        )
            .prop_map(move |(a, b, step, kind, named)| {
                let (a, b) = (a.min(b), a.max(b));
                let (aws, croner) = match kind {
                    0 => (value(a, named), a.to_string()),
                    1 => (
                        format!("{}-{}", value(a, named), value(b, named)),
                        format!("{a}-{b}"),
                    ),
                    2 => (format!("{a}/{step}"), format!("{a}-{last}/{step}")),
                    3 => (format!("{a}-{b}/{step}"), format!("{a}-{b}/{step}")),
                    _ => (format!("*/{step}"), format!("{first}-{last}/{step}")),
                };
                Field { aws, croner }
            })
    }

    /// `*` or a list of one to three items (arguments as for [`item`]).
    fn field(
        values: (i64, i64),
        whole: (i64, i64),
        names: &'static [&'static str],
    ) -> impl Strategy<Value = Field> {
        prop_oneof![
            1 => Just(Field::same("*".into())),
            3 => prop::collection::vec(item(values, whole, names), 1..=3).prop_map(|items| Field {
                aws: items.iter().map(|f| f.aws.as_str()).collect::<Vec<_>>().join(","),
                croner: items.iter().map(|f| f.croner.as_str()).collect::<Vec<_>>().join(","),
            }),
        ]
    }

    fn plain(min: i64, max: i64, names: &'static [&'static str]) -> impl Strategy<Value = Field> {
        field((min, max), (min, max), names)
    }

    /// Day-of-month and day-of-week, one of them `?`: plain fields, `L`, `LW`, `nW`,
    /// `nL`, `n#k`.
    fn days() -> impl Strategy<Value = (Field, Field)> {
        let any_day = || Field::same("?".into());
        prop_oneof![
            plain(1, 31, &[]).prop_map(move |dom| (dom, any_day())),
            prop_oneof![Just("L".to_string()), Just("LW".to_string())]
                .prop_map(move |dom| (Field::same(dom), any_day())),
            prop_oneof![1..=31i64, Just(1), 28..=31i64]
                .prop_map(move |n| (Field::same(format!("{n}W")), any_day())),
            plain(1, 7, DAY_NAMES).prop_map(move |dow| (any_day(), dow)),
            (1..=7i64).prop_map(move |n| (any_day(), Field::same(format!("{n}L")))),
            (1..=7i64, 1..=5i64)
                .prop_map(move |(n, k)| (any_day(), Field::same(format!("{n}#{k}")))),
        ]
    }

    /// Years: values near the search window, steps over AWS's whole range.
    fn years() -> impl Strategy<Value = Field> {
        field((2024, 2034), (MIN_YEAR, MAX_YEAR), &[])
    }

    /// An AWS expression and the croner pattern (seconds and year fields) it means.
    fn expression() -> impl Strategy<Value = (String, String)> {
        (
            plain(0, 59, &[]),
            plain(0, 23, &[]),
            days(),
            plain(1, 12, MONTH_NAMES),
            years(),
        )
            .prop_map(|(minutes, hours, (dom, dow), months, years)| {
                let aws = format!(
                    "cron({} {} {} {} {} {})",
                    minutes.aws, hours.aws, dom.aws, months.aws, dow.aws, years.aws
                );
                let croner = format!(
                    "0 {} {} {} {} {} {}",
                    minutes.croner,
                    hours.croner,
                    dom.croner,
                    months.croner,
                    dow.croner,
                    years.croner
                );
                (aws, croner)
            })
    }

    /// croner's next firing strictly after `after_ms`, in epoch milliseconds.
    fn croner_next(cron: &croner::Cron, after_ms: i64) -> Option<i64> {
        let after = chrono::DateTime::from_timestamp_millis(after_ms)?.naive_utc();
        let next = cron.find_next_occurrence(&after, false).ok()?;
        Some(next.and_utc().timestamp_millis())
    }

    proptest! {
        // Cheap cases; `W`, `L` and `#` need many to meet their edge months.
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn next_firings_agree_with_croner(
            (aws, pattern) in expression(),
            after_ms in at(2020, 1, 1, 0, 0)..at(2034, 1, 1, 0, 0),
        ) {
            let ours = CronSchedule::parse(&aws).map_err(|e| TestCaseError::fail(format!("{aws}: {e}")))?;
            let theirs = croner::parser::CronParser::builder()
                .seconds(croner::parser::Seconds::Required)
                .year(croner::parser::Year::Required)
                .alternative_weekdays(true)
                .build()
                .parse(&pattern)
                .map_err(|e| TestCaseError::fail(format!("{pattern}: {e}")))?;
            let mut after = after_ms;
            for _ in 0..6 {
                let expected = croner_next(&theirs, after)
                    .filter(|&t| t < at(MAX_YEAR + 1, 1, 1, 0, 0));
                let next = ours.next_after(after);
                prop_assert_eq!(next, expected, "{} / {} after {}", aws, pattern, after);
                let Some(next) = next else { break };
                after = next;
            }
        }

    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic(text in "\\PC{0,60}", after in any::<i64>()) {
            if let Ok(schedule) = CronSchedule::parse(&text) {
                let _ = schedule.next_after(after);
            }
        }

        #[test]
        fn cron_like_strings_never_panic(
            fields in prop::collection::vec("[0-9A-Z*?/,#LW-]{1,8}", 0..8),
            after in any::<i64>(),
        ) {
            let text = format!("cron({})", fields.join(" "));
            if let Ok(schedule) = CronSchedule::parse(&text) {
                let _ = schedule.next_after(after);
            }
        }
    }
}
