//! Rule coverage: for each rule of each payer under test, how many tests saw
//! it fire and how many saw it look and pass.
//!
//! A rule is *covered* when at least one test saw it fire and at least one
//! saw it pass: a rule never seen passing might fire on every claim, and one
//! never seen firing might never fire. The verdicts come from the evaluation's
//! explanation (`ppl eval --explain`): `fired` (a deny, warn or info finding),
//! `passed` (it looked and found nothing wrong). `undetermined` and
//! `not applicable` count as neither. A rule id counts once per payer however
//! many dated versions it has, and a rule a payer takes from a library or the
//! policy it extends counts in that payer.
//!
//! A payer is under test when at least one test's claim was evaluated against
//! it; the other payers of the policies are listed, not counted.

use std::collections::BTreeMap;

use crate::compile::CompiledPolicies;
use crate::report::{ClaimReport, FindingSeverity, Verdict};

#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// The payers under test, by id.
    pub payers: Vec<PayerCoverage>,
    /// Payers of the policies that no test evaluated a claim against.
    pub untested_payers: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct PayerCoverage {
    pub payer: String,
    /// Tests whose claim was evaluated against this payer.
    pub tests: usize,
    /// Every rule id of the payer, sorted.
    pub rules: Vec<RuleCoverage>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCoverage {
    pub rule: String,
    /// Tests in which the rule fired.
    pub fired: usize,
    /// Tests in which the rule looked and passed.
    pub passed: usize,
}

impl RuleCoverage {
    pub fn covered(&self) -> bool {
        self.fired > 0 && self.passed > 0
    }
}

/// Covered rules out of all rules, with the percentage floored to a tenth so
/// that the printed figure never claims more than was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ratio {
    pub covered: usize,
    pub rules: usize,
}

impl Ratio {
    /// Percent in tenths (`825` is 82.5%), floored; 100% for no rules.
    pub fn tenths(self) -> usize {
        (self.covered * 1000)
            .checked_div(self.rules)
            .unwrap_or(1000)
    }

    pub fn percent_text(self) -> String {
        let tenths = self.tenths();
        format!("{}.{}%", tenths / 10, tenths % 10)
    }

    /// Whether the exact ratio reaches `min` percent.
    pub fn reaches(self, min: f64) -> bool {
        // Exact for any count below 2^53: covered / rules >= min / 100.
        self.covered as f64 * 100.0 >= min * self.rules as f64
    }
}

impl PayerCoverage {
    pub fn ratio(&self) -> Ratio {
        Ratio {
            covered: self.rules.iter().filter(|r| r.covered()).count(),
            rules: self.rules.len(),
        }
    }
}

impl Coverage {
    /// Over every payer under test.
    pub fn overall(&self) -> Ratio {
        self.payers.iter().fold(
            Ratio {
                covered: 0,
                rules: 0,
            },
            |sum, payer| {
                let ratio = payer.ratio();
                Ratio {
                    covered: sum.covered + ratio.covered,
                    rules: sum.rules + ratio.rules,
                }
            },
        )
    }

    /// The payers under test whose coverage is below `min` percent. Every
    /// payer must reach the minimum (so the overall figure does too).
    pub fn below(&self, min: f64) -> Vec<&PayerCoverage> {
        self.payers
            .iter()
            .filter(|payer| !payer.ratio().reaches(min))
            .collect()
    }
}

/// Verdicts gathered test by test.
#[derive(Default)]
pub(super) struct Collector {
    seen: BTreeMap<String, Seen>,
}

/// One payer's tests so far, and per rule id (tests it fired in, tests it passed in).
#[derive(Default)]
struct Seen {
    tests: usize,
    rules: BTreeMap<String, (usize, usize)>,
}

impl Collector {
    /// Counts one test's report (evaluated with its explanation).
    pub(super) fn record(&mut self, report: &ClaimReport) {
        let Seen { tests, rules } = self.seen.entry(report.payer.to_owned()).or_default();
        *tests += 1;
        let mut fired: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.severity != FindingSeverity::Undetermined)
            .map(|f| &*f.rule.id)
            .collect();
        let mut passed: Vec<&str> = Vec::new();
        for explanation in report.explanation.iter().flatten() {
            match explanation.verdict {
                Verdict::Fired => fired.push(&explanation.rule),
                Verdict::Passed => passed.push(&explanation.rule),
                Verdict::Undetermined | Verdict::NotApplicable => {}
            }
        }
        // Once per test, however many lines the rule judged.
        fired.sort_unstable();
        fired.dedup();
        passed.sort_unstable();
        passed.dedup();
        for rule in fired {
            rules.entry(rule.to_owned()).or_default().0 += 1;
        }
        for rule in passed {
            rules.entry(rule.to_owned()).or_default().1 += 1;
        }
    }

    pub(super) fn finish(self, policies: &CompiledPolicies) -> Coverage {
        let mut coverage = Coverage::default();
        for (payer, policy) in &policies.payers {
            let Some(Seen { tests, rules: seen }) = self.seen.get(payer) else {
                coverage.untested_payers.push(payer.clone());
                continue;
            };
            let mut ids: Vec<&str> = policy.rules.iter().map(|r| &*r.id).collect();
            ids.sort_unstable();
            ids.dedup();
            let rules = ids
                .into_iter()
                .map(|rule| {
                    let (fired, passed) = seen.get(rule).copied().unwrap_or_default();
                    RuleCoverage {
                        rule: rule.to_owned(),
                        fired,
                        passed,
                    }
                })
                .collect();
            coverage.payers.push(PayerCoverage {
                payer: payer.clone(),
                tests: *tests,
                rules,
            });
        }
        coverage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_percent_never_rounds_up() {
        let ratio = Ratio {
            covered: 2,
            rules: 3,
        };
        assert_eq!(ratio.percent_text(), "66.6%");
        assert!(ratio.reaches(66.6));
        assert!(!ratio.reaches(66.7));
        let all = Ratio {
            covered: 7,
            rules: 7,
        };
        assert_eq!(all.percent_text(), "100.0%");
        assert!(all.reaches(100.0));
    }
}
