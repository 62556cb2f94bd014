//! Resolution of script and archive locations: local paths, `file://` URLs and
//! `s3://bucket/key`, which maps to `<s3 root>/bucket/key` on the local disk.

use std::path::{Component, Path, PathBuf};

/// Where `location` lives on this machine, or why it cannot be used.
pub fn resolve(location: &str, s3_root: &Path) -> Result<PathBuf, String> {
    if let Some(rest) = location.strip_prefix("s3://") {
        let (bucket, key) = rest
            .split_once('/')
            .ok_or_else(|| format!("Invalid S3 location {location}: no key."))?;
        if bucket.is_empty() || key.is_empty() {
            return Err(format!("Invalid S3 location {location}."));
        }
        let relative = Path::new(bucket).join(key);
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(format!(
                "Invalid S3 location {location}: path escapes the bucket."
            ));
        }
        return Ok(s3_root.join(relative));
    }
    if let Some(path) = location.strip_prefix("file://") {
        return Ok(PathBuf::from(path));
    }
    if location.contains("://") {
        return Err(format!("Unsupported location scheme: {location}"));
    }
    Ok(PathBuf::from(location))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_map_to_local_files() {
        let root = Path::new("/data/s3");
        assert_eq!(
            resolve("s3://bucket/scripts/a.py", root).expect("s3"),
            PathBuf::from("/data/s3/bucket/scripts/a.py")
        );
        assert_eq!(
            resolve("file:///tmp/a.py", root).expect("file"),
            PathBuf::from("/tmp/a.py")
        );
        assert_eq!(
            resolve("/tmp/a.py", root).expect("path"),
            PathBuf::from("/tmp/a.py")
        );
        assert!(resolve("s3://bucket", root).is_err());
        assert!(resolve("s3://bucket/../etc/passwd", root).is_err());
        assert!(resolve("https://example.com/a.py", root).is_err());
    }
}
