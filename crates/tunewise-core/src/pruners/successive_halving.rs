//! Asynchronous successive halving (ASHA).

use std::cmp::Ordering;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::direction::Direction;
use crate::error::{Error, Result};
use crate::frozen::{FrozenTrial, TrialState};
use crate::multi_objective::{crowding_distance, dominates};
use crate::pruner::Pruner;
use crate::sampler::StudyView;

/// Asynchronous successive halving (ASHA; Li et al. 2020, "A System for Massively Parallel
/// Hyperparameter Tuning"), as in Optuna's `SuccessiveHalvingPruner`.
///
/// # What it does
///
/// Rung `k` sits at step `min_resource · η^(s + k)` (η the reduction factor, `s` the minimum
/// early-stopping rate). When a trial has reported a step at or past a rung, it competes with
/// every other trial that got there: it goes on (is *promoted*) only if its value is among the
/// best `max(⌊n / η⌋, 1)` of the `n` values at that rung (itself included; ties go in its
/// favour), and is pruned otherwise. Each rung the trial has passed is checked, so a trial is
/// judged again at each new rung.
///
/// A trial's value at a rung is its value at the first step it reported at or after the rung's
/// step (the value at the rung's step when it reports every step). The values come from the
/// trials the study holds — complete, pruned, failed and running alike — so the decision is a
/// function of the study alone: nothing is remembered between calls but a cache of the
/// finished trials' values, checked against the study at every call. A NaN value is the worst
/// value: a trial whose own value at a rung is NaN is pruned, and another trial's NaN counts in
/// `n` but beats nothing.
///
/// `bootstrap_count`: a trial that reaches a rung while at most `bootstrap_count` trials
/// (itself included) have reached it is pruned, as in Optuna: the first trials at each rung only
/// set the bar. The default 0 turns this off.
///
/// # Several objectives
///
/// The values at a rung are ranked by non-dominated sorting (Deb et al. 2002), then, within a
/// front, by decreasing crowding distance; a trial is promoted if fewer than
/// `max(⌊n / η⌋, 1)` trials rank strictly ahead of it. The crowding distance is computed over
/// the front's points in lexicographic order of their values (so that which of two tied points
/// is an end does not depend on trial numbers), the judged trial first among equal points.
/// Every objective's direction comes from the study.
///
/// # When to use it
///
/// Iterative training (epochs, boosting rounds) where an early value predicts the final one
/// roughly, and many trials run in parallel: it never waits for a rung to fill. It prunes hard
/// (all but `1/η` of the trials at each rung); prefer [`HyperbandPruner`](crate::HyperbandPruner)
/// when you do not know how early the curves can be trusted.
///
/// # Cost
///
/// One pass over the study's trials per call (a few nanoseconds per trial: finished trials'
/// values at each rung are cached and kept sorted), plus a binary search per rung. With
/// several objectives the cached points are kept in lexicographic order and each objective's
/// values sorted, so a trial strictly below every other on an objective, or with fewer points
/// below it on some objective than the quota, is promoted in O(objectives · log n).
///
/// With two objectives the cached points' non-dominated sorting is cached too (each point's
/// front, and each front as a staircase, so that the front a new point would join is a binary
/// search over fronts, each a binary search: O(log² n)). A trial that finishes is inserted
/// into it in place: its point joins the front it would join, the points of that front it
/// dominates move one front back, the points of the next front that those dominate too, and
/// so on until none moves (only those fronts are rewritten, and the positions after the new
/// point shifted: O(n) at worst, a few hundred nanoseconds with 1,000 points). When more than
/// 8 trials finished since a call last used it, the next such call rebuilds it instead, in
/// one pass that starts each point's search at its former front (O(n), usually one dominance
/// test per point). The running trials' points can only
/// push finished points back, each by at most one front per running point, so the finished
/// points in the fronts before the judged trial's own (among the finished ones) minus the
/// number of running points are all ahead of it: when they fill the quota it is pruned in
/// O(log² n) (an exact quick reject). Conversely the judged trial's front is at most its own
/// among the finished points plus the running points that dominate it, and only the points
/// in that front or earlier ones can rank ahead of it: the finished points in those fronts
/// (a prefix of the cached front sizes) plus the running points it does not dominate bound
/// the number ahead, and when that bound is below the quota it is promoted in O(log² n) (an
/// exact quick accept). Otherwise one pass over the rung places each point the
/// judged trial does not dominate in its front among all the points at the rung, starting from
/// its cached front (O(n), stopped once enough points are ahead), then the crowding distance
/// over the judged trial's front. With more objectives: one pass over the rung counts the
/// trial's dominators (pruned at once when they fill the quota) and gathers the points it does
/// not dominate, whose fronts up to the trial's own are found by binary search, up to O(n²).
///
/// # Defaults
///
/// `min_resource` 1 (a fixed value rather than Optuna's "auto" estimate, so the rungs never
/// move), `reduction_factor` 4, `min_early_stopping_rate` 0, `bootstrap_count` 0.
///
/// ```
/// use tunewise_core::SuccessiveHalvingPruner;
///
/// let pruner = SuccessiveHalvingPruner::builder().min_resource(1).reduction_factor(3).build()?;
/// assert_eq!(pruner.rung_step(2), Some(9));
/// # Ok::<(), tunewise_core::Error>(())
/// ```
#[derive(Debug)]
pub struct SuccessiveHalvingPruner {
    halving: Halving,
}

/// Settings of a [`SuccessiveHalvingPruner`], checked by [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct SuccessiveHalvingBuilder {
    min_resource: u64,
    reduction_factor: u64,
    min_early_stopping_rate: u32,
    bootstrap_count: usize,
}

impl Default for SuccessiveHalvingBuilder {
    fn default() -> Self {
        SuccessiveHalvingBuilder {
            min_resource: 1,
            reduction_factor: 4,
            min_early_stopping_rate: 0,
            bootstrap_count: 0,
        }
    }
}

impl SuccessiveHalvingBuilder {
    /// Steps before the first rung (with a minimum early-stopping rate of 0), at least 1
    /// (default 1).
    pub fn min_resource(mut self, steps: u64) -> Self {
        self.min_resource = steps;
        self
    }

    /// η: one trial in η goes on at each rung, at least 2 (default 4).
    pub fn reduction_factor(mut self, eta: u64) -> Self {
        self.reduction_factor = eta;
        self
    }

    /// `s`: the first rung is at `min_resource · η^s` (default 0).
    pub fn min_early_stopping_rate(mut self, s: u32) -> Self {
        self.min_early_stopping_rate = s;
        self
    }

    /// Trials pruned at each rung before any is promoted from it (default 0).
    pub fn bootstrap_count(mut self, n: usize) -> Self {
        self.bootstrap_count = n;
        self
    }

    /// Checks the settings and makes the pruner; an error names the setting to fix.
    pub fn build(self) -> Result<SuccessiveHalvingPruner> {
        let halving = Halving::new(
            "SuccessiveHalvingPruner",
            self.min_resource,
            self.reduction_factor,
            self.min_early_stopping_rate,
            self.bootstrap_count,
        )?;
        Ok(SuccessiveHalvingPruner { halving })
    }
}

impl Default for SuccessiveHalvingPruner {
    fn default() -> Self {
        Self::new()
    }
}

impl SuccessiveHalvingPruner {
    /// A pruner with the defaults.
    pub fn new() -> Self {
        let b = SuccessiveHalvingBuilder::default();
        SuccessiveHalvingPruner {
            halving: Halving::unchecked(
                b.min_resource,
                b.reduction_factor,
                b.min_early_stopping_rate,
                b.bootstrap_count,
            ),
        }
    }

    /// A builder, to change the defaults.
    pub fn builder() -> SuccessiveHalvingBuilder {
        SuccessiveHalvingBuilder::default()
    }

    /// The step of rung `k` (`None` past `u64::MAX`).
    pub fn rung_step(&self, k: u32) -> Option<u64> {
        self.halving.rung_step(k)
    }
}

impl Pruner for SuccessiveHalvingPruner {
    fn prune(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<bool> {
        self.halving.prune(study.directions(), study.trials().iter(), trial)
    }
}

/// Successive halving over a set of trials: the engine of [`SuccessiveHalvingPruner`] and of
/// each bracket of [`HyperbandPruner`](crate::HyperbandPruner).
pub(super) struct Halving {
    min_resource: u64,
    eta: u64,
    rate: u32,
    bootstrap_count: usize,
    cache: Mutex<Cache>,
}

impl fmt::Debug for Halving {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Halving")
            .field("min_resource", &self.min_resource)
            .field("reduction_factor", &self.eta)
            .field("min_early_stopping_rate", &self.rate)
            .field("bootstrap_count", &self.bootstrap_count)
            .finish_non_exhaustive()
    }
}

/// The finished trials' values at each rung computed so far.
///
/// Keyed by the trials themselves: the cache holds a clone of each finished trial's `Arc`, by
/// its position in the trials it was given. A trial at the same position behind the same `Arc`
/// is the same unchanged trial (the cache's clone keeps the allocation alive, so the address
/// cannot be reused, and an `Arc`'s content cannot change while it is shared); behind another
/// `Arc` it is compared in full. Anything else resets the cache, so it can never answer stale.
#[derive(Debug, Default)]
struct Cache {
    directions: Vec<Direction>,
    /// By position: the finished trials whose values are in `rungs`.
    seen: Vec<Option<Arc<FrozenTrial>>>,
    n_seen: usize,
    rungs: Vec<RungValues>,
}

/// The finished trials' values at one rung.
#[derive(Debug, Default)]
struct RungValues {
    /// The rung's step.
    step: u64,
    /// One objective: the values, ascending, NaN left out.
    sorted: Vec<f64>,
    /// Several objectives: the NaN-free points (values to minimize), `width` values each, one
    /// after another in lexicographic order (by `total_cmp`), so that a call need not sort them.
    points: Vec<f64>,
    /// Values per point: the number of objectives.
    width: usize,
    /// Points in `points`.
    n_points: usize,
    /// Per objective, the values of `points` in ascending order: how many points are below the
    /// judged one on each objective, by binary search.
    columns: Vec<Vec<f64>>,
    /// Values with a NaN (counted, never better than anything).
    n_nan: usize,
    /// Two objectives: the non-dominated sorting of `points`, built when a call first needs it;
    /// a point added is inserted into it in place (or, past [`IN_PLACE_INSERTS`] points added
    /// between two uses, the next use rebuilds it).
    fronts: Option<Fronts>,
}

impl RungValues {
    fn new(step: u64, width: usize) -> Self {
        RungValues { step, width, columns: vec![Vec::new(); width], ..Self::default() }
    }

    /// The rung at `step` holding `values`, sorted once rather than point by point.
    fn build<'v>(
        step: u64,
        directions: &[Direction],
        values: impl Iterator<Item = &'v [f64]>,
    ) -> Self {
        let mut rung = RungValues::new(step, directions.len());
        let mut points: Vec<Vec<f64>> = Vec::new();
        for v in values {
            if is_point(directions, v) {
                points.push(to_minimize(directions, v));
            } else {
                rung.insert(directions, v);
            }
        }
        points.sort_by(|a, b| lex_cmp(a, b));
        for p in &points {
            rung.points.extend_from_slice(p);
            for (column, v) in rung.columns.iter_mut().zip(p) {
                column.push(*v);
            }
        }
        rung.n_points += points.len();
        for column in &mut rung.columns {
            column.sort_by(f64::total_cmp);
        }
        rung
    }

    fn insert(&mut self, directions: &[Direction], values: &[f64]) {
        if is_point(directions, values) {
            let p = to_minimize(directions, values);
            self.n_points += 1;
            for (column, v) in self.columns.iter_mut().zip(&p) {
                let at = column.partition_point(|x| x < v);
                column.insert(at, *v);
            }
            let at = lex_position(&self.points, self.width, &p);
            if let (Some(fronts), &[x, y]) = (&mut self.fronts, &p[..]) {
                fronts.add([x, y], at);
            }
            self.points.splice(at * self.width..at * self.width, p);
        } else if values.iter().any(|v| v.is_nan()) || values.len() != directions.len() {
            self.n_nan += 1;
        } else if let [v] = values {
            let at = self.sorted.partition_point(|x| x < v);
            self.sorted.insert(at, *v);
        }
    }

    fn len(&self) -> usize {
        self.sorted.len() + self.n_points + self.n_nan
    }

    /// Builds the two-objective fronts, or rebuilds them when more points were added since the
    /// last use than are inserted in place.
    fn refresh_fronts(&mut self) {
        match &mut self.fronts {
            Some(fronts) if !fronts.stale => fronts.inserted = 0,
            slot => {
                let hints = slot.take().map(|f| f.rank);
                *slot = Some(Fronts::build(&self.points, hints.as_deref()));
            }
        }
    }
}

/// The non-dominated sorting of a rung's finished points with two objectives.
///
/// With two objectives a front is a staircase: in lexicographic order its first objective
/// rises and its second falls (two members with the same first value would have the same
/// second, or one would dominate the other). So whether a front holds a dominator of a point is
/// one binary search (its last member not after the point on the first objective is the lowest
/// on the second among those), and since a front holding one holds the earlier fronts one too,
/// the front a point would join is a binary search over fronts.
///
/// A point added to the rung is inserted in place ([`add`](Self::add)): only the fronts from
/// its own to the last one a point moves into are rewritten. When more than
/// [`IN_PLACE_INSERTS`] points are added between two uses, the next use rebuilds the fronts in
/// one pass instead ([`build`](Self::build)).
#[derive(Debug, Default)]
struct Fronts {
    /// Each point's front (0 the first), by the point's position in lexicographic order.
    rank: Vec<usize>,
    /// The points front by front, each front in lexicographic order (equal points by
    /// position).
    stairs: Vec<[f64; 2]>,
    /// The position in lexicographic order of each point of `stairs` (the index of its front
    /// in `rank`); apart from `stairs` so that shifting them is one vectorized pass.
    order: Vec<usize>,
    /// `starts[i]`: how many points are in the fronts before front `i` (one entry per front,
    /// plus the total).
    starts: Vec<usize>,
    /// Points inserted in place since the fronts were last used.
    inserted: usize,
    /// More points were added since the fronts were last used than are inserted in place:
    /// `stairs` and `starts` are the fronts of some of the points, and `rank` holds lower
    /// bounds (adding points only pushes points to later fronts), from which
    /// [`build`](Self::build) starts.
    stale: bool,
    /// Buffers of [`add`](Self::add), kept so that inserting a point allocates nothing.
    scratch: [Vec<Member>; 3],
}

/// Points inserted in place into a rung's fronts between two uses; past that the fronts are
/// rebuilt at the next use. An insertion rewrites the fronts from the new point's to the last
/// one a point moves into and shifts the stored positions after it: O(n) at worst, but mostly
/// memory moves. A rebuild is one O(n) pass with a dominance test per point; with 1,000 points
/// the first call after a trial finished ran about 127,000 instructions with a rebuild and
/// 36,000 with an insertion (callgrind), so a batch of more than about 8 is cheaper rebuilt.
const IN_PLACE_INSERTS: usize = 8;

/// A point of a front and its position in lexicographic order, in the buffers of
/// [`Fronts::add`].
#[derive(Debug, Clone, Copy)]
struct Member {
    point: [f64; 2],
    at: usize,
}

impl Fronts {
    /// The fronts of `points` (two values each, in lexicographic order): each point's front is
    /// the first whose last member so far does not dominate it (see [`ahead_of`]), found by
    /// binary search, or by walking up from `hints` (a lower bound per point) when given:
    /// usually one dominance test per point when few points were added since the last build.
    fn build(points: &[f64], hints: Option<&[usize]>) -> Self {
        let pair = |p: &[f64]| [p[0], p[1]];
        let n = points.len() / 2;
        // Room for the points inserted later, so that the first insertions after a build do
        // not reallocate (and copy) `rank` and `stairs`.
        let room = n + n / 2 + IN_PLACE_INSERTS;
        let mut lasts: Vec<[f64; 2]> = Vec::new();
        let mut rank = Vec::with_capacity(room);
        let mut sizes: Vec<usize> = Vec::new();
        for (i, p) in points.chunks_exact(2).map(pair).enumerate() {
            let front = match hints.and_then(|h| h.get(i)) {
                Some(hint) => {
                    let mut front = (*hint).min(lasts.len());
                    while front < lasts.len() && dominates2(lasts[front], p) {
                        front += 1;
                    }
                    front
                }
                None => lasts.partition_point(|q| dominates2(*q, p)),
            };
            if front == lasts.len() {
                lasts.push(p);
                sizes.push(0);
            }
            lasts[front] = p;
            sizes[front] += 1;
            rank.push(front);
        }
        let mut starts = Vec::with_capacity(sizes.len() + 1);
        let mut total = 0;
        starts.push(0);
        for size in &sizes {
            total += size;
            starts.push(total);
        }
        // Each front's members in lexicographic order, filled in place.
        let mut fill = starts.clone();
        let mut stairs = Vec::with_capacity(room);
        stairs.resize(n, [0.0; 2]);
        let mut order = Vec::with_capacity(room);
        order.resize(n, 0);
        for (at, (p, front)) in points.chunks_exact(2).map(pair).zip(&rank).enumerate() {
            stairs[fill[*front]] = p;
            order[fill[*front]] = at;
            fill[*front] += 1;
        }
        Fronts { rank, stairs, order, starts, ..Fronts::default() }
    }

    /// Adds the point `p`, inserted at position `at` in lexicographic order among the points.
    ///
    /// In place: `p` joins the front `k` it would join ([`front_of`](Self::front_of)); the
    /// members of front `k` that `p` dominates move to front `k + 1`, the members of front
    /// `k + 1` dominated by a point that moved there move to front `k + 2`, and so on until no
    /// point moves (the points moving out of the last front make a new one). This is exact. A
    /// point's front is the length of the longest chain of points dominating it. A new point
    /// lengthens a chain by one at most (taking it out leaves a chain), so every other point
    /// stays in its front `j` or moves to `j + 1`, and it moves when one of its dominators ends
    /// in front `j`. A dominator `d` was in an earlier front, so it ends in front `j` only if
    /// it is `p` and `k = j`, or it was in front `j − 1` and moved: exactly the points the
    /// cascade checks. (And if `p` dominates a point, the `k` finished points of a chain
    /// dominating `p` dominate it too: it is in front `k` or a later one.)
    ///
    /// Whether a member `q` of front `j` has a dominator among the points moving into front
    /// `j` (themselves part of one front, so a staircase in lexicographic order): the last of
    /// those not after `q` on the first objective is the lowest on the second among them, so
    /// it is enough to test that one. It cannot equal `q`: equal points share a front, and
    /// every moving point but `p` comes from another front than `q`'s. Walking both in
    /// lexicographic order finds every moving member and merges the incoming points into the
    /// front in O(size of the front + points moving in).
    fn add(&mut self, p: [f64; 2], at: usize) {
        let k = self.front_of(p);
        self.rank.insert(at, k);
        if self.stale || self.inserted >= IN_PLACE_INSERTS {
            self.stale = true;
            return;
        }
        self.inserted += 1;
        for position in &mut self.order {
            *position += usize::from(*position >= at);
        }
        let [mut region, mut incoming, mut outgoing] = std::mem::take(&mut self.scratch);
        region.clear();
        incoming.clear();
        incoming.push(Member { point: p, at });
        let begin = self.starts[k];
        // Front `j`'s bounds in `stairs` as it was (`starts[j]` already holds its new start).
        let mut from = begin;
        let mut j = k;
        let end = loop {
            if j == self.len() {
                region.extend_from_slice(&incoming);
                self.starts.push(self.starts[j] + incoming.len());
                break from;
            }
            let to = self.starts[j + 1];
            let front = &self.stairs[from..to];
            let positions = &self.order[from..to];
            outgoing.clear();
            // `below`: the incoming points not after `q` on the first objective; `merged`:
            // those already written before `q` (the new point first among equal points, since
            // its position is the first among theirs).
            let (mut below, mut merged) = (0, 0);
            for (point, at) in front.iter().zip(positions) {
                let q = Member { point: *point, at: *at };
                while below < incoming.len() && incoming[below].point[0] <= q.point[0] {
                    below += 1;
                }
                if below > 0 && dominates2(incoming[below - 1].point, q.point) {
                    outgoing.push(q);
                    self.rank[q.at] = j + 1;
                    continue;
                }
                while merged < incoming.len() && lex_cmp(&q.point, &incoming[merged].point).is_ge()
                {
                    region.push(incoming[merged]);
                    merged += 1;
                }
                region.push(q);
            }
            region.extend_from_slice(&incoming[merged..]);
            self.starts[j + 1] = self.starts[j] + front.len() - outgoing.len() + incoming.len();
            std::mem::swap(&mut incoming, &mut outgoing);
            if incoming.is_empty() {
                // The later fronts keep their members, one place further on.
                for start in &mut self.starts[j + 2..] {
                    *start += 1;
                }
                break to;
            }
            from = to;
            j += 1;
        };
        // The rewritten fronts hold one point more than before.
        self.stairs.insert(end, p);
        self.order.insert(end, at);
        for (i, m) in region.iter().enumerate() {
            self.stairs[begin + i] = m.point;
            self.order[begin + i] = m.at;
        }
        self.scratch = [region, incoming, outgoing];
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Whether front `i` holds a point that dominates `p`.
    fn holds_dominator(&self, i: usize, p: [f64; 2]) -> bool {
        let front = &self.stairs[self.starts[i]..self.starts[i + 1]];
        let below = front.partition_point(|q| q[0] <= p[0]);
        below > 0 && dominates2(front[below - 1], p)
    }

    /// The front `p` would join among these points: the first holding none of its dominators
    /// (the length of the longest chain of these points dominating it).
    fn front_of(&self, p: [f64; 2]) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.holds_dominator(mid, p) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

/// Pareto dominance of two-objective points (minimization).
fn dominates2(a: [f64; 2], b: [f64; 2]) -> bool {
    a[0] <= b[0] && a[1] <= b[1] && (a[0] < b[0] || a[1] < b[1])
}

/// Whether `values` is a point of several objectives (stored in `RungValues::points`).
fn is_point(directions: &[Direction], values: &[f64]) -> bool {
    values.len() == directions.len() && values.len() != 1 && !values.iter().any(|v| v.is_nan())
}

/// Lexicographic order by `total_cmp`: a point's dominators all come before it.
fn lex_cmp(a: &[f64], b: &[f64]) -> Ordering {
    a.iter().zip(b).map(|(x, y)| x.total_cmp(y)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
}

/// The number of the `width`-wide points in `points` (lexicographically sorted) that come
/// strictly before `p`.
fn lex_position(points: &[f64], width: usize, p: &[f64]) -> usize {
    if width == 0 {
        return 0;
    }
    let (mut lo, mut hi) = (0, points.len() / width);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if lex_cmp(&points[mid * width..(mid + 1) * width], p).is_lt() {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Whether `a` dominates `b` and whether `b` dominates `a` (minimization), in one pass.
fn dominance(a: &[f64], b: &[f64]) -> (bool, bool) {
    let (mut less, mut greater) = (false, false);
    for (x, y) in a.iter().zip(b) {
        less |= x < y;
        greater |= x > y;
    }
    (less && !greater, greater && !less)
}

/// Values to minimize. `+ 0.0` turns −0 into +0, so that the lexicographic order (by
/// `total_cmp`) agrees with dominance, which counts them equal.
fn to_minimize(directions: &[Direction], values: &[f64]) -> Vec<f64> {
    directions.iter().zip(values).map(|(d, v)| d.to_minimize(*v) + 0.0).collect()
}

/// A trial's value at the rung at `step`: at the first step it reported at or after it.
fn value_at(t: &FrozenTrial, step: u64) -> Option<&[f64]> {
    t.intermediate_values.range(step..).next().map(|(_, v)| v.as_slice())
}

impl Halving {
    pub(super) fn new(
        owner: &str,
        min_resource: u64,
        eta: u64,
        rate: u32,
        bootstrap_count: usize,
    ) -> Result<Self> {
        let bad =
            |field: &str, why: String| Error::InvalidConfig(format!("{owner} {field}: {why}"));
        if min_resource == 0 {
            return Err(bad("min_resource", "must be at least 1 step (default 1), got 0".into()));
        }
        if eta < 2 {
            return Err(bad(
                "reduction_factor",
                format!("must be at least 2 (one trial in η goes on at each rung), got {eta}"),
            ));
        }
        let halving = Halving::unchecked(min_resource, eta, rate, bootstrap_count);
        if halving.rung_step(0).is_none() {
            return Err(bad(
                "min_early_stopping_rate",
                format!(
                    "{rate} puts the first rung (min_resource · reduction_factor^rate) past the \
                     largest step; use a smaller rate"
                ),
            ));
        }
        Ok(halving)
    }

    pub(super) fn unchecked(
        min_resource: u64,
        eta: u64,
        rate: u32,
        bootstrap_count: usize,
    ) -> Self {
        Halving { min_resource, eta, rate, bootstrap_count, cache: Mutex::new(Cache::default()) }
    }

    pub(super) fn rung_step(&self, k: u32) -> Option<u64> {
        let power = self.eta.checked_pow(self.rate.checked_add(k)?)?;
        self.min_resource.checked_mul(power)
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        // The cache is only ever extended whole or reset: a panic cannot leave it half-updated
        // in a way the next call's check would not catch.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `trial` is pruned, competing with `trials` (the judged trial may be among them).
    pub(super) fn prune<'a, I>(
        &self,
        directions: &[Direction],
        trials: I,
        trial: &FrozenTrial,
    ) -> Result<bool>
    where
        I: Iterator<Item = &'a Arc<FrozenTrial>> + Clone,
    {
        let Some((last_step, _)) = trial.last_step() else { return Ok(false) };
        if last_step < self.rung_step(0).unwrap_or(u64::MAX) {
            return Ok(false);
        }
        if let Some(bad) = trial.intermediate_values.values().find(|v| v.len() != directions.len())
        {
            return Err(Error::WrongNumberOfValues { expected: directions.len(), got: bad.len() });
        }
        let mut cache = self.cache();
        let running = cache.sync(directions, trials.clone(), trial);
        // The judged trial itself, when it is finished and cached: its cached value is replaced
        // by its own.
        let own_cached: Option<Arc<FrozenTrial>> = if trial.state.is_finished() {
            cache.seen.iter().flatten().find(|t| t.number == trial.number).cloned()
        } else {
            None
        };
        let mut k = 0u32;
        while let Some(step) = self.rung_step(k) {
            if last_step < step {
                return Ok(false);
            }
            let Some(own) = value_at(trial, step) else { return Ok(false) };
            if own.iter().any(|v| v.is_nan()) {
                return Ok(true);
            }
            let k_us = k as usize;
            while cache.rungs.len() <= k_us {
                let rung_step = self.rung_step(cache.rungs.len() as u32).unwrap_or(u64::MAX);
                let values = cache.seen.iter().flatten().filter_map(|t| value_at(t, rung_step));
                let rung = RungValues::build(rung_step, directions, values);
                cache.rungs.push(rung);
            }
            let own_in_cache = own_cached.as_deref().and_then(|t| value_at(t, step));
            let others: Vec<&[f64]> = running.iter().filter_map(|t| value_at(t, step)).collect();
            let promoted =
                self.promoted(directions, &mut cache.rungs[k_us], own_in_cache, &others, own);
            match promoted {
                Some(true) => k += 1,
                _ => return Ok(true),
            }
        }
        Ok(false)
    }

    /// Whether `own` is promoted at a rung holding `cached` (finished trials, `own_in_cache`
    /// among them when the judged trial is finished) and `others` (running trials). `None` when
    /// the rung does not yet hold more than `bootstrap_count` trials.
    fn promoted(
        &self,
        directions: &[Direction],
        cached: &mut RungValues,
        own_in_cache: Option<&[f64]>,
        others: &[&[f64]],
        own: &[f64],
    ) -> Option<bool> {
        let nan = |v: &[f64]| v.iter().any(|x| x.is_nan()) || v.len() != directions.len();
        let mut n = cached.len() + others.len() + 1;
        if own_in_cache.is_some() {
            n -= 1;
        }
        if n <= self.bootstrap_count {
            return None;
        }
        let slots = (n / self.eta as usize).max(1);
        if let ([d], [v]) = (directions, own) {
            let better = |w: f64| d.better(w, *v);
            let mut ahead = match d {
                Direction::Minimize => cached.sorted.partition_point(|x| x < v),
                Direction::Maximize => {
                    cached.sorted.len() - cached.sorted.partition_point(|x| x <= v)
                }
            };
            if let Some([w]) = own_in_cache {
                if better(*w) {
                    ahead -= 1;
                }
            }
            ahead += others.iter().filter(|o| !nan(o) && better(o[0])).count();
            return Some(ahead < slots);
        }
        // Several objectives.
        let m = directions.len();
        if m == 0 {
            // No objective: every point ties with every other, nothing ranks ahead.
            return Some(true);
        }
        let own_min = to_minimize(directions, own);
        let own_cached_min = own_in_cache.filter(|v| !nan(v)).map(|v| to_minimize(directions, v));
        let others_min: Vec<Vec<f64>> =
            others.iter().filter(|o| !nan(o)).map(|o| to_minimize(directions, o)).collect();
        // Quick accept: a point strictly below every other on one objective is in the first
        // front (nothing dominates it) and is that front's end on the objective, so its
        // crowding distance is infinite and nothing ranks ahead of it.
        let extreme = cached.columns.iter().enumerate().any(|(k, column)| {
            let low = match (&own_cached_min, column.first()) {
                // The judged trial's own cached value is not another point.
                (Some(c), Some(first)) if c[k] == *first => column.get(1),
                (_, first) => first,
            };
            let others_low = others_min.iter().map(|o| o[k]).fold(f64::INFINITY, f64::min);
            let below_cached = match low {
                Some(low) => own_min[k] < *low,
                None => true,
            };
            below_cached && own_min[k] < others_low
        });
        if extreme {
            return Some(true);
        }
        // Quick accept: only points the judged one does not dominate can rank ahead of it, and
        // each of those is below it on some objective or equal to it. Count, by binary search,
        // the cached points below it on each objective (at or below on the first): if even
        // that over-count (its own cached point included) leaves it among the best, it goes on.
        let mut not_dominated: usize = cached
            .columns
            .iter()
            .zip(&own_min)
            .enumerate()
            .map(|(k, (column, v))| match k {
                0 => column.partition_point(|x| x <= v),
                _ => column.partition_point(|x| x < v),
            })
            .sum();
        not_dominated += others_min.iter().filter(|o| !dominance(&own_min, o).0).count();
        if not_dominated < slots {
            return Some(true);
        }
        if let [a, b] = own_min[..] {
            let own_cached = own_cached_min.as_deref().map(|c| [c[0], c[1]]);
            let others: Vec<[f64; 2]> = others_min.iter().map(|o| [o[0], o[1]]).collect();
            cached.refresh_fronts();
            if let Some(fronts) = &cached.fronts {
                let ahead =
                    two_objectives(&cached.points, fronts, [a, b], own_cached, &others, slots);
                if let Some(ahead) = ahead {
                    return Some(ahead < slots);
                }
            }
        }
        // Only the points the judged one does not dominate can rank ahead of it, and their
        // fronts are the same among themselves as among all points (nothing that dominates
        // them is dominated by the judged point): gather those, in lexicographic order (the
        // cached points are kept in it), the judged point first among equal points.
        let skip = own_cached_min.as_deref().map(|c| lex_position(&cached.points, m, c));
        let mut inserts: Vec<(&[f64], bool)> = others_min.iter().map(|o| (&o[..], false)).collect();
        inserts.push((&own_min, true));
        inserts.sort_by(|a, b| lex_cmp(a.0, b.0).then(b.1.cmp(&a.1)));
        let at: Vec<usize> =
            inserts.iter().map(|(p, _)| lex_position(&cached.points, m, p)).collect();
        let mut next = 0;
        let mut gather = Gather { own: &own_min, rivals: Vec::new(), me: 0, dominators: 0 };
        for (i, p) in cached.points.chunks_exact(m).enumerate() {
            while next < inserts.len() && at[next] == i {
                gather.visit(inserts[next].0, inserts[next].1);
                next += 1;
            }
            if skip != Some(i) {
                gather.visit(p, false);
            }
        }
        for (p, is_me) in &inserts[next..] {
            gather.visit(p, *is_me);
        }
        let Gather { rivals, me, dominators, .. } = gather;
        // Every point that dominates the judged one ranks ahead of it.
        if dominators >= slots {
            return Some(false);
        }
        Some(ahead_of(&rivals, me, dominators, slots) < slots)
    }
}

/// How many points rank strictly ahead of the judged point `own` (two objectives, values to
/// minimize) at a rung holding the finished points `points` (in lexicographic order, sorted
/// into `fronts`; `own_cached`, the judged trial's own finished value, among them, not
/// counted) and the running trials' points `others`; or, as soon as it is known to be at least
/// `enough`, some number at least `enough`; or, when it is known to be below `enough`, a bound
/// on it below `enough`. `None` when neither quick answer decides and the judged trial's cached
/// point differs from its value (a changed copy of a finished trial; the caller then ranks the
/// points from scratch).
///
/// On the cached fronts of the finished points (updated only when those change): adding a
/// point can only push points to later fronts, and a point `p` the judged one does not
/// dominate has in its longest chain of dominators at most `e` of the added points (the
/// running ones the judged one does not dominate), so its front among all points is between
/// its cached front and that plus `e`. Likewise the judged point's front is at least `r0`, the
/// front it would join among the finished points alone. So every finished point in a cached
/// front before `r0 − e` ranks ahead of it (one front earlier when the judged trial's cached
/// point, left out, differs from its value): that count alone often prunes it (an exact quick
/// reject). Conversely only the points in the judged point's front or earlier can rank ahead
/// of it, so the finished points in cached fronts up to its own plus the running points that
/// dominate it, and the running points it does not dominate, bound the count: when that is
/// below `enough` it is returned (an exact quick accept). Otherwise one pass in lexicographic
/// order places each point the judged one does not dominate in its front, starting the search
/// at its cached front (usually one dominance
/// test; the points in fronts before every added point's are only counted), and the crowding
/// distance is computed over the judged point's front.
fn two_objectives(
    points: &[f64],
    fronts: &Fronts,
    own: [f64; 2],
    own_cached: Option<[f64; 2]>,
    others: &[[f64; 2]],
    enough: usize,
) -> Option<usize> {
    let r0 = fronts.front_of(own);
    // Only the running points the judged one does not dominate can rank ahead of it or move
    // a point that does.
    let rivals: Vec<[f64; 2]> = others.iter().copied().filter(|o| !dominates2(own, *o)).collect();
    // The judged trial's own cached point, when it differs from its value, is left out of the
    // rung; leaving a point out moves the others forward by at most one front.
    let left_out = usize::from(own_cached.is_some_and(|c| c != own));
    // Exact quick reject: the judged point's front is at least `r0 − left_out` (leaving its
    // cached point out shortens a chain of its dominators by one at most), and a finished
    // point in a cached front `f` before that less `e` is in front `f + e` at most: a chain of
    // its dominators holds at most `f` finished points and `e` running ones (not the judged
    // point, nor a running point it dominates: a chain of `r0` finished points dominating it
    // would then dominate that finished point too, putting it in front `r0` or later). So
    // those finished points are all ahead of it, but for the judged trial's own cached point
    // when it is among them. That one need not be taken off: it then differs from the judged
    // value (an equal point would be in front `r0`), so `sure < r0`, and the cached front
    // `sure` holds a dominator of the judged point (each front before `r0` holds one), not
    // counted, other than that cached point, and ahead of the judged point like any dominator.
    let sure = r0.saturating_sub(rivals.len() + left_out);
    let certain = fronts.starts[sure];
    if certain >= enough {
        return Some(certain);
    }
    // The judged point's front is at most `r0` plus the running points that dominate it (a
    // chain of its dominators holds at most `r0` finished points and those running ones).
    let limit = r0 + rivals.iter().filter(|o| dominates2(**o, own)).count();
    // Exact quick accept: a point ranked ahead of the judged one is in its front or an earlier
    // one, so at most `limit`; a finished point is in the same front or a later one among all
    // the points as among the finished ones, so in a cached front up to `limit` (or up to
    // `limit + 1` when the judged trial's own cached point, left out of the rung, differs from
    // its value: leaving a point out moves the others forward by at most one front). Those
    // but that cached point, and the running points it does not dominate, are all the points
    // that can be ahead.
    let reach = (limit + 1 + left_out).min(fronts.len());
    let counted_copy = own_cached.is_some_and(|c| fronts.front_of(c) < reach);
    let most = fronts.starts[reach] - usize::from(counted_copy) + rivals.len();
    if most < enough {
        return Some(most);
    }
    // The pass below starts each finished point's search at its cached front, a lower bound
    // of its front only while every finished point is in the rung: with the judged trial's
    // cached point left out, the caller ranks the points from scratch.
    if left_out == 1 {
        return None;
    }
    // The running points and the judged one, in lexicographic order (the judged point first
    // among equal points), each placed before the cached points equal to it, with their fronts
    // among the finished points (lower bounds of their fronts now).
    let mut inserts: Vec<([f64; 2], bool, usize)> =
        rivals.iter().map(|o| (*o, false, fronts.front_of(*o))).collect();
    inserts.push((own, true, r0));
    inserts.sort_by(|a, b| lex_cmp(&a.0, &b.0).then(b.1.cmp(&a.1)));
    let at: Vec<usize> = inserts.iter().map(|(p, ..)| lex_position(points, 2, p)).collect();
    let skip = own_cached.map(|c| lex_position(points, 2, &c));
    // A finished point in a front before any running point's (and the judged one's) is
    // dominated by none of them: its front stays, ahead of the judged point, and no point
    // placed below looks at a front that early.
    let first = inserts.iter().map(|(.., hint)| *hint).min().unwrap_or(r0);
    let mut sweep = Sweep {
        own,
        lasts: vec![[f64::INFINITY; 2]; limit + 1],
        counts: vec![0; limit + 1],
        placed: Vec::new(),
        mine: None,
        r0,
        before: fronts.starts[first],
        ahead: fronts.starts[first],
    };
    let mut next = 0;
    for (i, (p, front)) in points.chunks_exact(2).zip(&fronts.rank).enumerate() {
        while next < inserts.len() && at[next] == i {
            let (q, is_me, hint) = inserts[next];
            sweep.visit(q, hint, is_me);
            next += 1;
        }
        if *front >= first && skip != Some(i) {
            sweep.visit([p[0], p[1]], *front, false);
            if sweep.ahead >= enough {
                return Some(sweep.ahead);
            }
        }
    }
    for (q, is_me, hint) in &inserts[next..] {
        sweep.visit(*q, *hint, *is_me);
    }
    let (front, me) = sweep.mine?;
    if sweep.ahead >= enough {
        return Some(sweep.ahead);
    }
    let mut members: Vec<&[f64]> = Vec::new();
    let mut pos = 0;
    for (i, (p, r)) in sweep.placed.iter().enumerate() {
        if *r == front {
            if i == me {
                pos = members.len();
            }
            members.push(p);
        }
    }
    let crowding = crowding_distance(&members);
    Some(sweep.ahead + crowding.iter().filter(|c| **c > crowding[pos]).count())
}

/// The pass of [`two_objectives`]: each point the judged one does not dominate, in
/// lexicographic order, placed in its front among all the points at the rung.
struct Sweep {
    own: [f64; 2],
    /// Each front's last member so far, up to the deepest front the judged point can be in
    /// (infinite values, which dominate nothing, for a front still empty).
    lasts: Vec<[f64; 2]>,
    /// Points placed in each front.
    counts: Vec<usize>,
    /// The points placed in a front up to the judged one's, with their fronts.
    placed: Vec<([f64; 2], usize)>,
    /// The judged point's front and its index in `placed`, once placed.
    mine: Option<(usize, usize)>,
    /// The judged point's front is at least this.
    r0: usize,
    /// The points left out of the pass, all in earlier fronts than the judged point's.
    before: usize,
    /// Points known to be in a front before the judged one's (before `r0` until it is placed),
    /// those left out of the pass included.
    ahead: usize,
}

impl Sweep {
    /// Places `p`, whose front is at least `hint` (its front among the finished points alone).
    fn visit(&mut self, p: [f64; 2], hint: usize, is_me: bool) {
        if !is_me && dominates2(self.own, p) {
            return;
        }
        // Deeper than the judged point's front: neither ahead of it nor in its front, and
        // dominating only points that are not either.
        let limit = self.mine.map_or(self.lasts.len() - 1, |(front, _)| front);
        // The fronts holding a dominator of `p` are the first ones (a dominator's own
        // dominators are in every earlier front), at least `hint` of them.
        let mut front = hint;
        while front <= limit && dominates2(self.lasts[front], p) {
            front += 1;
        }
        if front > limit {
            return;
        }
        self.lasts[front] = p;
        self.counts[front] += 1;
        if is_me {
            self.mine = Some((front, self.placed.len()));
            self.ahead = self.before + self.counts[..front].iter().sum::<usize>();
        } else if front < self.mine.map_or(self.r0, |(front, _)| front) {
            self.ahead += 1;
        }
        self.placed.push((p, front));
    }
}

/// The points that may rank ahead of the judged one, gathered in lexicographic order.
struct Gather<'p> {
    /// The judged point.
    own: &'p [f64],
    /// The points the judged one does not dominate, itself included.
    rivals: Vec<&'p [f64]>,
    /// The judged point's index in `rivals`.
    me: usize,
    /// The points that dominate the judged one.
    dominators: usize,
}

impl<'p> Gather<'p> {
    fn visit(&mut self, p: &'p [f64], is_me: bool) {
        if is_me {
            self.me = self.rivals.len();
            self.rivals.push(p);
            return;
        }
        let (own_dominates, dominated) = dominance(self.own, p);
        if !own_dominates {
            self.dominators += usize::from(dominated);
            self.rivals.push(p);
        }
    }
}

/// How many of `points` (in lexicographic order) rank strictly ahead of `points[me]`: by front,
/// then by crowding distance within the front; or, as soon as it is known to be at least
/// `enough`, some number at least `enough`. `points[me]` has at most `limit` dominators.
///
/// Fronts are found point by point (Zhang et al. 2015, "efficient non-dominated sort with
/// binary search"): in lexicographic order a point's dominators all come before it, and if a
/// front holds one of them every earlier front does, so its front is the first one holding
/// none, found by binary search. Only fronts up to the judged point's are kept (it cannot be
/// deeper than its number of dominators); the last member of a front is checked first, the
/// likeliest to dominate the next point. With two objectives it is the only one to check: in
/// lexicographic order a front's members never rise on the second objective, so if a member
/// dominates the point, the last (not after the point on the first objective, not above that
/// member on the second) is at or below the point on both: it dominates it, or equals it and
/// would itself be dominated by that member, which a front excludes.
fn ahead_of(points: &[&[f64]], me: usize, limit: usize, enough: usize) -> usize {
    let mut fronts: Vec<Vec<&[f64]>> = Vec::new();
    // Each front's last member, side by side for the binary search.
    let mut lasts: Vec<&[f64]> = Vec::new();
    let two = points.first().is_some_and(|p| p.len() == 2);
    let mut mine: Option<(usize, usize)> = None;
    // Once the judged point is placed: the points in earlier fronts, all ahead of it.
    let mut earlier = 0usize;
    for (i, p) in points.iter().enumerate() {
        let (mut lo, mut hi) = (0, fronts.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let held = if two {
                dominates(lasts[mid], p)
            } else {
                fronts[mid].iter().rev().any(|f| dominates(f, p))
            };
            if held {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo > mine.map_or(limit, |(front, _)| front) {
            continue;
        }
        if lo == fronts.len() {
            fronts.push(Vec::new());
            lasts.push(p);
        }
        if i == me {
            mine = Some((lo, fronts[lo].len()));
            fronts.truncate(lo + 1);
            lasts.truncate(lo + 1);
            earlier = fronts[..lo].iter().map(Vec::len).sum();
        } else if mine.is_some_and(|(front, _)| lo < front) {
            earlier += 1;
        }
        if earlier >= enough {
            return earlier;
        }
        fronts[lo].push(p);
        lasts[lo] = p;
    }
    let Some((front, pos)) = mine else { return 0 };
    let crowding = crowding_distance(&fronts[front]);
    earlier + crowding.iter().filter(|c| **c > crowding[pos]).count()
}

impl Cache {
    /// Brings the cache up to date with `trials` (resetting it if it holds anything they do
    /// not) and returns the unfinished trials other than the judged one.
    fn sync<'a, I>(
        &mut self,
        directions: &[Direction],
        trials: I,
        trial: &FrozenTrial,
    ) -> Vec<&'a FrozenTrial>
    where
        I: Iterator<Item = &'a Arc<FrozenTrial>> + Clone,
    {
        if self.directions != directions {
            *self = Cache { directions: directions.to_vec(), ..Cache::default() };
        }
        loop {
            let mut running = Vec::new();
            let mut matched = 0usize;
            let mut stale = false;
            for (i, t) in trials.clone().enumerate() {
                let known = self.seen.get(i).and_then(|c| c.as_ref());
                if let Some(c) = known {
                    if Arc::ptr_eq(c, t) {
                        matched += 1;
                        continue;
                    }
                    if **c == **t {
                        // The same trial, reloaded: keep the new `Arc`.
                        self.seen[i] = Some(Arc::clone(t));
                        matched += 1;
                        continue;
                    }
                    stale = true;
                    break;
                }
                if t.state.is_finished() {
                    self.add(directions, i, t);
                    matched += 1;
                } else if t.number != trial.number && t.state != TrialState::Waiting {
                    running.push(&**t);
                }
            }
            if !stale && matched == self.n_seen {
                return running;
            }
            *self = Cache { directions: directions.to_vec(), ..Cache::default() };
        }
    }

    fn add(&mut self, directions: &[Direction], i: usize, t: &Arc<FrozenTrial>) {
        if self.seen.len() <= i {
            self.seen.resize(i + 1, None);
        }
        self.seen[i] = Some(Arc::clone(t));
        self.n_seen += 1;
        for rung in &mut self.rungs {
            if let Some(v) = value_at(t, rung.step) {
                rung.insert(directions, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::multi_objective::fronts;

    #[test]
    fn two_objectives_answers_from_the_cached_fronts_when_they_leave_the_judged_point_in() {
        // The first front {(0, 5), (1, 4), (4, 1), (5, 0)}, tails behind its ends; the judged
        // (2, 2) joins it, as the third of five: only the ends are ahead of it, but the quick
        // accept answers with its bound, the 4 finished points of the front, below 5 slots.
        let mut pts: Vec<Vec<f64>> = [
            [0.0, 5.0],
            [1.0, 4.0],
            [4.0, 1.0],
            [5.0, 0.0],
            [0.5, 6.0],
            [0.6, 7.0],
            [0.7, 8.0],
            [6.0, 0.5],
            [7.0, 0.6],
        ]
        .iter()
        .map(|p| p.to_vec())
        .collect();
        pts.sort_by(|a, b| lex_cmp(a, b));
        let flat: Vec<f64> = pts.iter().flatten().copied().collect();
        let fronts = Fronts::build(&flat, None);
        assert_eq!(two_objectives(&flat, &fronts, [2.0, 2.0], None, &[], 5), Some(4));
        // Its own finished copy, the same point, changes nothing.
        let mut with_copy = pts.clone();
        with_copy.push(vec![2.0, 2.0]);
        with_copy.sort_by(|a, b| lex_cmp(a, b));
        let flat_copy: Vec<f64> = with_copy.iter().flatten().copied().collect();
        let fronts_copy = Fronts::build(&flat_copy, None);
        let own = Some([2.0, 2.0]);
        assert_eq!(two_objectives(&flat_copy, &fronts_copy, [2.0, 2.0], own, &[], 5), Some(4));
        // A running (3, 1.5) in the front too: the bound, 5, no longer decides and the full
        // ranking counts the ends and (1, 4), whose crowding distance beats the judged one's.
        assert_eq!(two_objectives(&flat, &fronts, [2.0, 2.0], None, &[[3.0, 1.5]], 5), Some(3));
        // Running points dominating the judged one push it back two fronts, behind 8 points.
        let chain = [[1.8, 1.8], [1.9, 1.9]];
        assert!(two_objectives(&flat, &fronts, [2.0, 2.0], None, &chain, 6) >= Some(6));
    }

    #[test]
    fn cached_fronts_agree_with_the_fast_non_dominated_sort() {
        // Random two-objective points on coarse and fine grids (equal points, ties on one
        // objective): each point's front, the fronts' sizes, and the front a new point would
        // join, against Deb's sort of all the points.
        let mut state = 0x1234_5678_9abc_def1u64;
        let mut next = move |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        for _ in 0..200 {
            let grid = [2, 4, 10, 1000][next(4) as usize];
            let n = 1 + next(80) as usize;
            let mut pts: Vec<Vec<f64>> =
                (0..n).map(|_| vec![next(grid) as f64, next(grid) as f64]).collect();
            pts.sort_by(|a, b| lex_cmp(a, b));
            let flat: Vec<f64> = pts.iter().flatten().copied().collect();
            let built = Fronts::build(&flat, None);
            let expected = fronts(&pts);
            assert_eq!(built.len(), expected.len());
            for (f, members) in expected.iter().enumerate() {
                assert_eq!(built.starts[f + 1] - built.starts[f], members.len());
                for i in members {
                    assert_eq!(built.rank[*i], f, "{pts:?}");
                }
            }
            // The same fronts from those of some of the points, the others added since.
            let mut some: Vec<f64> = Vec::new();
            let mut grown: Option<Fronts> = None;
            for (i, q) in pts.iter().enumerate() {
                let at = lex_position(&some, 2, q);
                if let Some(fronts) = &mut grown {
                    fronts.add([q[0], q[1]], at);
                }
                some.splice(at * 2..at * 2, q.iter().copied());
                if grown.is_none() && i * 3 >= n {
                    grown = Some(Fronts::build(&some, None));
                }
                if let Some(fronts) = grown.as_mut().filter(|_| next(4) == 0) {
                    *fronts = Fronts::build(&some, Some(&fronts.rank));
                }
            }
            // Inserted in place since the last build (unless too many were): already exact.
            if let Some(grown) = grown.as_ref().filter(|f| !f.stale) {
                assert_eq!(grown.rank, built.rank, "{pts:?}");
                assert_eq!(grown.starts, built.starts);
                assert_eq!(grown.stairs, built.stairs);
                assert_eq!(grown.order, built.order);
            }
            let hints = grown.map(|f| f.rank);
            let rebuilt = Fronts::build(&flat, hints.as_deref());
            assert_eq!(rebuilt.rank, built.rank, "{pts:?}");
            assert_eq!(rebuilt.starts, built.starts);
            assert_eq!(rebuilt.stairs, built.stairs);
            let p = [next(grid) as f64, next(grid) as f64];
            let mut with_p = pts.clone();
            with_p.push(p.to_vec());
            let front_of_p = fronts(&with_p).iter().position(|f| f.contains(&n)).unwrap();
            assert_eq!(built.front_of(p), front_of_p, "{p:?} among {pts:?}");
        }
    }

    /// The rung's cached fronts against Deb's sort of its points and a rebuild from scratch.
    fn assert_exact(rung: &RungValues) {
        let Some(cached) = &rung.fronts else { return };
        let pts: Vec<Vec<f64>> = rung.points.chunks_exact(2).map(<[f64]>::to_vec).collect();
        let expected = fronts(&pts);
        assert_eq!(cached.len(), expected.len(), "{pts:?}");
        for (f, members) in expected.iter().enumerate() {
            assert_eq!(cached.starts[f + 1] - cached.starts[f], members.len(), "{pts:?}");
            for i in members {
                assert_eq!(cached.rank[*i], f, "point {i} of {pts:?}");
            }
        }
        let built = Fronts::build(&rung.points, None);
        assert_eq!(cached.stairs, built.stairs, "{pts:?}");
        assert_eq!(cached.order, built.order);
        assert_eq!(cached.starts, built.starts);
    }

    /// A value on a grid of `size` steps, or now and then an infinity, −0 or NaN.
    fn grid_value(size: u32) -> impl Strategy<Value = f64> {
        prop_oneof![
            12 => (0..size).prop_map(|v| f64::from(v) / 4.0),
            1 => prop::sample::select(vec![f64::INFINITY, f64::NEG_INFINITY, -0.0, f64::NAN]),
        ]
    }

    /// Points on a coarse or fine grid (many ties and equal points), each with whether a call
    /// uses the fronts right after it is added.
    fn insertions() -> impl Strategy<Value = (bool, Vec<([f64; 2], bool)>)> {
        let points = prop::sample::select(vec![2u32, 3, 5, 12, 1000]).prop_flat_map(|size| {
            let point = [grid_value(size), grid_value(size)];
            prop::collection::vec((point, prop::bool::weighted(0.8)), 1..60)
        });
        (any::<bool>(), points)
    }

    proptest! {
        #[test]
        fn fronts_inserted_in_place_agree_with_a_non_dominated_sort_after_every_insertion(
            (maximize, insertions) in insertions()
        ) {
            let second = if maximize { Direction::Maximize } else { Direction::Minimize };
            let dirs = [Direction::Minimize, second];
            let mut rung = RungValues::new(1, 2);
            // Points added since the fronts were last used.
            let mut unused = 0;
            for (p, used) in &insertions {
                rung.insert(&dirs, p);
                if let Some(cached) = rung.fronts.as_ref().filter(|_| !p[0].is_nan() && !p[1].is_nan()) {
                    // Exact at once, unless more points were added since the last use than
                    // are inserted in place.
                    unused += 1;
                    prop_assert_eq!(cached.stale, unused > IN_PLACE_INSERTS);
                    if !cached.stale {
                        assert_exact(&rung);
                    }
                }
                if *used {
                    rung.refresh_fronts();
                    unused = 0;
                    prop_assert!(rung.fronts.as_ref().is_some_and(|f| !f.stale));
                    assert_exact(&rung);
                }
            }
            prop_assert_eq!(rung.n_points + rung.n_nan, insertions.len());
        }
    }
}
