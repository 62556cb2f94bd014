//! Receiving a body the edge handed over unread: decoding `aws-chunked`, checking
//! what the signature asks for (the declared SHA-256, chunk and trailer signatures),
//! the declared digests (`Content-MD5`, `x-amz-checksum-*` in a header or a trailer)
//! and the size bound, while the bytes go to a file or to memory.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;
use http_body_util::BodyExt;
use md5::{Digest, Md5};
use sha2::Sha256;
use tokio::io::AsyncWriteExt;
use weir_auth::{ChunkSigner, Payload};
use weir_edge::StreamedBody;

use crate::error::{S3Error, S3Result};

/// Longest wait for the next piece of a body.
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest line of an `aws-chunked` chunk header or trailer.
const MAX_LINE: usize = 4096;

/// A checksum algorithm of `x-amz-checksum-*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// CRC-32 (IEEE).
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// CRC-64/NVME.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl Algorithm {
    const ALL: [Algorithm; 5] = [
        Algorithm::Crc32,
        Algorithm::Crc32c,
        Algorithm::Crc64Nvme,
        Algorithm::Sha1,
        Algorithm::Sha256,
    ];

    /// The lower-case name used in `x-amz-checksum-<name>`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "crc32",
            Algorithm::Crc32c => "crc32c",
            Algorithm::Crc64Nvme => "crc64nvme",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
        }
    }

    /// The header carrying a checksum of this algorithm.
    pub fn header(self) -> String {
        format!("x-amz-checksum-{}", self.name())
    }

    fn parse(name: &str) -> Option<Self> {
        let name = name.to_ascii_lowercase();
        let name = name.strip_prefix("x-amz-checksum-").unwrap_or(&name);
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The algorithm a request declares (`x-amz-sdk-checksum-algorithm`, an
    /// `x-amz-checksum-*` header, or `x-amz-trailer`).
    pub fn requested(headers: &HeaderMap) -> Option<Self> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(algorithm) = text("x-amz-sdk-checksum-algorithm").and_then(Self::parse) {
            return Some(algorithm);
        }
        if let Some(algorithm) = Self::ALL
            .into_iter()
            .find(|a| headers.contains_key(a.header().as_str()))
        {
            return Some(algorithm);
        }
        text("x-amz-trailer").and_then(Self::parse)
    }
}

/// A checksum of an object, as S3 reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checksum {
    /// The algorithm's name (`crc32`, …).
    pub algorithm: String,
    /// The base64 of the big-endian checksum.
    pub value: String,
}

enum Hasher {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Crc64(crc64fast_nvme::Digest),
    Sha1(sha1::Sha1),
    Sha256(Sha256),
}

impl Hasher {
    fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Crc32 => Hasher::Crc32(crc32fast::Hasher::new()),
            Algorithm::Crc32c => Hasher::Crc32c(0),
            Algorithm::Crc64Nvme => Hasher::Crc64(crc64fast_nvme::Digest::new()),
            Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Crc32(h) => h.update(data),
            Hasher::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, data),
            Hasher::Crc64(h) => h.write(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }

    fn finish(self) -> String {
        match self {
            Hasher::Crc32(h) => BASE64.encode(h.finalize().to_be_bytes()),
            Hasher::Crc32c(crc) => BASE64.encode(crc.to_be_bytes()),
            Hasher::Crc64(h) => BASE64.encode(h.sum64().to_be_bytes()),
            Hasher::Sha1(h) => BASE64.encode(h.finalize()),
            Hasher::Sha256(h) => BASE64.encode(h.finalize()),
        }
    }
}

/// Where received bytes go.
pub enum Sink {
    /// A (temporary) file.
    File(tokio::fs::File),
    /// Memory, for the small XML bodies.
    Memory(Vec<u8>),
}

impl Sink {
    async fn write(&mut self, data: &[u8]) -> S3Result<()> {
        match self {
            Sink::File(file) => file.write_all(data).await.map_err(S3Error::internal),
            Sink::Memory(buffer) => {
                buffer.extend_from_slice(data);
                Ok(())
            }
        }
    }
}

/// What was received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Bytes of the decoded body.
    pub size: u64,
    /// Its MD5.
    pub md5: [u8; 16],
    /// Its checksum, when the request declared an algorithm.
    pub checksum: Option<Checksum>,
}

/// Receives `stream` into `sink`, decoded and checked; at most `max` decoded bytes.
pub async fn receive(
    stream: Option<StreamedBody>,
    headers: &HeaderMap,
    max: u64,
    sink: &mut Sink,
) -> S3Result<Received> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let declared_length = header("x-amz-decoded-content-length")
        .or_else(|| header("content-length"))
        .and_then(|v| v.parse::<u64>().ok());
    if declared_length.is_some_and(|n| n > max) {
        return Err(S3Error::entity_too_large(max));
    }
    let algorithm = Algorithm::requested(headers);
    let mut checksum = algorithm.map(Hasher::new);
    let mut md5 = Md5::new();
    let mut sha256 = None;
    let mut size = 0u64;
    let mut trailers: Vec<(String, String)> = Vec::new();
    if let Some(StreamedBody { mut body, payload }) = stream {
        let mut chunked = match &payload {
            Payload::SignedChunks(signer) => Some(Chunked::new(Some(signer.clone()))),
            Payload::UnsignedChunks => Some(Chunked::new(None)),
            Payload::Sha256(_) => {
                sha256 = Some(Sha256::new());
                None
            }
            Payload::Unsigned => None,
        };
        let mut pending = BytesMut::new();
        loop {
            let frame = tokio::time::timeout(BODY_IDLE_TIMEOUT, body.frame())
                .await
                .map_err(|_| {
                    S3Error::new(
                        http::StatusCode::BAD_REQUEST,
                        "RequestTimeout",
                        "Your socket connection to the server was not read from or written to \
                         within the timeout period.",
                    )
                })?;
            let Some(frame) = frame else { break };
            let frame = frame.map_err(|_| S3Error::incomplete_body())?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let pieces = match &mut chunked {
                Some(decoder) => {
                    pending.extend_from_slice(&data);
                    decoder.push(&mut pending)?
                }
                None => vec![data],
            };
            for piece in pieces {
                size += piece.len() as u64;
                if size > max {
                    return Err(S3Error::entity_too_large(max));
                }
                md5.update(&piece);
                if let Some(hasher) = &mut checksum {
                    hasher.update(&piece);
                }
                if let Some(hasher) = &mut sha256 {
                    hasher.update(&piece);
                }
                sink.write(&piece).await?;
            }
        }
        if let Some(decoder) = chunked {
            trailers = decoder.finish()?;
        }
        if let (Payload::Sha256(declared), Some(hasher)) = (&payload, sha256)
            && hex::encode(hasher.finalize()) != *declared
        {
            return Err(S3Error::new(
                http::StatusCode::BAD_REQUEST,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ));
        }
    }
    if let Some(declared) =
        header("x-amz-decoded-content-length").and_then(|v| v.parse::<u64>().ok())
        && size != declared
    {
        return Err(S3Error::incomplete_body());
    }
    let md5: [u8; 16] = md5.finalize().into();
    if let Some(declared) = header("content-md5") {
        let declared = BASE64.decode(declared).map_err(|_| {
            S3Error::new(
                http::StatusCode::BAD_REQUEST,
                "InvalidDigest",
                "The Content-MD5 you specified was invalid.",
            )
        })?;
        if declared != md5 {
            return Err(S3Error::bad_digest("Content-MD5"));
        }
    }
    let checksum = match (algorithm, checksum) {
        (Some(algorithm), Some(hasher)) => {
            let value = hasher.finish();
            let name = algorithm.header();
            let declared = header(&name).map(str::to_owned).or_else(|| {
                trailers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                    .map(|(_, v)| v.clone())
            });
            if let Some(declared) = declared
                && declared.trim() != value
            {
                return Err(S3Error::bad_digest(&algorithm.name().to_ascii_uppercase()));
            }
            Some(Checksum {
                algorithm: algorithm.name().to_owned(),
                value,
            })
        }
        _ => None,
    };
    if let Sink::File(file) = sink {
        file.flush().await.map_err(S3Error::internal)?;
    }
    Ok(Received {
        size,
        md5,
        checksum,
    })
}

/// Where the `aws-chunked` decoder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting `<hex size>[;chunk-signature=<sig>]\r\n`.
    Header,
    /// Inside a chunk's data, this many bytes left.
    Data(u64),
    /// Expecting the `\r\n` after a chunk's data.
    DataEnd,
    /// After the last (empty) chunk: trailer lines until an empty one.
    Trailers,
    /// Everything read.
    Done,
}

/// An incremental decoder of `aws-chunked` bodies.
struct Chunked {
    state: State,
    signer: Option<ChunkSigner>,
    chunk_signature: String,
    chunk: Option<Sha256>,
    trailers: Vec<(String, String)>,
    trailer_signature: Option<String>,
}

fn malformed_chunk() -> S3Error {
    S3Error::invalid_request("The aws-chunked body is malformed.")
}

fn signature_mismatch() -> S3Error {
    S3Error::new(
        http::StatusCode::FORBIDDEN,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
    )
}

impl Chunked {
    fn new(signer: Option<ChunkSigner>) -> Self {
        Self {
            state: State::Header,
            signer,
            chunk_signature: String::new(),
            chunk: None,
            trailers: Vec::new(),
            trailer_signature: None,
        }
    }

    /// Takes a `\r\n`-terminated line off `input`, if a whole one is there.
    fn line(input: &mut BytesMut) -> S3Result<Option<String>> {
        let Some(end) = input.windows(2).position(|w| w == b"\r\n") else {
            if input.len() > MAX_LINE {
                return Err(malformed_chunk());
            }
            return Ok(None);
        };
        let line = input.split_to(end);
        input.advance(2);
        String::from_utf8(line.to_vec())
            .map(Some)
            .map_err(|_| malformed_chunk())
    }

    /// Decodes what `input` holds; returns the data pieces, leaves partial lines.
    fn push(&mut self, input: &mut BytesMut) -> S3Result<Vec<Bytes>> {
        let mut out = Vec::new();
        loop {
            match self.state {
                State::Header => {
                    let Some(line) = Self::line(input)? else {
                        return Ok(out);
                    };
                    let (size, extension) = line.split_once(';').unwrap_or((&line, ""));
                    let size =
                        u64::from_str_radix(size.trim(), 16).map_err(|_| malformed_chunk())?;
                    self.chunk_signature = extension
                        .trim()
                        .strip_prefix("chunk-signature=")
                        .unwrap_or("")
                        .to_owned();
                    if self.signer.is_some() {
                        self.chunk = Some(Sha256::new());
                    }
                    if size == 0 {
                        self.verify_chunk()?;
                        self.state = State::Trailers;
                    } else {
                        self.state = State::Data(size);
                    }
                }
                State::Data(left) => {
                    if input.is_empty() {
                        return Ok(out);
                    }
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(input.len());
                    let piece = input.split_to(take).freeze();
                    if let Some(hasher) = &mut self.chunk {
                        hasher.update(&piece);
                    }
                    out.push(piece);
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                }
                State::DataEnd => {
                    if input.len() < 2 {
                        return Ok(out);
                    }
                    if &input[..2] != b"\r\n" {
                        return Err(malformed_chunk());
                    }
                    input.advance(2);
                    self.verify_chunk()?;
                    self.state = State::Header;
                }
                State::Trailers => {
                    let Some(line) = Self::line(input)? else {
                        return Ok(out);
                    };
                    if line.is_empty() {
                        self.state = State::Done;
                        continue;
                    }
                    let (name, value) = line.split_once(':').ok_or_else(malformed_chunk)?;
                    let name = name.trim().to_ascii_lowercase();
                    if name == "x-amz-trailer-signature" {
                        self.trailer_signature = Some(value.trim().to_owned());
                    } else {
                        self.trailers.push((name, value.trim().to_owned()));
                    }
                }
                State::Done => {
                    input.clear();
                    return Ok(out);
                }
            }
        }
    }

    fn verify_chunk(&mut self) -> S3Result<()> {
        if let (Some(signer), Some(hasher)) = (&mut self.signer, self.chunk.take()) {
            signer
                .verify_chunk_hash(&hex::encode(hasher.finalize()), &self.chunk_signature)
                .map_err(|_| signature_mismatch())?;
        }
        Ok(())
    }

    /// The trailers, once the body ended; the body must have been complete.
    fn finish(mut self) -> S3Result<Vec<(String, String)>> {
        match self.state {
            State::Done | State::Trailers => {}
            _ => return Err(S3Error::incomplete_body()),
        }
        if let Some(signer) = &mut self.signer
            && !self.trailers.is_empty()
        {
            let signature = self.trailer_signature.as_deref().unwrap_or("");
            let mut canonical = Vec::new();
            for (name, value) in &self.trailers {
                canonical.extend_from_slice(format!("{name}:{value}\n").as_bytes());
            }
            signer
                .verify_trailer(&canonical, signature)
                .map_err(|_| signature_mismatch())?;
        }
        Ok(self.trailers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decoded data and trailers.
    type Decoded = (Vec<u8>, Vec<(String, String)>);

    fn decode(body: &[u8], split: usize) -> S3Result<Decoded> {
        let mut decoder = Chunked::new(None);
        let mut pending = BytesMut::new();
        let mut out = Vec::new();
        for piece in body.chunks(split) {
            pending.extend_from_slice(piece);
            for data in decoder.push(&mut pending)? {
                out.extend_from_slice(&data);
            }
        }
        Ok((out, decoder.finish()?))
    }

    #[test]
    fn aws_chunked_decodes_across_any_split() {
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        for split in 1..body.len() {
            let (data, trailers) = decode(body, split).expect("decodes");
            assert_eq!(data, b"hello world");
            assert_eq!(
                trailers,
                [("x-amz-checksum-crc32".to_owned(), "DUoRhQ==".to_owned())]
            );
        }
        assert!(
            decode(b"5\r\nhel", 3).is_err(),
            "a truncated body is refused"
        );
        assert!(decode(b"zz\r\n", 3).is_err());
    }

    #[test]
    fn checksums_are_base64_big_endian() {
        let mut crc = Hasher::new(Algorithm::Crc32);
        crc.update(b"hello world");
        assert_eq!(crc.finish(), "DUoRhQ==");
        let mut crc = Hasher::new(Algorithm::Crc32c);
        crc.update(b"hello world");
        assert_eq!(crc.finish(), "yZRlqg==");
    }
}
