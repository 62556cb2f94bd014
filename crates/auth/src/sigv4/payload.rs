//! What the reader of a body verified later must check: the declared SHA-256, or the
//! chunk signatures of an `aws-chunked` body (the SigV4 streaming signatures).

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AuthError;
use super::signing_key::SigningKey;

/// `x-amz-content-sha256` of an `aws-chunked` body whose every chunk is signed.
pub const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// `x-amz-content-sha256` of an `aws-chunked` body whose chunks and trailer are signed.
pub const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// `x-amz-content-sha256` of an unsigned `aws-chunked` body with trailing checksums.
pub const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/// SHA-256 of nothing, in the string a chunk signature signs.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// What reading a body whose signature was verified before it was read must check.
#[derive(Debug, Clone)]
pub enum Payload {
    /// Nothing: the body is not covered by the signature (`UNSIGNED-PAYLOAD`, a
    /// presigned URL, or a body already read and checked).
    Unsigned,
    /// The body must hash to this SHA-256 (lower-case hex); else
    /// [`super::content_sha256_mismatch`].
    Sha256(String),
    /// An `aws-chunked` body whose chunks carry signatures, checked in order by the
    /// [`ChunkSigner`] (and a signed trailer when the encoding names one).
    SignedChunks(ChunkSigner),
    /// An `aws-chunked` body without chunk signatures, possibly with trailers.
    UnsignedChunks,
}

impl Payload {
    /// The check a declared `x-amz-content-sha256` other than `UNSIGNED-PAYLOAD` asks
    /// for (chunk signers are completed by the verifier, which knows the key).
    pub(crate) fn declared(declared: &str) -> Result<Self, AuthError> {
        match declared {
            STREAMING_SIGNED | STREAMING_SIGNED_TRAILER => {
                Ok(Payload::SignedChunks(ChunkSigner::placeholder()))
            }
            STREAMING_UNSIGNED_TRAILER => Ok(Payload::UnsignedChunks),
            hash if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(Payload::Sha256(hash.to_ascii_lowercase()))
            }
            _ => Err(AuthError::InvalidSignature(
                "The provided 'x-amz-content-sha256' header is not a valid SHA-256 or payload \
                 signing mode."
                    .into(),
            )),
        }
    }

    /// Whether the body is `aws-chunked` (chunk headers, then trailers).
    pub fn is_chunked(&self) -> bool {
        matches!(self, Payload::SignedChunks(_) | Payload::UnsignedChunks)
    }
}

/// Verifies the signatures of the chunks of a signed `aws-chunked` body, each chained
/// to the previous one from the seed (the request's own signature).
#[derive(Clone)]
pub struct ChunkSigner {
    pub(super) key: SigningKey,
    pub(super) amz_date: String,
    pub(super) scope: String,
    pub(super) previous: String,
}

impl std::fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkSigner")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl ChunkSigner {
    fn placeholder() -> Self {
        Self {
            key: SigningKey::unset(),
            amz_date: String::new(),
            scope: String::new(),
            previous: String::new(),
        }
    }

    /// Checks the signature sent with the next chunk (the last one is empty), given
    /// the lower-case hex SHA-256 of the chunk's data.
    pub fn verify_chunk_hash(
        &mut self,
        chunk_sha256: &str,
        signature: &str,
    ) -> Result<(), AuthError> {
        self.check(
            "AWS4-HMAC-SHA256-PAYLOAD",
            &[EMPTY_SHA256.as_bytes(), b"\n", chunk_sha256.as_bytes()],
            signature,
        )
    }

    /// Checks the signature of the trailing headers, given as their canonical form
    /// (`name:value\n` each, in the order sent).
    pub fn verify_trailer(&mut self, canonical: &[u8], signature: &str) -> Result<(), AuthError> {
        let hash = hex::encode(Sha256::digest(canonical));
        self.check("AWS4-HMAC-SHA256-TRAILER", &[hash.as_bytes()], signature)
    }

    /// Checks `signature` against the string to sign
    /// `<algorithm>\n<date>\n<scope>\n<previous signature>\n<rest...>`; a match
    /// becomes the previous signature.
    fn check(&mut self, algorithm: &str, rest: &[&[u8]], signature: &str) -> Result<(), AuthError> {
        let mut parts: Vec<&[u8]> = vec![
            algorithm.as_bytes(),
            b"\n",
            self.amz_date.as_bytes(),
            b"\n",
            self.scope.as_bytes(),
            b"\n",
            self.previous.as_bytes(),
            b"\n",
        ];
        parts.extend_from_slice(rest);
        let expected = self.key.sign(&parts);
        if bool::from(expected.as_slice().ct_eq(signature.as_bytes())) {
            self.previous.clear();
            self.previous
                .extend(expected.iter().map(|&b| char::from(b)));
            Ok(())
        } else {
            Err(AuthError::mismatch())
        }
    }
}
