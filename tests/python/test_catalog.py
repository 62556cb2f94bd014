"""The Data Catalog through boto3 (server: operations/catalog.rs, crawler/tables.rs,
crawler/expression.rs): databases and tables with AWS's errors, lowercased names,
timestamps, versions and pagination; BatchDeleteTable's Errors; DeleteDatabase taking
its tables along; GetPartitions on a table without partitions, and expressions nested
too deeply refused."""

import datetime

import pytest

from weirtest import ACCOUNT_ID, expect_error


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def table_input(name: str, columns=(("id", "bigint"),), **members) -> dict:
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in columns],
            "Location": f"s3://lake/{name}/",
        },
        **members,
    }


def all_pages(call, key: str, **kwargs) -> tuple[list, int]:
    items, pages, token = [], 0, None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        items += page[key]
        pages += 1
        token = page.get("NextToken")
        if not token:
            return items, pages


def test_database_crud_and_errors(glue):
    before = now() - datetime.timedelta(seconds=2)
    out = glue.create_database(DatabaseInput={"Name": "Sales", "Description": "sales data"},
                               Tags={"team": "data"})
    assert set(out) == {"ResponseMetadata"}
    db = glue.get_database(Name="SALES")["Database"]
    assert db["Name"] == "sales", "names are folded to lowercase"
    assert db["Description"] == "sales data"
    assert db["CatalogId"] == ACCOUNT_ID
    assert before <= db["CreateTime"] <= now() + datetime.timedelta(seconds=2)
    assert db["CreateTableDefaultPermissions"] == [
        {"Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"}, "Permissions": ["ALL"]}
    ]
    err = expect_error("AlreadyExistsException", glue.create_database, DatabaseInput={"Name": "sales"})
    assert err.response["Error"]["Message"] == "Database already exists."
    err = expect_error("EntityNotFoundException", glue.get_database, Name="nope")
    assert err.response["Error"]["Message"] == "Database nope not found."
    expect_error("EntityNotFoundException", glue.delete_database, Name="nope")
    expect_error("EntityNotFoundException", glue.update_database, Name="nope",
                 DatabaseInput={"Name": "nope"})
    expect_error("InvalidInputException", glue.update_database, Name="sales",
                 DatabaseInput={"Name": "renamed"})
    expect_error("EntityNotFoundException", glue.get_database, Name="sales", CatalogId="999999999999")

    glue.update_database(Name="sales", DatabaseInput={"Name": "sales", "Description": "v2",
                                                       "Parameters": {"k": "v"}})
    updated = glue.get_database(Name="sales")["Database"]
    assert (updated["Description"], updated["Parameters"]) == ("v2", {"k": "v"})
    assert updated["CreateTime"] == db["CreateTime"]
    arn = f"arn:aws:glue:us-east-1:{ACCOUNT_ID}:database/sales"
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "data"}

    glue.delete_database(Name="Sales")
    expect_error("EntityNotFoundException", glue.get_database, Name="sales")


def test_get_databases_pages(glue):
    names = [f"db{i:02d}" for i in range(7)]
    for name in reversed(names):
        glue.create_database(DatabaseInput={"Name": name})
    found, pages = all_pages(glue.get_databases, "DatabaseList", MaxResults=3)
    assert [d["Name"] for d in found] == names
    assert pages == 3
    only_names = glue.get_databases(AttributesToGet=["NAME"])["DatabaseList"]
    assert only_names[0] == {"Name": "db00"}
    expect_error("InvalidInputException", glue.get_databases, NextToken="forged")


def test_table_crud_versions_and_errors(glue):
    glue.create_database(DatabaseInput={"Name": "lake"})
    err = expect_error("EntityNotFoundException", glue.create_table, DatabaseName="nope",
                       TableInput=table_input("t"))
    assert err.response["Error"]["Message"] == "Database nope not found."
    glue.create_table(DatabaseName="Lake", TableInput=table_input("Orders", Parameters={"classification": "csv"}))
    err = expect_error("AlreadyExistsException", glue.create_table, DatabaseName="lake",
                       TableInput=table_input("orders"))
    assert err.response["Error"]["Message"] == "Table already exists."

    table = glue.get_table(DatabaseName="lake", Name="ORDERS")["Table"]
    assert table["Name"] == "orders"
    assert table["DatabaseName"] == "lake"
    assert table["CatalogId"] == ACCOUNT_ID
    assert table["VersionId"] == "0"
    assert table["CreateTime"] == table["UpdateTime"]
    assert table["StorageDescriptor"]["Columns"] == [{"Name": "id", "Type": "bigint"}]
    assert table["PartitionKeys"] == []
    assert table["Parameters"] == {"classification": "csv"}
    err = expect_error("EntityNotFoundException", glue.get_table, DatabaseName="lake", Name="nope")
    assert err.response["Error"]["Message"] == "Table nope not found."
    err = expect_error("EntityNotFoundException", glue.get_table, DatabaseName="nope", Name="orders")
    assert err.response["Error"]["Message"] == "Database nope not found."

    glue.update_table(DatabaseName="lake",
                      TableInput=table_input("orders", columns=(("id", "bigint"), ("total", "double"))))
    updated = glue.get_table(DatabaseName="lake", Name="orders")["Table"]
    assert updated["VersionId"] == "1"
    assert updated["CreateTime"] == table["CreateTime"]
    assert updated["UpdateTime"] >= table["UpdateTime"]
    assert [c["Name"] for c in updated["StorageDescriptor"]["Columns"]] == ["id", "total"]
    expect_error("ConcurrentModificationException", glue.update_table, DatabaseName="lake",
                 TableInput=table_input("orders"), VersionId="0")
    expect_error("EntityNotFoundException", glue.update_table, DatabaseName="lake",
                 TableInput=table_input("missing"))

    assert glue.get_partitions(DatabaseName="lake", TableName="orders")["Partitions"] == []
    expect_error("EntityNotFoundException", glue.get_partitions, DatabaseName="lake", TableName="nope")

    glue.delete_table(DatabaseName="lake", Name="orders")
    err = expect_error("EntityNotFoundException", glue.delete_table, DatabaseName="lake", Name="orders")
    assert err.response["Error"]["Message"] == "Table orders not found."


def test_get_tables_pages_and_filters(glue):
    glue.create_database(DatabaseInput={"Name": "lake"})
    glue.create_database(DatabaseInput={"Name": "lake2"})
    names = [f"sales_{i}" for i in range(5)] + ["customers", "events"]
    for name in names:
        glue.create_table(DatabaseName="lake", TableInput=table_input(name))
    glue.create_table(DatabaseName="lake2", TableInput=table_input("other"))

    found, pages = all_pages(glue.get_tables, "TableList", DatabaseName="lake", MaxResults=2)
    assert [t["Name"] for t in found] == sorted(names)
    assert pages == 4
    assert all(t["DatabaseName"] == "lake" for t in found)

    def matching(expression):
        return [t["Name"] for t in glue.get_tables(DatabaseName="lake", Expression=expression)["TableList"]]

    assert matching("sales*") == [f"sales_{i}" for i in range(5)]
    assert matching("customers|events") == ["customers", "events"]
    assert matching(".*vent.*") == ["events"]
    assert matching("nothing") == []
    filtered, pages = all_pages(glue.get_tables, "TableList", DatabaseName="lake",
                                Expression="sales_*", MaxResults=3)
    assert len(filtered) == 5 and pages == 2
    expect_error("EntityNotFoundException", glue.get_tables, DatabaseName="nope")


def test_batch_delete_reports_missing_tables(glue):
    glue.create_database(DatabaseInput={"Name": "lake"})
    for name in ("a", "b"):
        glue.create_table(DatabaseName="lake", TableInput=table_input(name))
    out = glue.batch_delete_table(DatabaseName="lake", TablesToDelete=["a", "ghost", "B"])
    assert out["Errors"] == [{
        "TableName": "ghost",
        "ErrorDetail": {"ErrorCode": "EntityNotFoundException", "ErrorMessage": "Table ghost not found."},
    }]
    assert glue.get_tables(DatabaseName="lake")["TableList"] == []
    assert glue.batch_delete_table(DatabaseName="lake", TablesToDelete=["a"])["Errors"][0]["TableName"] == "a"
    expect_error("EntityNotFoundException", glue.batch_delete_table, DatabaseName="nope", TablesToDelete=["a"])


def test_delete_database_deletes_its_tables(glue):
    glue.create_database(DatabaseInput={"Name": "lake"})
    glue.create_table(DatabaseName="lake", TableInput=table_input("t1"))
    glue.delete_database(Name="lake")
    glue.create_database(DatabaseInput={"Name": "lake"})
    assert glue.get_tables(DatabaseName="lake")["TableList"] == []
    expect_error("EntityNotFoundException", glue.get_table, DatabaseName="lake", Name="t1")


@pytest.mark.parametrize("bad", ["a/b"])
def test_database_names_with_slashes_are_refused(glue, bad):
    expect_error("InvalidInputException", glue.create_database, DatabaseInput={"Name": bad})


@pytest.mark.parametrize("expression", [
    "(" * 1018 + "year='2024'" + ")" * 1018,  # once overflowed the stack and killed the server
    "NOT " * 500 + "year='2024'",
])
def test_deeply_nested_partition_expressions_are_refused(glue, expression):
    assert len(expression) <= 2048, "within the model's Expression limit"
    glue.create_database(DatabaseInput={"Name": "lake"})
    glue.create_table(DatabaseName="lake", TableInput=table_input(
        "events", PartitionKeys=[{"Name": "year", "Type": "string"}]))
    err = expect_error("InvalidInputException", glue.get_partitions,
                       DatabaseName="lake", TableName="events", Expression=expression)
    assert "nest" in err.response["Error"]["Message"]
    shallow = "(" * 60 + "year='2024'" + ")" * 60
    assert glue.get_partitions(DatabaseName="lake", TableName="events", Expression=shallow)["Partitions"] == []
