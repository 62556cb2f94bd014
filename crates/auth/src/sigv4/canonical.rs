//! The canonical request of SigV4 ("Create a canonical request for Signature Version 4"
//! in AWS's documentation), written into one buffer and hashed:
//!
//! ```text
//! <method>\n<canonical path>\n<canonical query>\n<name:value\n per header>\n<signed names>\n<payload hash>
//! ```
//!
//! - Path: S3 signs it as sent ([`SigningRules::literal_path`]); every other service
//!   signs it with dot segments and empty segments removed, percent-encoded once more.
//! - Query: every `name=value` pair decoded (`+` is a space), re-encoded with AWS's
//!   encoding (everything but `A-Z a-z 0-9 - . _ ~`), sorted by name, then value.
//! - Headers: the signed ones present in the request, names in lower case, sorted; the
//!   values of one name in the order received, joined by `,`, each trimmed of spaces
//!   with inner runs of spaces collapsed to one. `host` is the placeholder authority
//!   when absent (the signature then never matches a real client's).

use std::borrow::Cow;

use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

use super::{AuthError, SigningRules};

/// Characters AWS's URI encoding escapes: all but the unreserved ones.
const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// The same for a path, whose `/` separate segments.
const PATH_ENCODE: &AsciiSet = &URI_ENCODE.remove(b'/');

/// The `host` value signed when the request has none.
pub(super) const PLACEHOLDER_HOST: &str = "weir.invalid";

/// Headers never signed in a presigned URL, even when listed.
const NOT_PRESIGNED: [&str; 2] = ["x-amz-user-agent", "x-amz-checksum-mode"];

/// Which form of SigV4 the canonical request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Location<'a> {
    /// `Authorization` header: `x-amz-date` is always signed, with this value.
    Header {
        /// The request's `X-Amz-Date`.
        amz_date: &'a str,
    },
    /// Query string (presigned URL).
    Query,
}

/// The signed headers of a request: `(lower-case name, value as received)`, sorted by
/// name, values of one name in the order received.
pub(super) struct SignedHeaders<'a> {
    entries: Vec<(Cow<'a, str>, &'a str)>,
}

impl<'a> SignedHeaders<'a> {
    /// The headers named in `names` (each distinct spelling once, in any case) that
    /// `headers` holds, as [`Location`] signs them. A value that is not visible ASCII
    /// can never have been signed: a mismatch.
    pub(super) fn collect(
        headers: &'a HeaderMap,
        names: &[&'a str],
        location: Location<'a>,
    ) -> Result<Self, AuthError> {
        let mut entries: Vec<(Cow<'a, str>, &'a str)> = Vec::with_capacity(names.len() + 1);
        for (index, &name) in names.iter().enumerate() {
            if names[..index].contains(&name) {
                continue;
            }
            let mut values = headers.get_all(name).iter().peekable();
            if values.peek().is_none() {
                continue;
            }
            let lower: Cow<'a, str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(name.to_ascii_lowercase())
            } else {
                Cow::Borrowed(name)
            };
            if location == Location::Query && NOT_PRESIGNED.contains(&lower.as_ref()) {
                continue;
            }
            for value in values {
                let value = value.to_str().map_err(|_| AuthError::mismatch())?;
                entries.push((lower.clone(), value));
            }
        }
        if let Location::Header { amz_date } = location {
            entries.retain(|(name, _)| name != super::DATE_HEADER);
            entries.push((Cow::Borrowed(super::DATE_HEADER), amz_date));
        }
        if !entries.iter().any(|(name, _)| name == super::HOST_HEADER) {
            entries.push((Cow::Borrowed(super::HOST_HEADER), PLACEHOLDER_HOST));
        }
        // Stable: the values of one name stay in the order received.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Self { entries })
    }

    /// Writes the signed names, `;`-separated.
    pub(super) fn write_names(&self, out: &mut String) {
        let mut previous: Option<&str> = None;
        for (name, _) in &self.entries {
            let name = name.as_ref();
            if previous == Some(name) {
                continue;
            }
            if previous.is_some() {
                out.push(';');
            }
            out.push_str(name);
            previous = Some(name);
        }
    }

    /// Writes one `name:value,value\n` line per name.
    fn write_lines(&self, out: &mut String) {
        let mut previous: Option<&str> = None;
        for (name, value) in &self.entries {
            let name = name.as_ref();
            if previous == Some(name) {
                out.push(',');
            } else {
                if previous.is_some() {
                    out.push('\n');
                }
                out.push_str(name);
                out.push(':');
                previous = Some(name);
            }
            write_trimmed(out, value);
        }
        if previous.is_some() {
            out.push('\n');
        }
    }
}

/// The parts of a canonical request besides its headers.
pub(super) struct CanonicalRequest<'a, Q> {
    /// The HTTP method, as received.
    pub method: &'a str,
    /// The path, as received (percent-encoded).
    pub path: &'a str,
    /// The decoded query pairs to sign.
    pub query: Q,
    /// Hex SHA-256 of the body, or what stands for it (`UNSIGNED-PAYLOAD`, …).
    pub payload_hash: &'a str,
    /// How the path is canonicalized.
    pub rules: SigningRules,
}

impl<'a, Q> CanonicalRequest<'a, Q>
where
    Q: Iterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
{
    /// The lower-case hex SHA-256 of the canonical request with `headers`.
    pub(super) fn hash(self, headers: &SignedHeaders<'_>) -> [u8; 64] {
        let mut text = String::with_capacity(256 + 64 * headers.entries.len());
        self.write(headers, &mut text);
        let mut hex = [0u8; 64];
        // 64 hex digits always fit: encoding cannot fail.
        let _ = hex::encode_to_slice(Sha256::digest(text.as_bytes()), &mut hex);
        hex
    }

    /// Writes the canonical request with `headers` into `out`.
    pub(super) fn write(self, headers: &SignedHeaders<'_>, out: &mut String) {
        out.push_str(self.method);
        out.push('\n');
        write_path(out, self.path, self.rules);
        out.push('\n');
        write_query(out, self.query);
        out.push('\n');
        headers.write_lines(out);
        out.push('\n');
        headers.write_names(out);
        out.push('\n');
        out.push_str(self.payload_hash);
    }
}

/// The canonical path: as sent under S3's rules, else normalized and encoded again.
fn write_path(out: &mut String, path: &str, rules: SigningRules) {
    if rules.literal_path {
        out.push_str(path);
        return;
    }
    let normalized = normalize_path(path);
    out.extend(utf8_percent_encode(&normalized, PATH_ENCODE));
}

/// `path` with a leading `/`, without `.` and empty segments, each `..` removing the
/// segment before it (RFC 3986 §5.2.4); a trailing `/` (or final `.`/`..`) is kept.
fn normalize_path(path: &str) -> Cow<'_, str> {
    if path.is_empty() {
        return Cow::Borrowed("/");
    }
    let absolute: Cow<'_, str> = if path.starts_with('/') {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(format!("/{path}"))
    };
    if !absolute.contains('.') && !absolute.contains("//") {
        return absolute;
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in absolute.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut normalized = String::with_capacity(absolute.len() + 1);
    for segment in &segments {
        normalized.push('/');
        normalized.push_str(segment);
    }
    let ends_in_directory = ["/", "/.", "/.."].iter().any(|end| absolute.ends_with(end));
    if segments.is_empty() || ends_in_directory {
        normalized.push('/');
    }
    Cow::Owned(normalized)
}

/// The canonical query: pairs encoded, sorted by name then value, `&`-joined.
fn write_query<'a>(out: &mut String, pairs: impl Iterator<Item = (Cow<'a, str>, Cow<'a, str>)>) {
    // All encoded pairs in one buffer, sorted as (name, value) ranges of it.
    let mut encoded = String::new();
    let mut ranges: Vec<(usize, usize, usize)> = Vec::new();
    for (name, value) in pairs {
        let start = encoded.len();
        encoded.extend(utf8_percent_encode(&name, URI_ENCODE));
        let middle = encoded.len();
        encoded.extend(utf8_percent_encode(&value, URI_ENCODE));
        ranges.push((start, middle, encoded.len()));
    }
    let part = |from: usize, to: usize| encoded.get(from..to).unwrap_or_default();
    ranges.sort_by(|a, b| (part(a.0, a.1), part(a.1, a.2)).cmp(&(part(b.0, b.1), part(b.1, b.2))));
    for (index, &(start, middle, end)) in ranges.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        out.push_str(part(start, middle));
        out.push('=');
        out.push_str(part(middle, end));
    }
}

/// Writes `value` without leading and trailing spaces, inner runs of spaces as one.
fn write_trimmed(out: &mut String, value: &str) {
    let mut words = value.split(' ').filter(|word| !word.is_empty());
    if let Some(first) = words.next() {
        out.push_str(first);
        for word in words {
            out.push(' ');
            out.push_str(word);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_as_rfc_3986_removes_dot_segments() {
        for (path, normalized) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/a//b", "/a/b"),
            ("/a/./b", "/a/b"),
            ("/a/b/..", "/a/"),
            ("/a/b/../", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/../a", "/a"),
            ("/..", "/"),
            ("/a.b/c", "/a.b/c"),
            ("a/b", "/a/b"),
            ("/a/b/", "/a/b/"),
        ] {
            assert_eq!(normalize_path(path), normalized, "{path:?}");
        }
    }

    #[test]
    fn header_values_are_trimmed_and_inner_spaces_collapsed() {
        for (value, trimmed) in [
            ("  a   b  c ", "a b c"),
            ("a", "a"),
            ("", ""),
            ("   ", ""),
            ("\ta\t", "\ta\t"),
            ("\"a   b   c\"", "\"a b c\""),
        ] {
            let mut out = String::new();
            write_trimmed(&mut out, value);
            assert_eq!(out, trimmed, "{value:?}");
        }
    }
}
