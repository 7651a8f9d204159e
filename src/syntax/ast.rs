//! The typed syntax tree of a policy file.
//!
//! Every node carries a [`Span`]; spans compare equal to each other, so two
//! trees are equal when they say the same thing, wherever it was written (the
//! formatter's "never changes meaning" test relies on this).

use crate::Date;

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, Default, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl PartialEq for Span {
    /// Spans never make two nodes different.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start, span.len()).into()
    }
}

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

pub type Text = Spanned<String>;

/// One `.ppl` file: a payer policy or a shared library.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyFile {
    pub header: Header,
    pub items: Vec<Item>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderKind {
    Payer,
    Library,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub kind: HeaderKind,
    pub id: Text,
    pub name: Option<Text>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    Extends(Text),
    Include(Text),
    Plan { id: Text, name: Text },
    CodeSet(CodeSetDef),
    Const(ConstDef),
    Table(TableDef),
    Rule(RuleDef),
    Remove(Text),
}

/// `from DATE through DATE`, either end open.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Effective {
    pub from: Option<Spanned<Date>>,
    pub through: Option<Spanned<Date>>,
    pub span: Span,
}

impl Effective {
    pub fn is_always(&self) -> bool {
        self.from.is_none() && self.through.is_none()
    }

    /// Whether the dates are in force on `date`.
    pub fn contains(&self, date: Date) -> bool {
        self.from.as_ref().is_none_or(|from| from.value <= date)
            && self
                .through
                .as_ref()
                .is_none_or(|through| date <= through.value)
    }

    /// Whether two date ranges share at least one day.
    pub fn overlaps(&self, other: &Effective) -> bool {
        let starts_before_other_ends = match (&self.from, &other.through) {
            (Some(from), Some(through)) => from.value <= through.value,
            _ => true,
        };
        let other_starts_before_self_ends = match (&other.from, &self.through) {
            (Some(from), Some(through)) => from.value <= through.value,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_self_ends
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeKind {
    Procedure,
    Diagnosis,
    Modifier,
    Place,
}

impl CodeKind {
    pub fn keyword(self) -> &'static str {
        match self {
            CodeKind::Procedure => "procedure",
            CodeKind::Diagnosis => "diagnosis",
            CodeKind::Modifier => "modifier",
            CodeKind::Place => "place",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CodeSetDef {
    pub name: Text,
    pub kind: Spanned<CodeKind>,
    pub effective: Effective,
    pub expr: SetExpr,
}

/// `timed + [97150] except [97035]`: evaluated left to right.
#[derive(Clone, Debug, PartialEq)]
pub struct SetExpr {
    pub first: SetTerm,
    pub rest: Vec<(SetOp, SetTerm)>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    Union,
    Except,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SetTerm {
    Literal {
        elements: Vec<SetElement>,
        span: Span,
    },
    Name(Text),
}

impl SetTerm {
    pub fn span(&self) -> Span {
        match self {
            SetTerm::Literal { span, .. } => *span,
            SetTerm::Name(name) => name.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum SetElement {
    Code(Text),
    Range { low: Text, high: Text },
}

impl SetElement {
    pub fn span(&self) -> Span {
        match self {
            SetElement::Code(code) => code.span,
            SetElement::Range { low, high } => low.span.to(high.span),
        }
    }
}

/// The types a constant or a condition's value can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    Minutes,
    Units,
    Dollars,
    Days,
    Weeks,
    Visits,
    Count,
    Date,
    Text,
    Flag,
}

impl ValueType {
    pub fn keyword(self) -> &'static str {
        match self {
            ValueType::Minutes => "minutes",
            ValueType::Units => "units",
            ValueType::Dollars => "dollars",
            ValueType::Days => "days",
            ValueType::Weeks => "weeks",
            ValueType::Visits => "visits",
            ValueType::Count => "count",
            ValueType::Date => "date",
            ValueType::Text => "text",
            ValueType::Flag => "flag",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConstDef {
    pub name: Text,
    pub ty: Spanned<ValueType>,
    pub effective: Effective,
    pub value: Spanned<Literal>,
}

/// A literal value as written.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// A bare whole number: a count.
    Integer(u64),
    /// `8 minutes`, `4 units`, `30 days`, `8 weeks`, `10 visits`.
    Quantity(u64, QuantityUnit),
    /// `$2,480.00`, in cents.
    Money(u64),
    Date(Date),
    Text(String),
    Flag(bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuantityUnit {
    Minutes,
    Units,
    Days,
    Weeks,
    Visits,
}

impl QuantityUnit {
    pub fn value_type(self) -> ValueType {
        match self {
            QuantityUnit::Minutes => ValueType::Minutes,
            QuantityUnit::Units => ValueType::Units,
            QuantityUnit::Days => ValueType::Days,
            QuantityUnit::Weeks => ValueType::Weeks,
            QuantityUnit::Visits => ValueType::Visits,
        }
    }
}

impl Literal {
    pub fn value_type(&self) -> ValueType {
        match self {
            Literal::Integer(_) => ValueType::Count,
            Literal::Quantity(_, unit) => unit.value_type(),
            Literal::Money(_) => ValueType::Dollars,
            Literal::Date(_) => ValueType::Date,
            Literal::Text(_) => ValueType::Text,
            Literal::Flag(_) => ValueType::Flag,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    /// NCCI procedure-to-procedure edits.
    Ptp,
    /// Medically unlikely edits (daily unit caps).
    Mue,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TableDef {
    pub name: Text,
    pub kind: Spanned<TableKind>,
    pub effective: Effective,
    pub source: TableSource,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TableSource {
    /// Data files in the CMS layout, relative to the policy file, read as one
    /// table (CMS splits the practitioner PTP edits over four files).
    File(Vec<Text>),
    Rows(Vec<TableRow>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum TableRow {
    Ptp {
        column_one: Text,
        column_two: Text,
        indicator: Spanned<u64>,
        effective: Effective,
        span: Span,
    },
    Mue {
        code: Text,
        max_units: Spanned<u64>,
        adjudication: Option<Spanned<u64>>,
        effective: Effective,
        span: Span,
    },
}

impl TableRow {
    pub fn span(&self) -> Span {
        match self {
            TableRow::Ptp { span, .. } | TableRow::Mue { span, .. } => *span,
        }
    }
}

/// The requirement families of the language: each has its own settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    Units,
    Pairing,
    PriorAuth,
    Telehealth,
    Documentation,
    Provider,
    MedicalNecessity,
    General,
}

impl Family {
    pub const ALL: [Family; 8] = [
        Family::Units,
        Family::Pairing,
        Family::PriorAuth,
        Family::Telehealth,
        Family::Documentation,
        Family::Provider,
        Family::MedicalNecessity,
        Family::General,
    ];

    pub fn keyword(self) -> &'static str {
        match self {
            Family::Units => "units",
            Family::Pairing => "pairing",
            Family::PriorAuth => "prior_auth",
            Family::Telehealth => "telehealth",
            Family::Documentation => "documentation",
            Family::Provider => "provider",
            Family::MedicalNecessity => "medical_necessity",
            Family::General => "general",
        }
    }

    /// The report category a rule of this family has unless it says otherwise.
    pub fn default_category(self) -> Category {
        match self {
            Family::Units => Category::Units,
            Family::Pairing => Category::Pairing,
            Family::PriorAuth => Category::PriorAuth,
            Family::Telehealth => Category::Telehealth,
            Family::Documentation => Category::Documentation,
            Family::Provider => Category::Provider,
            Family::MedicalNecessity => Category::MedicalNecessity,
            Family::General => Category::Other,
        }
    }
}

/// The report contract's categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Units,
    Pairing,
    PriorAuth,
    Telehealth,
    Documentation,
    Provider,
    Modifier,
    MedicalNecessity,
    Coverage,
    Other,
}

impl Category {
    pub fn keyword(self) -> &'static str {
        match self {
            Category::Units => "units",
            Category::Pairing => "pairing",
            Category::PriorAuth => "prior_auth",
            Category::Telehealth => "telehealth",
            Category::Documentation => "documentation",
            Category::Provider => "provider",
            Category::Modifier => "modifier",
            Category::MedicalNecessity => "medical_necessity",
            Category::Coverage => "coverage",
            Category::Other => "other",
        }
    }
}

/// What a rule's finding means when it fires (`undetermined` is never written:
/// the evaluator gives it when a fact is missing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Deny,
    Warn,
    Info,
}

impl Severity {
    pub fn keyword(self) -> &'static str {
        match self {
            Severity::Deny => "deny",
            Severity::Warn => "warn",
            Severity::Info => "info",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleDef {
    pub id: Text,
    pub family: Spanned<Family>,
    pub effective: Effective,
    pub settings: Vec<Setting>,
    /// Written `override rule`: replaces every version of the inherited rule.
    pub is_override: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub kind: SettingKind,
    pub span: Span,
}

/// `{line.code}` placeholders in a message, with where each was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub text: String,
    pub placeholders: Vec<Text>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitMethod {
    /// CMS Pub 100-04 Ch. 5 §20.2: the day's total timed minutes set the units.
    TotalTime,
    /// AMA/CPT: each code on its own, a unit once the midpoint is passed.
    Midpoint,
    /// Plain 15-minute blocks: only whole blocks count.
    Blocks,
}

impl UnitMethod {
    pub fn keyword(self) -> &'static str {
        match self {
            UnitMethod::TotalTime => "total_time",
            UnitMethod::Midpoint => "midpoint",
            UnitMethod::Blocks => "blocks",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Fix {
    /// Without a modifier, the family supplies the expected one.
    AddModifier(Option<Text>),
    RemoveModifier(Text),
    ReplaceModifier {
        from: Text,
        to: Text,
    },
    SetUnits,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Claim,
    Visit,
    Line,
}

impl Scope {
    pub fn keyword(self) -> &'static str {
        match self {
            Scope::Claim => "claim",
            Scope::Visit => "visit",
            Scope::Line => "line",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Requirement {
    Always,
    AfterVisits {
        visits: Spanned<u64>,
        within_weeks: Option<Spanned<u64>>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum SettingKind {
    Category(Category),
    Severity(Severity),
    Message(Template),
    Help(String),
    Carc(Text),
    Rarc(Text),
    Cite(String),
    Fix(Fix),
    Codes(SetExpr),
    Plans(Vec<Text>),
    Places(SetExpr),
    Method(UnitMethod),
    DailyCapTable(Text),
    DailyCap(Spanned<Literal>),
    VisitCap(Spanned<Literal>),
    Table(Text),
    Bypass(SetExpr),
    Required(Requirement),
    Verify(Vec<Text>),
    ModifiersRequired(SetExpr),
    ModifiersAccepted(SetExpr),
    Disciplines(Vec<Text>),
    Roles(Vec<Text>),
    AudioOnly(bool),
    Window(Effective),
    MustHave(Vec<Text>),
    PlanOfCareCertifiedWithin(Spanned<Literal>),
    PlanOfCareCurrent,
    ProgressReportWithin(Spanned<Literal>),
    DisciplineModifiers(Vec<(Text, Text)>),
    AssistantModifiers(Vec<(Text, Text)>),
    SupportedBy(SetExpr),
    ExcludedBy(SetExpr),
    For(Scope),
    When(Expr),
    Require(Expr),
    /// A setting name the language does not have (the checker says which it has).
    Unknown(Text),
}

impl SettingKind {
    /// The setting's name as written in a policy (`plan_of_care` for both forms).
    pub fn key(&self) -> &'static str {
        match self {
            SettingKind::Category(_) => "category",
            SettingKind::Severity(_) => "severity",
            SettingKind::Message(_) => "message",
            SettingKind::Help(_) => "help",
            SettingKind::Carc(_) => "carc",
            SettingKind::Rarc(_) => "rarc",
            SettingKind::Cite(_) => "cite",
            SettingKind::Fix(_) => "fix",
            SettingKind::Codes(_) => "codes",
            SettingKind::Plans(_) => "plans",
            SettingKind::Places(_) => "places",
            SettingKind::Method(_) => "method",
            SettingKind::DailyCapTable(_) | SettingKind::DailyCap(_) => "daily_cap",
            SettingKind::VisitCap(_) => "visit_cap",
            SettingKind::Table(_) => "table",
            SettingKind::Bypass(_) => "bypass",
            SettingKind::Required(_) => "required",
            SettingKind::Verify(_) => "verify",
            SettingKind::ModifiersRequired(_) => "modifiers_required",
            SettingKind::ModifiersAccepted(_) => "modifiers_accepted",
            SettingKind::Disciplines(_) => "disciplines",
            SettingKind::Roles(_) => "roles",
            SettingKind::AudioOnly(_) => "audio_only",
            SettingKind::Window(_) => "window",
            SettingKind::MustHave(_) => "must_have",
            SettingKind::PlanOfCareCertifiedWithin(_) | SettingKind::PlanOfCareCurrent => {
                "plan_of_care"
            }
            SettingKind::ProgressReportWithin(_) => "progress_report",
            SettingKind::DisciplineModifiers(_) => "discipline_modifiers",
            SettingKind::AssistantModifiers(_) => "assistant_modifiers",
            SettingKind::SupportedBy(_) => "supported_by",
            SettingKind::ExcludedBy(_) => "excluded_by",
            SettingKind::For(_) => "for",
            SettingKind::When(_) => "when",
            SettingKind::Require(_) => "require",
            SettingKind::Unknown(_) => "",
        }
    }
}

/// Every setting name the language knows, for "did you mean".
pub const SETTING_KEYS: &[&str] = &[
    "category",
    "severity",
    "message",
    "help",
    "carc",
    "rarc",
    "cite",
    "fix",
    "codes",
    "plans",
    "places",
    "method",
    "daily_cap",
    "visit_cap",
    "table",
    "bypass",
    "required",
    "verify",
    "modifiers_required",
    "modifiers_accepted",
    "disciplines",
    "roles",
    "audio_only",
    "window",
    "must_have",
    "plan_of_care",
    "progress_report",
    "discipline_modifiers",
    "assistant_modifiers",
    "supported_by",
    "excluded_by",
    "for",
    "when",
    "require",
];

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
}

impl ArithOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MembershipOp {
    /// A code is in the set.
    In,
    /// A code is not in the set.
    NotIn,
    /// A list (modifiers, diagnoses) has at least one code of the set.
    Includes,
}

impl MembershipOp {
    pub fn keyword(self) -> &'static str {
        match self {
            MembershipOp::In => "in",
            MembershipOp::NotIn => "not in",
            MembershipOp::Includes => "includes",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    Count,
    Sum,
}

impl Aggregate {
    pub fn keyword(self) -> &'static str {
        match self {
            Aggregate::Count => "count",
            Aggregate::Sum => "sum",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// A claim field (`line.units`), a constant, or an enumerated value (`PT`).
    Path(String),
    /// `present(documentation.objective)`.
    Present(Text),
    /// `count(visit.lines where ...)`, `sum(visit.lines.minutes where ...)`.
    Aggregate {
        function: Aggregate,
        path: Text,
        filter: Option<Box<Expr>>,
    },
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Membership {
        op: MembershipOp,
        value: Box<Expr>,
        set: SetExpr,
    },
    /// Written in parentheses (kept so the formatter can keep them).
    Group(Box<Expr>),
}
