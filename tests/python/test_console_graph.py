"""Readable graphs and the catalog in the console, in a real browser (see browser.py): a
113-node workflow with a 50-job fan-out and a 30-job chain fits a 1,400-pixel window
without horizontal scrolling; the zoom buttons and dragging move the view; clicking a
node of a run shows its details, which follow the run live; a crawler's crawls, the
tables it wrote (columns, partitions) and blueprint runs have pages."""

from browser import browser  # noqa: F401  (fixture)
from runs_helpers import (  # noqa: F401  (fixtures)
    conditional_trigger,
    create_job,
    scripts,
    start_trigger,
    wait_run,
    weir_args,
)

NO_HORIZONTAL_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def big_workflow(glue, scripts):
    """start → J → (50 fan-out jobs) and J → chain of 30 jobs: 113 nodes with triggers."""
    script = scripts.write("noop", "pass")
    create_job(glue, "J", script)
    fan = [f"fan-{i:02}" for i in range(50)]
    chain = [f"chain-{i:02}" for i in range(30)]
    for name in fan + chain:
        create_job(glue, name, script)
    glue.create_workflow(Name="big")
    start_trigger(glue, "start", "big", ["J"])
    conditional_trigger(glue, "fan", "big", [("J", "SUCCEEDED")], fan)
    previous = "J"
    for name in chain:
        conditional_trigger(glue, f"to-{name}", "big", [(previous, "SUCCEEDED")], [name])
        previous = name


def test_a_large_graph_fits_the_window_and_zooms(weir, glue, scripts, browser):
    big_workflow(glue, scripts)
    nodes = glue.get_workflow(Name="big", IncludeGraph=True)["Workflow"]["Graph"]["Nodes"]
    assert len(nodes) == 113
    browser.sign_in()
    browser.goto("/console/workflows/big")
    assert browser.count("svg.workflow-graph .node") == 113
    browser.wait(NO_HORIZONTAL_SCROLL)
    width = browser.call("eval", expression="document.querySelector('svg.workflow-graph')"
                         ".getBoundingClientRect().width")
    assert width <= 1400
    full = browser.attr("svg.workflow-graph", "viewBox")
    browser.click("button[data-zoom=in]")
    zoomed = browser.attr("svg.workflow-graph", "viewBox")
    assert float(zoomed.split()[2]) < float(full.split()[2]), (full, zoomed)
    browser.call("eval", expression="""() => {
        const svg = document.querySelector('svg.workflow-graph');
        const box = svg.getBoundingClientRect();
        const at = (type, x, y) => svg.dispatchEvent(new PointerEvent(type,
            {bubbles: true, clientX: x, clientY: y}));
        at('pointerdown', box.left + 5, box.top + 5);
        document.dispatchEvent(new PointerEvent('pointermove', {clientX: box.left + 105, clientY: box.top + 5}));
        document.dispatchEvent(new PointerEvent('pointerup', {}));
    }""", arg=None)
    panned = browser.attr("svg.workflow-graph", "viewBox")
    assert float(panned.split()[0]) < float(zoomed.split()[0]), "dragging right shows what is left"
    browser.click("button[data-zoom=fit]")
    assert browser.attr("svg.workflow-graph", "viewBox") == full
    browser.screenshot("workflow-113-nodes")


def test_clicking_a_node_shows_its_details_live(weir, glue, scripts, browser):
    gate = scripts.path("go")
    create_job(glue, "slow", scripts.write("slow", f"wait_for_file({gate!r})"))
    glue.create_workflow(Name="one")
    start_trigger(glue, "start", "one", ["slow"])
    run_id = glue.start_workflow_run(Name="one")["RunId"]
    browser.sign_in()
    browser.goto(f"/console/workflows/one/runs/{run_id}")
    browser.wait_node_state("slow", "running")
    browser.click_node("slow")
    browser.wait("() => !document.getElementById('node-details').hidden")
    details = browser.text("#node-details")
    assert "slow" in details and "RUNNING" in details, details
    open(gate, "w").close()
    assert wait_run(glue, "one", run_id)["Status"] == "COMPLETED"
    browser.wait("() => document.getElementById('node-details').innerText.includes('SUCCEEDED')")
    browser.screenshot("run-node-details")


SIMPLE_LAYOUT = """
from awsglue.blueprint.job import Job
from awsglue.blueprint.workflow import Entities, Workflow

def generate_layout(user_params, system_params):
    job = Job(Name="only", Role="r",
              Command={"Name": "pythonshell", "ScriptLocation": "/tmp/x.py"})
    return Workflow(Name=user_params["WorkflowName"], Entities=Entities(Jobs=[job]))
"""


def test_crawls_tables_partitions_and_blueprint_runs_have_pages(weir, glue, browser):
    from blueprint_helpers import layout_archive, put_s3, register, run_blueprint
    from runs_helpers import wait_for
    for day in ("2026-12-01", "2026-12-02"):
        put_s3(weir, "lake", f"sales/day={day}/part.csv", "id,amount\n1,2.5\n2,4.0\n")
    glue.create_crawler(Name="sales", Role="r", DatabaseName="shop",
                        Targets={"S3Targets": [{"Path": "s3://lake/sales/"}]})
    glue.start_crawler(Name="sales")
    wait_for(lambda: glue.get_crawler(Name="sales")["Crawler"].get("LastCrawl", {})
             .get("Status") == "SUCCEEDED", "the crawl")
    location = put_s3(weir, "bp", "simple.zip", layout_archive(
        "simple", {"WorkflowName": {"type": "String"}}, SIMPLE_LAYOUT))
    register(glue, "simple", location)
    run = run_blueprint(glue, "simple", {"WorkflowName": "from-bp"})
    assert run["State"] == "SUCCEEDED", run

    browser.sign_in()
    browser.goto("/console/crawlers")
    browser.click("a[href='/console/crawlers/sales']")
    assert "COMPLETED" in browser.text("table.crawls")
    browser.click("a[href='/console/databases/shop']")
    browser.click("a[href='/console/databases/shop/tables/sales']")
    columns = browser.text("table.columns")
    assert "id" in columns and "bigint" in columns and "amount" in columns and "double" in columns
    assert "day" in browser.text("table.partition-keys")
    partitions = browser.text("table.partitions")
    assert "2026-12-01" in partitions and "2026-12-02" in partitions
    browser.screenshot("catalog-table")
    browser.click("a[href='/console/blueprints']")
    runs = browser.text("table.blueprint-runs")
    assert "SUCCEEDED" in runs and "from-bp" in runs
    browser.click("a[href='/console/workflows/from-bp']")
    assert browser.count("svg.workflow-graph .node") >= 1
