//! Filtered, name-ordered listings (ListJobs/ListCrawlers/ListTriggers with `Tags`,
//! GetTriggers with `DependentJobName`).
//!
//! The store lists a kind in name order; a filter that the store cannot index is
//! applied while reading in chunks after the page's cursor, so a page costs time linear
//! in the records it skips and memory bounded by the page size plus one chunk. The
//! cursor is the last *returned* name, so pages neither skip nor repeat records even
//! when the filter matches sparsely.

use std::collections::BTreeMap;

use weir_store::{Kind, Record, Scope, Transaction};

use crate::ApiError;
use crate::pagination::{NamePage, PageTokens};

/// Records read from the store per round trip while filtering.
const CHUNK: usize = 500;

/// Whether `tags` carries every key/value pair of `wanted` (an empty filter keeps all).
pub fn has_all_tags(tags: &BTreeMap<String, String>, wanted: &BTreeMap<String, String>) -> bool {
    wanted.iter().all(|(k, v)| tags.get(k) == Some(v))
}

/// One page of the records of `kind` that `keep` accepts, `limit` at most, in name
/// order, with a token for the next page when more matching records exist.
///
/// `context` names the listing (operation and scope) as for
/// [`crate::pagination::name_page`].
#[allow(clippy::too_many_arguments)]
pub fn filtered_page(
    tx: &mut dyn Transaction,
    tokens: &PageTokens,
    context: &str,
    scope: &Scope,
    kind: Kind,
    next_token: Option<&str>,
    limit: usize,
    mut keep: impl FnMut(&Record) -> Result<bool, ApiError>,
) -> Result<NamePage<Record>, ApiError> {
    let mut after = tokens.cursor(context, next_token)?;
    let mut records = Vec::new();
    'scan: loop {
        let chunk = tx.list(scope, kind, after.as_deref(), CHUNK)?;
        let exhausted = chunk.len() < CHUNK;
        for record in chunk {
            after = Some(record.name.clone());
            if keep(&record)? {
                records.push(record);
                if records.len() > limit {
                    break 'scan;
                }
            }
        }
        if exhausted {
            break;
        }
    }
    Ok(NamePage::cut(records, limit, tokens, context, |record| {
        record.name.as_str()
    }))
}

/// Whether any record of `kind` satisfies `test` (a full scan in chunks, stopping at
/// the first match).
pub fn any(
    tx: &mut dyn Transaction,
    scope: &Scope,
    kind: Kind,
    mut test: impl FnMut(&Record) -> Result<bool, ApiError>,
) -> Result<bool, ApiError> {
    let mut after: Option<String> = None;
    loop {
        let chunk = tx.list(scope, kind, after.as_deref(), CHUNK)?;
        let exhausted = chunk.len() < CHUNK;
        for record in &chunk {
            if test(record)? {
                return Ok(true);
            }
        }
        if exhausted {
            return Ok(false);
        }
        after = chunk.last().map(|r| r.name.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_store::{SqliteStore, Store, StoreExt};

    /// 1 234 jobs (more than two chunks), every seventh tagged `pick=yes`.
    fn store_with_jobs() -> (tempfile::TempDir, SqliteStore, Scope) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("store");
        let scope = Scope {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        };
        store
            .write(|tx| {
                for i in 0..1234 {
                    let tags = if i % 7 == 0 {
                        [("pick".to_string(), "yes".to_string())].into()
                    } else {
                        BTreeMap::new()
                    };
                    let record = Record {
                        name: format!("job-{i:05}"),
                        parent: None,
                        doc: "{}".into(),
                        version: 1,
                        tags,
                    };
                    tx.insert(&scope, Kind::Job, &record)?;
                }
                Ok::<_, ApiError>(())
            })
            .expect("filled");
        (dir, store, scope)
    }

    #[test]
    fn sparse_filters_page_without_gaps_or_repeats() {
        let (_dir, store, scope) = store_with_jobs();
        let tokens = PageTokens::load_or_create(&store as &dyn Store).expect("tokens");
        let wanted: BTreeMap<String, String> = [("pick".to_string(), "yes".to_string())].into();
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = store
                .read(|tx| {
                    filtered_page(
                        tx,
                        &tokens,
                        "ListJobs/test",
                        &scope,
                        Kind::Job,
                        token.as_deref(),
                        40,
                        |r| Ok(has_all_tags(&r.tags, &wanted)),
                    )
                })
                .expect("page");
            pages += 1;
            assert!(page.items.len() <= 40);
            seen.extend(page.items.into_iter().map(|r| r.name));
            match page.next_token {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        let expected: Vec<String> = (0..1234)
            .step_by(7)
            .map(|i| format!("job-{i:05}"))
            .collect();
        assert_eq!(seen, expected);
        assert_eq!(pages, expected.len().div_ceil(40));
        let found = store
            .read(|tx| any(tx, &scope, Kind::Job, |r| Ok(r.name == "job-01233")))
            .expect("scan");
        assert!(found);
        let missing = store
            .read(|tx| any(tx, &scope, Kind::Job, |r| Ok(r.name == "nope")))
            .expect("scan");
        assert!(!missing);
    }

    #[test]
    fn tag_filter_requires_every_pair() {
        let tags: BTreeMap<String, String> = [("team", "data"), ("env", "prod")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let want = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(has_all_tags(&tags, &want(&[])));
        assert!(has_all_tags(&tags, &want(&[("team", "data")])));
        assert!(has_all_tags(
            &tags,
            &want(&[("team", "data"), ("env", "prod")])
        ));
        assert!(!has_all_tags(&tags, &want(&[("team", "ops")])));
        assert!(!has_all_tags(&tags, &want(&[("owner", "")])));
    }
}
