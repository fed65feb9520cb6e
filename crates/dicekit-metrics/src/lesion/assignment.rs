//! One-to-one assignment as the peers compute it: scipy's `linear_sum_assignment` (ported
//! step for step, so that ties go where scipy puts them) on the full cost matrix panoptica or
//! MONAI builds, or per connected block of the overlap graph when that matrix is very large.

/// scipy's `linear_sum_assignment` (minimisation), step for step as its `rectangular_lsap`
/// (Crouse's shortest augmenting path, columns scanned from the last, a tie for the lowest
/// reduced cost going to an unassigned column), so that among equally good assignments it
/// picks the one scipy picks. `cost` is row-major `nr x nc`, without NaN or -inf. Returns the
/// `min(nr, nc)` assigned `(row, col)` pairs, ascending by row.
pub(crate) fn linear_sum_assignment(cost: &[f64], nr: usize, nc: usize) -> Vec<(usize, usize)> {
    if nr == 0 || nc == 0 {
        return Vec::new();
    }
    // A tall matrix is solved transposed, as scipy does.
    let transpose = nc < nr;
    let (nr, nc, cost): (usize, usize, std::borrow::Cow<[f64]>) = if transpose {
        let mut t = vec![0.0; nr * nc];
        for i in 0..nr {
            for j in 0..nc {
                t[j * nr + i] = cost[i * nc + j];
            }
        }
        (nc, nr, t.into())
    } else {
        (nr, nc, cost.into())
    };
    const NONE: usize = usize::MAX;
    let mut u = vec![0.0f64; nr];
    let mut v = vec![0.0f64; nc];
    let mut shortest = vec![f64::INFINITY; nc];
    let mut path = vec![NONE; nc];
    let mut col4row = vec![NONE; nr];
    let mut row4col = vec![NONE; nc];
    let mut sr = vec![false; nr];
    let mut sc = vec![false; nc];
    let mut remaining = vec![0usize; nc];
    for cur_row in 0..nr {
        // augmenting_path
        let mut min_val = 0.0f64;
        let mut num_remaining = nc;
        for (it, r) in remaining.iter_mut().enumerate() {
            *r = nc - it - 1;
        }
        sr.fill(false);
        sc.fill(false);
        shortest.fill(f64::INFINITY);
        let mut sink = NONE;
        let mut i = cur_row;
        while sink == NONE {
            let mut index = NONE;
            let mut lowest = f64::INFINITY;
            sr[i] = true;
            for (it, &j) in remaining[..num_remaining].iter().enumerate() {
                let r = min_val + cost[i * nc + j] - u[i] - v[j];
                if r < shortest[j] {
                    path[j] = i;
                    shortest[j] = r;
                }
                if shortest[j] < lowest || (shortest[j] == lowest && row4col[j] == NONE) {
                    lowest = shortest[j];
                    index = it;
                }
            }
            min_val = lowest;
            if index == NONE {
                // Infeasible (all +inf): cannot happen with finite costs.
                return Vec::new();
            }
            let j = remaining[index];
            if row4col[j] == NONE {
                sink = j;
            } else {
                i = row4col[j];
            }
            sc[j] = true;
            num_remaining -= 1;
            remaining[index] = remaining[num_remaining];
        }
        // Update the dual variables.
        u[cur_row] += min_val;
        for i in 0..nr {
            if sr[i] && i != cur_row {
                u[i] += min_val - shortest[col4row[i]];
            }
        }
        for j in 0..nc {
            if sc[j] {
                v[j] -= min_val - shortest[j];
            }
        }
        // Augment the previous solution.
        let mut j = sink;
        loop {
            let i = path[j];
            row4col[j] = i;
            std::mem::swap(&mut col4row[i], &mut j);
            if i == cur_row {
                break;
            }
        }
    }
    let mut out: Vec<(usize, usize)> = if transpose {
        col4row.iter().enumerate().map(|(c, &r)| (r, c)).collect()
    } else {
        col4row.iter().enumerate().map(|(r, &c)| (r, c)).collect()
    };
    out.sort_unstable();
    out
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

    /// Blocks and the full matrix agree on the optimum.
    #[test]
    fn default_entries() {
        let edges = [(1, 10, 0.5), (1, 11, 0.5), (2, 11, 0.2), (5, 12, 0.9)];
        let full = assign_with_default(&[1, 2, 3, 5], &[10, 11, 12], &edges, 1.000001);
        assert_eq!(full, vec![0, 2, 3]);
    }
}
