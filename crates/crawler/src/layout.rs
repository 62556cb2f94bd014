//! From a target directory to candidate tables: the walk (hidden and excluded files
//! skipped) and the grouping of files into tables and partitions.
//!
//! **Grouping (Glue's simple case).** Under a target path:
//! - when every top-level folder is a Hive partition `key=value` of one key, the path
//!   itself is one partitioned table, named after the path's last segment;
//! - otherwise each top-level folder is a table named after the folder, and files
//!   directly under the path form one more table named after the path's last segment.
//!
//! **Partitions.** Inside a table folder, the folders between the table and its files
//! are partition levels, as deep as the shallowest file: level `i` is named `key` when
//! every folder at that level is `key=value` (value = the part after `=`), else
//! `partition_<i>` (value = the folder name). A file directly in the table folder
//! means no partitions. Files and folders whose names start with `.` or `_` (`_SUCCESS`,
//! `.crc`, `_temporary`) are ignored, as Glue does; so are symlink loops (depth ≤ 64).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::glob::Glob;
use crate::scan::ScanError;

/// Deepest folder nesting followed under a target.
const MAX_DEPTH: usize = 64;

/// A data file under a target.
#[derive(Debug, Clone, PartialEq)]
pub struct FileEntry {
    /// Where it is on disk.
    pub path: PathBuf,
    /// Its path relative to the target: folder names, then the file name.
    pub rel: Vec<String>,
    /// Size in bytes.
    pub size: u64,
}

/// A candidate table: its files and partition layout.
#[derive(Debug, Clone, PartialEq)]
pub struct TableGroup {
    /// The folder (or path segment) the table is named after, not yet sanitized.
    pub name: String,
    /// Location URI, ending in `/` (a file target: the file's URI).
    pub location: String,
    /// Partition key names, outermost first.
    pub partition_keys: Vec<String>,
    /// The files, each with its partition values.
    pub files: Vec<GroupFile>,
}

/// One file of a table with its partition.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupFile {
    /// The file.
    pub entry: FileEntry,
    /// Partition values (as many as the table's keys).
    pub values: Vec<String>,
    /// Location URI of the partition folder (`/`-terminated); the table's when none.
    pub partition_location: String,
}

/// Every data file under `root` in path order, minus hidden and excluded ones.
/// `stopped` is polled between entries; when it answers true the walk ends with
/// [`ScanError::Cancelled`].
pub fn walk(
    root: &Path,
    exclusions: &[Glob],
    stopped: &dyn Fn() -> bool,
) -> Result<Vec<FileEntry>, ScanError> {
    let mut out = Vec::new();
    visit(root, &mut Vec::new(), exclusions, stopped, &mut out)?;
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

fn visit(
    dir: &Path,
    rel: &mut Vec<String>,
    exclusions: &[Glob],
    stopped: &dyn Fn() -> bool,
    out: &mut Vec<FileEntry>,
) -> Result<(), ScanError> {
    if rel.len() > MAX_DEPTH {
        return Ok(());
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            tracing::warn!(dir = %dir.display(), %error, "crawl: folder skipped");
            return Ok(());
        }
    };
    for entry in entries.flatten() {
        if stopped() {
            return Err(ScanError::Cancelled);
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        rel.push(name);
        if meta.is_dir() {
            visit(&path, rel, exclusions, stopped, out)?;
        } else if meta.is_file() {
            let relative = rel.join("/");
            if !exclusions.iter().any(|g| g.matches(&relative)) {
                out.push(FileEntry {
                    path,
                    rel: rel.clone(),
                    size: meta.len(),
                });
            }
        }
        rel.pop();
    }
    Ok(())
}

/// `key=value` folder names: the key and the value.
pub fn hive_segment(segment: &str) -> Option<(&str, &str)> {
    segment.split_once('=').filter(|(k, _)| !k.is_empty())
}

/// Groups the files of one target (`uri` without trailing `/`, named `root_name`) into
/// tables (module docs).
pub fn group(uri: &str, root_name: &str, mut files: Vec<FileEntry>) -> Vec<TableGroup> {
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    let mut direct = Vec::new();
    let mut folders: BTreeMap<String, Vec<FileEntry>> = BTreeMap::new();
    for file in files {
        if file.rel.len() == 1 {
            direct.push(file);
        } else {
            folders.entry(file.rel[0].clone()).or_default().push(file);
        }
    }
    let keys: Vec<Option<&str>> = folders
        .keys()
        .map(|f| hive_segment(f).map(|(k, _)| k))
        .collect();
    let one_partition_key = !keys.is_empty() && keys.iter().all(|k| k.is_some() && *k == keys[0]);
    let root_location = format!("{uri}/");
    if one_partition_key {
        let all = direct
            .into_iter()
            .chain(folders.into_values().flatten())
            .map(|f| {
                let dirs = f.rel[..f.rel.len() - 1].to_vec();
                (f, dirs)
            })
            .collect();
        return vec![partitioned(root_name, &root_location, all)];
    }
    let mut tables = Vec::new();
    if !direct.is_empty() {
        let files = direct.into_iter().map(|f| (f, Vec::new())).collect();
        tables.push(partitioned(root_name, &root_location, files));
    }
    for (folder, files) in folders {
        let location = format!("{uri}/{folder}/");
        let files = files
            .into_iter()
            .map(|f| {
                let dirs = f.rel[1..f.rel.len() - 1].to_vec();
                (f, dirs)
            })
            .collect();
        tables.push(partitioned(&folder, &location, files));
    }
    tables
}

/// A table of `files` (each with its folders below the table folder).
fn partitioned(name: &str, location: &str, files: Vec<(FileEntry, Vec<String>)>) -> TableGroup {
    let depth = files.iter().map(|(_, dirs)| dirs.len()).min().unwrap_or(0);
    let partition_keys: Vec<String> = (0..depth)
        .map(|level| {
            let mut keys = files
                .iter()
                .map(|(_, dirs)| hive_segment(&dirs[level]).map(|(k, _)| k));
            let first = keys.next().flatten();
            match first {
                Some(key) if keys.all(|k| k == Some(key)) => key.to_lowercase(),
                _ => format!("partition_{level}"),
            }
        })
        .collect();
    let hive: Vec<bool> = partition_keys
        .iter()
        .enumerate()
        .map(|(level, key)| *key != format!("partition_{level}"))
        .collect();
    let files = files
        .into_iter()
        .map(|(entry, dirs)| {
            let values = (0..depth)
                .map(|level| match hive_segment(&dirs[level]) {
                    Some((_, value)) if hive[level] => value.to_string(),
                    _ => dirs[level].clone(),
                })
                .collect();
            let partition_location = if depth == 0 {
                location.to_string()
            } else {
                format!("{location}{}/", dirs[..depth].join("/"))
            };
            GroupFile {
                entry,
                values,
                partition_location,
            }
        })
        .collect();
    TableGroup {
        name: name.to_string(),
        location: location.to_string(),
        partition_keys,
        files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(rel: &str) -> FileEntry {
        FileEntry {
            path: PathBuf::from("/data").join(rel),
            rel: rel.split('/').map(str::to_string).collect(),
            size: 1,
        }
    }

    fn summary(tables: &[TableGroup]) -> Vec<(String, String, Vec<String>, usize)> {
        tables
            .iter()
            .map(|t| {
                (
                    t.name.clone(),
                    t.location.clone(),
                    t.partition_keys.clone(),
                    t.files.len(),
                )
            })
            .collect()
    }

    #[test]
    fn top_level_folders_become_tables_with_partitions() {
        let files = vec![
            file("customers/part1.csv"),
            file("customers/part2.csv"),
            file("sales/year=2024/month=01/a.csv"),
            file("sales/year=2024/month=02/b.csv"),
            file("sales/year=2023/month=12/c.csv"),
            file("events/2024/01/e.json"),
            file("loose.csv"),
        ];
        let tables = group("s3://b/data", "data", files);
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            summary(&tables),
            vec![
                ("data".into(), "s3://b/data/".into(), vec![], 1),
                (
                    "customers".into(),
                    "s3://b/data/customers/".into(),
                    vec![],
                    2
                ),
                (
                    "events".into(),
                    "s3://b/data/events/".into(),
                    s(&["partition_0", "partition_1"]),
                    1
                ),
                (
                    "sales".into(),
                    "s3://b/data/sales/".into(),
                    s(&["year", "month"]),
                    3
                ),
            ]
        );
        let sales = &tables[3];
        assert_eq!(sales.files[0].values, s(&["2023", "12"]));
        assert_eq!(
            sales.files[0].partition_location,
            "s3://b/data/sales/year=2023/month=12/"
        );
        assert_eq!(tables[2].files[0].values, s(&["2024", "01"]));
    }

    #[test]
    fn a_partitioned_target_is_one_table() {
        let files = vec![
            file("dt=2024-01-01/a.json"),
            file("dt=2024-01-02/b.json"),
            file("dt=2024-01-02/nested/c.json"),
        ];
        let tables = group("s3://b/logs", "logs", files);
        assert_eq!(tables.len(), 1);
        assert_eq!(tables[0].name, "logs");
        assert_eq!(tables[0].partition_keys, vec!["dt".to_string()]);
        assert_eq!(tables[0].files[2].values, vec!["2024-01-02".to_string()]);
        // Mixed keys or a file at the table level: no common partitioning.
        let mixed = group(
            "s3://b/t",
            "t",
            vec![file("x/a=1/f.csv"), file("x/b=2/g.csv"), file("y/f.csv")],
        );
        assert_eq!(mixed[0].partition_keys, vec!["partition_0".to_string()]);
        assert_eq!(mixed[0].files[0].values, vec!["a=1".to_string()]);
        assert!(mixed[1].partition_keys.is_empty());
    }

    #[test]
    fn walk_skips_hidden_and_excluded_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for rel in [
            "t/a.csv",
            "t/_SUCCESS",
            "t/.a.csv.crc",
            "_temporary/x.csv",
            "t/skip.tmp",
            "u/v/w.json",
        ] {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, b"x").expect("write");
        }
        let found = walk(
            root,
            &[Glob::new("**.tmp").expect("valid pattern")],
            &|| false,
        )
        .expect("walk");
        let rels: Vec<String> = found.iter().map(|f| f.rel.join("/")).collect();
        assert_eq!(rels, vec!["t/a.csv".to_string(), "u/v/w.json".to_string()]);
        assert!(matches!(
            walk(root, &[], &|| true),
            Err(ScanError::Cancelled)
        ));
    }
}
