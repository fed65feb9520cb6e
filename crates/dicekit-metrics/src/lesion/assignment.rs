//! Maximum-weight bipartite matching: the Hungarian method (shortest augmenting paths with
//! potentials, O(n^3)) on each connected block of the overlap graph, so that the cost grows
//! with the size of the largest cluster of mutually overlapping lesions, not with the number
//! of lesions.

/// A maximum-weight matching of the bipartite graph whose edges are `(row, col, weight)` with
/// `weight > 0` (rows and columns are arbitrary ids, each listed edge at most once). Returns the
/// matched edges as indices into `edges`, ascending.
///
/// Every maximum-weight matching of a graph with positive weights is also a minimum-cost
/// assignment of the complete matrix where missing edges cost 0, which is what each block
/// solves. When several matchings have the same total weight, which one is returned is
/// unspecified (scipy's `linear_sum_assignment` has its own tie order).
pub(crate) fn max_weight_matching(edges: &[(u32, u32, f64)]) -> Vec<usize> {
    use std::collections::HashMap;
    if edges.is_empty() {
        return Vec::new();
    }
    // Union-find over the nodes (rows first, then columns) to split the graph into blocks.
    let mut rows: HashMap<u32, usize> = HashMap::new();
    let mut cols: HashMap<u32, usize> = HashMap::new();
    for &(r, c, _) in edges {
        let n = rows.len();
        rows.entry(r).or_insert(n);
        let n = cols.len();
        cols.entry(c).or_insert(n);
    }
    let nr = rows.len();
    let mut parent: Vec<usize> = (0..nr + cols.len()).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for &(r, c, _) in edges {
        let (a, b) = (
            find(&mut parent, rows[&r]),
            find(&mut parent, nr + cols[&c]),
        );
        if a != b {
            parent[a] = b;
        }
    }
    // Edges per block, in input order.
    let mut blocks: HashMap<usize, Vec<usize>> = HashMap::new();
    for (e, &(r, _, _)) in edges.iter().enumerate() {
        let root = find(&mut parent, rows[&r]);
        blocks.entry(root).or_default().push(e);
    }
    let mut out = Vec::new();
    for block in blocks.values() {
        if block.len() == 1 {
            out.push(block[0]);
            continue;
        }
        let mut brow: HashMap<u32, usize> = HashMap::new();
        let mut bcol: HashMap<u32, usize> = HashMap::new();
        for &e in block {
            let n = brow.len();
            brow.entry(edges[e].0).or_insert(n);
            let n = bcol.len();
            bcol.entry(edges[e].1).or_insert(n);
        }
        let n = brow.len().max(bcol.len());
        let mut cost = vec![0.0; n * n];
        let mut edge_at = vec![usize::MAX; n * n];
        for &e in block {
            let (i, j) = (brow[&edges[e].0], bcol[&edges[e].1]);
            cost[i * n + j] = -edges[e].2;
            edge_at[i * n + j] = e;
        }
        for (i, j) in hungarian(&cost, n).into_iter().enumerate() {
            let e = edge_at[i * n + j];
            if e != usize::MAX {
                out.push(e);
            }
        }
    }
    out.sort_unstable();
    out
}

/// Minimum-cost perfect assignment of the square `n x n` matrix `cost` (row-major): the column
/// of every row. Shortest augmenting paths with row and column potentials.
fn hungarian(cost: &[f64], n: usize) -> Vec<usize> {
    // 1-based with a virtual column 0, as in the classic formulation.
    let inf = f64::INFINITY;
    let mut u = vec![0.0; n + 1];
    let mut v = vec![0.0; n + 1];
    let mut col_row = vec![0usize; n + 1];
    let mut way = vec![0usize; n + 1];
    for i in 1..=n {
        col_row[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![inf; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[j0] = true;
            let i0 = col_row[j0];
            let mut delta = inf;
            let mut j1 = 0usize;
            for j in 1..=n {
                if !used[j] {
                    let cur = cost[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[col_row[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if col_row[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            col_row[j0] = col_row[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut row_col = vec![0usize; n];
    for j in 1..=n {
        if col_row[j] > 0 {
            row_col[col_row[j] - 1] = j - 1;
        }
    }
    row_col
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over every matching of a small graph.
    fn best(edges: &[(u32, u32, f64)]) -> f64 {
        fn go(
            edges: &[(u32, u32, f64)],
            k: usize,
            used_r: &mut Vec<u32>,
            used_c: &mut Vec<u32>,
        ) -> f64 {
            if k == edges.len() {
                return 0.0;
            }
            let mut b = go(edges, k + 1, used_r, used_c);
            let (r, c, w) = edges[k];
            if !used_r.contains(&r) && !used_c.contains(&c) {
                used_r.push(r);
                used_c.push(c);
                b = b.max(w + go(edges, k + 1, used_r, used_c));
                used_r.pop();
                used_c.pop();
            }
            b
        }
        go(edges, 0, &mut vec![], &mut vec![])
    }

    #[test]
    fn equals_brute_force() {
        let mut seed = 12345u64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let m = (rnd() % 10) as usize;
            let mut edges: Vec<(u32, u32, f64)> = Vec::new();
            for _ in 0..m {
                let (r, c) = ((rnd() % 5) as u32, (rnd() % 5) as u32 + 100);
                if edges.iter().all(|e| (e.0, e.1) != (r, c)) {
                    edges.push((r, c, (rnd() % 1000) as f64 / 1000.0 + 0.001));
                }
            }
            let got = max_weight_matching(&edges);
            let total: f64 = got.iter().map(|&e| edges[e].2).sum();
            assert!((total - best(&edges)).abs() < 1e-9, "{edges:?} -> {got:?}");
            let mut rs: Vec<u32> = got.iter().map(|&e| edges[e].0).collect();
            let mut cs: Vec<u32> = got.iter().map(|&e| edges[e].1).collect();
            rs.sort_unstable();
            cs.sort_unstable();
            let (nr, nc) = (rs.len(), cs.len());
            rs.dedup();
            cs.dedup();
            assert_eq!((rs.len(), cs.len()), (nr, nc));
        }
    }
}
