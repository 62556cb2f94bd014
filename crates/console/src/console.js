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
      if (cls) node.setAttribute("class", cls + (node.classList.contains("picked") ? " picked" : ""));
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

document.addEventListener("click", (event) => {
  const node = event.target.closest && event.target.closest("svg .node[data-id]");
  if (!node) return;
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
