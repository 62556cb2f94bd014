"""TagResource / UntagResource / GetTags on workflow ARNs through boto3 (spec §10, A.6)."""

import pytest

from weirtest import expect_error, workflow_arn


def test_create_time_tags_are_visible(glue):
    glue.create_workflow(Name="tagged", Tags={"team": "data", "Cost-Center": "42"})
    assert glue.get_tags(ResourceArn=workflow_arn("tagged"))["Tags"] == {
        "team": "data",
        "Cost-Center": "42",
    }
    glue.create_workflow(Name="untagged")
    assert glue.get_tags(ResourceArn=workflow_arn("untagged")).get("Tags", {}) == {}


def test_add_overwrite_remove(glue):
    glue.create_workflow(Name="wf", Tags={"team": "data", "tier": "gold"})
    arn = workflow_arn("wf")
    out = glue.tag_resource(ResourceArn=arn, TagsToAdd={"team": "ml", "owner": "alice"})
    assert set(out) == {"ResponseMetadata"}  # empty output structure
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "ml", "tier": "gold", "owner": "alice"}
    glue.untag_resource(ResourceArn=arn, TagsToRemove=["tier"])
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "ml", "owner": "alice"}


def test_unknown_resource_is_entity_not_found(glue):
    arn = workflow_arn("does-not-exist")
    expect_error("EntityNotFoundException", glue.get_tags, ResourceArn=arn)
    expect_error("EntityNotFoundException", glue.tag_resource, ResourceArn=arn, TagsToAdd={"k": "v"})
    expect_error("EntityNotFoundException", glue.untag_resource, ResourceArn=arn, TagsToRemove=["k"])


@pytest.mark.parametrize("arn", ["not-an-arn", "arn:aws:s3:::my-bucket", "wf"])
def test_malformed_arn_is_invalid_input(glue, arn):
    glue.create_workflow(Name="wf")
    expect_error("InvalidInputException", glue.get_tags, ResourceArn=arn)
    expect_error("InvalidInputException", glue.tag_resource, ResourceArn=arn, TagsToAdd={"k": "v"})


def test_tags_are_deleted_with_the_workflow(glue):
    arn = workflow_arn("phoenix")
    glue.create_workflow(Name="phoenix", Tags={"gen": "1"})
    glue.tag_resource(ResourceArn=arn, TagsToAdd={"added": "later"})
    glue.delete_workflow(Name="phoenix")
    expect_error("EntityNotFoundException", glue.get_tags, ResourceArn=arn)
    glue.create_workflow(Name="phoenix")
    assert glue.get_tags(ResourceArn=arn).get("Tags", {}) == {}
