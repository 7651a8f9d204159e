//! Checking one rule: its settings against its family, the values of each
//! setting, its message placeholders, its fix, and whether it can ever fire.

use std::collections::BTreeMap;

use super::expr::{Env, ExprChecker};
use super::schema::{self, Ty};
use super::{Checker, FileView, Namespace};
use crate::diagnostics::{did_you_mean, Diagnostic, DiagnosticCode};
use crate::source::FileId;
use crate::syntax::*;

/// The settings every family may use.
const COMMON: &[&str] = &[
    "category", "severity", "message", "help", "carc", "rarc", "cite", "fix", "codes", "plans",
    "places",
];

/// The settings of each family, beyond the common ones.
pub fn family_settings(family: Family) -> &'static [&'static str] {
    match family {
        Family::Units => &["method", "daily_cap", "visit_cap"],
        Family::Pairing => &["table", "bypass"],
        Family::PriorAuth => &["required", "verify"],
        Family::Telehealth => &[
            "modifiers_required",
            "modifiers_accepted",
            "disciplines",
            "audio_only",
            "window",
        ],
        Family::Documentation => &["must_have", "plan_of_care", "progress_report"],
        Family::Provider => &[
            "disciplines",
            "roles",
            "discipline_modifiers",
            "assistant_modifiers",
        ],
        Family::MedicalNecessity => &["supported_by", "excluded_by"],
        Family::General => &["for", "when", "require"],
    }
}

/// Values a family's messages can name besides claim fields.
pub fn family_placeholders(family: Family) -> &'static [&'static str] {
    match family {
        Family::Units => &[
            "units_supported",
            "units_billed",
            "minutes",
            "total_minutes",
            "cap",
        ],
        Family::Pairing => &["other_code", "indicator"],
        Family::PriorAuth => &["reason"],
        Family::Telehealth => &["reason"],
        Family::Documentation => &["missing"],
        Family::Provider => &["expected_modifier"],
        Family::MedicalNecessity => &["diagnoses"],
        Family::General => &[],
    }
}

/// Settings that may be written more than once in a rule.
const REPEATABLE: &[&str] = &["window"];

impl Checker<'_> {
    pub(super) fn rule(&mut self, view: &FileView<'_>, namespace: &Namespace, rule: &RuleDef) {
        let file = view.id;
        let family = rule.family.value;
        self.effective(file, &rule.effective);
        let mut seen: BTreeMap<&'static str, Span> = BTreeMap::new();
        let allowed = family_settings(family);
        for setting in &rule.settings {
            let key = setting.kind.key();
            if let SettingKind::Unknown(name) = &setting.kind {
                let known = COMMON.iter().chain(allowed.iter()).copied();
                let mut diagnostic = Diagnostic::new(
                    DiagnosticCode::UnknownSetting,
                    file,
                    name.span,
                    format!("`{}` is not a setting", name.value),
                )
                .with_label("unknown setting");
                diagnostic = diagnostic.with_help(
                    did_you_mean(&name.value, known.clone())
                        .or_else(|| did_you_mean(&name.value, SETTING_KEYS.iter().copied()))
                        .unwrap_or_else(|| {
                            format!(
                                "a `{}` rule takes: {}",
                                family.keyword(),
                                known.collect::<Vec<_>>().join(", ")
                            )
                        }),
                );
                self.report(diagnostic);
                continue;
            }
            if !COMMON.contains(&key) && !allowed.contains(&key) {
                let owners: Vec<&str> = Family::ALL
                    .iter()
                    .filter(|f| family_settings(**f).contains(&key))
                    .map(|f| f.keyword())
                    .collect();
                self.report(
                    Diagnostic::new(
                        DiagnosticCode::SettingNotInFamily,
                        file,
                        setting.span,
                        format!("`{key}` does not belong in a `{}` rule", family.keyword()),
                    )
                    .with_label(format!("not a `{}` setting", family.keyword()))
                    .with_related(file, rule.family.span, "the rule's family")
                    .with_help(format!(
                        "`{key}` is a setting of {} rules; a `{}` rule takes: {}",
                        owners.join(", "),
                        family.keyword(),
                        allowed.join(", ")
                    )),
                );
                continue;
            }
            if let Some(first) = seen.get(key) {
                if !REPEATABLE.contains(&key) {
                    self.report(
                        Diagnostic::new(
                            DiagnosticCode::DuplicateSetting,
                            file,
                            setting.span,
                            format!("`{key}` is set twice in rule `{}`", rule.id.value),
                        )
                        .with_label("second time")
                        .with_related(file, *first, "first time")
                        .with_help("keep one; to give a rule two values over time, write two versions with dates"),
                    );
                    continue;
                }
            }
            seen.insert(key, setting.span);
            self.setting(view, namespace, rule, setting);
        }
        self.required_settings(file, rule, &seen);
        self.rule_fix(file, rule);
        self.rule_warnings(file, rule);
    }

    fn setting(
        &mut self,
        view: &FileView<'_>,
        namespace: &Namespace,
        rule: &RuleDef,
        setting: &Setting,
    ) {
        let file = view.id;
        match &setting.kind {
            SettingKind::Message(template) => self.template(file, namespace, rule, template),
            SettingKind::Carc(code) if !is_carc(&code.value) => {
                self.report(
                        Diagnostic::new(DiagnosticCode::MalformedCode, file, code.span, format!("`{}` is not a claim adjustment reason code", code.value))
                            .with_label("not a CARC")
                            .with_help("a CARC is a number (`236`) or a letter and a number (`B7`), without the group code (`CO`, `PR`)"),
                    );
            }
            SettingKind::Rarc(code) if !is_rarc(&code.value) => {
                self.report(
                    Diagnostic::new(
                        DiagnosticCode::MalformedCode,
                        file,
                        code.span,
                        format!("`{}` is not a remittance advice remark code", code.value),
                    )
                    .with_label("not a RARC")
                    .with_help("a RARC is `M`, `N` or `MA` and a number (`N362`, `MA130`)"),
                );
            }
            SettingKind::Codes(expr) => {
                self.rule_set(view, namespace, expr, CodeKind::Procedure, rule, "codes")
            }
            SettingKind::Places(expr) => {
                self.rule_set(view, namespace, expr, CodeKind::Place, rule, "places")
            }
            SettingKind::Bypass(expr)
            | SettingKind::ModifiersRequired(expr)
            | SettingKind::ModifiersAccepted(expr) => {
                let key = setting.kind.key();
                self.rule_set(view, namespace, expr, CodeKind::Modifier, rule, key);
            }
            SettingKind::SupportedBy(expr) | SettingKind::ExcludedBy(expr) => {
                let key = setting.kind.key();
                self.rule_set(view, namespace, expr, CodeKind::Diagnosis, rule, key);
            }
            SettingKind::Plans(plans) => {
                if plans.is_empty() {
                    self.never_fires(
                        file,
                        setting.span,
                        rule,
                        "`plans []` names no plan, so no claim matches",
                    );
                }
                for plan in plans {
                    if !namespace.plans.contains_key(&plan.value) {
                        let mut diagnostic = Diagnostic::new(
                            DiagnosticCode::UnknownPlan,
                            file,
                            plan.span,
                            format!("plan `{}` is not declared", plan.value),
                        )
                        .with_label("unknown plan");
                        diagnostic = diagnostic.with_help(
                            did_you_mean(&plan.value, namespace.plans.keys().map(String::as_str))
                                .unwrap_or_else(|| format!("declare it at the top of the policy: `plan {} \"Plan name\"`", plan.value)),
                        );
                        self.report(diagnostic);
                    }
                }
            }
            SettingKind::Disciplines(words) => {
                self.words(file, words, schema::DISCIPLINES, "discipline")
            }
            SettingKind::Roles(words) => self.words(file, words, schema::ROLES, "role"),
            SettingKind::Verify(words) => self.words(
                file,
                words,
                schema::AUTHORIZATION_CHECKS,
                "authorization check",
            ),
            SettingKind::MustHave(words) => {
                if words.is_empty() {
                    self.never_fires(file, setting.span, rule, "`must_have []` requires nothing");
                }
                self.words(file, words, schema::DOCUMENTED_FACTS, "documentation fact");
            }
            SettingKind::DisciplineModifiers(pairs) | SettingKind::AssistantModifiers(pairs) => {
                for (discipline, modifier) in pairs {
                    self.words(
                        file,
                        std::slice::from_ref(discipline),
                        schema::DISCIPLINES,
                        "discipline",
                    );
                    if let Err(error) = crate::codes::Modifier::parse(&modifier.value) {
                        self.report(super::malformed_code(
                            file,
                            modifier,
                            CodeKind::Modifier,
                            error.reason,
                        ));
                    }
                }
            }
            SettingKind::Table(name) => self.table_reference(file, namespace, name, TableKind::Ptp),
            SettingKind::DailyCapTable(name) => {
                self.table_reference(file, namespace, name, TableKind::Mue)
            }
            SettingKind::DailyCap(value) | SettingKind::VisitCap(value) => {
                self.quantity(file, value, ValueType::Units, setting.kind.key());
            }
            SettingKind::PlanOfCareCertifiedWithin(value) => {
                self.quantity(file, value, ValueType::Days, "certified_within")
            }
            SettingKind::ProgressReportWithin(value) => {
                self.quantity(file, value, ValueType::Visits, "progress_report within")
            }
            SettingKind::Required(Requirement::AfterVisits {
                within_weeks: Some(weeks),
                ..
            }) if weeks.value == 0 => {
                self.never_fires(
                    file,
                    weeks.span,
                    rule,
                    "a window of 0 weeks holds no visits",
                );
            }
            SettingKind::Window(effective) => self.effective(file, effective),
            SettingKind::When(expr) | SettingKind::Require(expr) => {
                let scope = rule_scope(rule);
                let env = Env::rule(scope);
                let mut checker = ExprChecker::new(self, namespace, file);
                if let Some(ty) = checker.expr(expr, &env) {
                    if ty != Ty::Value(ValueType::Flag) {
                        checker.checker.report(
                            Diagnostic::new(
                                DiagnosticCode::TypeMismatch,
                                file,
                                expr.span,
                                format!(
                                    "`{}` needs a condition (true or false), found {}",
                                    setting.kind.key(),
                                    ty.describe()
                                ),
                            )
                            .with_label(format!("this is {}", ty.describe()))
                            .with_help("compare it with something: `line.units > 4 units`"),
                        );
                    }
                }
                let constant = match expr.kind {
                    ExprKind::Literal(Literal::Flag(value)) => Some(value),
                    _ => None,
                };
                match (&setting.kind, constant) {
                    (SettingKind::When(_), Some(false)) => {
                        self.never_fires(file, expr.span, rule, "`when false` never holds");
                    }
                    (SettingKind::Require(_), Some(true)) => {
                        self.never_fires(file, expr.span, rule, "`require true` is always met");
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// A code set setting of a rule: checked, and empty means the rule never fires.
    fn rule_set(
        &mut self,
        view: &FileView<'_>,
        namespace: &Namespace,
        expr: &SetExpr,
        kind: CodeKind,
        rule: &RuleDef,
        key: &str,
    ) {
        let mut stack = Vec::new();
        let value = self.evaluate_set(namespace, expr, kind, view.id, &mut stack);
        if value.is_empty()
            && matches!(key, "codes" | "places")
            && !self.has_errors_in(view.id, expr.span)
        {
            self.never_fires(
                view.id,
                expr.span,
                rule,
                &format!("`{key}` stands for no code at all"),
            );
        }
    }

    fn has_errors_in(&self, file: FileId, span: Span) -> bool {
        self.diagnostics.iter().any(|d| {
            d.is_error()
                && matches!(d.location, crate::diagnostics::Location::Source { file: f, span: s } if f == file && s.start >= span.start && s.end <= span.end)
        })
    }

    fn never_fires(&mut self, file: FileId, span: Span, rule: &RuleDef, why: &str) {
        self.report(
            Diagnostic::new(
                DiagnosticCode::NeverFires,
                file,
                span,
                format!("rule `{}` can never fire: {why}", rule.id.value),
            )
            .with_label("never matches")
            .with_help("correct the setting, or remove the rule"),
        );
    }

    fn words(&mut self, file: FileId, words: &[Text], allowed: &[&str], what: &str) {
        for word in words {
            if !allowed.contains(&word.value.as_str()) {
                let help = did_you_mean(&word.value, allowed.iter().copied())
                    .unwrap_or_else(|| format!("a {what} is one of: {}", allowed.join(", ")));
                self.report(
                    Diagnostic::new(
                        DiagnosticCode::UnknownValue,
                        file,
                        word.span,
                        format!("`{}` is not a {what}", word.value),
                    )
                    .with_label(format!("unknown {what}"))
                    .with_help(help),
                );
            }
        }
    }

    fn quantity(&mut self, file: FileId, value: &Spanned<Literal>, expected: ValueType, key: &str) {
        let found = value.value.value_type();
        if found != expected {
            let mut diagnostic = Diagnostic::new(
                DiagnosticCode::TypeMismatch,
                file,
                value.span,
                format!(
                    "`{key}` takes {}, found {}",
                    Ty::Value(expected).describe(),
                    Ty::Value(found).describe()
                ),
            )
            .with_label(format!("this is {}", Ty::Value(found).describe()));
            if let Literal::Integer(number) = value.value {
                diagnostic =
                    diagnostic.with_help(format!("write `{number} {}`", expected.keyword()));
            }
            self.report(diagnostic);
        }
    }

    fn table_reference(
        &mut self,
        file: FileId,
        namespace: &Namespace,
        name: &Text,
        kind: TableKind,
    ) {
        let Some(defs) = namespace.tables.get(&name.value) else {
            let help = did_you_mean(&name.value, namespace.tables.keys().map(String::as_str))
                .unwrap_or_else(|| "declare it with `table NAME: ptp file \"...\"`, or `include` the library that has it".to_owned());
            self.report(
                Diagnostic::new(
                    DiagnosticCode::UnknownName,
                    file,
                    name.span,
                    format!("no table is named `{}`", name.value),
                )
                .with_label("unknown table")
                .with_help(help),
            );
            return;
        };
        for def in defs.clone() {
            self.used.insert(def);
            if let Some(Item {
                kind: ItemKind::Table(table),
                ..
            }) = self.item(def)
            {
                if table.kind.value != kind {
                    let (wanted, found) = match kind {
                        TableKind::Ptp => ("a `ptp` table (code pairs)", "an `mue` table"),
                        TableKind::Mue => ("an `mue` table (daily caps)", "a `ptp` table"),
                    };
                    self.report(
                        Diagnostic::new(
                            DiagnosticCode::TypeMismatch,
                            file,
                            name.span,
                            format!("`{}` is {found}; this setting needs {wanted}", name.value),
                        )
                        .with_label(found.to_string())
                        .with_help(
                            "pairing rules read `ptp` tables; `daily_cap table` reads `mue` tables",
                        ),
                    );
                    return;
                }
            }
        }
    }

    fn template(
        &mut self,
        file: FileId,
        namespace: &Namespace,
        rule: &RuleDef,
        template: &Template,
    ) {
        let extras = family_placeholders(rule.family.value);
        let env = Env::rule(rule_scope(rule));
        for placeholder in &template.placeholders {
            if extras.contains(&placeholder.value.as_str()) {
                continue;
            }
            let mut checker = ExprChecker::new(self, namespace, file);
            checker.placeholder(placeholder, &env, extras);
        }
    }

    fn required_settings(
        &mut self,
        file: FileId,
        rule: &RuleDef,
        seen: &BTreeMap<&'static str, Span>,
    ) {
        let family = rule.family.value;
        let has = |key: &str| seen.contains_key(key);
        let mut missing: Vec<(&str, &str)> = Vec::new();
        if !has("message") {
            missing.push((
                "message",
                "message \"what the biller sees, with {line.code}\"",
            ));
        }
        // A daily cap read from an MUE table applies to every code the table lists.
        let units_from_table = family == Family::Units
            && rule
                .settings
                .iter()
                .any(|s| matches!(s.kind, SettingKind::DailyCapTable(_)));
        let needs_codes = !units_from_table
            && matches!(
                family,
                Family::Units
                    | Family::PriorAuth
                    | Family::Telehealth
                    | Family::Provider
                    | Family::MedicalNecessity
            );
        if needs_codes && !has("codes") {
            missing.push(("codes", "codes [97535] (or a code set name)"));
        }
        match family {
            Family::Pairing if !has("table") => missing.push(("table", "table ncci_ptp")),
            Family::PriorAuth if !has("required") => missing.push(("required", "required always")),
            Family::Telehealth if !has("places") => missing.push(("places", "places [02 10]")),
            Family::General => {
                if !has("for") {
                    missing.push(("for", "for line"));
                }
                if !has("require") {
                    missing.push(("require", "require CONDITION"));
                }
            }
            _ => {}
        }
        for (key, example) in missing {
            self.report(
                Diagnostic::new(
                    DiagnosticCode::MissingSetting,
                    file,
                    rule.id.span,
                    format!("rule `{}` has no `{key}`", rule.id.value),
                )
                .with_label(format!("needs `{key}`"))
                .with_help(format!("add a line such as `{example}`")),
            );
        }
        let exactly_one: &[&str] = match family {
            Family::Units => &["method", "daily_cap", "visit_cap"],
            Family::Documentation => &["must_have", "plan_of_care", "progress_report"],
            _ => &[],
        };
        let at_least_one: &[&str] = match family {
            Family::Provider => &[
                "disciplines",
                "roles",
                "discipline_modifiers",
                "assistant_modifiers",
            ],
            Family::MedicalNecessity => &["supported_by", "excluded_by"],
            _ => &[],
        };
        let present: Vec<&str> = exactly_one.iter().copied().filter(|key| has(key)).collect();
        if !exactly_one.is_empty() && present.is_empty() {
            self.missing_one_of(file, rule, exactly_one);
        }
        if present.len() > 1 {
            let spans: Vec<Span> = present
                .iter()
                .filter_map(|key| seen.get(key).copied())
                .collect();
            let mut diagnostic = Diagnostic::new(
                DiagnosticCode::ConflictingSettings,
                file,
                spans.get(1).copied().unwrap_or(rule.id.span),
                format!(
                    "a `{}` rule takes only one of {}",
                    family.keyword(),
                    quoted(exactly_one)
                ),
            )
            .with_label("second requirement in one rule")
            .with_help("write one rule per requirement, each with its own id and message");
            if let Some(first) = spans.first() {
                diagnostic = diagnostic.with_related(file, *first, "first requirement");
            }
            self.report(diagnostic);
        }
        if !at_least_one.is_empty() && !at_least_one.iter().any(|key| has(key)) {
            self.missing_one_of(file, rule, at_least_one);
        }
    }

    fn missing_one_of(&mut self, file: FileId, rule: &RuleDef, keys: &[&str]) {
        self.report(
            Diagnostic::new(
                DiagnosticCode::MissingSetting,
                file,
                rule.id.span,
                format!("rule `{}` says nothing to check", rule.id.value),
            )
            .with_label(format!("needs one of {}", quoted(keys)))
            .with_help(format!(
                "a `{}` rule needs one of {}",
                rule.family.value.keyword(),
                quoted(keys)
            )),
        );
    }

    fn rule_fix(&mut self, file: FileId, rule: &RuleDef) {
        let Some(setting) = rule
            .settings
            .iter()
            .find(|s| matches!(s.kind, SettingKind::Fix(_)))
        else {
            return;
        };
        let SettingKind::Fix(fix) = &setting.kind else {
            return;
        };
        let has = |key: &str| rule.settings.iter().any(|s| s.kind.key() == key);
        let problem = match fix {
            Fix::SetUnits if rule.family.value != Family::Units => Some(
                "`set_units` sets the units a unit rule supports; only `units` rules have them"
                    .to_owned(),
            ),
            Fix::AddModifier(None) => {
                let supplies = match rule.family.value {
                    Family::Provider => has("discipline_modifiers") || has("assistant_modifiers"),
                    Family::Telehealth => single_modifier(rule),
                    _ => false,
                };
                (!supplies).then(|| {
                    "say which modifier to add (`fix add_modifier KX`); only provider rules with modifier lists and telehealth rules with one required modifier know it".to_owned()
                })
            }
            _ => None,
        };
        for code in fix_codes(fix) {
            if let Err(error) = crate::codes::Modifier::parse(&code.value) {
                self.report(super::malformed_code(
                    file,
                    code,
                    CodeKind::Modifier,
                    error.reason,
                ));
            }
        }
        if let Some(problem) = problem {
            self.report(
                Diagnostic::new(
                    DiagnosticCode::InvalidFix,
                    file,
                    setting.span,
                    format!("rule `{}` cannot apply this fix", rule.id.value),
                )
                .with_label("fix not applicable")
                .with_help(problem),
            );
        }
    }

    fn rule_warnings(&mut self, file: FileId, rule: &RuleDef) {
        let cite = rule
            .settings
            .iter()
            .any(|s| matches!(s.kind, SettingKind::Cite(_)));
        if !cite {
            self.report(
                Diagnostic::new(DiagnosticCode::MissingCitation, file, rule.id.span, format!("rule `{}` does not cite its source", rule.id.value))
                    .with_label("no `cite`")
                    .with_help("add `cite \"...\"` with the manual section, NCCI table or payer policy the rule encodes"),
            );
        }
        let severity = rule.settings.iter().find_map(|s| match s.kind {
            SettingKind::Severity(severity) => Some((severity, s.span)),
            _ => None,
        });
        let carc = rule
            .settings
            .iter()
            .find(|s| matches!(s.kind, SettingKind::Carc(_)));
        if let (Some((severity, span)), Some(carc)) = (severity, carc) {
            if severity != Severity::Deny {
                self.report(
                    Diagnostic::new(
                        DiagnosticCode::InfoWithDenialCode,
                        file,
                        carc.span,
                        format!(
                            "rule `{}` is `{}` but names a denial code",
                            rule.id.value,
                            severity.keyword()
                        ),
                    )
                    .with_label("a denial code")
                    .with_related(file, span, "not a denial")
                    .with_help(
                        "a CARC says how the payer denies; use `severity deny`, or drop the CARC",
                    ),
                );
            }
        }
        if let Some(setting) = rule
            .settings
            .iter()
            .find(|s| matches!(&s.kind, SettingKind::Message(t) if t.placeholders.is_empty()))
        {
            self.report(
                Diagnostic::new(
                    DiagnosticCode::NoMessagePlaceholders,
                    file,
                    setting.span,
                    format!("the message of rule `{}` names none of the claim's values", rule.id.value),
                )
                .with_label("no `{...}` placeholder")
                .with_help("name the claim's own values so the biller sees which line: `{line.code}`, `{line.units}`"),
            );
        }
    }
}

fn quoted(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn single_modifier(rule: &RuleDef) -> bool {
    rule.settings.iter().any(|s| match &s.kind {
        SettingKind::ModifiersRequired(expr) => {
            expr.rest.is_empty()
                && matches!(&expr.first, SetTerm::Literal { elements, .. } if elements.len() == 1)
        }
        _ => false,
    })
}

fn fix_codes(fix: &Fix) -> Vec<&Text> {
    match fix {
        Fix::AddModifier(Some(code)) | Fix::RemoveModifier(code) => vec![code],
        Fix::ReplaceModifier { from, to } => vec![from, to],
        _ => Vec::new(),
    }
}

/// The scope a rule's conditions and messages see: general rules say it,
/// the other families judge lines.
pub fn rule_scope(rule: &RuleDef) -> Scope {
    rule.settings
        .iter()
        .find_map(|s| match s.kind {
            SettingKind::For(scope) => Some(scope),
            _ => None,
        })
        .unwrap_or(Scope::Line)
}

fn is_carc(text: &str) -> bool {
    let digits = text.trim_start_matches(|c: char| c.is_ascii_uppercase());
    let letters = text.len() - digits.len();
    letters <= 1 && (1..=3).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

fn is_rarc(text: &str) -> bool {
    let digits = text.trim_start_matches(|c: char| c.is_ascii_uppercase());
    let prefix = text.get(..text.len() - digits.len()).unwrap_or_default();
    matches!(prefix, "M" | "N" | "MA")
        && (1..=4).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denial_code_formats() {
        assert!(is_carc("236") && is_carc("4") && is_carc("B7"));
        assert!(!is_carc("CO236") && !is_carc("2366") && !is_carc(""));
        assert!(is_rarc("N362") && is_rarc("MA130") && is_rarc("M80"));
        assert!(!is_rarc("X12") && !is_rarc("N") && !is_rarc("362"));
    }
}
