//! The objects: files of the S3 directory tree (`<root>/<bucket>/<key>`), and what a
//! file cannot carry kept under `<root>/.weir`, which is no bucket (bucket names
//! cannot start with a dot) and so is never crawled or listed:
//!
//! - `.weir/buckets/<bucket>.json`: owner account, region and creation time of a
//!   bucket created through S3 (a directory without one belongs to the default
//!   account: the tree as it was before S3 was served keeps working);
//! - `.weir/meta/<bucket>/<hh>/<sha256 of key>.json`: the sidecar of an object (ETag,
//!   content headers, user metadata, checksum), valid while the file keeps the size
//!   and modification time it records (a file written by anything else gets its ETag
//!   computed, and cached, on first sight). An object written through S3 carries the
//!   same record in its file's extended attribute `user.weir.s3` instead, when the
//!   file system takes it (one file to write and fsync per put); the sidecar is the
//!   fallback and the cache;
//! - `.weir/tmp/`: bodies being received (same file system as the tree, so a
//!   finished one is renamed into place);
//! - `.weir/uploads/<upload id>/`: multipart uploads in progress.
//!
//! Writes are durable before they are acknowledged: the data is written to a
//! temporary file, its record attached, and fsynced (a sidecar, when needed, likewise),
//! then the file is renamed over the key and its directory fsynced — in a round shared
//! with the puts renaming at the same time ([`DirSyncs`]). A reader sees the old
//! object or the new one, whole. The file a commit renames over is held open across
//! the rename and handed back ([`Committed::replaced`]): freeing its space when the
//! last reference goes waits for the file system's journal about as long as an fsync,
//! and the caller does that after answering instead of inside the rename.
//!
//! Keys are arbitrary UTF-8 but must be storable as a relative path: non-empty `/`
//! separated segments, none `.` or `..`, no NUL, at most 1024 bytes. Bucket names
//! are one path segment not starting with a dot. Nothing can name a path outside the
//! root.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, ErrorKind};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::body::Checksum;
use crate::dirsync::DirSyncs;
use crate::error::{S3Error, S3Result};

/// Directory under the root holding what files cannot carry.
pub const INTERNAL_DIR: &str = ".weir";
/// Longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;
/// Smallest part of a multipart upload but the last.
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
/// Most parts of a multipart upload.
pub const MAX_PARTS: u32 = 10_000;
/// The extended attribute carrying an object's record ([`ObjectMeta`] as JSON).
const META_XATTR: &str = "user.weir.s3";
/// Size of the first read of [`META_XATTR`] (larger records are read again whole).
const META_XATTR_GUESS: usize = 4096;

/// The directory tree serving as S3.
#[derive(Debug)]
pub struct Storage {
    root: PathBuf,
    default_account: String,
    default_region: String,
    dir_syncs: DirSyncs,
}

/// A bucket and who owns it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BucketInfo {
    /// Its name.
    #[serde(skip)]
    pub name: String,
    /// The owning account.
    pub owner: String,
    /// Its region (the LocationConstraint).
    pub region: String,
    /// Creation time, seconds since the epoch.
    pub created: u64,
    /// Whether its object events go to EventBridge (PutBucketNotificationConfiguration
    /// with `EventBridgeConfiguration`).
    #[serde(default)]
    pub eventbridge: bool,
}

/// What an object's file cannot carry.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// The key (a check against hash collisions).
    pub key: String,
    /// The file's size when the sidecar was written.
    pub size: u64,
    /// The file's modification time, nanoseconds since the epoch, as a string.
    pub mtime: String,
    /// The ETag without quotes (`<md5 hex>` or `<md5 of md5s>-<parts>`).
    pub etag: String,
    /// Content headers given at upload (`content-type`, `cache-control`, …).
    pub headers: BTreeMap<String, String>,
    /// User metadata (`x-amz-meta-<name>` without the prefix).
    pub metadata: BTreeMap<String, String>,
    /// The full-object checksum, when the upload declared an algorithm.
    pub checksum: Option<Checksum>,
}

/// An object as found.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    /// Its file.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Last modification.
    pub modified: SystemTime,
    /// Its sidecar (current).
    pub meta: ObjectMeta,
}

/// An object just committed, and the file it replaced.
#[derive(Debug)]
pub struct Committed {
    /// The object now stored under the key (durable).
    pub object: ObjectInfo,
    /// The file that was the object before, still referenced (an `O_PATH` descriptor):
    /// dropping it frees the file's space, which waits for the file system's journal,
    /// so callers drop it off the path of their answer.
    pub replaced: Option<OwnedFd>,
}

/// One page of a listing.
#[derive(Debug, Default)]
pub struct Listing {
    /// Objects, in key order.
    pub objects: Vec<ObjectInfo>,
    /// Common prefixes, in order.
    pub prefixes: Vec<String>,
    /// Whether more follow.
    pub truncated: bool,
    /// The last key or common prefix of the page (where the next page starts after).
    pub last: Option<String>,
}

/// A multipart upload in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    /// Its id.
    #[serde(skip)]
    pub id: String,
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Initiation time, seconds since the epoch.
    pub initiated: u64,
    /// The object's headers and metadata, applied at completion.
    pub meta: ObjectMeta,
}

/// A part of a multipart upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Part {
    /// Its number.
    pub number: u32,
    /// Its ETag (MD5 hex, no quotes).
    pub etag: String,
    /// Its size.
    pub size: u64,
    /// When it was uploaded, seconds since the epoch.
    pub modified: u64,
}

fn secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn nanos(time: SystemTime) -> String {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
        .to_string()
}

/// Writes `bytes` to `path` durably: a temporary sibling, fsync, rename, fsync dir.
fn write_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let temp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut file = File::create(&temp)?;
        io::Write::write_all(&mut file, bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Fsyncs a directory (its entries: a rename into it is then durable).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The error of a key that the tree cannot hold because a file stands where a
/// directory must, or the other way round.
fn conflict(key: &str) -> S3Error {
    S3Error::invalid_argument(format!(
        "The key '{key}' cannot be stored: Weir stores objects as files, and an object \
         cannot also be a prefix of other objects ('a' and 'a/b')."
    ))
}

fn io_error(error: io::Error, key: &str) -> S3Error {
    match error.kind() {
        ErrorKind::NotADirectory | ErrorKind::IsADirectory | ErrorKind::DirectoryNotEmpty => {
            conflict(key)
        }
        _ => S3Error::internal(error),
    }
}

/// Whether `name` is a bucket name S3 accepts for a new bucket.
pub fn valid_new_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && !name.contains("..")
        && !name.contains(".-")
        && !name.contains("-.")
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

/// Whether `name` can name an existing bucket directory: one path segment, not
/// hidden (names from before S3 was served may break S3's stricter rules).
fn valid_bucket_dir(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
}

/// Checks that `key` can be stored as a relative path.
pub fn check_key(key: &str) -> S3Result<()> {
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::new(
            http::StatusCode::BAD_REQUEST,
            "KeyTooLongError",
            "Your key is too long",
        ));
    }
    let storable = !key.is_empty()
        && !key.contains('\0')
        && key
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && s.len() <= 255);
    if storable {
        Ok(())
    } else {
        Err(S3Error::invalid_argument(format!(
            "The key '{}' cannot be stored: Weir stores objects as files, so a key must be \
             non-empty '/'-separated segments, none of them empty, '.' or '..', without NUL.",
            key.replace('\0', "\\0")
        )))
    }
}

impl Storage {
    /// The tree at `root`; directories without an owner record belong to
    /// `default_account` in `default_region`.
    pub fn new(root: PathBuf, default_account: &str, default_region: &str) -> Self {
        Self {
            root,
            default_account: default_account.to_owned(),
            default_region: default_region.to_owned(),
            dir_syncs: DirSyncs::default(),
        }
    }

    fn internal(&self) -> PathBuf {
        self.root.join(INTERNAL_DIR)
    }

    fn bucket_dir(&self, bucket: &str) -> S3Result<PathBuf> {
        if valid_bucket_dir(bucket) {
            Ok(self.root.join(bucket))
        } else {
            Err(S3Error::invalid_bucket_name(bucket))
        }
    }

    fn owner_record(&self, bucket: &str) -> PathBuf {
        self.internal()
            .join("buckets")
            .join(format!("{bucket}.json"))
    }

    /// The file of `key` in `bucket`.
    pub fn object_path(&self, bucket: &str, key: &str) -> S3Result<PathBuf> {
        check_key(key)?;
        let mut path = self.bucket_dir(bucket)?;
        path.extend(key.split('/'));
        Ok(path)
    }

    fn sidecar_path(&self, bucket: &str, key: &str) -> PathBuf {
        let hash = hex::encode(Sha256::digest(key.as_bytes()));
        let fan = hash.get(..2).unwrap_or("00");
        self.internal()
            .join("meta")
            .join(bucket)
            .join(fan)
            .join(format!("{hash}.json"))
    }

    /// The bucket, if its directory exists.
    pub fn bucket(&self, bucket: &str) -> S3Result<Option<BucketInfo>> {
        let dir = self.bucket_dir(bucket)?;
        let stat = match fs::metadata(&dir) {
            Ok(stat) if stat.is_dir() => stat,
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(S3Error::internal(e)),
        };
        let recorded = fs::read(self.owner_record(bucket))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<BucketInfo>(&bytes).ok());
        Ok(Some(match recorded {
            Some(info) => BucketInfo {
                name: bucket.to_owned(),
                ..info
            },
            None => BucketInfo {
                name: bucket.to_owned(),
                owner: self.default_account.clone(),
                region: self.default_region.clone(),
                created: stat.modified().map_or(0, secs),
                eventbridge: false,
            },
        }))
    }

    /// The bucket, which `account` must own: NoSuchBucket, else AccessDenied.
    pub fn owned_bucket(&self, bucket: &str, account: &str) -> S3Result<BucketInfo> {
        let info = self
            .bucket(bucket)?
            .ok_or_else(|| S3Error::no_such_bucket(bucket))?;
        if info.owner == account {
            Ok(info)
        } else {
            Err(S3Error::access_denied())
        }
    }

    /// The buckets `account` owns, by name.
    pub fn list_buckets(&self, account: &str) -> S3Result<Vec<BucketInfo>> {
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(S3Error::internal(e)),
        };
        let mut buckets = Vec::new();
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if !valid_bucket_dir(&name) {
                continue;
            }
            if let Some(info) = self.bucket(&name)?
                && info.owner == account
            {
                buckets.push(info);
            }
        }
        buckets.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(buckets)
    }

    /// Creates `bucket` for `account` in `region`.
    pub fn create_bucket(&self, bucket: &str, account: &str, region: &str) -> S3Result<()> {
        if !valid_new_bucket_name(bucket) {
            return Err(S3Error::invalid_bucket_name(bucket));
        }
        let dir = self.bucket_dir(bucket)?;
        fs::create_dir_all(&self.root).map_err(S3Error::internal)?;
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let owner = self.bucket(bucket)?.map(|info| info.owner);
                return Err(if owner.as_deref() == Some(account) {
                    S3Error::new(
                        http::StatusCode::CONFLICT,
                        "BucketAlreadyOwnedByYou",
                        "Your previous request to create the named bucket succeeded and you \
                         already own it.",
                    )
                } else {
                    S3Error::new(
                        http::StatusCode::CONFLICT,
                        "BucketAlreadyExists",
                        "The requested bucket name is not available. The bucket namespace is \
                         shared by all users of the system. Please select a different name and \
                         try again.",
                    )
                });
            }
            Err(e) => return Err(S3Error::internal(e)),
        }
        let info = BucketInfo {
            name: bucket.to_owned(),
            owner: account.to_owned(),
            region: region.to_owned(),
            created: secs(SystemTime::now()),
            eventbridge: false,
        };
        let record = serde_json::to_vec(&info).map_err(S3Error::internal)?;
        write_durably(&self.owner_record(bucket), &record).map_err(S3Error::internal)?;
        sync_dir(&self.root).map_err(S3Error::internal)
    }

    /// Records whether the object events of `bucket` (as `info` describes it) go to
    /// EventBridge; durable when this returns.
    pub fn set_eventbridge(&self, info: &BucketInfo, on: bool) -> S3Result<()> {
        let record = BucketInfo {
            eventbridge: on,
            ..info.clone()
        };
        let bytes = serde_json::to_vec(&record).map_err(S3Error::internal)?;
        write_durably(&self.owner_record(&info.name), &bytes).map_err(S3Error::internal)
    }

    /// Deletes `bucket`, which must hold no object.
    pub fn delete_bucket(&self, bucket: &str) -> S3Result<()> {
        let dir = self.bucket_dir(bucket)?;
        let mut keys = Vec::new();
        walk(&dir, "", &mut keys, 1).map_err(S3Error::internal)?;
        if !keys.is_empty() {
            return Err(S3Error::new(
                http::StatusCode::CONFLICT,
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
            )
            .with("BucketName", bucket));
        }
        fs::remove_dir_all(&dir).map_err(S3Error::internal)?;
        let _ = fs::remove_dir_all(self.internal().join("meta").join(bucket));
        for upload in self.uploads(bucket)? {
            let _ = fs::remove_dir_all(self.upload_dir(&upload.id)?);
        }
        match fs::remove_file(self.owner_record(bucket)) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(S3Error::internal(e)),
        }
        sync_dir(&self.root).map_err(S3Error::internal)
    }

    /// A new temporary file for a body being received.
    pub fn temp_file(&self) -> S3Result<(PathBuf, File)> {
        let dir = self.internal().join("tmp");
        let path = dir.join(uuid::Uuid::new_v4().simple().to_string());
        let file = match File::create(&path) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                fs::create_dir_all(&dir).map_err(S3Error::internal)?;
                File::create(&path)
            }
            created => created,
        };
        Ok((path, file.map_err(S3Error::internal)?))
    }

    /// Stores `bytes` as the object `key` with `meta` (whose size and time are taken
    /// from the file written), durably: [`Storage::commit`] of a temporary file written
    /// here, through the one descriptor.
    pub fn put(
        &self,
        bucket: &str,
        key: &str,
        bytes: &[u8],
        mut meta: ObjectMeta,
    ) -> S3Result<Committed> {
        let (temp, file) = self.temp_file_holding(bytes)?;
        let result = self.seal_and_rename(bucket, key, &temp, file, &mut meta);
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    /// A new temporary file holding `bytes` (written, not fsynced), still open.
    pub fn temp_file_holding(&self, bytes: &[u8]) -> S3Result<(PathBuf, File)> {
        let (path, mut file) = self.temp_file()?;
        match io::Write::write_all(&mut file, bytes) {
            Ok(()) => Ok((path, file)),
            Err(error) => {
                let _ = fs::remove_file(&path);
                Err(S3Error::internal(error))
            }
        }
    }

    /// Makes the written `temp` file the object `key`, with `meta` (whose size and
    /// time are taken from the file), durably.
    pub fn commit(
        &self,
        bucket: &str,
        key: &str,
        temp: &Path,
        mut meta: ObjectMeta,
    ) -> S3Result<Committed> {
        let result = File::options()
            .write(true)
            .open(temp)
            .map_err(S3Error::internal)
            .and_then(|file| self.seal_and_rename(bucket, key, temp, file, &mut meta));
        if result.is_err() {
            let _ = fs::remove_file(temp);
        }
        result
    }

    /// The end of every object write: attaches the record to the written `file` (the
    /// open `temp`), fsyncs it, renames it over the key and waits for its directory's
    /// fsync.
    fn seal_and_rename(
        &self,
        bucket: &str,
        key: &str,
        temp: &Path,
        file: File,
        meta: &mut ObjectMeta,
    ) -> S3Result<Committed> {
        let path = self.object_path(bucket, key)?;
        let stat = file.metadata().map_err(S3Error::internal)?;
        let modified = stat.modified().map_err(S3Error::internal)?;
        meta.key = key.to_owned();
        meta.size = stat.len();
        meta.mtime = nanos(modified);
        let record = serde_json::to_vec(&meta).map_err(S3Error::internal)?;
        // Setting an attribute leaves the modification time as it is.
        let attached =
            rustix::fs::fsetxattr(&file, META_XATTR, &record, rustix::fs::XattrFlags::empty())
                .is_ok();
        file.sync_all().map_err(S3Error::internal)?;
        drop(file);
        let sidecar = self.sidecar_path(bucket, key);
        if !attached {
            write_durably(&sidecar, &record).map_err(S3Error::internal)?;
        }
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        // The file being replaced, held so that the rename does not free it itself
        // (`O_PATH` reads nothing, so no kind of file makes this wait).
        let replaced = rustix::fs::open(
            &path,
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .ok();
        // The directory is made when the rename finds it missing; a concurrent delete
        // may prune it (empty) again before the rename.
        let mut attempts = 0;
        loop {
            attempts += 1;
            match fs::rename(temp, &path) {
                Ok(()) => break,
                Err(e) if e.kind() == ErrorKind::NotFound && attempts < 5 => {
                    fs::create_dir_all(&dir).map_err(|e| io_error(e, key))?;
                }
                Err(e) => return Err(io_error(e, key)),
            }
        }
        self.dir_syncs.sync(&dir).map_err(S3Error::internal)?;
        if attached {
            // A sidecar of an earlier object of this key is stale now (and would not
            // match the new file anyway).
            let _ = fs::remove_file(&sidecar);
        }
        Ok(Committed {
            object: ObjectInfo {
                path,
                size: meta.size,
                modified,
                meta: meta.clone(),
            },
            replaced,
        })
    }

    /// The object `key`, opened (what is read is the object described, even if it is
    /// replaced meanwhile): NoSuchKey when there is no such file.
    pub fn open(&self, bucket: &str, key: &str) -> S3Result<(File, ObjectInfo)> {
        let path = self.object_path(bucket, key)?;
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                return Err(S3Error::no_such_key(key));
            }
            Err(e) => return Err(S3Error::internal(e)),
        };
        let stat = file.metadata().map_err(S3Error::internal)?;
        if !stat.is_file() {
            return Err(S3Error::no_such_key(key));
        }
        let attached = attached_meta(|buffer| rustix::fs::fgetxattr(&file, META_XATTR, buffer));
        let info = self.info(
            bucket,
            key,
            path,
            stat.len(),
            stat.modified().unwrap_or(UNIX_EPOCH),
            attached,
        )?;
        Ok((file, info))
    }

    /// The object at `path` with its current record: the one `attached` to its file,
    /// else its sidecar, if either matches the file; else its ETag is computed (and
    /// cached in the sidecar).
    fn info(
        &self,
        bucket: &str,
        key: &str,
        path: PathBuf,
        size: u64,
        modified: SystemTime,
        attached: Option<ObjectMeta>,
    ) -> S3Result<ObjectInfo> {
        let current = |m: &ObjectMeta| m.key == key && m.size == size && m.mtime == nanos(modified);
        let sidecar = self.sidecar_path(bucket, key);
        let recorded = attached.filter(current).or_else(|| {
            fs::read(&sidecar)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<ObjectMeta>(&bytes).ok())
                .filter(current)
        });
        let meta = match recorded {
            Some(meta) => meta,
            None => {
                let meta = ObjectMeta {
                    key: key.to_owned(),
                    size,
                    mtime: nanos(modified),
                    etag: file_md5(&path).map_err(|e| io_error(e, key))?,
                    ..ObjectMeta::default()
                };
                // A cache: losing it costs a recomputation.
                if let Ok(bytes) = serde_json::to_vec(&meta)
                    && let Some(dir) = sidecar.parent()
                    && fs::create_dir_all(dir).is_ok()
                {
                    let _ = fs::write(&sidecar, bytes);
                }
                meta
            }
        };
        Ok(ObjectInfo {
            path,
            size,
            modified,
            meta,
        })
    }

    /// Deletes the object `key` (no error when there is none), and the directories
    /// it leaves empty.
    pub fn delete(&self, bucket: &str, key: &str) -> S3Result<()> {
        let path = self.object_path(bucket, key)?;
        match fs::symlink_metadata(&path) {
            Ok(stat) if stat.is_dir() => return Ok(()),
            _ => {}
        }
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                return Ok(());
            }
            Err(e) => return Err(S3Error::internal(e)),
        }
        let _ = fs::remove_file(self.sidecar_path(bucket, key));
        let bucket_dir = self.bucket_dir(bucket)?;
        let mut dir = path.parent().map(Path::to_path_buf);
        while let Some(current) = dir {
            if current == bucket_dir || fs::remove_dir(&current).is_err() {
                break;
            }
            dir = current.parent().map(Path::to_path_buf);
        }
        if let Some(parent) = path.parent() {
            let _ = sync_dir(parent);
        }
        Ok(())
    }

    /// Lists `bucket` as ListObjects does: keys starting with `prefix` after
    /// `marker`, rolled up into common prefixes at `delimiter`, at most `max` entries.
    pub fn list(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        marker: Option<&str>,
        max: usize,
    ) -> S3Result<Listing> {
        let bucket_dir = self.bucket_dir(bucket)?;
        // Walk only the directory the prefix lies in.
        let base = prefix
            .rfind('/')
            .and_then(|i| prefix.get(..=i))
            .unwrap_or("");
        let mut start = bucket_dir.clone();
        if !base.is_empty() {
            if check_key(base.trim_end_matches('/')).is_err() {
                return Ok(Listing::default());
            }
            start.extend(base.trim_end_matches('/').split('/'));
        }
        let mut keys = Vec::new();
        walk(&start, base, &mut keys, usize::MAX).map_err(S3Error::internal)?;
        keys.sort();
        let mut listing = Listing::default();
        let mut count = 0usize;
        for key in keys {
            if !key.starts_with(prefix) || marker.is_some_and(|m| key.as_str() <= m) {
                continue;
            }
            let rolled_up = delimiter.filter(|d| !d.is_empty()).and_then(|d| {
                key.get(prefix.len()..)
                    .and_then(|rest| rest.find(d))
                    .and_then(|i| key.get(..prefix.len() + i + d.len()))
                    .map(str::to_owned)
            });
            if let Some(common) = &rolled_up
                && (listing.last.as_deref() == Some(common.as_str())
                    || marker.is_some_and(|m| common.as_str() <= m))
            {
                continue;
            }
            if count == max {
                listing.truncated = true;
                break;
            }
            count += 1;
            match rolled_up {
                Some(common) => {
                    listing.last = Some(common.clone());
                    listing.prefixes.push(common);
                }
                None => {
                    let path = self.object_path(bucket, &key)?;
                    let Ok(stat) = fs::metadata(&path) else {
                        count -= 1;
                        continue;
                    };
                    let attached =
                        attached_meta(|buffer| rustix::fs::getxattr(&path, META_XATTR, buffer));
                    let info = self.info(
                        bucket,
                        &key,
                        path,
                        stat.len(),
                        stat.modified().unwrap_or(UNIX_EPOCH),
                        attached,
                    )?;
                    listing.last = Some(key);
                    listing.objects.push(info);
                }
            }
        }
        Ok(listing)
    }

    // ---- multipart uploads -----------------------------------------------------------

    fn upload_dir(&self, id: &str) -> S3Result<PathBuf> {
        if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(self.internal().join("uploads").join(id))
        } else {
            Err(S3Error::no_such_upload(id))
        }
    }

    /// Starts a multipart upload of `key`.
    pub fn create_upload(&self, bucket: &str, key: &str, meta: ObjectMeta) -> S3Result<Upload> {
        check_key(key)?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let upload = Upload {
            id: id.clone(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            initiated: secs(SystemTime::now()),
            meta,
        };
        let record = serde_json::to_vec(&upload).map_err(S3Error::internal)?;
        write_durably(&self.upload_dir(&id)?.join("upload.json"), &record)
            .map_err(S3Error::internal)?;
        Ok(upload)
    }

    /// The upload `id` of `key` in `bucket`: NoSuchUpload otherwise.
    pub fn upload(&self, bucket: &str, key: &str, id: &str) -> S3Result<Upload> {
        let dir = self.upload_dir(id)?;
        let upload = fs::read(dir.join("upload.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Upload>(&bytes).ok())
            .filter(|u| u.bucket == bucket && u.key == key)
            .ok_or_else(|| S3Error::no_such_upload(id))?;
        Ok(Upload {
            id: id.to_owned(),
            ..upload
        })
    }

    /// The uploads in progress in `bucket`, by key then initiation.
    pub fn uploads(&self, bucket: &str) -> S3Result<Vec<Upload>> {
        let entries = match fs::read_dir(self.internal().join("uploads")) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(S3Error::internal(e)),
        };
        let mut uploads = Vec::new();
        for entry in entries.flatten() {
            let Ok(id) = entry.file_name().into_string() else {
                continue;
            };
            let Some(upload) = fs::read(entry.path().join("upload.json"))
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Upload>(&bytes).ok())
            else {
                continue;
            };
            if upload.bucket == bucket {
                uploads.push(Upload { id, ..upload });
            }
        }
        uploads.sort_by(|a, b| (&a.key, a.initiated).cmp(&(&b.key, b.initiated)));
        Ok(uploads)
    }

    /// Stores the received `temp` file as part `number` of `upload`, durably.
    pub fn put_part(
        &self,
        upload: &Upload,
        number: u32,
        temp: &Path,
        md5: [u8; 16],
    ) -> S3Result<Part> {
        let dir = self.upload_dir(&upload.id)?;
        let result = (|| {
            let file = File::open(temp)?;
            file.sync_all()?;
            let size = file.metadata()?.len();
            fs::rename(temp, dir.join(format!("{number}")))?;
            let part = Part {
                number,
                etag: hex::encode(md5),
                size,
                modified: secs(SystemTime::now()),
            };
            let record = serde_json::to_vec(&part).map_err(io::Error::other)?;
            write_durably(&dir.join(format!("{number}.json")), &record)?;
            Ok::<Part, io::Error>(part)
        })();
        if result.is_err() {
            let _ = fs::remove_file(temp);
        }
        result.map_err(S3Error::internal)
    }

    /// The parts of `upload` uploaded so far, by number.
    pub fn parts(&self, upload: &Upload) -> S3Result<Vec<Part>> {
        let dir = self.upload_dir(&upload.id)?;
        let mut parts = Vec::new();
        for entry in fs::read_dir(&dir).map_err(S3Error::internal)?.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.ends_with(".json")
                && name != "upload.json"
                && let Some(part) = fs::read(entry.path())
                    .ok()
                    .and_then(|bytes| serde_json::from_slice::<Part>(&bytes).ok())
            {
                parts.push(part);
            }
        }
        parts.sort_by_key(|p| p.number);
        Ok(parts)
    }

    /// Completes `upload` with `chosen` parts (number, ETag) into its object.
    pub fn complete(&self, upload: &Upload, chosen: &[(u32, String)]) -> S3Result<Committed> {
        let invalid_part = || {
            S3Error::new(
                http::StatusCode::BAD_REQUEST,
                "InvalidPart",
                "One or more of the specified parts could not be found. The part may not have \
                 been uploaded, or the specified entity tag may not match the part's entity tag.",
            )
        };
        if chosen.is_empty() {
            return Err(S3Error::malformed_xml());
        }
        if chosen.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(S3Error::new(
                http::StatusCode::BAD_REQUEST,
                "InvalidPartOrder",
                "The list of parts was not in ascending order. The parts list must be \
                 specified in order by part number.",
            ));
        }
        let stored = self.parts(upload)?;
        let dir = self.upload_dir(&upload.id)?;
        let mut selected = Vec::new();
        for (index, (number, etag)) in chosen.iter().enumerate() {
            let part = stored
                .iter()
                .find(|p| p.number == *number)
                .filter(|p| p.etag == etag.trim_matches('"'))
                .ok_or_else(invalid_part)?;
            if index + 1 < chosen.len() && part.size < MIN_PART_BYTES {
                return Err(S3Error::new(
                    http::StatusCode::BAD_REQUEST,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed object size.",
                ));
            }
            selected.push(part.clone());
        }
        let (temp, mut file) = self.temp_file()?;
        let mut md5s = Md5::new();
        let written = (|| {
            for part in &selected {
                let mut source = File::open(dir.join(part.number.to_string()))?;
                io::copy(&mut source, &mut file)?;
                md5s.update(hex::decode(&part.etag).map_err(io::Error::other)?);
            }
            Ok::<(), io::Error>(())
        })();
        if let Err(error) = written {
            let _ = fs::remove_file(&temp);
            return Err(S3Error::internal(error));
        }
        let mut meta = upload.meta.clone();
        meta.etag = format!("{}-{}", hex::encode(md5s.finalize()), selected.len());
        meta.checksum = None;
        let committed = self.commit(&upload.bucket, &upload.key, &temp, meta)?;
        let _ = fs::remove_dir_all(&dir);
        Ok(committed)
    }

    /// Aborts `upload`, dropping its parts.
    pub fn abort(&self, upload: &Upload) -> S3Result<()> {
        fs::remove_dir_all(self.upload_dir(&upload.id)?).map_err(S3Error::internal)
    }
}

/// Collects the keys of the regular files under `dir` (`prefix` + relative path),
/// stopping after `limit`; names that are not UTF-8 are skipped.
fn walk(dir: &Path, prefix: &str, keys: &mut Vec<String>, limit: usize) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    for entry in entries {
        if keys.len() >= limit {
            return Ok(());
        }
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), &format!("{prefix}{name}/"), keys, limit)?;
        } else if kind.is_file() {
            keys.push(format!("{prefix}{name}"));
        }
    }
    Ok(())
}

/// The MD5 hex of a file's content.
fn file_md5(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Md5::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = io::Read::read(&mut file, &mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(buffer.get(..n).unwrap_or_default());
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The record in an object file's [`META_XATTR`], read by `get` (an `fgetxattr` or
/// `getxattr` into the buffer given): `None` when there is none or it cannot be read.
fn attached_meta(get: impl Fn(&mut [u8]) -> rustix::io::Result<usize>) -> Option<ObjectMeta> {
    let mut buffer = vec![0u8; META_XATTR_GUESS];
    let length = match get(&mut buffer) {
        Ok(length) => length,
        Err(rustix::io::Errno::RANGE) => {
            // Larger than the guess: ask for its size, then read it whole.
            let size = get(&mut []).ok()?;
            buffer.resize(size, 0);
            get(&mut buffer).ok()?
        }
        Err(_) => return None,
    };
    serde_json::from_slice(buffer.get(..length)?).ok()
}

/// Seconds since the epoch as a time.
pub fn from_secs(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree in a temporary directory with one bucket `bucket`.
    fn storage_with_bucket(bucket: &str) -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::new(dir.path().to_path_buf(), "111111111111", "us-east-1");
        storage
            .create_bucket(bucket, "111111111111", "us-east-1")
            .expect("created");
        (dir, storage)
    }

    #[test]
    fn keys_and_bucket_names_cannot_leave_the_root() {
        for bad in [
            "", "../x", "a/../b", "/abs", "a//b", "a/", ".", "a\0b", "a/./b",
        ] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "a b/c+d%e", "ü/€/x", "..a", "a..", ".hidden"] {
            assert!(check_key(good).is_ok(), "{good:?}");
        }
        assert!(check_key(&"x".repeat(1025)).is_err());
        for bad in ["", ".weir", "..", "a/b", "a\\b"] {
            assert!(!valid_bucket_dir(bad), "{bad:?}");
        }
        assert!(valid_new_bucket_name("my-bucket.1"));
        for bad in ["ab", "My", "-ab", "a..b", "192.168.1.1", "a_b"] {
            assert!(!valid_new_bucket_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn an_objects_record_goes_with_its_file_until_something_else_rewrites_it() {
        let (dir, storage) = storage_with_bucket("bkt");
        let (temp, mut file) = storage.temp_file().expect("temp");
        io::Write::write_all(&mut file, b"hello").expect("written");
        drop(file);
        let meta = ObjectMeta {
            etag: hex::encode(Md5::digest(b"hello")),
            headers: BTreeMap::from([("content-type".to_owned(), "text/plain".to_owned())]),
            metadata: BTreeMap::from([("kept".to_owned(), "yes".to_owned())]),
            ..ObjectMeta::default()
        };
        storage
            .commit("bkt", "a/k", &temp, meta)
            .expect("committed");
        let (_, info) = storage.open("bkt", "a/k").expect("opened");
        assert_eq!(info.meta.etag, hex::encode(Md5::digest(b"hello")));
        assert_eq!(info.meta.metadata["kept"], "yes");
        assert_eq!(info.meta.headers["content-type"], "text/plain");
        let listed = storage.list("bkt", "", None, None, 10).expect("listed");
        assert_eq!(listed.objects[0].meta.metadata["kept"], "yes");
        let object = dir.path().join("bkt/a/k");
        let carried = attached_meta(|buffer| rustix::fs::getxattr(&object, META_XATTR, buffer));
        assert_eq!(
            carried.is_some(),
            !storage.sidecar_path("bkt", "a/k").exists(),
            "the record is in the file's attribute or in the sidecar, not both"
        );

        fs::write(&object, b"rewritten").expect("rewritten");
        let (_, info) = storage.open("bkt", "a/k").expect("opened");
        assert_eq!(info.meta.etag, hex::encode(Md5::digest(b"rewritten")));
        assert!(info.meta.metadata.is_empty() && info.meta.headers.is_empty());
    }

    #[test]
    fn a_put_hands_back_the_file_it_replaced_and_remakes_pruned_directories() {
        let (dir, storage) = storage_with_bucket("bkt");
        let first = storage
            .put("bkt", "a/b/k", b"one", ObjectMeta::default())
            .expect("put");
        assert!(first.replaced.is_none(), "nothing was there before");
        let second = storage
            .put("bkt", "a/b/k", b"two", ObjectMeta::default())
            .expect("put");
        let replaced = second.replaced.expect("the first object's file");
        let replaced = rustix::fs::fstat(&replaced).expect("fstat");
        assert_eq!(replaced.st_size, 3);
        assert_eq!(replaced.st_nlink, 0, "no name leads to it any more");
        assert_eq!(
            fs::read(dir.path().join("bkt/a/b/k")).expect("read"),
            b"two"
        );
        storage.delete("bkt", "a/b/k").expect("deleted");
        assert!(!dir.path().join("bkt/a").exists(), "empty directories go");
        fs::remove_dir_all(dir.path().join(INTERNAL_DIR).join("tmp")).expect("removed");
        storage
            .put("bkt", "a/b/k", b"three", ObjectMeta::default())
            .expect("put into directories made again");
        assert_eq!(
            fs::read(dir.path().join("bkt/a/b/k")).expect("read"),
            b"three"
        );
        let (_, info) = storage.open("bkt", "a/b/k").expect("opened");
        assert_eq!(info.size, 5);
    }

    #[test]
    fn listing_rolls_up_and_pages_through_prefixes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::new(dir.path().to_path_buf(), "111111111111", "us-east-1");
        storage
            .create_bucket("b", "111111111111", "us-east-1")
            .expect_err("too short");
        storage
            .create_bucket("bkt", "111111111111", "us-east-1")
            .expect("created");
        for key in ["a/1", "a/2", "b", "c/d/e", "c/x"] {
            let (temp, file) = storage.temp_file().expect("temp");
            drop(file);
            let meta = ObjectMeta::default();
            storage.commit("bkt", key, &temp, meta).expect("committed");
        }
        let page = storage.list("bkt", "", Some("/"), None, 2).expect("listed");
        assert_eq!(page.prefixes, ["a/"]);
        assert_eq!(page.objects.len(), 1);
        assert!(page.truncated);
        let rest = storage
            .list("bkt", "", Some("/"), page.last.as_deref(), 2)
            .expect("listed");
        assert_eq!(rest.prefixes, ["c/"]);
        assert!(!rest.truncated);
        let under = storage.list("bkt", "c/", None, None, 10).expect("listed");
        let keys: Vec<&str> = under.objects.iter().map(|o| o.meta.key.as_str()).collect();
        assert_eq!(keys, ["c/d/e", "c/x"]);
        storage.delete("bkt", "c/d/e").expect("deleted");
        assert!(!dir.path().join("bkt/c/d").exists(), "empty directories go");
        assert!(storage.delete_bucket("bkt").is_err());
    }
}
