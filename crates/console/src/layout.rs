//! A layered, left-to-right layout of a directed graph (a simplified Sugiyama layout).
//!
//! 1. **Layers** by longest path: a node's layer is one more than the largest layer of
//!    its predecessors (sources are in layer 0), computed in topological order (Kahn).
//!    Workflow graphs are acyclic (cycles are refused at CreateTrigger); should one
//!    appear anyway, the first unplaced node is placed as if its remaining incoming
//!    edges did not exist, so the layout always terminates and stays linear.
//! 2. **Order** within a layer: initial order is the topological order; then a few
//!    barycenter sweeps (down using predecessors, up using successors) sort each layer
//!    by the mean centred position of its neighbours, which removes most crossings.
//!    Long edges get no dummy nodes: they are drawn as curves.
//! 3. **Coordinates**: layer → column, position → row, each column centred vertically.
//!    Nodes in one column are a whole row apart and columns are a whole column apart,
//!    so no two nodes overlap. Layers wrap after [`MAX_COLUMNS`] into bands placed
//!    one below the other (the edges between bands are drawn as curves), so a deep
//!    graph grows downwards, never wider than the page.
//!
//! Cost: O((n + e) · SWEEPS + n log n · SWEEPS) for n nodes and e edges.

use std::collections::VecDeque;

/// Width of a node box, in SVG pixels.
pub const NODE_WIDTH: u32 = 190;
/// Height of a node box.
pub const NODE_HEIGHT: u32 = 46;
/// Horizontal space between columns.
pub const COLUMN_GAP: u32 = 70;
/// Vertical space between rows.
pub const ROW_GAP: u32 = 22;
/// Space around the drawing.
pub const MARGIN: u32 = 16;
/// Most layers side by side: deeper graphs wrap into bands below one another, so
/// every graph is at most this wide (1,262 px: it fits a 1,400 px window).
pub const MAX_COLUMNS: usize = 5;
/// Vertical space between bands.
pub const BAND_GAP: u32 = 48;
/// Barycenter sweeps (each one down and one up).
const SWEEPS: usize = 4;

/// Where every node goes; indices are the node indices given to [`layout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Layer (column) of each node.
    pub layer: Vec<usize>,
    /// The nodes of each layer, top to bottom.
    pub layers: Vec<Vec<usize>>,
    /// Left edge of each node's box.
    pub x: Vec<u32>,
    /// Top edge of each node's box.
    pub y: Vec<u32>,
    /// Width of the whole drawing.
    pub width: u32,
    /// Height of the whole drawing.
    pub height: u32,
}

/// Lays out `node_count` nodes joined by `edges` (source, destination). Edges naming a
/// node out of range, and self-loops, are ignored.
pub fn layout(node_count: usize, edges: &[(usize, usize)]) -> Layout {
    let n = node_count;
    let mut edges: Vec<(usize, usize)> = edges
        .iter()
        .copied()
        .filter(|&(s, d)| s < n && d < n && s != d)
        .collect();
    edges.sort_unstable();
    edges.dedup();
    let mut successors = vec![Vec::new(); n];
    let mut predecessors = vec![Vec::new(); n];
    for &(s, d) in &edges {
        successors[s].push(d);
        predecessors[d].push(s);
    }
    let (layer, topological) = layers_by_longest_path(&successors, &predecessors);
    let depth = layer.iter().map(|l| l + 1).max().unwrap_or(0);
    let mut layers = vec![Vec::new(); depth];
    for &v in &topological {
        layers[layer[v]].push(v);
    }
    order_by_barycenters(&mut layers, &layer, &successors, &predecessors);

    // Columns wrap into bands of at most MAX_COLUMNS layers, one band below the other,
    // so a long chain stays as wide as the page; each column is centred in its band.
    let row = NODE_HEIGHT + ROW_GAP;
    let column = NODE_WIDTH + COLUMN_GAP;
    let bands: Vec<&[Vec<usize>]> = layers.chunks(MAX_COLUMNS).collect();
    let mut x = vec![0; n];
    let mut y = vec![0; n];
    let mut top = MARGIN;
    for (b, band) in bands.iter().enumerate() {
        let rows = band.iter().map(Vec::len).max().unwrap_or(0) as u32;
        for (c, members) in band.iter().enumerate() {
            let offset2 = rows - members.len() as u32; // twice the centring offset, in rows
            for (p, &v) in members.iter().enumerate() {
                x[v] = MARGIN + c as u32 * column;
                y[v] = top + ((2 * p as u32 + offset2) * row) / 2;
            }
        }
        top += span(rows, NODE_HEIGHT, ROW_GAP);
        if b + 1 < bands.len() {
            top += BAND_GAP;
        }
    }
    let columns = depth.min(MAX_COLUMNS) as u32;
    let margins = if n == 0 { 0 } else { 2 * MARGIN };
    Layout {
        width: margins + span(columns, NODE_WIDTH, COLUMN_GAP),
        height: if n == 0 { 0 } else { top + MARGIN },
        layer,
        layers,
        x,
        y,
    }
}

/// The length of `count` items of `size` with `gap` between them.
fn span(count: u32, size: u32, gap: u32) -> u32 {
    if count == 0 {
        0
    } else {
        count * size + (count - 1) * gap
    }
}

/// Longest-path layers and a topological order (Kahn's algorithm; see the module docs
/// for cycles).
fn layers_by_longest_path(
    successors: &[Vec<usize>],
    predecessors: &[Vec<usize>],
) -> (Vec<usize>, Vec<usize>) {
    let n = successors.len();
    let mut waiting: Vec<usize> = predecessors.iter().map(Vec::len).collect();
    let mut layer = vec![0usize; n];
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut queue: VecDeque<usize> = (0..n).filter(|&v| waiting[v] == 0).collect();
    let mut cursor = 0;
    loop {
        while let Some(u) = queue.pop_front() {
            if placed[u] {
                continue;
            }
            placed[u] = true;
            order.push(u);
            for &v in &successors[u] {
                if placed[v] {
                    continue; // an edge closing a cycle
                }
                layer[v] = layer[v].max(layer[u] + 1);
                waiting[v] -= 1;
                if waiting[v] == 0 {
                    queue.push_back(v);
                }
            }
        }
        if order.len() == n {
            break;
        }
        // Only with a cycle: place the first unplaced node now.
        while placed[cursor] {
            cursor += 1;
        }
        queue.push_back(cursor);
    }
    (layer, order)
}

/// Reorders every layer by the barycenters of its neighbours, sweeping down then up.
fn order_by_barycenters(
    layers: &mut [Vec<usize>],
    layer: &[usize],
    successors: &[Vec<usize>],
    predecessors: &[Vec<usize>],
) {
    let n = layer.len();
    let mut position = vec![0.0f64; n];
    let centre = |layers: &[Vec<usize>], position: &mut [f64], l: usize| {
        let half = (layers[l].len() as f64 - 1.0) / 2.0;
        for (p, &v) in layers[l].iter().enumerate() {
            position[v] = p as f64 - half;
        }
    };
    for l in 0..layers.len() {
        centre(layers, &mut position, l);
    }
    for _ in 0..SWEEPS {
        for l in 1..layers.len() {
            sort_layer(&mut layers[l], &position, predecessors);
            centre(layers, &mut position, l);
        }
        for l in (0..layers.len().saturating_sub(1)).rev() {
            sort_layer(&mut layers[l], &position, successors);
            centre(layers, &mut position, l);
        }
    }
}

/// Stable sort of one layer by the mean position of each node's `neighbours`; a node
/// without neighbours keeps its own position as its key.
fn sort_layer(members: &mut [usize], position: &[f64], neighbours: &[Vec<usize>]) {
    let mut keyed: Vec<(f64, usize)> = members
        .iter()
        .map(|&v| {
            let around = &neighbours[v];
            let key = if around.is_empty() {
                position[v]
            } else {
                around.iter().map(|&w| position[w]).sum::<f64>() / around.len() as f64
            };
            (key, v)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (slot, (_, v)) in members.iter_mut().zip(keyed) {
        *slot = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Structural invariants every layout must satisfy.
    fn check(n: usize, edges: &[(usize, usize)], layout: &Layout) {
        assert_eq!(layout.layer.len(), n);
        assert_eq!(layout.layers.iter().map(Vec::len).sum::<usize>(), n);
        let mut seen = vec![false; n];
        for (l, members) in layout.layers.iter().enumerate() {
            assert!(!members.is_empty(), "layer {l} is empty");
            for &v in members {
                assert!(!seen[v], "node {v} placed twice");
                seen[v] = true;
                assert_eq!(layout.layer[v], l);
            }
        }
        // Layers follow dependency depth (acyclic inputs).
        for &(s, d) in edges {
            assert!(layout.layer[d] > layout.layer[s], "edge {s}->{d}");
        }
        // Longest path: a node not in layer 0 has a predecessor exactly one layer up.
        for v in 0..n {
            if layout.layer[v] > 0 {
                assert!(
                    edges
                        .iter()
                        .any(|&(s, d)| d == v && layout.layer[s] + 1 == layout.layer[v]),
                    "node {v} is deeper than its longest path"
                );
            }
        }
        // No two boxes overlap, and all are inside the drawing.
        let mut boxes: Vec<(u32, u32)> = (0..n).map(|v| (layout.x[v], layout.y[v])).collect();
        boxes.sort_unstable();
        for pair in boxes.windows(2) {
            let ((x1, y1), (x2, y2)) = (pair[0], pair[1]);
            if x1 == x2 {
                assert!(y2 >= y1 + NODE_HEIGHT, "overlap at x={x1}: {y1} {y2}");
            } else {
                assert!(x2 >= x1 + NODE_WIDTH, "columns overlap: {x1} {x2}");
            }
        }
        for v in 0..n {
            assert!(layout.x[v] + NODE_WIDTH + MARGIN <= layout.width);
            assert!(layout.y[v] + NODE_HEIGHT + MARGIN <= layout.height);
        }
    }

    /// Crossings between consecutive layers, counted naively (tests only).
    fn crossings(edges: &[(usize, usize)], layout: &Layout) -> usize {
        let mut rank = vec![0; layout.layer.len()];
        for members in &layout.layers {
            for (p, &v) in members.iter().enumerate() {
                rank[v] = p;
            }
        }
        let short: Vec<_> = edges
            .iter()
            .filter(|&&(s, d)| layout.layer[d] == layout.layer[s] + 1)
            .collect();
        let mut count = 0;
        for (i, &&(a, b)) in short.iter().enumerate() {
            for &&(c, d) in &short[i + 1..] {
                if layout.layer[a] == layout.layer[c]
                    && (rank[a] < rank[c]) != (rank[b] < rank[d])
                    && rank[a] != rank[c]
                    && rank[b] != rank[d]
                {
                    count += 1;
                }
            }
        }
        count
    }

    #[test]
    fn empty_and_single() {
        let empty = layout(0, &[]);
        assert_eq!((empty.width, empty.height), (0, 0));
        let one = layout(1, &[]);
        check(1, &[], &one);
        assert_eq!((one.x[0], one.y[0]), (MARGIN, MARGIN));
    }

    #[test]
    fn diamond_layers_follow_depth() {
        // T1 -> J1 -> T2 -> {J2, J3} -> T3 -> J4, plus a long edge J1 -> T3.
        let edges = [
            (0, 1),
            (1, 2),
            (2, 3),
            (2, 4),
            (3, 5),
            (4, 5),
            (5, 6),
            (1, 5),
        ];
        let l = layout(7, &edges);
        check(7, &edges, &l);
        assert_eq!(l.layer, vec![0, 1, 2, 3, 3, 4, 5]);
        assert_eq!(l.layers[3].len(), 2);
        // Columns are centred: the single node of a layer sits between the two rows.
        assert!(l.y[2] > l.y[3].min(l.y[4]) && l.y[2] < l.y[3].max(l.y[4]));
    }

    #[test]
    fn barycenters_remove_avoidable_crossings() {
        // Sources a0 = 0, a1 = 1; a0 -> x, a1 -> y, a1 -> x with y = 2, x = 3. The
        // topological order puts y above x, so a0 -> x crosses a1 -> y; the barycenter
        // of x (between a0 and a1) is above that of y (a1 only), which undoes it.
        let edges = [(0, 3), (1, 2), (1, 3)];
        let l = layout(4, &edges);
        check(4, &edges, &l);
        assert_eq!(l.layers[1], vec![3, 2]);
        assert_eq!(crossings(&edges, &l), 0);
    }

    #[test]
    fn cycles_and_bad_edges_still_lay_out() {
        let edges = [(0, 1), (1, 2), (2, 0), (2, 2), (7, 1), (3, 1)];
        let l = layout(4, &edges);
        assert_eq!(l.layer.len(), 4);
        assert_eq!(l.layers.iter().map(Vec::len).sum::<usize>(), 4);
    }

    #[test]
    fn a_thousand_nodes() {
        // A long chain: one node per layer.
        let chain: Vec<(usize, usize)> = (0..999).map(|i| (i, i + 1)).collect();
        let l = layout(1000, &chain);
        check(1000, &chain, &l);
        assert_eq!(l.layers.len(), 1000);

        // A wide, layered workflow-like graph: a trigger fans out to 100 jobs, each
        // watched by its own trigger that starts one more job, then all joined.
        let mut edges = Vec::new();
        let (fan, jobs, watchers, next, join) = (0, 1, 101, 201, 301);
        for i in 0..100 {
            edges.push((fan, jobs + i));
            edges.push((jobs + i, watchers + i));
            edges.push((watchers + i, next + i));
            edges.push((next + i, join));
        }
        // And a ladder of 698 more nodes hanging off the join node.
        for i in 0..698 {
            let node = 302 + i;
            edges.push((if i == 0 { join } else { node - 1 }, node));
        }
        let l = layout(1000, &edges);
        check(1000, &edges, &l);
        assert_eq!(l.layers[1].len(), 100);
        assert_eq!(l.layer[join], 4);
        // Parallel chains stay parallel: no crossings are needed and none remain.
        assert_eq!(crossings(&edges, &l), 0);
    }

    fn assert_no_overlap(l: &Layout) {
        for a in 0..l.x.len() {
            for b in a + 1..l.x.len() {
                let apart_x = l.x[a].abs_diff(l.x[b]) >= NODE_WIDTH;
                let apart_y = l.y[a].abs_diff(l.y[b]) >= NODE_HEIGHT;
                assert!(apart_x || apart_y, "nodes {a} and {b} overlap");
            }
        }
    }

    #[test]
    fn deep_and_wide_graphs_fit_a_1400_pixel_page() {
        let chain: Vec<(usize, usize)> = (0..99).map(|i| (i, i + 1)).collect();
        let long = layout(100, &chain);
        assert!(
            long.width <= 1262,
            "a 100-node chain is {} px wide",
            long.width
        );
        assert_no_overlap(&long);
        assert!(long.y[99] > long.y[0], "later layers wrap below");

        let fan: Vec<(usize, usize)> = (1..=50).flat_map(|i| [(0, i), (i, 51)]).collect();
        let wide = layout(52, &fan);
        assert!(
            wide.width <= 1262,
            "a 50-job fan-out is {} px wide",
            wide.width
        );
        assert_eq!(wide.layers.len(), 3);
        assert_no_overlap(&wide);
        for v in 0..52 {
            assert!(wide.x[v] + NODE_WIDTH <= wide.width && wide.y[v] + NODE_HEIGHT <= wide.height);
        }
    }
}
