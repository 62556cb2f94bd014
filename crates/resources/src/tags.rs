//! Tag rules shared by every taggable resource (spec §10).

use std::collections::BTreeMap;

use crate::ApiError;

/// Most tags one resource may carry.
pub const MAX_TAGS: usize = 50;

/// Checks a resource's resulting tag set: at most 50 tags, no `aws`-prefixed keys
/// (reserved by AWS).
pub fn check(tags: &BTreeMap<String, String>) -> Result<(), ApiError> {
    if let Some(key) = tags
        .keys()
        .find(|k| k.to_ascii_lowercase().starts_with("aws"))
    {
        return Err(ApiError::InvalidInput(format!(
            "Tag keys starting with 'aws' are reserved: {key}"
        )));
    }
    if tags.len() > MAX_TAGS {
        return Err(ApiError::InvalidInput(format!(
            "A resource can have at most {MAX_TAGS} tags; this request would leave {}.",
            tags.len()
        )));
    }
    Ok(())
}
