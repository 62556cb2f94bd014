//! Opaque, unique, tamper-evident pagination tokens.
//!
//! A token is `base64url(nonce ‖ cursor) . base64url(mac)` where the MAC (HMAC-SHA256,
//! truncated to 16 bytes) covers the token's context (operation, scope and listed
//! collection) as well as the cursor. A token from another listing, another account
//! or with a changed byte is therefore InvalidInputException, and the random nonce
//! makes every issued token unique even for equal cursors. The key lives in the
//! store, so tokens stay valid across restarts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use weir_store::{Setting, Store, StoreExt};

use crate::ApiError;

const KEY_NAME: &str = "pagination-token-key";
const NONCE_BYTES: usize = 8;
const MAC_BYTES: usize = 16;

/// Issues and redeems pagination tokens with a persistent secret key.
pub struct PageTokens {
    key: Vec<u8>,
}

impl PageTokens {
    /// Loads the key from the store, creating it on first start.
    pub fn load_or_create(store: &dyn Store) -> Result<Self, ApiError> {
        let key = store.write(|tx| {
            if let Some(existing) = tx.get_meta(KEY_NAME)? {
                return Ok::<_, ApiError>(existing.value);
            }
            let mut key = [0u8; 32];
            rand::rng().fill_bytes(&mut key);
            let key = hex::encode(key);
            let setting = Setting {
                value: key.clone(),
                version: 1,
            };
            tx.put_meta(KEY_NAME, &setting)?;
            Ok(key)
        })?;
        let key = hex::decode(key)
            .map_err(|_| ApiError::Internal("stored pagination key is corrupt".into()))?;
        Ok(Self { key })
    }

    /// A fresh token that resumes a listing identified by `context` after `cursor`.
    pub fn issue(&self, context: &str, cursor: &str) -> String {
        let mut payload = vec![0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut payload);
        payload.extend_from_slice(cursor.as_bytes());
        let mac = self.mac(context, &payload);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(mac)
        )
    }

    /// The cursor inside `token`, if the token was issued for `context` and is intact.
    pub fn redeem(&self, context: &str, token: &str) -> Result<String, ApiError> {
        let invalid = || ApiError::InvalidInput("Invalid pagination token.".into());
        let (payload, mac) = token.split_once('.').ok_or_else(invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| invalid())?;
        if payload.len() < NONCE_BYTES || mac.len() != MAC_BYTES {
            return Err(invalid());
        }
        self.hmac(context, &payload)
            .verify_truncated_left(&mac)
            .map_err(|_| invalid())?;
        String::from_utf8(payload[NONCE_BYTES..].to_vec()).map_err(|_| invalid())
    }

    /// Redeems an optional token: `None` starts at the beginning.
    pub fn cursor(&self, context: &str, token: Option<&str>) -> Result<Option<String>, ApiError> {
        token.map(|t| self.redeem(context, t)).transpose()
    }

    fn hmac(&self, context: &str, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(&(context.len() as u64).to_be_bytes());
        mac.update(context.as_bytes());
        mac.update(payload);
        mac
    }

    fn mac(&self, context: &str, payload: &[u8]) -> Vec<u8> {
        let full = self.hmac(context, payload).finalize().into_bytes();
        full[..MAC_BYTES].to_vec()
    }
}

/// One page of a name-ordered listing and the token for the next page.
pub struct NamePage<T> {
    /// The items of this page (records, or names only).
    pub items: Vec<T>,
    /// Token for the next page; `None` on the last page.
    pub next_token: Option<String>,
}

/// Reads one page of a listing in name order, `limit` at most: `fetch` reads up to the
/// given number of items named strictly after the cursor (`Transaction::list` for
/// records, `Transaction::list_names` for names), `name` tells an item's name.
///
/// `context` must name the listing (operation and scope) so that a token from another
/// listing is rejected. One extra item is read to learn whether another page exists,
/// so no token is issued for an empty last page.
pub fn name_page<T>(
    tokens: &PageTokens,
    context: &str,
    next_token: Option<&str>,
    limit: usize,
    fetch: impl FnOnce(Option<&str>, usize) -> weir_store::StoreResult<Vec<T>>,
    name: impl Fn(&T) -> &str,
) -> Result<NamePage<T>, ApiError> {
    let after = tokens.cursor(context, next_token)?;
    let items = fetch(after.as_deref(), limit + 1)?;
    Ok(NamePage::cut(items, limit, tokens, context, name))
}

impl<T> NamePage<T> {
    /// The page of `items` read one past `limit`: the first `limit`, and a token after
    /// the last of them if there was more (none for an empty last page).
    pub fn cut(
        mut items: Vec<T>,
        limit: usize,
        tokens: &PageTokens,
        context: &str,
        name: impl Fn(&T) -> &str,
    ) -> Self {
        let next_token = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|last| tokens.issue(context, name(last)))
        } else {
            None
        };
        Self { items, next_token }
    }
}

/// One page of a newest-first run history and the token for the next page.
pub struct HistoryPage<R> {
    /// The items of this page, newest first.
    pub items: Vec<R>,
    /// Token for the next (older) page; `None` on the last page.
    pub next_token: Option<String>,
}

/// Reads one page of a newest-first history (workflow runs, job runs): `fetch` reads up
/// to the given number of items strictly older than the cursor, `position` tells where
/// an item stands. The cursor travels inside the token as `<started ms>:<id>`.
pub fn history_page<R>(
    tokens: &PageTokens,
    context: &str,
    next_token: Option<&str>,
    limit: usize,
    fetch: impl FnOnce(Option<&weir_store::RunCursor>, usize) -> Result<Vec<R>, ApiError>,
    position: impl Fn(&R) -> weir_store::RunCursor,
) -> Result<HistoryPage<R>, ApiError> {
    let invalid = || ApiError::InvalidInput("Invalid pagination token.".into());
    let cursor = match tokens.cursor(context, next_token)? {
        Some(text) => {
            let (started, id) = text.split_once(':').ok_or_else(invalid)?;
            Some(weir_store::RunCursor {
                started_ms: started.parse().map_err(|_| invalid())?,
                run_id: id.to_string(),
            })
        }
        None => None,
    };
    let mut items = fetch(cursor.as_ref(), limit + 1)?;
    let next_token = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| {
            let at = position(last);
            tokens.issue(context, &format!("{}:{}", at.started_ms, at.run_id))
        })
    } else {
        None
    };
    Ok(HistoryPage { items, next_token })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> PageTokens {
        PageTokens { key: vec![7u8; 32] }
    }

    #[test]
    fn tokens_round_trip_and_are_unique() {
        let t = tokens();
        let a = t.issue("ListWorkflows/acct", "wf-10");
        let b = t.issue("ListWorkflows/acct", "wf-10");
        assert_ne!(a, b, "two tokens for the same cursor differ");
        assert_eq!(t.redeem("ListWorkflows/acct", &a).expect("valid"), "wf-10");
    }

    #[test]
    fn foreign_and_tampered_tokens_are_rejected() {
        let t = tokens();
        let token = t.issue("ListWorkflows/acct", "wf-10");
        assert!(t.redeem("ListJobs/acct", &token).is_err(), "other listing");
        assert!(
            t.redeem("ListWorkflows/other", &token).is_err(),
            "other account"
        );
        let mut tampered = token.into_bytes();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert!(t.redeem("ListWorkflows/acct", &tampered).is_err());
        assert!(t.redeem("ListWorkflows/acct", "garbage").is_err());
    }
}
