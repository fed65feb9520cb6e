//! One-to-one assignment as the peers compute it: a minimum-cost assignment that resolves ties
//! as scipy's `linear_sum_assignment` does, on the full cost matrix panoptica or MONAI builds,
//! or per connected block of the overlap graph when that matrix is very large.

/// A minimum-cost assignment of the row-major `nr x nc` matrix `cost` (finite entries, or
/// `+inf` for forbidden pairs): `min(nr, nc)` pairs `(row, col)`, ascending by row, with the
/// smallest total.
///
/// The algorithm is the shortest augmenting path method of Jonker and Volgenant in Crouse's
/// rectangular form (IEEE TAES 2016), the one scipy's `linear_sum_assignment` implements, with
/// scipy's observable choices so that equal-cost assignments come out as scipy (and so panoptica
/// and MONAI) choose them: a matrix with more rows than columns is solved transposed; rows are
/// added one at a time in order; each search keeps its not-yet-settled columns in a list that
/// starts in descending order and loses the settled column by swap-removal; among columns at the
/// same lowest distance the first in that list wins, unless a later one is still unassigned.
pub(crate) fn linear_sum_assignment(cost: &[f64], nr: usize, nc: usize) -> Vec<(usize, usize)> {
    if nr == 0 || nc == 0 {
        return Vec::new();
    }
    if nc >= nr {
        return assign_rows(cost, nr, nc);
    }
    let mut transposed = vec![0.0; nr * nc];
    for (k, &c) in cost.iter().enumerate() {
        transposed[(k % nc) * nr + k / nc] = c;
    }
    let mut pairs: Vec<(usize, usize)> = assign_rows(&transposed, nc, nr)
        .into_iter()
        .map(|(col, row)| (row, col))
        .collect();
    pairs.sort_unstable();
    pairs
}

/// [`linear_sum_assignment`] when every row can be given a column (`nr <= nc`).
fn assign_rows(cost: &[f64], nr: usize, nc: usize) -> Vec<(usize, usize)> {
    let entry = |r: usize, c: usize| cost[r * nc + c];
    // Dual potentials, and the current partial assignment both ways.
    let mut row_potential = vec![0.0f64; nr];
    let mut col_potential = vec![0.0f64; nc];
    let mut owner_of_col: Vec<Option<usize>> = vec![None; nc];
    let mut col_of_row: Vec<Option<usize>> = vec![None; nr];
    let mut distance = vec![f64::INFINITY; nc];
    let mut reached_from = vec![0usize; nc];
    for start in 0..nr {
        // Dijkstra from `start` over reduced costs, until a free column is settled.
        distance.fill(f64::INFINITY);
        let mut open: Vec<usize> = (0..nc).rev().collect();
        let mut rows_seen = vec![start];
        let mut cols_settled = Vec::new();
        let mut radius = 0.0f64;
        let mut row = start;
        let free_col = loop {
            let mut pick: Option<(usize, f64)> = None;
            for (slot, &c) in open.iter().enumerate() {
                // Same operation order as scipy, so equal sums stay equal.
                let through_row = radius + entry(row, c) - row_potential[row] - col_potential[c];
                if through_row < distance[c] {
                    distance[c] = through_row;
                    reached_from[c] = row;
                }
                let free = owner_of_col[c].is_none();
                let better = match pick {
                    None => distance[c] < f64::INFINITY || free,
                    Some((_, d)) => distance[c] < d || (distance[c] == d && free),
                };
                if better {
                    pick = Some((slot, distance[c]));
                }
            }
            // Every open column forbidden: no complete assignment (not with finite costs).
            let Some((slot, d)) = pick else {
                return Vec::new();
            };
            radius = d;
            let c = open.swap_remove(slot);
            cols_settled.push(c);
            match owner_of_col[c] {
                None => break c,
                Some(r) => {
                    row = r;
                    rows_seen.push(r);
                }
            }
        };
        // Potentials: keep every reduced cost >= 0 and the new path tight.
        row_potential[start] += radius;
        for &r in &rows_seen[1..] {
            if let Some(c) = col_of_row[r] {
                row_potential[r] += radius - distance[c];
            }
        }
        for &c in &cols_settled {
            col_potential[c] -= radius - distance[c];
        }
        // Flip the path back from the free column to `start`.
        let mut c = free_col;
        loop {
            let r = reached_from[c];
            owner_of_col[c] = Some(r);
            match col_of_row[r].replace(c) {
                Some(previous) if r != start => c = previous,
                _ => break,
            }
        }
    }
    col_of_row
        .iter()
        .enumerate()
        .filter_map(|(r, c)| c.map(|c| (r, c)))
        .collect()
}

/// Above this many matrix entries, [`assign_with_default`] solves each connected block of the
/// edge graph on its own instead of the whole matrix (memory; the chosen pairs can then differ
/// from scipy's only among assignments of equal cost).
const FULL_MATRIX_LIMIT: usize = 1 << 22;

/// `linear_sum_assignment` of the `rows x cols` matrix (ids ascending) whose entries are the
/// listed `(row id, col id, cost)` edges and `default` everywhere else, as panoptica and MONAI
/// build it. Returns the assigned pairs whose entry is an edge, as indices into `edges`,
/// ascending.
pub(crate) fn assign_with_default(
    rows: &[u32],
    cols: &[u32],
    edges: &[(u32, u32, f64)],
    default: f64,
) -> Vec<usize> {
    use std::collections::HashMap;
    if edges.is_empty() {
        return Vec::new();
    }
    let solve = |rows: &[u32], cols: &[u32], block: &[usize]| -> Vec<usize> {
        let ri: HashMap<u32, usize> = rows.iter().enumerate().map(|(i, &r)| (r, i)).collect();
        let ci: HashMap<u32, usize> = cols.iter().enumerate().map(|(i, &c)| (c, i)).collect();
        let (nr, nc) = (rows.len(), cols.len());
        let mut cost = vec![default; nr * nc];
        let mut edge_at = vec![usize::MAX; nr * nc];
        for &e in block {
            let (r, c, w) = edges[e];
            let k = ri[&r] * nc + ci[&c];
            cost[k] = w;
            edge_at[k] = e;
        }
        linear_sum_assignment(&cost, nr, nc)
            .into_iter()
            .map(|(r, c)| edge_at[r * nc + c])
            .filter(|&e| e != usize::MAX)
            .collect()
    };
    let mut out = if rows.len().saturating_mul(cols.len()) <= FULL_MATRIX_LIMIT {
        let all: Vec<usize> = (0..edges.len()).collect();
        solve(rows, cols, &all)
    } else {
        // Blocks: the connected components of the edge graph (an unlisted row or column
        // only ever takes default entries).
        let mut by_block: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        let mut rix: HashMap<u32, usize> = HashMap::new();
        let mut cix: HashMap<u32, usize> = HashMap::new();
        for &(r, c, _) in edges {
            let n = rix.len();
            rix.entry(r).or_insert(n);
            let n = cix.len();
            cix.entry(c).or_insert(n);
        }
        let nr = rix.len();
        let mut parent: Vec<usize> = (0..nr + cix.len()).collect();
        fn find(p: &mut [usize], mut x: usize) -> usize {
            while p[x] != x {
                p[x] = p[p[x]];
                x = p[x];
            }
            x
        }
        for &(r, c, _) in edges {
            let (a, b) = (find(&mut parent, rix[&r]), find(&mut parent, nr + cix[&c]));
            if a != b {
                parent[a] = b;
            }
        }
        for (e, &(r, _, _)) in edges.iter().enumerate() {
            let root = find(&mut parent, rix[&r]);
            by_block.entry(root).or_default().push(e);
        }
        let mut out = Vec::new();
        for block in by_block.values() {
            let mut br: Vec<u32> = block.iter().map(|&e| edges[e].0).collect();
            let mut bc: Vec<u32> = block.iter().map(|&e| edges[e].1).collect();
            br.sort_unstable();
            br.dedup();
            bc.sort_unstable();
            bc.dedup();
            out.extend(solve(&br, &bc, block));
        }
        out
    };
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest total cost over every assignment of min(nr, nc) pairs.
    fn best(cost: &[f64], nr: usize, nc: usize) -> f64 {
        fn go(cost: &[f64], nc: usize, i: usize, left: usize, used: &mut Vec<bool>) -> f64 {
            if left == 0 {
                return 0.0;
            }
            if i == cost.len() / nc {
                return f64::INFINITY;
            }
            // Row i left out, or assigned to a free column.
            let mut b = go(cost, nc, i + 1, left, used);
            for j in 0..nc {
                if !used[j] {
                    used[j] = true;
                    b = b.min(cost[i * nc + j] + go(cost, nc, i + 1, left - 1, used));
                    used[j] = false;
                }
            }
            b
        }
        go(cost, nc, 0, nr.min(nc), &mut vec![false; nc])
    }

    #[test]
    fn lsa_is_optimal() {
        let mut seed = 12345u64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let (nr, nc) = ((rnd() % 5) as usize + 1, (rnd() % 5) as usize + 1);
            // Few distinct values: many ties.
            let cost: Vec<f64> = (0..nr * nc).map(|_| (rnd() % 4) as f64 / 4.0).collect();
            let got = linear_sum_assignment(&cost, nr, nc);
            assert_eq!(got.len(), nr.min(nc));
            let total: f64 = got.iter().map(|&(r, c)| cost[r * nc + c]).sum();
            assert!((total - best(&cost, nr, nc)).abs() < 1e-12, "{cost:?}");
            let mut rs: Vec<usize> = got.iter().map(|p| p.0).collect();
            let mut cs: Vec<usize> = got.iter().map(|p| p.1).collect();
            rs.dedup();
            cs.sort_unstable();
            cs.dedup();
            assert_eq!((rs.len(), cs.len()), (got.len(), got.len()));
        }
    }

    /// Ties resolved as scipy 1.17 `linear_sum_assignment` resolves them.
    #[test]
    #[allow(clippy::type_complexity)]
    fn lsa_ties_as_scipy() {
        let cases: [(&[f64], usize, usize, &[(usize, usize)]); 5] = [
            (&[0.875, 0.875], 1, 2, &[(0, 0)]),
            (&[1.0; 6], 2, 3, &[(0, 0), (1, 1)]),
            (&[0.5, 0.5, 0.5, 0.5, 0.2, 0.9], 3, 2, &[(0, 1), (2, 0)]),
            (
                &[1.000001, 0.875, 0.875, 0.875, 1.000001, 1.000001],
                2,
                3,
                &[(0, 1), (1, 0)],
            ),
            (&[0.0; 9], 3, 3, &[(0, 0), (1, 1), (2, 2)]),
        ];
        for (cost, nr, nc, want) in cases {
            assert_eq!(linear_sum_assignment(cost, nr, nc), want, "{cost:?}");
        }
    }

    /// 60 random tie-heavy matrices (1-6 rows and columns, five distinct costs) with the pairs
    /// scipy 1.17.1 `linear_sum_assignment` returns for them, one per line:
    /// `nr nc | costs row-major | row,col ...`.
    #[test]
    fn lsa_ties_as_scipy_on_random_matrices() {
        let text = include_str!("testdata/lsa_scipy_ties.txt");
        let mut n = 0;
        for line in text.lines() {
            let parts: Vec<&str> = line.split('|').map(str::trim).collect();
            let dims: Vec<usize> = parts[0].split(' ').map(|v| v.parse().unwrap()).collect();
            let cost: Vec<f64> = parts[1].split(' ').map(|v| v.parse().unwrap()).collect();
            let want: Vec<(usize, usize)> = parts[2]
                .split(' ')
                .map(|p| {
                    let (r, c) = p.split_once(',').unwrap();
                    (r.parse().unwrap(), c.parse().unwrap())
                })
                .collect();
            assert_eq!(
                linear_sum_assignment(&cost, dims[0], dims[1]),
                want,
                "{line}"
            );
            n += 1;
        }
        assert_eq!(n, 60);
    }

    /// Blocks and the full matrix agree on the optimum.
    #[test]
    fn default_entries() {
        let edges = [(1, 10, 0.5), (1, 11, 0.5), (2, 11, 0.2), (5, 12, 0.9)];
        let full = assign_with_default(&[1, 2, 3, 5], &[10, 11, 12], &edges, 1.000001);
        assert_eq!(full, vec![0, 2, 3]);
    }
}
