"""Readable graphs in the console, in a real browser (see browser.py): a 113-node workflow
with a 50-job fan-out and a 30-job chain fits a 1,400-pixel window without horizontal
scrolling; the zoom buttons and dragging move the view; clicking a node of a run shows
its details, which follow the run live."""

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
