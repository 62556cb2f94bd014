//! Scans of real directory trees: grouping, classification, partitions, targets.

use std::path::Path;

use weir_model::shapes::S3Target;

use super::*;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn target(path: &str, exclusions: &[&str]) -> S3Target {
    S3Target {
        path: Some(path.into()),
        exclusions: (!exclusions.is_empty())
            .then(|| exclusions.iter().map(|e| e.to_string()).collect()),
        ..Default::default()
    }
}

fn never() -> bool {
    false
}

fn columns(table: &FoundTable) -> Vec<(String, String)> {
    table
        .columns
        .iter()
        .map(|(n, t)| (n.clone(), t.to_string()))
        .collect()
}

fn lake() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("lake/data");
    write(
        &root,
        "customers/part-0.csv",
        "id,name,vip\n1,Ann,true\n2,Bob,false\n",
    );
    write(&root, "customers/part-1.csv", "id,name,vip\n3,Cy,true\n");
    write(
        &root,
        "sales/year=2024/month=01/a.csv",
        "order_id,amount,at\n10,9.5,2024-01-02 10:00:00\n",
    );
    write(
        &root,
        "sales/year=2024/month=02/b.csv",
        "order_id,amount,at\n11,3,2024-02-03 11:00:00\n",
    );
    write(&root, "sales/year=2024/month=02/_SUCCESS", "");
    write(
        &root,
        "events/e.jsonl",
        "{\"id\": 1, \"kind\": \"click\", \"meta\": {\"x\": 1}}\n{\"id\": 2, \"tags\": [\"a\"]}\n",
    );
    write(&root, "events/old.tmp", "junk");
    write(&root, "blobs/x.gz", "\u{1f}\u{8b}compressed");
    dir
}

#[test]
fn a_lake_becomes_tables_with_types_and_partitions() {
    let dir = lake();
    let found = scan(
        &[target("s3://lake/data/", &["**.tmp"])],
        dir.path(),
        &never,
        &|| {},
    )
    .expect("scan");
    let names: Vec<&str> = found.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["customers", "events", "sales"],
        "blobs: no table"
    );

    let customers = &found[0];
    assert_eq!(customers.format, Format::Csv { delimiter: b',' });
    assert!(customers.header);
    assert_eq!(customers.location, "s3://lake/data/customers/");
    assert_eq!(customers.objects, 2);
    assert_eq!(customers.records, 3);
    let s = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        columns(customers),
        s(&[("id", "bigint"), ("name", "string"), ("vip", "boolean")])
    );

    let events = &found[1];
    assert_eq!(events.format, Format::Json);
    assert_eq!(events.objects, 1, "the excluded .tmp file is not an object");
    assert_eq!(
        columns(events),
        s(&[
            ("id", "int"),
            ("kind", "string"),
            ("meta", "struct<x:int>"),
            ("tags", "array<string>")
        ])
    );

    let sales = &found[2];
    assert_eq!(
        sales.partition_keys,
        vec!["year".to_string(), "month".to_string()]
    );
    assert_eq!(
        columns(sales),
        s(&[
            ("order_id", "bigint"),
            ("amount", "double"),
            ("at", "timestamp")
        ])
    );
    let partitions: Vec<(Vec<String>, String)> = sales
        .partitions
        .iter()
        .map(|p| (p.values.clone(), p.location.clone()))
        .collect();
    assert_eq!(
        partitions,
        vec![
            (
                vec!["2024".to_string(), "01".to_string()],
                "s3://lake/data/sales/year=2024/month=01/".to_string()
            ),
            (
                vec!["2024".to_string(), "02".to_string()],
                "s3://lake/data/sales/year=2024/month=02/".to_string()
            ),
        ]
    );
}

#[test]
fn targets_missing_buckets_and_prefixes() {
    let dir = lake();
    let err = scan(&[target("s3://nope/x", &[])], dir.path(), &never, &|| {});
    assert_eq!(
        err,
        Err(ScanError::Failed("S3 bucket nope does not exist.".into()))
    );
    let empty = scan(
        &[target("s3://lake/missing/", &[])],
        dir.path(),
        &never,
        &|| {},
    );
    assert_eq!(empty, Ok(Vec::new()));
    // A bucket-level target names its root table after the bucket.
    write(&dir.path().join("flat"), "a.csv", "k,v\nx,1\n");
    let flat = scan(&[target("s3://flat", &[])], dir.path(), &never, &|| {}).expect("scan");
    assert_eq!(flat[0].name, "flat");
    assert_eq!(flat[0].location, "s3://flat/");
    // A local path and a single-file target.
    let local = dir.path().join("lake/data/customers/part-0.csv");
    let file = scan(
        &[target(local.to_str().expect("utf-8"), &[])],
        dir.path(),
        &never,
        &|| {},
    )
    .expect("scan");
    assert_eq!(file[0].name, "part_0_csv");
    assert!(file[0].location.starts_with("file:///"));
    // Two targets yielding the same name: the second gets a location hash.
    let twice = scan(
        &[
            target("s3://lake/data/", &[]),
            target("s3://lake/data/", &[]),
        ],
        dir.path(),
        &never,
        &|| {},
    )
    .expect("scan");
    assert_eq!(twice.len(), 6);
    assert!(twice[3].name.starts_with("customers_"));
}

#[test]
fn a_stopped_scan_is_cancelled() {
    let dir = lake();
    let stopped = || true;
    assert_eq!(
        scan(
            &[target("s3://lake/data", &[])],
            dir.path(),
            &stopped,
            &|| {}
        ),
        Err(ScanError::Cancelled)
    );
    assert_eq!(sanitize("My-Data.v2"), "my_data_v2");
}
