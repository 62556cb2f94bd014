//! S3 through aws-sdk-s3 with its default checksum behaviour (CRC32 in an
//! `aws-chunked` trailer, `STREAMING-UNSIGNED-PAYLOAD-TRAILER`): put, get (whole and
//! ranged), list with a delimiter, and a multipart upload. The full matrix is in
//! tests/python/test_s3.py.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use weir_conformance::{ACCESS_KEY, REGION, SECRET_KEY, WeirServer, ok};

const MIB: usize = 1024 * 1024;

fn s3(server: &WeirServer) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(server.endpoint())
        .region(Region::new(REGION))
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            ACCESS_KEY,
            SECRET_KEY,
            None,
            None,
            "weir-conformance",
        ))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

async fn body(output: aws_sdk_s3::operation::get_object::GetObjectOutput) -> Vec<u8> {
    output
        .body
        .collect()
        .await
        .expect("the body")
        .into_bytes()
        .to_vec()
}

#[tokio::test]
async fn put_get_list_and_multipart() {
    let server = WeirServer::start().unwrap();
    let s3 = s3(&server);
    ok(s3.create_bucket().bucket("rust-sdk").send().await);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    for key in ["one/a.bin", "one/b.bin", "two/c.bin", "top.bin"] {
        let put = ok(s3
            .put_object()
            .bucket("rust-sdk")
            .key(key)
            .content_type("application/x-test")
            .metadata("origin", "rust")
            .body(ByteStream::from(data.clone()))
            .send()
            .await);
        assert!(put.e_tag().is_some_and(|e| e.len() == 34), "{put:?}");
    }
    let on_disk = std::fs::read(server.data_dir().join("s3/rust-sdk/one/a.bin")).unwrap();
    assert_eq!(on_disk, data);

    let got = ok(s3
        .get_object()
        .bucket("rust-sdk")
        .key("one/a.bin")
        .send()
        .await);
    assert_eq!(got.content_type(), Some("application/x-test"));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("origin"))
            .map(String::as_str),
        Some("rust")
    );
    assert_eq!(body(got).await, data);
    let ranged = ok(s3
        .get_object()
        .bucket("rust-sdk")
        .key("top.bin")
        .range("bytes=1000-1999")
        .send()
        .await);
    assert_eq!(body(ranged).await, data[1000..2000]);

    let listed = ok(s3
        .list_objects_v2()
        .bucket("rust-sdk")
        .delimiter("/")
        .send()
        .await);
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<&str> = listed
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!((keys, prefixes), (vec!["top.bin"], vec!["one/", "two/"]));

    let upload = ok(s3
        .create_multipart_upload()
        .bucket("rust-sdk")
        .key("multi.bin")
        .send()
        .await);
    let upload_id = upload.upload_id().expect("an upload id").to_owned();
    let parts: Vec<Vec<u8>> = vec![vec![7u8; 5 * MIB], vec![8u8; 5 * MIB], vec![9u8; 1234]];
    let mut completed = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        let number = i32::try_from(index + 1).unwrap();
        let out = ok(s3
            .upload_part()
            .bucket("rust-sdk")
            .key("multi.bin")
            .upload_id(&upload_id)
            .part_number(number)
            .body(ByteStream::from(part.clone()))
            .send()
            .await);
        completed.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(out.e_tag().expect("a part etag"))
                .build(),
        );
    }
    let done = ok(s3
        .complete_multipart_upload()
        .bucket("rust-sdk")
        .key("multi.bin")
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send()
        .await);
    assert!(
        done.e_tag().is_some_and(|e| e.ends_with("-3\"")),
        "{done:?}"
    );
    let whole = ok(s3
        .get_object()
        .bucket("rust-sdk")
        .key("multi.bin")
        .send()
        .await);
    assert_eq!(body(whole).await, parts.concat());
}
