//! From pest pairs to the typed syntax tree.
//!
//! The grammar has already accepted the shape, so a pair that is not what the
//! grammar promises is a bug in this file; it is reported as an internal
//! diagnostic, never a panic. Values the grammar cannot judge (a calendar date
//! that does not exist, a number too large) become diagnostics here.

use pest::iterators::{Pair, Pairs};

use super::ast::*;
use super::parser::Rule;
use crate::diagnostics::{Diagnostic, DiagnosticCode};
use crate::source::FileId;
use crate::Date;

pub(super) struct Builder {
    pub file: FileId,
    /// Added to every pest position: the chunk's offset in the file.
    pub offset: usize,
    pub diagnostics: Vec<Diagnostic>,
}

type Built<T> = Result<T, ()>;

impl Builder {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let span = pair.as_span();
        Span::new(span.start() + self.offset, span.end() + self.offset)
    }

    fn text(&self, pair: &Pair<'_, Rule>) -> Text {
        Spanned::new(pair.as_str().to_owned(), self.span(pair))
    }

    /// A pair the grammar guarantees is missing: a bug here, said plainly.
    fn internal(&mut self, span: Span, what: &str) {
        self.diagnostics.push(
            Diagnostic::new(
                DiagnosticCode::Internal,
                self.file,
                span,
                format!("internal error: the parser did not expect {what} here"),
            )
            .with_help("this is a bug in ppl; please report it with the policy file"),
        );
    }

    fn next<'i>(
        &mut self,
        pairs: &mut Pairs<'i, Rule>,
        parent: Span,
        what: &str,
    ) -> Built<Pair<'i, Rule>> {
        match pairs.next() {
            Some(pair) => Ok(pair),
            None => {
                self.internal(parent, what);
                Err(())
            }
        }
    }

    /// The next pair, skipping keyword tokens (they carry no information).
    fn next_value<'i>(
        &mut self,
        pairs: &mut Pairs<'i, Rule>,
        parent: Span,
        what: &str,
    ) -> Built<Pair<'i, Rule>> {
        loop {
            let pair = self.next(pairs, parent, what)?;
            if !is_keyword(pair.as_rule()) {
                return Ok(pair);
            }
        }
    }

    pub fn file(&mut self, pair: Pair<'_, Rule>) -> Built<(Option<Header>, Vec<Item>)> {
        let mut header = None;
        let mut items = Vec::new();
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::header => header = Some(self.header(child)?),
                Rule::EOI => {}
                _ => {
                    if let Ok(item) = self.item(child) {
                        items.push(item);
                    }
                }
            }
        }
        Ok((header, items))
    }

    fn header(&mut self, pair: Pair<'_, Rule>) -> Built<Header> {
        let span = self.span(&pair);
        let inner = self.next(&mut pair.into_inner(), span, "a header")?;
        let kind = match inner.as_rule() {
            Rule::payer_header => HeaderKind::Payer,
            _ => HeaderKind::Library,
        };
        let mut parts = inner.into_inner();
        let id = self.next_value(&mut parts, span, "a policy id")?;
        let id = self.text(&id);
        let name = parts.next().map(|name| self.string(name));
        Ok(Header {
            kind,
            id,
            name,
            span,
        })
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Built<Item> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut parts = pair.into_inner();
        let kind = match rule {
            Rule::extends_item => {
                let id = self.next_value(&mut parts, span, "a policy id")?;
                ItemKind::Extends(self.text(&id))
            }
            Rule::include_item => {
                let id = self.next_value(&mut parts, span, "a policy id")?;
                ItemKind::Include(self.text(&id))
            }
            Rule::plan_item => {
                let id = self.next_value(&mut parts, span, "a plan id")?;
                let name = self.next_value(&mut parts, span, "a plan name")?;
                ItemKind::Plan {
                    id: self.text(&id),
                    name: self.string(name),
                }
            }
            Rule::codeset_item => ItemKind::CodeSet(self.codeset(parts, span)?),
            Rule::const_item => ItemKind::Const(self.constant(parts, span)?),
            Rule::table_item => ItemKind::Table(self.table(parts, span)?),
            Rule::rule_item | Rule::override_item => {
                let body = self.next_value(&mut parts, span, "a rule body")?;
                ItemKind::Rule(self.rule(body, rule == Rule::override_item, span)?)
            }
            Rule::remove_item => {
                let id = self.next_value(&mut parts, span, "a rule id")?;
                ItemKind::Remove(self.text(&id))
            }
            _ => {
                self.internal(span, "this item");
                return Err(());
            }
        };
        Ok(Item { kind, span })
    }

    fn codeset(&mut self, mut parts: Pairs<'_, Rule>, span: Span) -> Built<CodeSetDef> {
        let name = self.next_value(&mut parts, span, "a code set name")?;
        let kind_pair = self.next_value(&mut parts, span, "a code kind")?;
        let kind_span = self.span(&kind_pair);
        let kind = match kind_pair.into_inner().next().map(|p| p.as_rule()) {
            Some(Rule::kw_procedure) => CodeKind::Procedure,
            Some(Rule::kw_diagnosis) => CodeKind::Diagnosis,
            Some(Rule::kw_modifier) => CodeKind::Modifier,
            _ => CodeKind::Place,
        };
        let mut next = self.next_value(&mut parts, span, "a code set")?;
        let mut effective = Effective::default();
        if next.as_rule() == Rule::effective {
            effective = self.effective(next);
            next = self.next_value(&mut parts, span, "a code set")?;
        }
        Ok(CodeSetDef {
            name: self.text(&name),
            kind: Spanned::new(kind, kind_span),
            effective,
            expr: self.set_expr(next)?,
        })
    }

    fn constant(&mut self, mut parts: Pairs<'_, Rule>, span: Span) -> Built<ConstDef> {
        let name = self.next_value(&mut parts, span, "a constant name")?;
        let ty_pair = self.next_value(&mut parts, span, "a type")?;
        let ty_span = self.span(&ty_pair);
        let ty = match ty_pair.into_inner().next().map(|p| p.as_rule()) {
            Some(Rule::kw_minutes) => ValueType::Minutes,
            Some(Rule::kw_units) => ValueType::Units,
            Some(Rule::kw_dollars) => ValueType::Dollars,
            Some(Rule::kw_days) => ValueType::Days,
            Some(Rule::kw_weeks) => ValueType::Weeks,
            Some(Rule::kw_visits) => ValueType::Visits,
            Some(Rule::kw_count) => ValueType::Count,
            Some(Rule::kw_date) => ValueType::Date,
            Some(Rule::kw_text) => ValueType::Text,
            _ => ValueType::Flag,
        };
        let mut next = self.next_value(&mut parts, span, "a value")?;
        let mut effective = Effective::default();
        if next.as_rule() == Rule::effective {
            effective = self.effective(next);
            next = self.next_value(&mut parts, span, "a value")?;
        }
        Ok(ConstDef {
            name: self.text(&name),
            ty: Spanned::new(ty, ty_span),
            effective,
            value: self.literal(next)?,
        })
    }

    fn table(&mut self, mut parts: Pairs<'_, Rule>, span: Span) -> Built<TableDef> {
        let name = self.next_value(&mut parts, span, "a table name")?;
        let kind_pair = self.next_value(&mut parts, span, "a table kind")?;
        let kind_span = self.span(&kind_pair);
        let kind = match kind_pair.into_inner().next().map(|p| p.as_rule()) {
            Some(Rule::kw_ptp) => TableKind::Ptp,
            _ => TableKind::Mue,
        };
        let mut next = self.next_value(&mut parts, span, "a table source")?;
        let mut effective = Effective::default();
        if next.as_rule() == Rule::effective {
            effective = self.effective(next);
            next = self.next_value(&mut parts, span, "a table source")?;
        }
        let source_span = self.span(&next);
        let source = self.next(&mut next.into_inner(), source_span, "a table source")?;
        let source = match source.as_rule() {
            Rule::table_file => TableSource::File(
                source
                    .into_inner()
                    .filter(|part| part.as_rule() == Rule::string)
                    .map(|path| self.string(path))
                    .collect(),
            ),
            _ => {
                let mut rows = Vec::new();
                for row in source.into_inner() {
                    if let Ok(row) = self.table_row(row) {
                        rows.push(row);
                    }
                }
                TableSource::Rows(rows)
            }
        };
        Ok(TableDef {
            name: self.text(&name),
            kind: Spanned::new(kind, kind_span),
            effective,
            source,
        })
    }

    fn table_row(&mut self, pair: Pair<'_, Rule>) -> Built<TableRow> {
        let span = self.span(&pair);
        let row = self.next(&mut pair.into_inner(), span, "a table row")?;
        let rule = row.as_rule();
        let mut parts = row.into_inner().filter(|p| !is_keyword(p.as_rule()));
        let mut take = |builder: &mut Self, what: &str| match parts.next() {
            Some(pair) => Ok(pair),
            None => {
                builder.internal(span, what);
                Err(())
            }
        };
        if rule == Rule::ptp_row {
            let column_one = take(self, "a column one code")?;
            let column_two = take(self, "a column two code")?;
            let indicator = take(self, "a modifier indicator")?;
            let effective = match take(self, "") {
                Ok(pair) => self.effective(pair),
                Err(()) => {
                    self.diagnostics.pop();
                    Effective::default()
                }
            };
            Ok(TableRow::Ptp {
                column_one: self.text(&column_one),
                column_two: self.text(&column_two),
                indicator: self.integer(&indicator)?,
                effective,
                span,
            })
        } else {
            let code = take(self, "a code")?;
            let max_units = take(self, "a maximum")?;
            let mut adjudication = None;
            let mut effective = Effective::default();
            for rest in [take(self, ""), take(self, "")] {
                match rest {
                    Ok(pair) if pair.as_rule() == Rule::integer => {
                        adjudication = Some(self.integer(&pair)?)
                    }
                    Ok(pair) => effective = self.effective(pair),
                    Err(()) => {
                        self.diagnostics.pop();
                    }
                }
            }
            Ok(TableRow::Mue {
                code: self.text(&code),
                max_units: self.integer(&max_units)?,
                adjudication,
                effective,
                span,
            })
        }
    }

    fn effective(&mut self, pair: Pair<'_, Rule>) -> Effective {
        let span = self.span(&pair);
        let mut effective = Effective {
            span,
            ..Effective::default()
        };
        for part in pair.into_inner() {
            let rule = part.as_rule();
            let Some(date) = part.into_inner().find(|p| p.as_rule() == Rule::date) else {
                continue;
            };
            let date = self.date(&date);
            match rule {
                Rule::from_date => effective.from = date,
                _ => effective.through = date,
            }
        }
        effective
    }

    fn date(&mut self, pair: &Pair<'_, Rule>) -> Option<Spanned<Date>> {
        let span = self.span(pair);
        match parse_date(pair.as_str()) {
            Some(date) => Some(Spanned::new(date, span)),
            None => {
                self.diagnostics.push(
                    Diagnostic::new(
                        DiagnosticCode::InvalidDate,
                        self.file,
                        span,
                        format!("`{}` is not a calendar date", pair.as_str()),
                    )
                    .with_label("no such day")
                    .with_help("dates are written YYYY-MM-DD, for example `2026-01-01`"),
                );
                None
            }
        }
    }

    fn integer(&mut self, pair: &Pair<'_, Rule>) -> Built<Spanned<u64>> {
        let span = self.span(pair);
        match pair.as_str().parse::<u64>() {
            Ok(value) if value <= MAX_NUMBER => Ok(Spanned::new(value, span)),
            _ => {
                self.diagnostics.push(
                    Diagnostic::new(
                        DiagnosticCode::NumberTooLarge,
                        self.file,
                        span,
                        format!("`{}` is too large", pair.as_str()),
                    )
                    .with_label("too large")
                    .with_help(format!("numbers in a policy are at most {MAX_NUMBER}")),
                );
                Err(())
            }
        }
    }

    fn string(&mut self, pair: Pair<'_, Rule>) -> Text {
        let span = self.span(&pair);
        let raw = pair.into_inner().next().map_or("", |text| text.as_str());
        Spanned::new(unescape(raw), span)
    }

    fn literal(&mut self, pair: Pair<'_, Rule>) -> Built<Spanned<Literal>> {
        let span = self.span(&pair);
        let inner = self.next(&mut pair.into_inner(), span, "a value")?;
        let value = match inner.as_rule() {
            Rule::integer => Literal::Integer(self.integer(&inner)?.value),
            Rule::quantity => {
                let mut parts = inner.into_inner();
                let number = self.next(&mut parts, span, "a number")?;
                let number = self.integer(&number)?.value;
                let unit = self.next(&mut parts, span, "a unit")?;
                let unit = match unit.into_inner().next().map(|p| p.as_rule()) {
                    Some(Rule::kw_minutes) => QuantityUnit::Minutes,
                    Some(Rule::kw_units) => QuantityUnit::Units,
                    Some(Rule::kw_days) => QuantityUnit::Days,
                    Some(Rule::kw_weeks) => QuantityUnit::Weeks,
                    _ => QuantityUnit::Visits,
                };
                Literal::Quantity(number, unit)
            }
            Rule::money => match parse_money(inner.as_str()) {
                Some(cents) => Literal::Money(cents),
                None => {
                    self.diagnostics.push(
                        Diagnostic::new(
                            DiagnosticCode::NumberTooLarge,
                            self.file,
                            span,
                            format!("`{}` is too large", inner.as_str()),
                        )
                        .with_label("too large"),
                    );
                    return Err(());
                }
            },
            Rule::date => match self.date(&inner) {
                Some(date) => Literal::Date(date.value),
                None => return Err(()),
            },
            Rule::string => Literal::Text(self.string(inner).value),
            Rule::boolean => {
                Literal::Flag(inner.into_inner().next().map(|p| p.as_rule()) == Some(Rule::kw_true))
            }
            _ => {
                self.internal(span, "this value");
                return Err(());
            }
        };
        Ok(Spanned::new(value, span))
    }

    fn set_expr(&mut self, pair: Pair<'_, Rule>) -> Built<SetExpr> {
        let span = self.span(&pair);
        let mut parts = pair.into_inner();
        let first = self.next(&mut parts, span, "a code set")?;
        let first = self.set_term(first)?;
        let mut rest = Vec::new();
        while let Some(op) = parts.next() {
            let op = match op.into_inner().next().map(|p| p.as_rule()) {
                Some(Rule::kw_except) => SetOp::Except,
                _ => SetOp::Union,
            };
            let term = self.next(&mut parts, span, "a code set")?;
            rest.push((op, self.set_term(term)?));
        }
        Ok(SetExpr { first, rest, span })
    }

    fn set_term(&mut self, pair: Pair<'_, Rule>) -> Built<SetTerm> {
        let span = self.span(&pair);
        let inner = self.next(&mut pair.into_inner(), span, "a code set")?;
        if inner.as_rule() == Rule::name {
            return Ok(SetTerm::Name(self.text(&inner)));
        }
        let span = self.span(&inner);
        let mut elements = Vec::new();
        for element in inner.into_inner() {
            let element_span = self.span(&element);
            let Some(value) = element.into_inner().next() else {
                self.internal(element_span, "an empty set element");
                continue;
            };
            if value.as_rule() == Rule::code_range {
                let mut ends = value.into_inner();
                let low = self.next(&mut ends, element_span, "a range start")?;
                let high = self.next(&mut ends, element_span, "a range end")?;
                elements.push(SetElement::Range {
                    low: self.text(&low),
                    high: self.text(&high),
                });
            } else {
                elements.push(SetElement::Code(self.text(&value)));
            }
        }
        Ok(SetTerm::Literal { elements, span })
    }

    fn word_list(&mut self, pair: Pair<'_, Rule>) -> Vec<Text> {
        pair.into_inner().map(|word| self.text(&word)).collect()
    }

    fn rule(&mut self, pair: Pair<'_, Rule>, is_override: bool, span: Span) -> Built<RuleDef> {
        let mut parts = pair.into_inner();
        let id = self.next_value(&mut parts, span, "a rule id")?;
        let family_pair = self.next_value(&mut parts, span, "a rule family")?;
        let family_span = self.span(&family_pair);
        let family = match family_pair.into_inner().next().map(|p| p.as_rule()) {
            Some(Rule::kw_units) => Family::Units,
            Some(Rule::kw_pairing) => Family::Pairing,
            Some(Rule::kw_prior_auth) => Family::PriorAuth,
            Some(Rule::kw_telehealth) => Family::Telehealth,
            Some(Rule::kw_documentation) => Family::Documentation,
            Some(Rule::kw_provider) => Family::Provider,
            Some(Rule::kw_medical_necessity) => Family::MedicalNecessity,
            _ => Family::General,
        };
        let mut effective = Effective::default();
        let mut settings = Vec::new();
        for part in parts {
            match part.as_rule() {
                Rule::effective => effective = self.effective(part),
                _ => {
                    if let Ok(setting) = self.setting(part) {
                        settings.push(setting);
                    }
                }
            }
        }
        Ok(RuleDef {
            id: self.text(&id),
            family: Spanned::new(family, family_span),
            effective,
            settings,
            is_override,
            span,
        })
    }

    fn setting(&mut self, pair: Pair<'_, Rule>) -> Built<Setting> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        if rule == Rule::unknown_setting {
            let name = self.next(&mut pair.into_inner(), span, "a setting name")?;
            return Ok(Setting {
                kind: SettingKind::Unknown(self.text(&name)),
                span,
            });
        }
        let mut parts = pair.into_inner();
        let kind = match rule {
            Rule::category_setting => {
                let value = self.next_value(&mut parts, span, "a category")?;
                SettingKind::Category(category(&value))
            }
            Rule::severity_setting => {
                let value = self.next_value(&mut parts, span, "a severity")?;
                SettingKind::Severity(match value.into_inner().next().map(|p| p.as_rule()) {
                    Some(Rule::kw_deny) => Severity::Deny,
                    Some(Rule::kw_warn) => Severity::Warn,
                    _ => Severity::Info,
                })
            }
            Rule::message_setting => {
                let value = self.next_value(&mut parts, span, "a message")?;
                SettingKind::Message(self.template(value))
            }
            Rule::help_setting => {
                let value = self.next_value(&mut parts, span, "help text")?;
                SettingKind::Help(self.string(value).value)
            }
            Rule::cite_setting => {
                let value = self.next_value(&mut parts, span, "a citation")?;
                SettingKind::Cite(self.string(value).value)
            }
            Rule::carc_setting => {
                let value = self.next_value(&mut parts, span, "a CARC")?;
                SettingKind::Carc(self.text(&value))
            }
            Rule::rarc_setting => {
                let value = self.next_value(&mut parts, span, "a RARC")?;
                SettingKind::Rarc(self.text(&value))
            }
            Rule::fix_setting => {
                let fix = self.next_value(&mut parts, span, "a fix")?;
                let fix = self.next(&mut fix.into_inner(), span, "a fix")?;
                let fix_rule = fix.as_rule();
                let mut codes = fix.into_inner().filter(|p| p.as_rule() == Rule::code);
                let first = codes.next().map(|code| self.text(&code));
                let second = codes.next().map(|code| self.text(&code));
                SettingKind::Fix(match (fix_rule, first, second) {
                    (Rule::fix_add, modifier, _) => Fix::AddModifier(modifier),
                    (Rule::fix_remove, Some(modifier), _) => Fix::RemoveModifier(modifier),
                    (Rule::fix_replace, Some(from), Some(to)) => Fix::ReplaceModifier { from, to },
                    (Rule::fix_set_units, _, _) => Fix::SetUnits,
                    _ => {
                        self.internal(span, "this fix");
                        return Err(());
                    }
                })
            }
            Rule::codes_setting => SettingKind::Codes(self.setting_set(parts, span)?),
            Rule::places_setting => SettingKind::Places(self.setting_set(parts, span)?),
            Rule::bypass_setting => SettingKind::Bypass(self.setting_set(parts, span)?),
            Rule::modifiers_required_setting => {
                SettingKind::ModifiersRequired(self.setting_set(parts, span)?)
            }
            Rule::modifiers_accepted_setting => {
                SettingKind::ModifiersAccepted(self.setting_set(parts, span)?)
            }
            Rule::supported_by_setting => SettingKind::SupportedBy(self.setting_set(parts, span)?),
            Rule::excluded_by_setting => SettingKind::ExcludedBy(self.setting_set(parts, span)?),
            Rule::plans_setting => SettingKind::Plans(self.setting_words(parts, span)?),
            Rule::verify_setting => SettingKind::Verify(self.setting_words(parts, span)?),
            Rule::disciplines_setting => SettingKind::Disciplines(self.setting_words(parts, span)?),
            Rule::roles_setting => SettingKind::Roles(self.setting_words(parts, span)?),
            Rule::must_have_setting => SettingKind::MustHave(self.setting_words(parts, span)?),
            Rule::method_setting => {
                let value = self.next_value(&mut parts, span, "a unit method")?;
                SettingKind::Method(match value.into_inner().next().map(|p| p.as_rule()) {
                    Some(Rule::kw_total_time) => UnitMethod::TotalTime,
                    Some(Rule::kw_midpoint) => UnitMethod::Midpoint,
                    _ => UnitMethod::Blocks,
                })
            }
            Rule::daily_cap_setting => {
                let value = self.next_value(&mut parts, span, "a daily cap")?;
                if value.as_rule() == Rule::name {
                    SettingKind::DailyCapTable(self.text(&value))
                } else {
                    SettingKind::DailyCap(self.literal(value)?)
                }
            }
            Rule::visit_cap_setting => {
                let value = self.next_value(&mut parts, span, "a visit cap")?;
                SettingKind::VisitCap(self.literal(value)?)
            }
            Rule::table_setting => {
                let value = self.next_value(&mut parts, span, "a table name")?;
                SettingKind::Table(self.text(&value))
            }
            Rule::required_setting => {
                let value = self.next(&mut parts, span, "a requirement")?;
                let value = if is_keyword(value.as_rule()) && value.as_rule() == Rule::kw_required {
                    self.next(&mut parts, span, "a requirement")?
                } else {
                    value
                };
                if value.as_rule() == Rule::kw_always {
                    SettingKind::Required(Requirement::Always)
                } else {
                    let mut numbers = value.into_inner().filter(|p| p.as_rule() == Rule::integer);
                    let visits = match numbers.next() {
                        Some(visits) => self.integer(&visits)?,
                        None => {
                            self.internal(span, "a requirement without a visit count");
                            return Err(());
                        }
                    };
                    let within_weeks = match numbers.next() {
                        Some(weeks) => Some(self.integer(&weeks)?),
                        None => None,
                    };
                    SettingKind::Required(Requirement::AfterVisits {
                        visits,
                        within_weeks,
                    })
                }
            }
            Rule::audio_only_setting => {
                let value = self.next(&mut parts, span, "`allowed` or `denied`")?;
                let value = if value.as_rule() == Rule::kw_audio_only {
                    self.next(&mut parts, span, "`allowed` or `denied`")?
                } else {
                    value
                };
                SettingKind::AudioOnly(value.as_rule() == Rule::kw_allowed)
            }
            Rule::window_setting => {
                let value = self.next_value(&mut parts, span, "a date window")?;
                SettingKind::Window(self.effective(value))
            }
            Rule::plan_of_care_setting => {
                let value = self.next(&mut parts, span, "a plan of care requirement")?;
                let value = if value.as_rule() == Rule::kw_plan_of_care {
                    self.next(&mut parts, span, "a plan of care requirement")?
                } else {
                    value
                };
                if value.as_rule() == Rule::kw_current {
                    SettingKind::PlanOfCareCurrent
                } else {
                    let literal =
                        self.next_value(&mut value.into_inner(), span, "a number of days")?;
                    SettingKind::PlanOfCareCertifiedWithin(self.literal(literal)?)
                }
            }
            Rule::progress_report_setting => {
                let value = self.next_value(&mut parts, span, "a number of visits")?;
                SettingKind::ProgressReportWithin(self.literal(value)?)
            }
            Rule::discipline_modifiers_setting | Rule::assistant_modifiers_setting => {
                let map = self.next_value(&mut parts, span, "a modifier list")?;
                let mut pairs = Vec::new();
                for pair in map.into_inner() {
                    let pair_span = self.span(&pair);
                    let mut sides = pair.into_inner();
                    let discipline = self.next(&mut sides, pair_span, "a discipline")?;
                    let modifier = self.next(&mut sides, pair_span, "a modifier")?;
                    pairs.push((self.text(&discipline), self.text(&modifier)));
                }
                if rule == Rule::discipline_modifiers_setting {
                    SettingKind::DisciplineModifiers(pairs)
                } else {
                    SettingKind::AssistantModifiers(pairs)
                }
            }
            Rule::for_setting => {
                let value = self.next_value(&mut parts, span, "a scope")?;
                SettingKind::For(match value.into_inner().next().map(|p| p.as_rule()) {
                    Some(Rule::kw_claim) => Scope::Claim,
                    Some(Rule::kw_visit) => Scope::Visit,
                    _ => Scope::Line,
                })
            }
            Rule::when_setting => {
                let value = self.next_value(&mut parts, span, "a condition")?;
                SettingKind::When(self.expr(value)?)
            }
            Rule::require_setting => {
                let value = self.next_value(&mut parts, span, "a condition")?;
                SettingKind::Require(self.expr(value)?)
            }
            _ => {
                self.internal(span, "this setting");
                return Err(());
            }
        };
        Ok(Setting { kind, span })
    }

    fn setting_set(&mut self, mut parts: Pairs<'_, Rule>, span: Span) -> Built<SetExpr> {
        let value = self.next_value(&mut parts, span, "a code set")?;
        self.set_expr(value)
    }

    fn setting_words(&mut self, mut parts: Pairs<'_, Rule>, span: Span) -> Built<Vec<Text>> {
        let value = self.next_value(&mut parts, span, "a list")?;
        Ok(self.word_list(value))
    }

    /// A message with `{field}` placeholders; `{{` and `}}` are literal braces.
    fn template(&mut self, pair: Pair<'_, Rule>) -> Template {
        let span = self.span(&pair);
        let raw = pair.into_inner().next().map_or("", |text| text.as_str());
        // The raw text starts one byte after the opening quote.
        let base = span.start + 1;
        let mut placeholders = Vec::new();
        let bytes = raw.as_bytes();
        let mut at = 0;
        while let Some(&byte) = bytes.get(at) {
            match byte {
                b'{' if bytes.get(at + 1) == Some(&b'{') => at += 2,
                b'}' if bytes.get(at + 1) == Some(&b'}') => at += 2,
                b'{' => {
                    match raw.get(at + 1..).and_then(|rest| rest.find('}')) {
                        Some(length) => {
                            let name = raw.get(at + 1..at + 1 + length).unwrap_or_default();
                            let name_span = Span::new(base + at + 1, base + at + 1 + length);
                            placeholders.push(Spanned::new(name.trim().to_owned(), name_span));
                            at += length + 2;
                        }
                        None => {
                            self.diagnostics.push(
                            Diagnostic::new(
                                DiagnosticCode::BadTemplate,
                                self.file,
                                Span::new(base + at, base + at + 1),
                                "this `{` is never closed",
                            )
                            .with_label("opened here")
                            .with_help("close the placeholder with `}`, or write `{{` for a literal brace"),
                        );
                            break;
                        }
                    }
                }
                b'}' => {
                    self.diagnostics.push(
                        Diagnostic::new(
                            DiagnosticCode::BadTemplate,
                            self.file,
                            Span::new(base + at, base + at + 1),
                            "this `}` closes nothing",
                        )
                        .with_label("unmatched")
                        .with_help("write `}}` for a literal brace"),
                    );
                    at += 1;
                }
                _ => at += 1,
            }
        }
        Template {
            text: unescape(raw),
            placeholders,
        }
    }

    fn expr(&mut self, pair: Pair<'_, Rule>) -> Built<Expr> {
        self.expr_with_depth(pair).map(|(expr, _)| expr)
    }

    /// Refuses a condition whose tree would be deeper than [`MAX_EXPR_DEPTH`]:
    /// later stages walk trees recursively, so depth must stay small.
    fn within_depth(&mut self, depth: usize, span: Span) -> Built<usize> {
        if depth <= MAX_EXPR_DEPTH {
            return Ok(depth);
        }
        self.diagnostics.push(
            Diagnostic::new(
                DiagnosticCode::NestingTooDeep,
                self.file,
                span,
                format!("this condition is nested more than {MAX_EXPR_DEPTH} levels deep"),
            )
            .with_label("too deep")
            .with_help("split it into several rules, or name parts of it as code sets"),
        );
        Err(())
    }

    /// A condition and the depth of its tree.
    fn expr_with_depth(&mut self, pair: Pair<'_, Rule>) -> Built<(Expr, usize)> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let leaf = |kind| Ok((Expr { kind, span }, 1));
        match rule {
            Rule::literal => {
                let literal = self.literal(pair)?;
                return leaf(ExprKind::Literal(literal.value));
            }
            Rule::path => return leaf(ExprKind::Path(pair.as_str().to_owned())),
            _ => {}
        }
        let mut parts = pair.into_inner();
        let (kind, depth) = match rule {
            Rule::expr | Rule::and_expr | Rule::sum | Rule::product => {
                let first = self.next(&mut parts, span, "an operand")?;
                let (mut left, mut depth) = self.expr_with_depth(first)?;
                while let Some(operator) = parts.next() {
                    let operand = self.next(&mut parts, span, "an operand")?;
                    let (right, right_depth) = self.expr_with_depth(operand)?;
                    let joined = left.span.to(right.span);
                    depth = self.within_depth(depth.max(right_depth) + 1, joined)?;
                    let (left_box, right_box) = (Box::new(left), Box::new(right));
                    let kind = match (operator.as_rule(), operator.as_str()) {
                        (Rule::kw_or, _) => ExprKind::Or(left_box, right_box),
                        (Rule::kw_and, _) => ExprKind::And(left_box, right_box),
                        (_, "+") => ExprKind::Arith(ArithOp::Add, left_box, right_box),
                        (_, "-") => ExprKind::Arith(ArithOp::Sub, left_box, right_box),
                        _ => ExprKind::Arith(ArithOp::Mul, left_box, right_box),
                    };
                    left = Expr { kind, span: joined };
                }
                return Ok((left, depth));
            }
            Rule::not_expr => {
                let mut negations = 0usize;
                let mut operand = None;
                for part in parts {
                    if part.as_rule() == Rule::kw_not {
                        negations += 1;
                    } else {
                        operand = Some(part);
                    }
                }
                let Some(operand) = operand else {
                    self.internal(span, "`not` without a condition");
                    return Err(());
                };
                let (mut expr, depth) = self.expr_with_depth(operand)?;
                let depth = self.within_depth(depth + negations, span)?;
                for _ in 0..negations {
                    expr = Expr {
                        kind: ExprKind::Not(Box::new(expr)),
                        span,
                    };
                }
                return Ok((expr, depth));
            }
            Rule::comparison => {
                let first = self.next(&mut parts, span, "a value")?;
                let (left, left_depth) = self.expr_with_depth(first)?;
                let Some(tail) = parts.next() else {
                    return Ok((left, left_depth));
                };
                let tail_rule = tail.as_rule();
                let mut tail_parts = tail.into_inner();
                let operator = self.next(&mut tail_parts, span, "an operator")?;
                let operand = self.next(&mut tail_parts, span, "an operand")?;
                if tail_rule == Rule::membership {
                    let op = match operator.as_rule() {
                        Rule::kw_in => MembershipOp::In,
                        Rule::kw_not_in => MembershipOp::NotIn,
                        _ => MembershipOp::Includes,
                    };
                    let kind = ExprKind::Membership {
                        op,
                        value: Box::new(left),
                        set: self.set_expr(operand)?,
                    };
                    (kind, left_depth + 1)
                } else {
                    let op = match operator.as_str() {
                        "==" => CompareOp::Eq,
                        "!=" => CompareOp::Ne,
                        "<=" => CompareOp::Le,
                        ">=" => CompareOp::Ge,
                        "<" => CompareOp::Lt,
                        _ => CompareOp::Gt,
                    };
                    let (right, right_depth) = self.expr_with_depth(operand)?;
                    let kind = ExprKind::Compare(op, Box::new(left), Box::new(right));
                    (kind, left_depth.max(right_depth) + 1)
                }
            }
            Rule::atom => {
                let inner = self.next(&mut parts, span, "a value")?;
                if inner.as_rule() != Rule::expr {
                    return self.expr_with_depth(inner);
                }
                let (inner, depth) = self.expr_with_depth(inner)?;
                (ExprKind::Group(Box::new(inner)), depth + 1)
            }
            Rule::aggregate => {
                let function = self.next(&mut parts, span, "`count` or `sum`")?;
                let function = if function.as_rule() == Rule::kw_count {
                    Aggregate::Count
                } else {
                    Aggregate::Sum
                };
                let path = self.next(&mut parts, span, "a list")?;
                let path = self.text(&path);
                let (filter, depth) = match parts.find(|p| p.as_rule() == Rule::expr) {
                    Some(filter) => {
                        let (filter, depth) = self.expr_with_depth(filter)?;
                        (Some(Box::new(filter)), depth + 1)
                    }
                    None => (None, 1),
                };
                let kind = ExprKind::Aggregate {
                    function,
                    path,
                    filter,
                };
                (kind, depth)
            }
            Rule::present => {
                let path = self.next_value(&mut parts, span, "a claim field")?;
                (ExprKind::Present(self.text(&path)), 1)
            }
            _ => {
                self.internal(span, "this condition");
                return Err(());
            }
        };
        let depth = self.within_depth(depth, span)?;
        Ok((Expr { kind, span }, depth))
    }
}

/// How deep a condition's tree may be (a chain of 100 `and`s is 100 deep).
/// Far beyond any real policy; small enough for every stage's recursion.
pub const MAX_EXPR_DEPTH: usize = 100;

/// The biggest whole number a policy may write (units, visits, days, cents).
pub const MAX_NUMBER: u64 = 1_000_000_000_000;

fn is_keyword(rule: Rule) -> bool {
    format!("{rule:?}").starts_with("kw_")
}

fn category(pair: &Pair<'_, Rule>) -> Category {
    match pair.clone().into_inner().next().map(|p| p.as_rule()) {
        Some(Rule::kw_units) => Category::Units,
        Some(Rule::kw_pairing) => Category::Pairing,
        Some(Rule::kw_prior_auth) => Category::PriorAuth,
        Some(Rule::kw_telehealth) => Category::Telehealth,
        Some(Rule::kw_documentation) => Category::Documentation,
        Some(Rule::kw_provider) => Category::Provider,
        Some(Rule::kw_modifier) => Category::Modifier,
        Some(Rule::kw_medical_necessity) => Category::MedicalNecessity,
        Some(Rule::kw_coverage) => Category::Coverage,
        _ => Category::Other,
    }
}

/// `YYYY-MM-DD` to a date, if the day exists.
pub fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let year = parts.next()?.parse::<i16>().ok()?;
    let month = parts.next()?.parse::<i8>().ok()?;
    let day = parts.next()?.parse::<i8>().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Date::new(year, month, day).ok()
}

/// `$2,480.00` to cents.
fn parse_money(text: &str) -> Option<u64> {
    let digits = text.trim_start_matches('$').replace(',', "");
    let (dollars, cents) = match digits.split_once('.') {
        Some((dollars, cents)) => (dollars.parse::<u64>().ok()?, cents.parse::<u64>().ok()?),
        None => (digits.parse::<u64>().ok()?, 0),
    };
    let total = dollars.checked_mul(100)?.checked_add(cents)?;
    (total <= MAX_NUMBER).then_some(total)
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(escaped) = chars.next() {
                out.push(escaped);
            }
        } else {
            out.push(c);
        }
    }
    out
}
