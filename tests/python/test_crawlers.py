"""Crawlers as resources through boto3 (spec §7, Appendix A.5; server: operations/crawlers.rs,
resources/crawler.rs): CreateCrawler (State READY, Version 1, AWS's policy defaults),
UpdateCrawler as a partial update that bumps Version and LastUpdated, DeleteCrawler,
GetCrawler/GetCrawlers/ListCrawlers/BatchGetCrawlers, and tags on crawler ARNs."""

import datetime
import time

import pytest

from weirtest import ACCOUNT_ID, REGION, expect_error


@pytest.fixture
def weir_args():
    """A manual clock: updates are made distinct in time by advancing it, not by sleeping."""
    return ["--manual-clock", "now"]

ROLE = "arn:aws:iam::123456789012:role/GlueCrawlerRole"
S3 = {"S3Targets": [{"Path": "s3://data-bucket/raw/"}]}


def crawler_arn(name: str) -> str:
    return f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:crawler/{name}"


def make_crawler(glue, name: str, targets=None, **members) -> None:
    out = glue.create_crawler(Name=name, Role=ROLE, Targets=targets or S3, **members)
    assert set(out) == {"ResponseMetadata"}, "CreateCrawler answers {}"


def get_crawler(glue, name: str) -> dict:
    return glue.get_crawler(Name=name)["Crawler"]


def now(weir) -> datetime.datetime:
    """The server's (manual) clock: timestamps it writes read exactly this."""
    return datetime.datetime.fromtimestamp(weir.advance_clock(0) / 1000, datetime.timezone.utc)


# -- CreateCrawler / GetCrawler --------------------------------------------------------------------
def test_create_with_required_members_only(weir, glue):
    before = now(weir) - datetime.timedelta(seconds=2)
    make_crawler(glue, "raw")
    crawler = get_crawler(glue, "raw")
    after = now(weir) + datetime.timedelta(seconds=2)

    assert crawler["Name"] == "raw"
    assert crawler["Role"] == ROLE
    assert crawler["Targets"]["S3Targets"] == [{"Path": "s3://data-bucket/raw/"}]
    assert crawler["State"] == "READY"
    assert crawler["Version"] == 1
    assert before <= crawler["CreationTime"] <= after
    assert crawler["LastUpdated"] == crawler["CreationTime"]
    assert crawler["CrawlElapsedTime"] == 0
    assert crawler["Classifiers"] == []
    # The policies AWS reports for crawlers created without them.
    assert crawler["SchemaChangePolicy"] == {
        "UpdateBehavior": "UPDATE_IN_DATABASE",
        "DeleteBehavior": "DEPRECATE_IN_DATABASE",
    }
    assert crawler["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_EVERYTHING"}
    assert crawler["LineageConfiguration"] == {"CrawlerLineageSettings": "DISABLE"}
    assert crawler["LakeFormationConfiguration"] == {"UseLakeFormationCredentials": False, "AccountId": ""}
    for absent in ("Schedule", "LastCrawl", "Description", "DatabaseName", "TablePrefix"):
        assert absent not in crawler, f"{absent} must be omitted: {crawler}"


def test_every_member_a_user_sets_is_echoed(glue):
    targets = {
        "S3Targets": [
            {"Path": "s3://data-bucket/sales/", "Exclusions": ["**.tmp"], "SampleSize": 10},
            {"Path": "s3://data-bucket/orders/"},
        ],
        "JdbcTargets": [{"ConnectionName": "warehouse", "Path": "db/%"}],
        "DynamoDBTargets": [{"Path": "orders-table", "scanAll": True, "scanRate": 0.5}],
        "CatalogTargets": [{"DatabaseName": "src", "Tables": ["t1", "t2"]}],
    }
    members = dict(
        DatabaseName="analytics",
        Description="Crawls sales\nand orders",
        Classifiers=["csv-classifier", "json-classifier"],
        TablePrefix="raw_",
        SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
        RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"},
        LineageConfiguration={"CrawlerLineageSettings": "ENABLE"},
        LakeFormationConfiguration={"UseLakeFormationCredentials": True, "AccountId": "111122223333"},
        Configuration='{"Version":1.0,"Grouping":{"TableGroupingPolicy":"CombineCompatibleSchemas"}}',
        CrawlerSecurityConfiguration="crawler-sec",
    )
    make_crawler(glue, "full", targets=targets, Schedule="cron(15 12 * * ? *)", Tags={"team": "data"}, **members)
    crawler = get_crawler(glue, "full")
    assert crawler["Targets"] == targets
    for key, value in members.items():
        assert crawler[key] == value, f"{key}: sent {value!r}, got {crawler.get(key)!r}"
    assert crawler["Schedule"] == {"ScheduleExpression": "cron(15 12 * * ? *)", "State": "SCHEDULED"}
    assert crawler["State"] == "READY"
    assert crawler["Version"] == 1
    assert "Tags" not in crawler
    assert glue.get_tags(ResourceArn=crawler_arn("full"))["Tags"] == {"team": "data"}


@pytest.mark.parametrize(
    "targets",
    [
        {},
        {"S3Targets": []},
        {"S3Targets": [], "JdbcTargets": [], "CatalogTargets": []},
    ],
)
def test_no_targets_is_invalid_input(glue, targets):
    err = expect_error("InvalidInputException", glue.create_crawler, Name="empty", Role=ROLE, Targets=targets)
    assert "target" in err.response["Error"]["Message"].lower()
    expect_error("EntityNotFoundException", glue.get_crawler, Name="empty")


@pytest.mark.parametrize(
    "members, fragment",
    [
        ({"Targets": {"S3Targets": [{"Exclusions": ["x"]}]}}, "S3 target path"),
        ({"Targets": {"JdbcTargets": [{"Path": "db/%"}]}}, "JDBC target"),
        ({"Targets": {"S3Targets": [{"Path": "s3://b/p", "Exclusions": ["{" * 40 + "}" * 40]}]}},
         "exclusion pattern"),
        ({"Schedule": "every day at noon"}, "schedule"),
        ({"Schedule": "cron(0 12 * * * *)"}, "schedule"),  # neither day field is '?'
        ({"Schedule": "cron(0 25 * * ? *)"}, "schedule"),
        ({"Schedule": "cron(0 9 ? * 3#1,6#3 *)"}, "only one expression"),  # one '#' at most
        ({"SchemaChangePolicy": {"UpdateBehavior": "OVERWRITE"}}, "updateBehavior"),
        ({"TablePrefix": "p" * 129}, "tablePrefix"),
    ],
)
def test_invalid_crawler_definitions_are_invalid_input(glue, members, fragment):
    request = dict(Name="bad", Role=ROLE, Targets=S3)
    request.update(members)
    err = expect_error("InvalidInputException", glue.create_crawler, **request)
    assert fragment.lower() in err.response["Error"]["Message"].lower(), err.response["Error"]
    expect_error("EntityNotFoundException", glue.get_crawler, Name="bad")


def test_missing_required_members_are_invalid_input(glue_unvalidated):
    expect_error("InvalidInputException", glue_unvalidated.create_crawler, Name="c", Targets=S3)
    expect_error("InvalidInputException", glue_unvalidated.create_crawler, Name="c", Role=ROLE)
    expect_error("InvalidInputException", glue_unvalidated.create_crawler, Role=ROLE, Targets=S3)


def test_duplicate_name_is_already_exists_and_keeps_the_original(glue):
    make_crawler(glue, "dup", Description="original")
    err = expect_error(
        "AlreadyExistsException",
        glue.create_crawler,
        Name="dup",
        Role=ROLE,
        Targets={"S3Targets": [{"Path": "s3://other/"}]},
    )
    assert "dup" in err.response["Error"]["Message"]
    crawler = get_crawler(glue, "dup")
    assert crawler["Description"] == "original"
    assert crawler["Targets"] == S3


def test_get_missing_crawler_is_entity_not_found(glue):
    err = expect_error("EntityNotFoundException", glue.get_crawler, Name="ghost")
    assert err.response["Error"]["Message"] == "Crawler entry with name ghost does not exist"


# -- UpdateCrawler ---------------------------------------------------------------------------------
def test_update_changes_only_the_given_members(weir, glue):
    make_crawler(
        glue,
        "c",
        DatabaseName="db1",
        Description="first",
        Schedule="cron(0 12 * * ? *)",
        TablePrefix="p_",
        Tags={"team": "data"},
    )
    created = get_crawler(glue, "c")
    weir.advance_clock(20)

    out = glue.update_crawler(Name="c", Description="second")
    assert set(out) == {"ResponseMetadata"}, "UpdateCrawler answers {}"
    updated = get_crawler(glue, "c")
    assert updated["Description"] == "second"
    assert updated["Version"] == 2
    assert updated["LastUpdated"] > created["LastUpdated"]
    assert updated["CreationTime"] == created["CreationTime"]
    # Everything not given stays as it was.
    for key in ("Role", "Targets", "DatabaseName", "Schedule", "TablePrefix", "SchemaChangePolicy",
                "RecrawlPolicy", "LineageConfiguration", "Classifiers", "State"):
        assert updated[key] == created[key], key
    assert glue.get_tags(ResourceArn=crawler_arn("c"))["Tags"] == {"team": "data"}

    weir.advance_clock(20)
    new_targets = {"CatalogTargets": [{"DatabaseName": "src", "Tables": ["t"]}]}
    glue.update_crawler(
        Name="c",
        Targets=new_targets,
        Role="arn:aws:iam::123456789012:role/Other",
        SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
        Schedule="cron(0/30 * * * ? *)",
    )
    third = get_crawler(glue, "c")
    assert third["Version"] == 3
    assert third["LastUpdated"] > updated["LastUpdated"]
    assert third["Targets"] == new_targets, "Targets are replaced, not merged"
    assert third["Role"] == "arn:aws:iam::123456789012:role/Other"
    assert third["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}
    assert third["Schedule"] == {"ScheduleExpression": "cron(0/30 * * * ? *)", "State": "SCHEDULED"}
    assert third["Description"] == "second"
    assert third["DatabaseName"] == "db1"


def test_update_with_empty_schedule_unschedules(glue):
    make_crawler(glue, "c", Schedule="cron(0 12 * * ? *)")
    glue.update_crawler(Name="c", Schedule="")
    crawler = get_crawler(glue, "c")
    assert "Schedule" not in crawler
    assert crawler["Version"] == 2


def test_update_with_nothing_but_the_name_still_bumps_the_version(glue):
    make_crawler(glue, "c")
    glue.update_crawler(Name="c")
    glue.update_crawler(Name="c")
    assert get_crawler(glue, "c")["Version"] == 3


def test_update_missing_crawler_is_entity_not_found(glue):
    err = expect_error("EntityNotFoundException", glue.update_crawler, Name="ghost", Description="x")
    assert "ghost" in err.response["Error"]["Message"]


@pytest.mark.parametrize(
    "members",
    [
        {"Targets": {}},
        {"Targets": {"S3Targets": []}},
        {"Schedule": "cron(bad)"},
        {"Description": "x", "Schedule": "rate(5 minutes)"},
    ],
)
def test_invalid_update_is_invalid_input_and_changes_nothing(glue, members):
    make_crawler(glue, "c", Description="kept")
    before = get_crawler(glue, "c")
    expect_error("InvalidInputException", glue.update_crawler, Name="c", **members)
    after = get_crawler(glue, "c")
    assert after == before
    assert after["Version"] == 1


# -- DeleteCrawler -----------------------------------------------------------------------------------
def test_delete_removes_the_crawler_and_its_tags(glue):
    make_crawler(glue, "c", Tags={"k": "v"})
    out = glue.delete_crawler(Name="c")
    assert set(out) == {"ResponseMetadata"}, "DeleteCrawler answers {}"
    expect_error("EntityNotFoundException", glue.get_crawler, Name="c")
    expect_error("EntityNotFoundException", glue.get_tags, ResourceArn=crawler_arn("c"))
    # DeleteCrawler models EntityNotFoundException: unlike DeleteJob it is not idempotent.
    err = expect_error("EntityNotFoundException", glue.delete_crawler, Name="c")
    assert "c" in err.response["Error"]["Message"]
    # A new crawler of the same name starts over at Version 1 without tags.
    make_crawler(glue, "c")
    assert get_crawler(glue, "c")["Version"] == 1
    assert glue.get_tags(ResourceArn=crawler_arn("c")).get("Tags", {}) == {}


# -- GetCrawlers / ListCrawlers / BatchGetCrawlers -----------------------------------------------------
def test_get_crawlers_pages_with_the_paginator(glue):
    names = [f"crawler-{i:02d}" for i in range(5)]
    for name in reversed(names):
        make_crawler(glue, name, Description=name)
    pages = list(glue.get_paginator("get_crawlers").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["Crawlers"]) for p in pages] == [2, 2, 1]
    crawlers = [c for p in pages for c in p["Crawlers"]]
    assert [c["Name"] for c in crawlers] == names
    assert all(c["State"] == "READY" and c["Version"] == 1 for c in crawlers), "full Crawler shapes"
    assert "NextToken" not in pages[-1]
    everything = glue.get_crawlers()
    assert [c["Name"] for c in everything["Crawlers"]] == names
    assert "NextToken" not in everything


def test_get_crawlers_on_an_empty_server(glue):
    out = glue.get_crawlers()
    assert out.get("Crawlers", []) == []
    assert "NextToken" not in out
    assert glue.list_crawlers().get("CrawlerNames", []) == []


def list_all_crawlers(glue, **kwargs) -> list[list[str]]:
    """ListCrawlers has no botocore paginator: loop on NextToken by hand."""
    pages, token = [], None
    for _ in range(100):
        out = glue.list_crawlers(**kwargs, **({"NextToken": token} if token else {}))
        pages.append(out.get("CrawlerNames", []))
        token = out.get("NextToken")
        if not token:
            return pages
    pytest.fail("ListCrawlers never stopped paginating")


def test_list_crawlers_pages_and_filters_by_tags(glue):
    make_crawler(glue, "a", Tags={"team": "data", "env": "prod"})
    make_crawler(glue, "b", Tags={"team": "data", "env": "dev"})
    make_crawler(glue, "c", Tags={"team": "ml", "env": "prod"})
    make_crawler(glue, "d")
    make_crawler(glue, "e", Tags={"team": "data", "env": "prod"})

    assert list_all_crawlers(glue) == [["a", "b", "c", "d", "e"]]
    assert list_all_crawlers(glue, MaxResults=2) == [["a", "b"], ["c", "d"], ["e"]]
    assert list_all_crawlers(glue, Tags={"team": "data"}) == [["a", "b", "e"]]
    assert list_all_crawlers(glue, Tags={"team": "data", "env": "prod"}) == [["a", "e"]]
    assert list_all_crawlers(glue, Tags={"env": "prod"}, MaxResults=1) == [["a"], ["c"], ["e"]]
    assert list_all_crawlers(glue, Tags={"team": "nobody"}) == [[]]

    glue.tag_resource(ResourceArn=crawler_arn("d"), TagsToAdd={"team": "data"})
    glue.untag_resource(ResourceArn=crawler_arn("a"), TagsToRemove=["team"])
    assert list_all_crawlers(glue, Tags={"team": "data"}) == [["b", "d", "e"]]


def test_list_crawlers_without_max_results_returns_at_most_100(glue):
    # ListCrawlersResponse.CrawlerNames holds at most 100 names (model).
    for i in range(105):
        glue.create_crawler(Name=f"c{i:03d}", Role=ROLE, Targets=S3)
    pages = list_all_crawlers(glue)
    assert [len(p) for p in pages] == [100, 5]
    assert [n for p in pages for n in p] == [f"c{i:03d}" for i in range(105)]


def test_batch_get_crawlers_reports_the_missing_ones(glue):
    make_crawler(glue, "a", Description="A")
    make_crawler(glue, "b", Description="B")
    out = glue.batch_get_crawlers(CrawlerNames=["b", "ghost", "a"])
    assert sorted(c["Name"] for c in out["Crawlers"]) == ["a", "b"]
    assert {c["Name"]: c for c in out["Crawlers"]}["a"] == get_crawler(glue, "a")
    assert out["CrawlersNotFound"] == ["ghost"]

    all_found = glue.batch_get_crawlers(CrawlerNames=["a", "b"])
    assert all_found.get("CrawlersNotFound", []) == []
    none_found = glue.batch_get_crawlers(CrawlerNames=["x", "y"])
    assert none_found.get("Crawlers", []) == []
    assert sorted(none_found["CrawlersNotFound"]) == ["x", "y"]


# -- tags on crawler ARNs ----------------------------------------------------------------------------
def test_tags_on_crawler_arns(glue):
    make_crawler(glue, "tagged", Tags={"team": "data"})
    arn = crawler_arn("tagged")
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "data"}
    glue.tag_resource(ResourceArn=arn, TagsToAdd={"team": "ml", "owner": "bob"})
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "ml", "owner": "bob"}
    glue.untag_resource(ResourceArn=arn, TagsToRemove=["team"])
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"owner": "bob"}
    # Tag changes do not touch the definition (no Version bump).
    assert get_crawler(glue, "tagged")["Version"] == 1

    expect_error("EntityNotFoundException", glue.get_tags, ResourceArn=crawler_arn("ghost"))
    expect_error("EntityNotFoundException", glue.tag_resource, ResourceArn=crawler_arn("ghost"), TagsToAdd={"k": "v"})
    expect_error("EntityNotFoundException", glue.untag_resource, ResourceArn=crawler_arn("ghost"), TagsToRemove=["k"])
