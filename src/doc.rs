//! `ppl doc PAYER`: a payer's policy as a Markdown page for billers.
//!
//! Built from the checked and compiled policy, not from the source text: each
//! rule's family settings become sentences a biller can follow, its code sets
//! become the codes they stand for (per span of dates), and what a payer
//! inherits through `extends` is marked, as are its overrides and removals.
//! The rule's `help` (written for billers) follows the generated sentences.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::check::{Checked, DefRef};
use crate::codes::ProcedureCode;
use crate::codeset::{DiagnosisSet, SetValue};
use crate::compile::{
    AuthRequired, CompiledPolicies, CompiledPolicy, CompiledRule, DateRange, DocumentationCheck,
    RuleCheck, UnitsCheck, VersionedSet,
};
use crate::syntax::{
    Category, Expr, ExprKind, Fix, Item, ItemKind, Literal, RuleDef, Scope, SetExpr, SetTerm,
    SettingKind, Severity, UnitMethod,
};
use crate::Date;

/// `ppl doc` was asked for a payer the policies do not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no payer policy has the id `{payer}`{suggestion}")]
pub struct UnknownPayer {
    pub payer: String,
    pub suggestion: String,
}

/// One version of one rule: as written (for set names and conditions) and compiled.
struct Version<'a> {
    def: DefRef,
    written: &'a RuleDef,
    compiled: &'a CompiledRule,
}

/// Renders payer `payer`'s policy as Markdown; with `as_of`, only the rules,
/// constants and code set versions in force on that date.
pub fn render(
    checked: &Checked,
    compiled: &CompiledPolicies,
    payer: &str,
    as_of: Option<Date>,
) -> Result<String, UnknownPayer> {
    let (Some(policy), Some(&file_index)) = (
        compiled.payers.get(payer),
        checked.workspace.by_policy_id.get(payer),
    ) else {
        let suggestion =
            crate::diagnostics::did_you_mean(payer, compiled.payers.keys().map(String::as_str))
                .map(|hint| format!("; {hint}"))
                .unwrap_or_default();
        return Err(UnknownPayer {
            payer: payer.to_owned(),
            suggestion,
        });
    };
    let page = Page {
        checked,
        policy,
        payer,
        file_index,
        as_of,
        named_sets: BTreeSet::new(),
    };
    Ok(page.render())
}

struct Page<'a> {
    checked: &'a Checked,
    policy: &'a CompiledPolicy,
    payer: &'a str,
    file_index: usize,
    as_of: Option<Date>,
    /// Code sets named in conditions, listed at the end.
    named_sets: BTreeSet<String>,
}

/// The report categories in the order the page shows them, with their titles.
const CATEGORIES: [(Category, &str); 10] = [
    (Category::Units, "Units"),
    (Category::Modifier, "Modifiers"),
    (Category::Pairing, "Code pairs"),
    (Category::PriorAuth, "Prior authorization"),
    (Category::Telehealth, "Telehealth"),
    (Category::Documentation, "Documentation"),
    (Category::Provider, "Provider"),
    (Category::MedicalNecessity, "Medical necessity"),
    (Category::Coverage, "Coverage"),
    (Category::Other, "Other requirements"),
];

impl<'a> Page<'a> {
    fn render(mut self) -> String {
        let rules = self.rules();
        let mut out = String::new();
        let title = if self.policy.name.is_empty() {
            self.payer.to_owned()
        } else {
            self.policy.name.clone()
        };
        let _ = writeln!(out, "# {title}\n");
        let file = self.file_path(self.file_index);
        let _ = writeln!(
            out,
            "The claim rules of payer policy `{}` (`{file}`), as `ppl eval` applies them.",
            self.payer
        );
        match self.as_of {
            Some(date) => {
                let _ = writeln!(
                    out,
                    "This page shows what is in force on **{date}**: requirements, amounts and code \
                     lists of other dates are left out."
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "This page shows every version, each with the dates it is in force; \
                     `ppl doc {} --as-of DATE` shows one date.",
                    self.payer
                );
            }
        }
        out.push('\n');
        let parent = self.parent();
        if let Some(parent) = &parent {
            let _ = writeln!(
                out,
                "This policy **extends `{parent}`**: it keeps that policy's requirements except \
                 those it removes or overrides. Requirements it keeps unchanged are marked \
                 *Inherited from `{parent}`*; those it replaces are marked *Overrides*.\n"
            );
        }
        let plans = self.plans();
        if !plans.is_empty() {
            let _ = writeln!(out, "Plans: {}.\n", plans.join("; "));
        }
        out.push_str(
            "Each requirement says what the payer checks and what to expect when a claim does \
             not meet it:\n\n\
             - **Denied**: the payer will deny or reject the line (or the claim); the denial \
             code (CARC) to expect is given where the policy knows it.\n\
             - **Warning**: the claim may be paid, but check it before sending.\n\
             - **Information**: for your notes; nothing is denied.\n\n\
             When a claim lacks a fact a requirement needs, `ppl eval` reports the requirement \
             as *undetermined* and names the missing fact, rather than passing it.\n\n\
             The heading of each requirement is its rule id, as `ppl eval` reports it.\n\n",
        );
        // Categories, in page order, with the rules grouped under them.
        let mut by_category: BTreeMap<usize, Vec<&Vec<Version<'a>>>> = BTreeMap::new();
        for versions in rules.values() {
            let Some(first) = versions.first() else {
                continue;
            };
            let position = CATEGORIES
                .iter()
                .position(|(category, _)| *category == first.compiled.category)
                .unwrap_or(CATEGORIES.len());
            by_category.entry(position).or_default().push(versions);
        }
        if by_category.is_empty() {
            out.push_str("No requirement is in force on this date.\n\n");
        } else {
            out.push_str("## Contents\n\n");
            for (position, versions) in &by_category {
                let title = category_title(*position);
                let _ = writeln!(
                    out,
                    "- [{title}](#{}) ({})",
                    anchor(title),
                    count(versions.len(), "requirement")
                );
            }
            let removed = self.removed();
            if !removed.is_empty() {
                out.push_str("- [Removed requirements](#removed-requirements)\n");
            }
            out.push_str("- [Amounts](#amounts)\n");
            out.push('\n');
        }
        for (position, groups) in &by_category {
            let _ = writeln!(out, "## {}\n", category_title(*position));
            for versions in groups {
                self.rule_section(&mut out, versions);
            }
        }
        let removed = self.removed();
        if !removed.is_empty() {
            let _ = writeln!(
                out,
                "## Removed requirements\n\nThese requirements of `{}` do not apply to this payer:\n",
                parent_or(&parent)
            );
            for id in removed {
                let _ = writeln!(out, "- `{id}`");
            }
            out.push('\n');
        }
        self.amounts(&mut out);
        self.code_sets(&mut out);
        out
    }

    /// The payer's rule versions by id, with only those in force on `as_of`.
    fn rules(&self) -> BTreeMap<String, Vec<Version<'a>>> {
        let mut rules: BTreeMap<String, Vec<Version<'a>>> = BTreeMap::new();
        let Some(namespace) = self.checked.namespaces.get(&self.file_index) else {
            return rules;
        };
        for (id, defs) in &namespace.rules {
            for def in defs {
                let Some(Item {
                    kind: ItemKind::Rule(written),
                    ..
                }) = self.checked.item(*def)
                else {
                    continue;
                };
                let range = DateRange {
                    from: written.effective.from.as_ref().map(|d| d.value),
                    through: written.effective.through.as_ref().map(|d| d.value),
                };
                let Some(compiled) = self
                    .policy
                    .rules
                    .iter()
                    .find(|rule| *rule.id == **id && rule.effective == range)
                else {
                    continue;
                };
                if self.as_of.is_some_and(|date| !range.contains(date)) {
                    continue;
                }
                rules.entry(id.clone()).or_default().push(Version {
                    def: *def,
                    written,
                    compiled,
                });
            }
        }
        for versions in rules.values_mut() {
            versions.sort_by_key(|v| v.compiled.effective.from);
        }
        rules
    }

    fn rule_section(&mut self, out: &mut String, versions: &[Version<'a>]) {
        let Some(first) = versions.first() else {
            return;
        };
        let _ = writeln!(out, "### `{}`\n", first.compiled.id);
        if let Some(origin) = self.origin(first) {
            let _ = writeln!(out, "*{origin}*\n");
        }
        let several = versions.len() > 1;
        for version in versions {
            if several {
                let _ = writeln!(
                    out,
                    "#### {}\n",
                    capitalize(&dates(version.compiled.effective))
                );
            }
            self.version_body(out, version, several);
        }
    }

    fn version_body(&mut self, out: &mut String, version: &Version<'a>, several: bool) {
        let rule = version.compiled;
        for paragraph in self.describe(version) {
            let _ = writeln!(out, "{paragraph}\n");
        }
        if let Some(help) = &rule.texts.help {
            let _ = writeln!(out, "What to do: {help}\n");
        }
        if !several {
            let _ = writeln!(out, "- **In force:** {}", dates(rule.effective));
        }
        if let (Some(codes), false) = (
            &rule.codes,
            rule.family == crate::syntax::Family::Telehealth,
        ) {
            let _ = writeln!(
                out,
                "- **Codes:** {}",
                self.set_line(version, SetSetting::Codes, codes)
            );
        }
        if let (Some(places), false) = (
            &rule.places,
            rule.family == crate::syntax::Family::Telehealth,
        ) {
            let _ = writeln!(
                out,
                "- **Places of service:** {}",
                self.set_line(version, SetSetting::Places, places)
            );
        }
        if let Some(plans) = &rule.plans {
            let _ = writeln!(out, "- **Plans:** {}", plans.join(", "));
        }
        if let RuleCheck::General { scope, .. } = &rule.check {
            let _ = writeln!(
                out,
                "- **As the policy writes it:** {}",
                self.written_condition(version, *scope)
            );
        }
        let _ = writeln!(out, "- **If not met:** {}", outcome(rule));
        if let Some(fix) = &rule.fix {
            let _ = writeln!(out, "- **Automatic fix:** {}", fix_words(fix));
        }
        if let Some(cite) = &rule.texts.citation {
            let _ = writeln!(out, "- **Source:** {cite}");
        }
        let _ = writeln!(
            out,
            "- **Policy:** `{}` line {}",
            self.file_path(version.def.file),
            rule.location.line
        );
        out.push('\n');
    }

    /// The rule's settings in plain sentences.
    fn describe(&mut self, version: &Version<'a>) -> Vec<String> {
        let rule = version.compiled;
        match &rule.check {
            RuleCheck::Units(UnitsCheck::Method(UnitMethod::TotalTime)) => vec![
                "Units of timed (15-minute) codes are counted by the 8-minute rule: the total timed \
                 minutes of all the codes billed on one date of service set the number of units \
                 (8 to 22 minutes is 1 unit, 23 to 37 is 2, 38 to 52 is 3, and so on; under 8 \
                 minutes, none). Each code first gets one unit for each full 15 minutes; the \
                 remaining units go to the codes with the most minutes left over. Each line's \
                 units are compared with the units its documented minutes support."
                    .to_owned(),
            ],
            RuleCheck::Units(UnitsCheck::Method(UnitMethod::Midpoint)) => vec![
                "Units of timed (15-minute) codes are counted code by code (the midpoint rule): \
                 a code's minutes support 1 unit from 8 minutes, 2 from 23, 3 from 38, and so on; \
                 minutes of different codes are not added together. Each line's units are \
                 compared with the units its documented minutes support."
                    .to_owned(),
            ],
            RuleCheck::Units(UnitsCheck::Method(UnitMethod::Blocks)) => vec![
                "Units of timed codes are whole 15-minute blocks: each full 15 minutes of a code \
                 is 1 unit, and minutes left over do not make a unit (14 minutes is none). Each \
                 line's units are compared with the units its documented minutes support."
                    .to_owned(),
            ],
            RuleCheck::Units(UnitsCheck::DailyCapTable(_)) => {
                let table = setting_text(version.written, |kind| match kind {
                    SettingKind::DailyCapTable(name) => Some(name.value.clone()),
                    _ => None,
                })
                .unwrap_or_default();
                vec![format!(
                    "The units of one code on one date of service may not exceed the code's \
                     daily limit in table `{table}` (Medically Unlikely Edits, MUE). Where the \
                     limit is a line edit (MAI 1) each line is checked on its own; otherwise the \
                     units of every line of the code on that date are added up. Codes the table \
                     does not list have no limit here."
                )]
            }
            RuleCheck::Units(UnitsCheck::DailyCap(cap)) => vec![format!(
                "No more than {} of one code on one date of service (the units of every line of \
                 the code on that date added up).",
                count(usize::try_from(*cap).unwrap_or(usize::MAX), "unit")
            )],
            RuleCheck::Units(UnitsCheck::VisitCap(cap)) => vec![format!(
                "No more than {} in total per visit: the units of all the lines billed for one \
                 date of service are added up.",
                count(usize::try_from(*cap).unwrap_or(usize::MAX), "unit")
            )],
            RuleCheck::Pairing { bypass, .. } => {
                let table = setting_text(version.written, |kind| match kind {
                    SettingKind::Table(name) => Some(name.value.clone()),
                    _ => None,
                })
                .unwrap_or_default();
                let mut text = format!(
                    "When both codes of a procedure-to-procedure (PTP) edit in table `{table}` are \
                     billed for one date of service, the line with the column-two code is denied."
                );
                if bypass.is_empty() {
                    text.push_str(" No modifier lets the pair through.");
                } else {
                    let modifiers = if bypass.len() == 1 {
                        format!("modifier {}", or_list(bypass.iter().map(ToString::to_string)))
                    } else {
                        format!("one of {}", or_list(bypass.iter().map(ToString::to_string)))
                    };
                    let _ = write!(
                        text,
                        " Where the edit allows a modifier (indicator 1), the line passes when it \
                         carries {modifiers}, showing the services were distinct; with indicator 0 \
                         no modifier helps."
                    );
                }
                vec![text]
            }
            RuleCheck::PriorAuth { required, verify } => {
                let when = match required {
                    AuthRequired::Always => "These services need prior authorization.".to_owned(),
                    AuthRequired::AfterVisits {
                        visits,
                        within_weeks,
                    } => {
                        let weeks = within_weeks
                            .map(|w| format!(" within {}", count_u64(w, "week")))
                            .unwrap_or_default();
                        format!(
                            "These services need prior authorization after the first {} of the \
                             year{weeks} (earlier visits counted from the claim's history).",
                            count_u64(*visits, "visit")
                        )
                    }
                };
                let checks: Vec<String> = verify.iter().map(|word| verify_words(word)).collect();
                vec![format!("{when} ppl checks that {}.", and_list(checks))]
            }
            RuleCheck::Telehealth {
                modifiers_required,
                modifiers_accepted,
                disciplines,
                audio_only_allowed,
                windows,
            } => self.telehealth(
                version,
                modifiers_required.as_ref(),
                modifiers_accepted.as_ref(),
                disciplines.as_deref(),
                *audio_only_allowed,
                windows,
            ),
            RuleCheck::Documentation(check) => vec![match check {
                DocumentationCheck::MustHave(facts) => format!(
                    "The documentation for the line must record {}.",
                    and_list(facts.iter().map(|(fact, _)| fact_words(fact)))
                ),
                DocumentationCheck::CertifiedWithinDays(days) => format!(
                    "The plan of care must be certified (signed and dated by the physician or \
                     NPP) within {} of being established.",
                    count_u64(*days, "day")
                ),
                DocumentationCheck::PlanOfCareCurrent => {
                    "The date of service must fall within the certified plan of care: on or after \
                     the date it was established and on or before the date its certification \
                     runs through."
                        .to_owned()
                }
                DocumentationCheck::ProgressReportWithinVisits(visits) => format!(
                    "A progress report is due at least every {}: this visit may be at most the \
                     {visits}th treatment day since the last report.",
                    count_u64(*visits, "treatment day")
                ),
            }],
            RuleCheck::Provider {
                disciplines,
                roles,
                discipline_modifiers,
                assistant_modifiers,
            } => {
                let mut sentences = Vec::new();
                if let Some(disciplines) = disciplines {
                    sentences.push(format!(
                        "Only a clinician whose discipline is {} may bill these codes.",
                        or_list(disciplines.iter().cloned())
                    ));
                }
                if let Some(roles) = roles {
                    sentences.push(format!(
                        "Only a clinician whose role is {} may bill these codes.",
                        or_list(roles.iter().cloned())
                    ));
                }
                if !discipline_modifiers.is_empty() {
                    sentences.push(format!(
                        "Each line carries the modifier of the clinician's discipline: {}.",
                        and_list(
                            discipline_modifiers
                                .iter()
                                .map(|(discipline, modifier)| format!("{modifier} for {discipline}"))
                        )
                    ));
                }
                if !assistant_modifiers.is_empty() {
                    sentences.push(format!(
                        "When an assistant furnished the service, the line also carries {}.",
                        and_list(assistant_modifiers.iter().map(|(discipline, modifier)| {
                            format!("{modifier} for {discipline}")
                        }))
                    ));
                }
                vec![sentences.join(" ")]
            }
            RuleCheck::MedicalNecessity {
                supported_by,
                excluded_by,
            } => {
                let mut sentences = Vec::new();
                if let Some(set) = supported_by {
                    sentences.push(format!(
                        "The diagnoses the line points to must include at least one of: {}.",
                        self.versioned(set)
                    ));
                }
                if let Some(set) = excluded_by {
                    sentences.push(format!(
                        "A line that points to any of these diagnoses is flagged: {}.",
                        self.versioned(set)
                    ));
                }
                vec![sentences.join(" ")]
            }
            RuleCheck::General { scope, .. } => self.general(version, *scope),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn telehealth(
        &mut self,
        version: &Version<'a>,
        required: Option<&VersionedSet>,
        accepted: Option<&VersionedSet>,
        disciplines: Option<&[String]>,
        audio_only: Option<bool>,
        windows: &[DateRange],
    ) -> Vec<String> {
        let rule = version.compiled;
        let mut conditions = Vec::new();
        if !windows.is_empty() {
            conditions.push("the date of service falls in a telehealth window below".to_owned());
        }
        if let Some(codes) = &rule.codes {
            conditions.push(format!(
                "the code is on the payer's telehealth list{}{}",
                one_of(codes, self.as_of, (": ", ": ", ", by date: ")),
                self.set_line(version, SetSetting::Codes, codes)
            ));
        }
        if let Some(places) = &rule.places {
            conditions.push(format!(
                "the place of service is {}{}",
                one_of(
                    places,
                    self.as_of,
                    ("", "one of ", "one of these, by date: ")
                ),
                self.set_line(version, SetSetting::Places, places)
            ));
        }
        if let Some(required) = required {
            conditions.push(format!(
                "the line carries {}{}",
                one_of(
                    required,
                    self.as_of,
                    (
                        "modifier ",
                        "one of the modifiers ",
                        "one of these modifiers, by date: "
                    )
                ),
                self.versioned(required)
            ));
        }
        if let Some(accepted) = accepted {
            conditions.push(format!(
                "other telehealth modifiers are only those accepted: {}",
                self.versioned(accepted)
            ));
        }
        if let Some(disciplines) = disciplines {
            conditions.push(format!(
                "the clinician's discipline is {}",
                or_list(disciplines.iter().cloned())
            ));
        }
        match audio_only {
            Some(true) => conditions.push(
                "audio-only service (modifier 93, or audio-only in the note) is allowed".to_owned(),
            ),
            Some(false) => conditions.push(
                "the service is not audio-only (no modifier 93, not audio-only in the note)"
                    .to_owned(),
            ),
            None => {}
        }
        let mut paragraphs = vec![format!(
            "A line is billed as telehealth when its place of service is 02 or 10 or it carries a \
             telehealth modifier (95, 93, GT, FQ or GQ). Such a line is covered only when:\n\n{}",
            conditions
                .iter()
                .map(|c| format!("- {c}"))
                .collect::<Vec<_>>()
                .join("\n")
        )];
        let shown: Vec<&DateRange> = windows
            .iter()
            .filter(|w| self.as_of.is_none_or(|date| w.contains(date)))
            .collect();
        if !windows.is_empty() {
            paragraphs.push(match (self.as_of, shown.is_empty()) {
                (Some(date), true) => {
                    format!("Telehealth windows: none covers {date}, so telehealth is not covered then.")
                }
                _ => format!(
                    "Telehealth windows:\n\n{}",
                    shown
                        .iter()
                        .map(|w| format!("- {}", dates(**w)))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            });
        }
        paragraphs
    }

    /// A general rule: its conditions in words.
    fn general(&mut self, version: &Version<'a>, scope: Scope) -> Vec<String> {
        let (when, require) = conditions(version.written);
        for expr in when.into_iter().chain(require) {
            self.note_sets(expr);
        }
        let each = match scope {
            Scope::Line => "On each line",
            Scope::Visit => "For each date of service",
            Scope::Claim => "For the whole claim",
        };
        let require = match require {
            Some(require) => format!("the payer requires that {}.", words::condition(require)),
            None => "the payer requires nothing more.".to_owned(),
        };
        let sentence = match when.map(words::conjuncts) {
            None => format!("{each}, {require}"),
            Some(parts) if parts.len() == 1 => {
                format!("{each} where {}, {require}", parts.join(""))
            }
            Some(parts) => {
                let last = parts.len() - 1;
                let items: Vec<String> = parts
                    .iter()
                    .enumerate()
                    .map(|(i, part)| {
                        if i == last {
                            format!("- and {part},")
                        } else {
                            format!("- {part},")
                        }
                    })
                    .collect();
                format!(
                    "{each} where

{}

{require}",
                    items.join("\n")
                )
            }
        };
        vec![sentence]
    }

    /// `for line`, `when …`, `require …` exactly as the policy writes them.
    fn written_condition(&self, version: &Version<'a>, scope: Scope) -> String {
        let (when, require) = conditions(version.written);
        let text =
            |expr: &Expr| one_line(&self.source(version.def, expr.span.start, expr.span.end));
        let mut parts = vec![format!("`for {}`", scope.keyword())];
        if let Some(when) = when {
            parts.push(format!("`when {}`", text(when)));
        }
        if let Some(require) = require {
            parts.push(format!("`require {}`", text(require)));
        }
        parts.join(" ")
    }

    /// Remembers the code sets a condition names, for the list at the end.
    fn note_sets(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Membership { value, set, .. } => {
                self.note_sets(value);
                self.note_set_expr(set);
            }
            ExprKind::Not(inner) | ExprKind::Group(inner) => self.note_sets(inner),
            ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Compare(_, a, b)
            | ExprKind::Arith(_, a, b) => {
                self.note_sets(a);
                self.note_sets(b);
            }
            ExprKind::Aggregate {
                filter: Some(filter),
                ..
            } => self.note_sets(filter),
            _ => {}
        }
    }

    fn note_set_expr(&mut self, set: &SetExpr) {
        for term in std::iter::once(&set.first).chain(set.rest.iter().map(|(_, term)| term)) {
            if let SetTerm::Name(name) = term {
                self.named_sets.insert(name.value.clone());
            }
        }
    }

    /// "`timed`: 97032–97036, 97110, …": the set as written, then its codes.
    fn set_line(&self, version: &Version<'a>, which: SetSetting, set: &VersionedSet) -> String {
        let written = version
            .written
            .settings
            .iter()
            .find_map(|s| match (&s.kind, which) {
                (SettingKind::Codes(expr), SetSetting::Codes)
                | (SettingKind::Places(expr), SetSetting::Places) => Some(expr),
                _ => None,
            });
        let name = written
            .filter(|expr| !matches!(expr.first, SetTerm::Literal { .. }) || !expr.rest.is_empty())
            .map(|expr| {
                format!(
                    " (code set `{}`)",
                    one_line(&self.source(version.def, expr.span.start, expr.span.end))
                )
            })
            .unwrap_or_default();
        format!("{}{name}", self.versioned(set))
    }

    /// A set's members on `as_of`, or every version with its dates.
    fn versioned(&self, set: &VersionedSet) -> String {
        if let Some(date) = self.as_of {
            return set
                .on(date)
                .map_or_else(|| "none on this date".to_owned(), members);
        }
        match set.versions.as_slice() {
            [] => "none".to_owned(),
            [(_, only)] => members(only),
            several => several
                .iter()
                .map(|(range, value)| format!("{}: {}", dates(*range), members(value)))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    /// Constants, with their versions.
    fn amounts(&self, out: &mut String) {
        out.push_str("## Amounts\n\n");
        let mut rows = Vec::new();
        for (name, constant) in &self.policy.constants {
            for (range, value) in &constant.versions {
                if self.as_of.is_some_and(|date| !range.contains(date)) {
                    continue;
                }
                rows.push(format!(
                    "| `{name}` | {} | {} |",
                    literal_words(value),
                    dates(*range)
                ));
            }
        }
        if rows.is_empty() {
            out.push_str("The requirements above use no named amount.\n\n");
            return;
        }
        out.push_str("Amounts the requirements above name:\n\n");
        out.push_str("| name | value | in force |\n|---|---|---|\n");
        for row in rows {
            let _ = writeln!(out, "{row}");
        }
        out.push('\n');
    }

    /// The code sets named in conditions, with their codes.
    fn code_sets(&self, out: &mut String) {
        if self.named_sets.is_empty() {
            return;
        }
        out.push_str("## Code sets\n\n");
        out.push_str("Code sets the conditions above name:\n\n");
        for name in &self.named_sets {
            let members = crate::compile::named_set(self.checked, self.payer, name)
                .map_or_else(|| "unknown".to_owned(), |set| self.versioned(&set));
            let _ = writeln!(out, "- `{name}`: {members}");
        }
        out.push('\n');
    }

    /// Where a version comes from, when it is not the payer's own plain rule.
    fn origin(&self, version: &Version<'a>) -> Option<String> {
        if version.def.file != self.file_index {
            return Some(format!(
                "Inherited from `{}`.",
                self.policy_id(version.def.file)
            ));
        }
        let parent = self.parent()?;
        if version.written.is_override {
            return Some(format!("Overrides the rule of the same id in `{parent}`."));
        }
        Some("This payer's own requirement.".to_owned())
    }

    fn ast(&self, file: usize) -> Option<&'a crate::syntax::PolicyFile> {
        self.checked
            .workspace
            .files
            .get(file)
            .and_then(|file| file.ast.as_ref())
    }

    fn parent(&self) -> Option<String> {
        self.ast(self.file_index)?
            .items
            .iter()
            .find_map(|item| match &item.kind {
                ItemKind::Extends(id) => Some(id.value.clone()),
                _ => None,
            })
    }

    fn removed(&self) -> Vec<String> {
        self.ast(self.file_index)
            .map(|ast| {
                ast.items
                    .iter()
                    .filter_map(|item| match &item.kind {
                        ItemKind::Remove(id) => Some(id.value.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn plans(&self) -> Vec<String> {
        self.ast(self.file_index)
            .map(|ast| {
                ast.items
                    .iter()
                    .filter_map(|item| match &item.kind {
                        ItemKind::Plan { id, name } => {
                            Some(format!("`{}` ({})", id.value, name.value))
                        }
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn policy_id(&self, file: usize) -> String {
        self.ast(file)
            .map(|ast| ast.header.id.value.clone())
            .unwrap_or_default()
    }

    fn file_path(&self, file: usize) -> String {
        self.checked
            .workspace
            .files
            .get(file)
            .map(|f| f.path.display().to_string())
            .unwrap_or_default()
    }

    /// Source text of a definition's file between two byte offsets.
    fn source(&self, def: DefRef, start: usize, end: usize) -> String {
        self.checked
            .workspace
            .files
            .get(def.file)
            .and_then(|file| self.checked.workspace.sources.text(file.id).get(start..end))
            .unwrap_or_default()
            .to_owned()
    }
}

#[derive(Clone, Copy)]
enum SetSetting {
    Codes,
    Places,
}

/// The words before a set's members: `single` for one member, `several` for
/// more, `by_date` when the page lists several versions.
fn one_of(
    set: &VersionedSet,
    as_of: Option<Date>,
    (single, several_words, by_date): (&'static str, &'static str, &'static str),
) -> &'static str {
    if as_of.is_none() && set.versions.len() > 1 {
        return by_date;
    }
    let size = |value: &SetValue| match value {
        SetValue::Procedure(codes) => codes.len(),
        SetValue::Modifier(modifiers) => modifiers.len(),
        SetValue::Place(places) => places.len(),
        SetValue::Diagnosis(_) => 2,
    };
    let several = match as_of {
        Some(date) => set.on(date).is_some_and(|value| size(value) > 1),
        None => set.versions.iter().any(|(_, value)| size(value) > 1),
    };
    if several {
        several_words
    } else {
        single
    }
}

fn conditions(rule: &RuleDef) -> (Option<&Expr>, Option<&Expr>) {
    let mut when = None;
    let mut require = None;
    for setting in &rule.settings {
        match &setting.kind {
            SettingKind::When(expr) => when = Some(expr),
            SettingKind::Require(expr) => require = Some(expr),
            _ => {}
        }
    }
    (when, require)
}

fn setting_text(rule: &RuleDef, pick: impl Fn(&SettingKind) -> Option<String>) -> Option<String> {
    rule.settings.iter().find_map(|setting| pick(&setting.kind))
}

fn category_title(position: usize) -> &'static str {
    CATEGORIES
        .get(position)
        .map_or("Other requirements", |(_, title)| title)
}

/// GitHub's heading anchor: lowercase, spaces to dashes.
fn anchor(title: &str) -> String {
    title.to_ascii_lowercase().replace(' ', "-")
}

fn parent_or(parent: &Option<String>) -> String {
    parent
        .clone()
        .unwrap_or_else(|| "the parent policy".to_owned())
}

fn dates(range: DateRange) -> String {
    match (range.from, range.through) {
        (None, None) => "always".to_owned(),
        (Some(from), None) => format!("from {from}"),
        (None, Some(through)) => format!("through {through}"),
        (Some(from), Some(through)) => format!("from {from} through {through}"),
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn outcome(rule: &CompiledRule) -> String {
    let mut codes = Vec::new();
    if let Some(carc) = &rule.texts.carc {
        codes.push(format!("CARC {carc}"));
    }
    if let Some(rarc) = &rule.texts.rarc {
        codes.push(format!("RARC {rarc}"));
    }
    match rule.severity {
        Severity::Deny if codes.is_empty() => {
            "**Denied** (the policy names no denial code for it)".to_owned()
        }
        Severity::Deny => format!("**Denied**, expect {}", codes.join(" with ")),
        Severity::Warn => "**Warning**: may be paid; check before sending".to_owned(),
        Severity::Info => "**Information** only; nothing is denied".to_owned(),
    }
}

fn fix_words(fix: &Fix) -> String {
    match fix {
        Fix::SetUnits => "`ppl eval --fix` sets the units to those the minutes support".to_owned(),
        Fix::AddModifier(Some(modifier)) => {
            format!("`ppl eval --fix` adds modifier {}", modifier.value)
        }
        Fix::AddModifier(None) => "`ppl eval --fix` adds the expected modifier".to_owned(),
        Fix::RemoveModifier(modifier) => {
            format!("`ppl eval --fix` removes modifier {}", modifier.value)
        }
        Fix::ReplaceModifier { from, to } => {
            format!(
                "`ppl eval --fix` replaces modifier {} with {}",
                from.value, to.value
            )
        }
    }
}

fn verify_words(word: &str) -> String {
    match word {
        "number" => "the claim carries an authorization number".to_owned(),
        "window" => "the date of service falls inside the authorized dates".to_owned(),
        "codes" => "the code is among the authorized codes".to_owned(),
        "units" => "the units billed for the authorized codes, added up over all the claim's \
                    lines, do not exceed the authorized units"
            .to_owned(),
        "visits" => "the visits do not exceed the authorized visits".to_owned(),
        other => format!("`{other}` is as authorized"),
    }
}

fn fact_words(fact: &str) -> String {
    match fact {
        "total_timed_minutes" => "the session's total timed-code treatment minutes".to_owned(),
        "total_treatment_minutes" => "the session's total treatment minutes".to_owned(),
        "functional_goals" => "the plan of care's functional goals".to_owned(),
        "objective" => "the session's objective".to_owned(),
        "performance" => "the patient's performance in the session".to_owned(),
        "progress" => "the patient's progress".to_owned(),
        "activities" => "the activities performed".to_owned(),
        "caregiver_trained" => "whether a caregiver was trained".to_owned(),
        "minutes" => "the minutes of each timed line".to_owned(),
        other => format!("`{other}`"),
    }
}

fn literal_words(value: &Literal) -> String {
    match value {
        Literal::Integer(n) => n.to_string(),
        Literal::Quantity(n, unit) => format!("{n} {}", unit.value_type().keyword()),
        Literal::Money(cents) => {
            crate::eval::value::dollars(i64::try_from(*cents).unwrap_or(i64::MAX))
        }
        Literal::Date(date) => date.to_string(),
        Literal::Text(text) => format!("\"{text}\""),
        Literal::Flag(flag) => if *flag { "yes" } else { "no" }.to_owned(),
    }
}

/// A set's members, procedure codes with runs of 3 or more written as ranges.
fn members(set: &SetValue) -> String {
    match set {
        SetValue::Procedure(codes) => {
            let mut sorted: Vec<ProcedureCode> = codes.iter().copied().collect();
            sorted.sort_by_key(|code| code.packed());
            procedure_ranges(&sorted)
        }
        SetValue::Modifier(modifiers) => list(modifiers.iter().map(ToString::to_string)),
        SetValue::Place(places) => list(places.iter().map(ToString::to_string)),
        SetValue::Diagnosis(diagnoses) => diagnosis_words(diagnoses),
    }
}

fn procedure_ranges(sorted: &[ProcedureCode]) -> String {
    let mut runs: Vec<(ProcedureCode, ProcedureCode, usize)> = Vec::new();
    for &code in sorted {
        match runs.last_mut() {
            Some((_, last, length))
                if last.shape() == code.shape() && last.number() + 1 == code.number() =>
            {
                *last = code;
                *length += 1;
            }
            _ => runs.push((code, code, 1)),
        }
    }
    let mut parts = Vec::new();
    for (first, last, length) in runs {
        match length {
            1 => parts.push(first.to_string()),
            2 => {
                parts.push(first.to_string());
                parts.push(last.to_string());
            }
            _ => parts.push(format!("{first}–{last}")),
        }
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

fn diagnosis_words(set: &DiagnosisSet) -> String {
    match set {
        DiagnosisSet::Patterns(patterns) => list(patterns.iter().map(ToString::to_string)),
        DiagnosisSet::Union(a, b) => format!("{}, {}", diagnosis_words(a), diagnosis_words(b)),
        DiagnosisSet::Except(a, b) => {
            format!("{} except {}", diagnosis_words(a), diagnosis_words(b))
        }
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// "a, b and c".
fn and_list(items: impl IntoIterator<Item = String>) -> String {
    joined(items, "and")
}

/// "a, b or c".
fn or_list(items: impl IntoIterator<Item = String>) -> String {
    joined(items, "or")
}

fn joined(items: impl IntoIterator<Item = String>, word: &str) -> String {
    let mut items: Vec<String> = items.into_iter().collect();
    match items.len() {
        0 => String::new(),
        1 => items.pop().unwrap_or_default(),
        _ => {
            let last = items.pop().unwrap_or_default();
            format!("{} {word} {last}", items.join(", "))
        }
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn count_u64(n: u64, noun: &str) -> String {
    count(usize::try_from(n).unwrap_or(usize::MAX), noun)
}

/// A condition written over several lines, on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Conditions of `general` rules in words. Claim fields get the names a
/// biller knows; code sets and constants keep their names (the page lists
/// them); anything unusual falls back to the policy's own text in backticks.
mod words {
    use crate::syntax::{
        Aggregate, ArithOp, CompareOp, Expr, ExprKind, Literal, MembershipOp, SetElement, SetExpr,
        SetOp, SetTerm,
    };

    /// Deep enough for any condition a policy writes; deeper is shown as written.
    const MAX_DEPTH: usize = 16;

    pub fn condition(expr: &Expr) -> String {
        clause(expr, 0)
    }

    /// The parts of a top-level `a and b and c`, each in words.
    pub fn conjuncts(expr: &Expr) -> Vec<String> {
        let mut parts = Vec::new();
        let mut stack = vec![expr];
        while let Some(expr) = stack.pop() {
            match &expr.kind {
                ExprKind::And(a, b) if parts.len() < 32 => {
                    stack.push(b);
                    stack.push(a);
                }
                _ => parts.push(clause(expr, 0)),
            }
        }
        parts
    }

    fn clause(expr: &Expr, depth: usize) -> String {
        if depth > MAX_DEPTH {
            return "(a nested condition)".to_owned();
        }
        let next = depth + 1;
        match &expr.kind {
            ExprKind::Group(inner) => match &inner.kind {
                ExprKind::Or(a, b) if depth == 0 => {
                    format!("either {}, or {}", clause(a, next), clause(b, next))
                }
                _ => format!("({})", clause(inner, next)),
            },
            ExprKind::And(a, b) => format!("{} and {}", clause(a, next), clause(b, next)),
            ExprKind::Or(a, b) => format!("{} or {}", clause(a, next), clause(b, next)),
            ExprKind::Not(inner) => match &inner.kind {
                ExprKind::Membership {
                    op: MembershipOp::Includes,
                    value,
                    set,
                } => format!(
                    "{} include none of {}",
                    value_words(value, next),
                    set_words(set)
                ),
                ExprKind::Present(path) => format!("{} is not given", field(&path.value)),
                _ => format!("it is not so that {}", clause(inner, next)),
            },
            ExprKind::Present(path) => format!("{} is given", field(&path.value)),
            ExprKind::Compare(op, a, b) => {
                let verb = match op {
                    CompareOp::Eq => "is",
                    CompareOp::Ne => "is not",
                    CompareOp::Lt => "is less than",
                    CompareOp::Le => "is at most",
                    CompareOp::Gt => "is more than",
                    CompareOp::Ge => "is at least",
                };
                format!("{} {verb} {}", value_words(a, next), value_words(b, next))
            }
            ExprKind::Membership { op, value, set } => {
                let single = is_literal(set);
                let verb = match (op, single) {
                    (MembershipOp::In, true) => "is",
                    (MembershipOp::In, false) => "is one of",
                    (MembershipOp::NotIn, true) => "is not",
                    (MembershipOp::NotIn, false) => "is none of",
                    (MembershipOp::Includes, true) => "include",
                    (MembershipOp::Includes, false) => "include one of",
                };
                format!("{} {verb} {}", value_words(value, next), set_words(set))
            }
            _ => value_words(expr, next),
        }
    }

    fn value_words(expr: &Expr, depth: usize) -> String {
        if depth > MAX_DEPTH {
            return "(a nested value)".to_owned();
        }
        let next = depth + 1;
        match &expr.kind {
            ExprKind::Literal(literal) => literal_value(literal),
            ExprKind::Path(path) if path.contains('.') => field(path),
            // A constant (listed under Amounts) or an enumerated word (`PT`).
            ExprKind::Path(name) if name.chars().any(|c| c.is_ascii_lowercase()) => {
                format!("`{name}`")
            }
            ExprKind::Path(word) => word.clone(),
            ExprKind::Group(inner) => value_words(inner, next),
            ExprKind::Arith(op, a, b) => {
                let word = match op {
                    ArithOp::Add => "plus",
                    ArithOp::Sub => "minus",
                    ArithOp::Mul => "times",
                };
                format!("{} {word} {}", value_words(a, next), value_words(b, next))
            }
            ExprKind::Aggregate {
                function,
                path,
                filter,
            } => {
                let (what, list) = match function {
                    Aggregate::Count => ("the number of", path.value.as_str()),
                    Aggregate::Sum => ("the total", path.value.as_str()),
                };
                let lines = match list.split('.').next() {
                    Some("visit") => "lines on that date",
                    _ => "lines on the claim",
                };
                let of = match function {
                    Aggregate::Count => lines.to_owned(),
                    Aggregate::Sum => format!(
                        "{} over {lines}",
                        list.rsplit('.').next().map(field_leaf).unwrap_or_default()
                    ),
                };
                match filter {
                    Some(filter) => format!("{what} {of} where {}", clause(filter, next)),
                    None => format!("{what} {of}"),
                }
            }
            _ => format!("({})", clause(expr, next)),
        }
    }

    /// `[PT SLP]`: read as "PT or SLP" rather than "one of …".
    fn is_literal(set: &SetExpr) -> bool {
        set.rest.is_empty() && matches!(&set.first, SetTerm::Literal { .. })
    }

    fn set_words(set: &SetExpr) -> String {
        let mut text = term_words(&set.first);
        for (op, term) in &set.rest {
            let word = match op {
                SetOp::Union => "or",
                SetOp::Except => "except",
            };
            text.push_str(&format!(" {word} {}", term_words(term)));
        }
        text
    }

    fn term_words(term: &SetTerm) -> String {
        match term {
            SetTerm::Name(name) => format!("the `{}` codes", name.value),
            SetTerm::Literal { elements, .. } => {
                let items: Vec<String> = elements
                    .iter()
                    .map(|element| match element {
                        SetElement::Code(code) => code.value.clone(),
                        SetElement::Range { low, high } => format!("{}–{}", low.value, high.value),
                    })
                    .collect();
                super::or_list(items)
            }
        }
    }

    fn literal_value(literal: &Literal) -> String {
        match literal {
            Literal::Flag(true) => "yes".to_owned(),
            Literal::Flag(false) => "no".to_owned(),
            other => super::literal_words(other),
        }
    }

    /// A claim field's name for billers.
    fn field(path: &str) -> String {
        let known = match path {
            "line.code" => "the line's code",
            "line.modifiers" => "the line's modifiers",
            "line.units" => "the line's units",
            "line.minutes" => "the line's minutes",
            "line.charge" => "the line's charge",
            "line.date_of_service" | "visit.date_of_service" | "claim.date_of_service" => {
                "the date of service"
            }
            "line.place_of_service" | "claim.place_of_service" => "the place of service",
            "line.diagnoses" | "claim.diagnoses" => "the diagnoses",
            "provider.discipline" => "the clinician's discipline",
            "provider.role" => "the clinician's role",
            "history.therapy_allowed_ytd.pt_slp" => {
                "this year's PT and SLP allowed amount before this claim"
            }
            "history.therapy_allowed_ytd.ot" => "this year's OT allowed amount before this claim",
            "history.visits_this_year" => "the visits earlier this year",
            "history.visits_under_authorization" => "the visits already under the authorization",
            "documentation.caregiver_trained" => {
                "the note's answer to \"was a caregiver trained?\""
            }
            "documentation.plan_of_care.established" => "the date the plan of care was established",
            "documentation.plan_of_care.certified" => "the date the plan of care was certified",
            "documentation.plan_of_care.through" => {
                "the date the plan of care is certified through"
            }
            "documentation.visits_since_progress_report" => {
                "the treatment days since the last progress report"
            }
            "documentation.total_timed_minutes" => "the note's total timed minutes",
            "documentation.total_treatment_minutes" => "the note's total treatment minutes",
            "documentation.objective" => "the note's session objective",
            "documentation.functional_goals" => "the plan of care's functional goals",
            "prior_authorization.number" => "the prior authorization number",
            "prior_authorization.units" => "the authorized units",
            _ => "",
        };
        if known.is_empty() {
            format!("`{path}`")
        } else {
            known.to_owned()
        }
    }

    fn field_leaf(leaf: &str) -> String {
        match leaf {
            "units" => "the units".to_owned(),
            "minutes" => "the minutes".to_owned(),
            "charge" => "the charges".to_owned(),
            other => format!("`{other}`"),
        }
    }
}
