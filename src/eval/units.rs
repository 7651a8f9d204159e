//! Units that documented minutes support, by the three methods payers use.
//!
//! Pure arithmetic on minutes: the evaluator gathers each visit's timed lines
//! and asks here how many units each may bill.

use smallvec::SmallVec;

/// Minutes in one unit of a 15-minute timed code.
pub const UNIT_MINUTES: u32 = 15;

/// Units the day's total timed minutes support under the CMS 8-minute rule
/// (Pub 100-04 Ch. 5 §20.2): 8–22 minutes is 1 unit, 23–37 is 2, and so on;
/// under 8 minutes, none.
pub fn total_time_units(total_minutes: u32) -> u32 {
    (total_minutes.saturating_add(7)) / UNIT_MINUTES
}

/// Units one code's minutes support under the AMA/CPT midpoint rule: a unit is
/// attained once its midpoint (7.5 minutes) is passed, each code on its own.
pub fn midpoint_units(minutes: u32) -> u32 {
    (minutes.saturating_add(7)) / UNIT_MINUTES
}

/// Units one code's minutes support in plain 15-minute blocks: whole blocks only.
pub fn block_units(minutes: u32) -> u32 {
    minutes / UNIT_MINUTES
}

/// Adds counts from a claim without overflowing: a claim may say anything.
pub fn saturating_sum(values: impl IntoIterator<Item = u32>) -> u32 {
    values.into_iter().fold(0u32, u32::saturating_add)
}

/// The CMS §20.2 allocation of a visit's timed units across its codes.
///
/// `minutes` are each timed line's documented minutes; `total_minutes` is the
/// day's total timed minutes (the sum of `minutes` unless the note documents
/// more, such as a timed service performed but not billed: §20.2 Example 4).
/// Each code first gets its full 15-minute units; the units the total supports
/// beyond those go one at a time to the codes with the most minutes left over.
/// Where leftovers tie, either code may take the unit (§20.2 Example 2): then
/// `billed` (the units on the claim, if given) decides, so a biller's
/// permitted choice is never called wrong; otherwise the earlier line takes it.
pub fn cms_allocation(minutes: &[u32], total_minutes: u32, billed: Option<&[u32]>) -> Vec<u32> {
    let mut buffers = Buffers::default();
    buffers.allocate(minutes, total_minutes, billed);
    buffers.units.into_vec()
}

/// Room for this many timed lines a visit before the unit rule's buffers
/// allocate: more than most visits bill.
const INLINE_LINES: usize = 8;

/// What the unit rule works in: an evaluator keeps them from claim to claim.
#[derive(Default)]
pub(crate) struct Buffers {
    /// Each line's documented minutes (0 when missing).
    pub minutes: SmallVec<[u32; INLINE_LINES]>,
    /// Each line's billed units.
    pub billed: SmallVec<[u32; INLINE_LINES]>,
    /// Each line's units, as [`cms_allocation`] gives them.
    pub units: SmallVec<[u32; INLINE_LINES]>,
    /// (line position, minutes left over, billed above its full units).
    candidates: SmallVec<[(usize, u32, bool); INLINE_LINES]>,
}

impl Buffers {
    /// [`cms_allocation`] into `self.units`.
    pub fn allocate(&mut self, minutes: &[u32], total_minutes: u32, billed: Option<&[u32]>) {
        // Full units first: `units` starts as each line's full units.
        let units = &mut self.units;
        units.clear();
        units.extend(minutes.iter().map(|m| m / UNIT_MINUTES));
        let full_sum = saturating_sum(units.iter().copied());
        let mut remaining = total_time_units(total_minutes).saturating_sub(full_sum);
        // Lines with minutes left over, most first; among equals, the biller's
        // choice (a line billed one unit above its full units) first, then line order.
        let candidates = &mut self.candidates;
        candidates.clear();
        candidates.extend(
            minutes
                .iter()
                .enumerate()
                .map(|(index, m)| {
                    let full = m / UNIT_MINUTES;
                    let leftover = m - full * UNIT_MINUTES;
                    let chosen = billed.and_then(|b| b.get(index)).is_some_and(|&b| b > full);
                    (index, leftover, chosen)
                })
                .filter(|(_, leftover, _)| *leftover > 0),
        );
        candidates.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        for &(index, _, _) in candidates.iter() {
            if remaining == 0 {
                break;
            }
            if let Some(slot) = units.get_mut(index) {
                *slot += 1;
                remaining -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cms(minutes: &[u32]) -> Vec<u32> {
        cms_allocation(minutes, minutes.iter().sum(), None)
    }

    #[test]
    fn total_time_table_a() {
        // (total minutes, units): every boundary of the CMS/First Coast unit chart.
        let table = [
            (0, 0),
            (7, 0),
            (8, 1),
            (22, 1),
            (23, 2),
            (37, 2),
            (38, 3),
            (52, 3),
            (53, 4),
            (67, 4),
            (68, 5),
            (82, 5),
            (83, 6),
            (97, 6),
            (98, 7),
            (112, 7),
            (113, 8),
            (127, 8),
            (128, 9),
        ];
        for (minutes, units) in table {
            assert_eq!(total_time_units(minutes), units, "{minutes} minutes");
        }
    }

    #[test]
    fn cms_worked_examples() {
        // Example 1: 97112 24 min, 97110 23 min → 2 + 1.
        assert_eq!(cms(&[24, 23]), [2, 1]);
        // Example 2: 20 + 20 → 3 units, one code 2 and the other 1, never 3 on one.
        assert_eq!(cms(&[20, 20]), [2, 1]);
        assert_eq!(cms_allocation(&[20, 20], 40, Some(&[1, 2])), [1, 2]);
        assert_eq!(cms_allocation(&[20, 20], 40, Some(&[3, 0])), [2, 1]);
        // Example 3: 97110 33 min, 97140 7 min → 2 + 1 (7 left over beats 3).
        assert_eq!(cms(&[33, 7]), [2, 1]);
        // Example 4: 18 + 13 + 10 + 8 (ultrasound) = 49 → 3 units: 1, 1, 1, 0.
        assert_eq!(cms(&[18, 13, 10, 8]), [1, 1, 1, 0]);
        // Example 5: 7 + 7 + 7 = 21 → 1 unit, to any one of the three.
        assert_eq!(cms(&[7, 7, 7]), [1, 0, 0]);
        assert_eq!(cms_allocation(&[7, 7, 7], 21, Some(&[0, 0, 1])), [0, 0, 1]);
    }

    #[test]
    fn documented_total_counts_unbilled_timed_minutes() {
        // Example 4 when the ultrasound line is not billed: the note's 49 total still applies.
        assert_eq!(cms_allocation(&[18, 13, 10], 49, None), [1, 1, 1]);
        // Without it, the three billed codes' 41 minutes also support 3.
        assert_eq!(cms_allocation(&[18, 13, 10], 41, None), [1, 1, 1]);
    }

    #[test]
    fn seed_guide_case_studies() {
        // 30 minutes → 2 units, 45 → 3, 15 → 1, under every method.
        for (minutes, units) in [(30, 2), (45, 3), (15, 1)] {
            assert_eq!(cms(&[minutes]), [units]);
            assert_eq!(midpoint_units(minutes), units);
            assert_eq!(block_units(minutes), units);
        }
    }

    #[test]
    fn eight_minute_edges() {
        assert_eq!(cms(&[8]), [1]);
        assert_eq!(cms(&[7]), [0]);
        // Two services of 7 minutes: CMS bills one unit (the total is 14); AMA bills none.
        assert_eq!(cms(&[7, 7]), [1, 0]);
        assert_eq!(midpoint_units(7) + midpoint_units(7), 0);
    }

    #[test]
    fn cms_and_ama_differ_as_the_reference_tabulates() {
        // 10 + 10 + 10: CMS 2 units, AMA 3.
        assert_eq!(cms(&[10, 10, 10]).iter().sum::<u32>(), 2);
        assert_eq!([10, 10, 10].map(midpoint_units).iter().sum::<u32>(), 3);
        // 20 + 18: CMS 3 units (2 + 1), AMA 2 (1 + 1).
        assert_eq!(cms(&[20, 18]), [2, 1]);
        assert_eq!([20, 18].map(midpoint_units), [1, 1]);
        // Blocks: 22 minutes is one whole block.
        assert_eq!(block_units(22), 1);
        assert_eq!(block_units(29), 1);
    }

    /// Every split of up to 60 minutes over three codes: the allocation bills
    /// exactly what the total supports (never more), gives each code its full
    /// units first, and at most one extra unit per code.
    #[test]
    fn cms_allocation_invariants_hold_for_every_small_visit() {
        for a in 0..=60u32 {
            for b in 0..=60u32 {
                for c in [0u32, 7, 8, 14, 15, 22, 23, 37, 38] {
                    let minutes = [a, b, c];
                    let total = a + b + c;
                    let units = cms(&minutes);
                    let sum: u32 = units.iter().sum();
                    assert_eq!(sum, total_time_units(total), "{minutes:?} → {units:?}");
                    for (m, u) in minutes.iter().zip(&units) {
                        assert!(*u >= m / 15 && *u <= m / 15 + 1, "{minutes:?} → {units:?}");
                        assert!(*m >= 15 || *u <= 1, "{minutes:?} → {units:?}");
                        assert!(*m > 0 || *u == 0, "{minutes:?} → {units:?}");
                    }
                }
            }
        }
    }
}
