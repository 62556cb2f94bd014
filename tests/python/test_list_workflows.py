"""ListWorkflows pagination through boto3 (spec §1.7)."""

import pytest

from weirtest import expect_error

COUNT = 30


@pytest.fixture
def thirty(glue):
    names = {f"wf-{i:02d}" for i in range(COUNT)}
    for name in sorted(names):
        glue.create_workflow(Name=name)
    return names


def assert_each_once(seen, expected):
    assert len(seen) == len(set(seen)), f"a name was listed twice: {seen}"
    assert set(seen) == expected


@pytest.mark.parametrize("page_size", [1, 7, 25])
def test_paginator_lists_every_name_once(glue, thirty, page_size):
    pages = list(
        glue.get_paginator("list_workflows").paginate(PaginationConfig={"PageSize": page_size})
    )
    tokens = [p["NextToken"] for p in pages if "NextToken" in p]
    assert len(tokens) == len(set(tokens)), "NextToken repeated"
    assert all(tokens), "an empty NextToken must be omitted instead"
    assert "NextToken" not in pages[-1]
    assert all(len(p.get("Workflows", [])) <= page_size for p in pages)
    assert len(pages) >= -(-COUNT // page_size)
    assert_each_once([n for p in pages for n in p.get("Workflows", [])], thirty)


def test_manual_paging_without_max_results(glue, thirty):
    seen, token = [], None
    for _ in range(2 * COUNT):
        out = glue.list_workflows(**({"NextToken": token} if token else {}))
        assert len(out["Workflows"]) <= 25
        seen += out["Workflows"]
        token = out.get("NextToken")
        if token is None:
            break
    else:
        pytest.fail("pagination did not end")
    assert_each_once(seen, thirty)


def test_empty_and_single_page_have_no_token(glue):
    out = glue.list_workflows()
    assert out.get("Workflows", []) == []
    assert "NextToken" not in out
    glue.create_workflow(Name="only")
    out = glue.list_workflows(MaxResults=25)
    assert out["Workflows"] == ["only"]
    assert "NextToken" not in out


@pytest.mark.parametrize("max_results", [0, 26])
def test_max_results_out_of_range(glue_unvalidated, max_results):
    # botocore rejects 0 (model min 1) client-side, so validation is off here.
    expect_error("InvalidInputException", glue_unvalidated.list_workflows, MaxResults=max_results)


def test_foreign_or_tampered_token(glue, thirty):
    token = glue.list_workflows(MaxResults=5)["NextToken"]
    middle = len(token) // 2
    flipped = token[:middle] + ("B" if token[middle] == "A" else "A") + token[middle + 1 :]
    for bad in ["not-a-token", "eyJvZmZzZXQiOjF9", flipped, token + "x"]:
        expect_error("InvalidInputException", glue.list_workflows, MaxResults=5, NextToken=bad)
