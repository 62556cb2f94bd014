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

use crate::protocol::ApiError;
use crate::resources::pagination::{NamePage, PageTokens};

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
/// [`crate::resources::pagination::name_page`].
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
) -> Result<NamePage, ApiError> {
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
    let next_token = if records.len() > limit {
        records.truncate(limit);
        records.last().map(|last| tokens.issue(context, &last.name))
    } else {
        None
    };
    Ok(NamePage {
        records,
        next_token,
    })
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
