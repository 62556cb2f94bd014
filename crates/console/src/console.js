// Weir console: live run and job pages, and picking nodes on a run graph. No framework, no
// build step; served by Weir from /console/static/console.js.
"use strict";

// Polls a run page's `live` JSON and swaps in what changed, until the run ends.
function followRun(run) {
  const poll = async () => {
    let state;
    try {
      const response = await fetch(run.dataset.live, { credentials: "same-origin" });
      if (response.status === 401) {
        window.location.assign("/console/sign-in");
        return;
      }
      if (!response.ok) throw new Error(String(response.status));
      state = await response.json();
    } catch (error) {
      setTimeout(poll, 3000);
      return;
    }
    for (const node of document.querySelectorAll("svg .node[data-id]")) {
      const cls = state.nodes[node.dataset.id];
      const kept = ["picked", "selected"].filter((c) => node.classList.contains(c));
      if (cls) node.setAttribute("class", [cls, ...kept].join(" "));
      const details = state.details && state.details[node.dataset.id];
      if (details) {
        node.dataset.details = details;
        if (node.classList.contains("selected")) showDetails(node);
      }
    }
    for (const [id, key] of [["facts", "facts"], ["run-actions", "actions"], ["job-runs", "jobs"]]) {
      const element = document.getElementById(id);
      if (element && element.dataset.html !== state[key]) {
        element.innerHTML = state[key];
        element.dataset.html = state[key];
      }
    }
    markPickable();
    run.dataset.finished = String(state.finished);
    if (!state.finished) setTimeout(poll, 1000);
  };
  poll();
}

// Re-reads the page and swaps in the element `element.id` while it shows anything
// running (job pages: a started job run turns SUCCEEDED without a reload).
function followPage(element) {
  const poll = async () => {
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      if (response.redirected && response.url.includes("/console/sign-in")) {
        window.location.assign(response.url);
        return;
      }
      if (response.ok) {
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = page.getElementById(element.id);
        if (fresh && fresh.innerHTML !== element.innerHTML) element.innerHTML = fresh.innerHTML;
      }
    } catch (error) {
      // Try again at the next tick.
    }
    if (element.querySelector(".badge.running")) setTimeout(poll, 1000);
  };
  if (element.querySelector(".badge.running")) setTimeout(poll, 1000);
}

// Graph nodes with a resume checkbox can be picked by clicking them.
function markPickable() {
  for (const node of document.querySelectorAll("svg .node[data-id]")) {
    const box = document.getElementById("pick-" + node.dataset.id);
    node.classList.toggle("pickable", Boolean(box));
    node.classList.toggle("picked", Boolean(box && box.checked));
  }
}

// Shows the facts of a clicked graph node in the details panel.
function showDetails(node) {
  const panel = document.getElementById("node-details");
  if (!panel || !node.dataset.details) return;
  const list = panel.querySelector("dl");
  list.replaceChildren();
  for (const [label, value] of JSON.parse(node.dataset.details)) {
    const term = document.createElement("dt");
    term.textContent = label;
    const text = document.createElement("dd");
    text.textContent = value;
    list.append(term, text);
  }
  for (const other of document.querySelectorAll("svg .node.selected")) other.classList.remove("selected");
  node.classList.add("selected");
  panel.hidden = false;
}

// Zoom (buttons) and pan (drag) a graph by moving its viewBox.
function viewBox(svg) {
  return svg.getAttribute("viewBox").split(" ").map(Number);
}

function zoomGraph(svg, how) {
  if (!svg.dataset.full) svg.dataset.full = svg.getAttribute("viewBox");
  const full = svg.dataset.full.split(" ").map(Number);
  if (how === "fit") {
    svg.setAttribute("viewBox", svg.dataset.full);
    return;
  }
  const [x, y, w, h] = viewBox(svg);
  const factor = how === "in" ? 0.8 : 1.25;
  const width = Math.min(full[2], w * factor);
  const height = Math.min(full[3], h * factor);
  const cx = x + w / 2;
  const cy = y + h / 2;
  svg.setAttribute("viewBox", [cx - width / 2, cy - height / 2, width, height].join(" "));
}

document.addEventListener("pointerdown", (event) => {
  const svg = event.target.closest && event.target.closest("svg.workflow-graph");
  if (!svg || event.target.closest(".node")) return;
  if (!svg.dataset.full) svg.dataset.full = svg.getAttribute("viewBox");
  const start = { x: event.clientX, y: event.clientY, box: viewBox(svg) };
  const scale = start.box[2] / svg.getBoundingClientRect().width;
  const move = (e) => {
    const [, , w, h] = start.box;
    const x = start.box[0] - (e.clientX - start.x) * scale;
    const y = start.box[1] - (e.clientY - start.y) * scale;
    svg.setAttribute("viewBox", [x, y, w, h].join(" "));
  };
  const stop = () => {
    document.removeEventListener("pointermove", move);
    document.removeEventListener("pointerup", stop);
  };
  document.addEventListener("pointermove", move);
  document.addEventListener("pointerup", stop);
});

document.addEventListener("click", (event) => {
  const zoom = event.target.closest && event.target.closest("button[data-zoom]");
  if (zoom) {
    const svg = zoom.parentElement.nextElementSibling.querySelector("svg.workflow-graph");
    if (svg) zoomGraph(svg, zoom.dataset.zoom);
    return;
  }
  const node = event.target.closest && event.target.closest("svg .node[data-id]");
  if (!node) return;
  showDetails(node);
  const box = document.getElementById("pick-" + node.dataset.id);
  if (!box) return;
  event.preventDefault();
  box.checked = !box.checked;
  markPickable();
});

document.addEventListener("change", (event) => {
  if (event.target.classList && event.target.classList.contains("pick")) markPickable();
});

document.addEventListener("DOMContentLoaded", () => {
  const run = document.getElementById("run");
  markPickable();
  if (run && run.dataset.finished !== "true") followRun(run);
  for (const element of document.querySelectorAll("[data-follow]")) followPage(element);
});
