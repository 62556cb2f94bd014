use std::io::Write as _;
use std::path::PathBuf;

use zip::write::SimpleFileOptions;

use super::*;

const CFG: &str = r#"{"layoutGenerator": "bp.layout.generate_layout",
    "parameterSpec": {"WorkflowName": {"type": "String", "collection": false}}}"#;

enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Link(&'a str, &'a str),
}

fn build(dir: &Path, entries: &[Entry<'_>]) -> PathBuf {
    let path = dir.join("bp.zip");
    let file = File::create(&path).expect("create zip");
    let mut zip = zip::ZipWriter::new(file);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for entry in entries {
        match entry {
            Entry::File(name, bytes) => {
                zip.start_file(*name, options).expect("start file");
                zip.write_all(bytes).expect("write entry");
            }
            Entry::Dir(name) => zip.add_directory(*name, options).expect("dir"),
            Entry::Link(name, target) => zip.add_symlink(*name, *target, options).expect("link"),
        }
    }
    zip.finish().expect("finish zip");
    path
}

fn valid_entries() -> Vec<Entry<'static>> {
    vec![
        Entry::Dir("bp/"),
        Entry::File("bp/blueprint.cfg", CFG.as_bytes()),
        Entry::File("bp/layout.py", b"def generate_layout(u, s):\n    pass\n"),
    ]
}

/// Total bytes of the regular files under `dir`.
fn bytes_under(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                total += bytes_under(&path);
            } else if let Ok(meta) = path.metadata() {
                total += meta.len();
            }
        }
    }
    total
}

#[test]
fn a_valid_archive_is_checked_and_extracted() {
    let temp = tempfile::tempdir().expect("temp");
    let zip = build(temp.path(), &valid_entries());
    let out = temp.path().join("out");
    let checked = check(&zip, Some(&out)).expect("valid archive");
    assert_eq!(checked.layout_generator, "bp.layout.generate_layout");
    assert!(checked.files.contains("bp/layout.py"));
    assert!(out.join("bp/layout.py").is_file());
    assert!(
        checked
            .parameter_spec
            .normalized_json()
            .contains("WorkflowName")
    );
    // Checking without extracting writes nothing.
    let checked = check(&zip, None).expect("valid archive");
    assert_eq!(checked.files.len(), 2);
}

#[test]
fn config_at_the_root_wins_and_two_folders_are_ambiguous() {
    let temp = tempfile::tempdir().expect("temp");
    let cfg = br#"{"layoutGenerator": "layout.gen", "parameterSpec": {}}"#;
    let zip = build(
        temp.path(),
        &[
            Entry::File("blueprint.cfg", cfg),
            Entry::File("layout.py", b"def gen(u, s): pass\n"),
            Entry::File("other/blueprint.cfg", b"not json"),
        ],
    );
    assert!(check(&zip, None).is_ok());
    let zip = build(
        temp.path(),
        &[
            Entry::File("a/blueprint.cfg", cfg),
            Entry::File("b/blueprint.cfg", cfg),
            Entry::File("layout.py", b""),
        ],
    );
    let error = check(&zip, None).expect_err("ambiguous");
    assert!(error.contains("several"), "{error}");
}

#[test]
fn traversal_absolute_and_link_entries_are_rejected_without_escaping() {
    let temp = tempfile::tempdir().expect("temp");
    let outside = temp.path().join("evil.py");
    for (bad, what) in [
        (Entry::File("../evil.py", b"print('x')"), "outside"),
        (Entry::File("bp/../../evil.py", b"print('x')"), "outside"),
        (Entry::File("/tmp/weir-evil-absolute.py", b"x"), "outside"),
        (Entry::File("..\\evil.py", b"x"), "outside"),
        (Entry::Link("bp/link", "/etc"), "symbolic link"),
    ] {
        let mut entries = valid_entries();
        entries.insert(0, bad);
        let zip = build(temp.path(), &entries);
        let out = temp.path().join("out");
        let error = check(&zip, Some(&out)).expect_err("rejected");
        assert!(error.contains(what), "{error}");
        assert!(!outside.exists(), "nothing is written outside the folder");
        assert!(!out.exists(), "a failed extraction is removed");
    }
    assert!(!Path::new("/tmp/weir-evil-absolute.py").exists());
}

#[test]
fn a_zip_bomb_stops_at_the_limit() {
    let temp = tempfile::tempdir().expect("temp");
    let zeros = vec![0u8; (MAX_UNCOMPRESSED_BYTES + 1024 * 1024) as usize];
    let mut entries = valid_entries();
    entries.push(Entry::File("bp/bomb.bin", &zeros));
    let zip = build(temp.path(), &entries);
    assert!(
        std::fs::metadata(&zip).expect("zip").len() < MAX_COMPRESSED_BYTES,
        "the bomb is small compressed"
    );
    let out = temp.path().join("out");
    let error = check_inner(&zip, Some(&out)).expect_err("bomb rejected");
    assert!(error.contains("5 MB"), "{error}");
    assert!(
        bytes_under(&out) <= MAX_UNCOMPRESSED_BYTES,
        "never writes past the limit"
    );
    assert!(check(&zip, Some(&out)).is_err());
    assert!(!out.exists());
}

#[test]
fn oversized_or_broken_archives_are_rejected() {
    let temp = tempfile::tempdir().expect("temp");
    let big = temp.path().join("big.zip");
    std::fs::write(&big, vec![1u8; (MAX_COMPRESSED_BYTES + 1) as usize]).expect("write");
    assert!(check(&big, None).expect_err("big").contains("1 MB"));
    let junk = temp.path().join("junk.zip");
    std::fs::write(&junk, b"this is not a zip").expect("write");
    assert!(
        check(&junk, None)
            .expect_err("junk")
            .contains("not a valid ZIP")
    );
    assert!(check(&temp.path().join("missing.zip"), None).is_err());
}

#[test]
fn config_and_generator_problems_are_explained() {
    let temp = tempfile::tempdir().expect("temp");
    let cases: [(&[u8], &str); 5] = [
        (b"{not json", "not well-formed JSON"),
        (br#"{"parameterSpec": {}}"#, "no layoutGenerator"),
        (
            br#"{"layoutGenerator": "bp.layout.generate_layout"}"#,
            "no parameterSpec",
        ),
        (
            br#"{"layoutGenerator": "bp.missing.generate_layout", "parameterSpec": {}}"#,
            "bp/missing.py",
        ),
        (
            br#"{"layoutGenerator": "generate_layout", "parameterSpec": {}}"#,
            "<module>.<function>",
        ),
    ];
    for (cfg, expected) in cases {
        let zip = build(
            temp.path(),
            &[
                Entry::File("bp/blueprint.cfg", cfg),
                Entry::File("bp/layout.py", b""),
            ],
        );
        let error = check(&zip, None).expect_err("rejected");
        assert!(
            error.contains(expected),
            "{error} should mention {expected}"
        );
    }
    let zip = build(temp.path(), &[Entry::File("bp/layout.py", b"")]);
    assert!(
        check(&zip, None)
            .expect_err("no cfg")
            .contains("no blueprint.cfg")
    );
}

#[test]
fn entry_names_are_normalised() {
    assert_eq!(safe_components("./a//b/").expect("ok"), vec!["a", "b"]);
    assert!(safe_components("./").expect("root").is_empty());
    assert!(safe_components("a/../../b").is_err());
    assert!(safe_components("C:/x").is_err());
    assert!(safe_components("a\0b").is_err());
}
