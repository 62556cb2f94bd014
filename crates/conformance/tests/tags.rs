//! TagResource / UntagResource / GetTags on workflow ARNs (spec §10, Appendix A.6).

use std::collections::HashMap;

use weir_conformance::{WeirServer, expect_error, ok, workflow_arn};

fn tags(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn get_tags(glue: &aws_sdk_glue::Client, arn: &str) -> HashMap<String, String> {
    ok(glue.get_tags().resource_arn(arn).send().await)
        .tags
        .unwrap_or_default()
}

#[tokio::test]
async fn create_time_tags_are_visible() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue
        .create_workflow()
        .name("tagged")
        .tags("team", "data")
        .tags("Cost-Center", "42")
        .send()
        .await);
    assert_eq!(
        get_tags(&glue, &workflow_arn("tagged")).await,
        tags(&[("team", "data"), ("Cost-Center", "42")])
    );

    ok(glue.create_workflow().name("untagged").send().await);
    assert!(get_tags(&glue, &workflow_arn("untagged")).await.is_empty());
}

#[tokio::test]
async fn tag_resource_adds_and_overwrites_and_untag_removes() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue
        .create_workflow()
        .name("wf")
        .tags("team", "data")
        .tags("tier", "gold")
        .send()
        .await);
    let arn = workflow_arn("wf");

    ok(glue
        .tag_resource()
        .resource_arn(&arn)
        .tags_to_add("team", "ml") // overwrite
        .tags_to_add("owner", "alice") // add
        .tags_to_add("empty", "") // values may be empty (0..256)
        .send()
        .await);
    assert_eq!(
        get_tags(&glue, &arn).await,
        tags(&[
            ("team", "ml"),
            ("tier", "gold"),
            ("owner", "alice"),
            ("empty", "")
        ])
    );

    ok(glue
        .untag_resource()
        .resource_arn(&arn)
        .tags_to_remove("tier")
        .tags_to_remove("empty")
        .send()
        .await);
    assert_eq!(
        get_tags(&glue, &arn).await,
        tags(&[("team", "ml"), ("owner", "alice")])
    );

    // Tag keys and values are case-sensitive: "TEAM" is another key.
    ok(glue
        .tag_resource()
        .resource_arn(&arn)
        .tags_to_add("TEAM", "x")
        .send()
        .await);
    ok(glue
        .untag_resource()
        .resource_arn(&arn)
        .tags_to_remove("Team")
        .send()
        .await);
    assert_eq!(
        get_tags(&glue, &arn).await,
        tags(&[("team", "ml"), ("owner", "alice"), ("TEAM", "x")])
    );

    // Tags are not workflow members: updating the workflow leaves them alone.
    ok(glue
        .update_workflow()
        .name("wf")
        .description("changed")
        .send()
        .await);
    assert_eq!(get_tags(&glue, &arn).await.len(), 3);
}

#[tokio::test]
async fn unknown_resource_is_entity_not_found() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let arn = workflow_arn("does-not-exist");
    expect_error(
        glue.get_tags().resource_arn(&arn).send().await,
        "EntityNotFoundException",
    );
    expect_error(
        glue.tag_resource()
            .resource_arn(&arn)
            .tags_to_add("k", "v")
            .send()
            .await,
        "EntityNotFoundException",
    );
    expect_error(
        glue.untag_resource()
            .resource_arn(&arn)
            .tags_to_remove("k")
            .send()
            .await,
        "EntityNotFoundException",
    );
    // Tagging did not bring the workflow into existence.
    expect_error(
        glue.get_workflow().name("does-not-exist").send().await,
        "EntityNotFoundException",
    );
}

#[tokio::test]
async fn malformed_arn_is_invalid_input() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue.create_workflow().name("wf").send().await);
    for bad in [
        "wf",                                         // a name, not an ARN
        "not-an-arn",                                 //
        "arn:aws:s3:::my-bucket",                     // not a Glue ARN (pattern #50)
        "arn:aws:iam::123456789012:role/workflow/wf", // another service
    ] {
        let err = expect_error(
            glue.get_tags().resource_arn(bad).send().await,
            "InvalidInputException",
        );
        assert!(err.is_invalid_input_exception(), "{bad}");
        expect_error(
            glue.tag_resource()
                .resource_arn(bad)
                .tags_to_add("k", "v")
                .send()
                .await,
            "InvalidInputException",
        );
        expect_error(
            glue.untag_resource()
                .resource_arn(bad)
                .tags_to_remove("k")
                .send()
                .await,
            "InvalidInputException",
        );
    }
}

#[tokio::test]
async fn tags_are_deleted_with_the_workflow() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let arn = workflow_arn("phoenix");
    ok(glue
        .create_workflow()
        .name("phoenix")
        .tags("gen", "1")
        .send()
        .await);
    ok(glue
        .tag_resource()
        .resource_arn(&arn)
        .tags_to_add("added", "later")
        .send()
        .await);

    ok(glue.delete_workflow().name("phoenix").send().await);
    expect_error(
        glue.get_tags().resource_arn(&arn).send().await,
        "EntityNotFoundException",
    );

    ok(glue.create_workflow().name("phoenix").send().await);
    assert!(
        get_tags(&glue, &arn).await.is_empty(),
        "old tags survived the delete"
    );

    ok(glue.delete_workflow().name("phoenix").send().await);
    ok(glue
        .create_workflow()
        .name("phoenix")
        .tags("gen", "3")
        .send()
        .await);
    assert_eq!(get_tags(&glue, &arn).await, tags(&[("gen", "3")]));
}

#[tokio::test]
async fn tag_constraints_are_enforced() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue.create_workflow().name("wf").send().await);
    let arn = workflow_arn("wf");

    // Key longer than 128, value longer than 256.
    expect_error(
        glue.tag_resource()
            .resource_arn(&arn)
            .tags_to_add("k".repeat(129), "v")
            .send()
            .await,
        "InvalidInputException",
    );
    expect_error(
        glue.tag_resource()
            .resource_arn(&arn)
            .tags_to_add("k", "v".repeat(257))
            .send()
            .await,
        "InvalidInputException",
    );
    // More than 50 tags in one request.
    let many: HashMap<String, String> = (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
    expect_error(
        glue.tag_resource()
            .resource_arn(&arn)
            .set_tags_to_add(Some(many))
            .send()
            .await,
        "InvalidInputException",
    );
    expect_error(
        glue.create_workflow()
            .name("too-many-tags")
            .set_tags(Some(
                (0..51).map(|i| (format!("k{i}"), "v".into())).collect(),
            ))
            .send()
            .await,
        "InvalidInputException",
    );
    // Nothing of the rejected requests was applied.
    assert!(get_tags(&glue, &arn).await.is_empty());
    expect_error(
        glue.get_workflow().name("too-many-tags").send().await,
        "EntityNotFoundException",
    );

    // The boundaries themselves are fine.
    ok(glue
        .tag_resource()
        .resource_arn(&arn)
        .tags_to_add("k".repeat(128), "v".repeat(256))
        .send()
        .await);
    assert_eq!(get_tags(&glue, &arn).await.len(), 1);
}
