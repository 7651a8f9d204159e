//! Types of conditions and message placeholders: claim fields by the claim
//! contract, constants, and the operators that may combine them.

use super::schema::{self, Record, Ty, CLAIM, LINE, VISIT};
use super::{Checker, Namespace};
use crate::codeset::SetValue;
use crate::diagnostics::{did_you_mean, Diagnostic, DiagnosticCode};
use crate::source::FileId;
use crate::syntax::*;

/// What names a condition can see.
#[derive(Clone, Debug)]
pub struct Env {
    pub scope: Scope,
    /// `line` bound by `count(... where line...)` inside a claim or visit rule.
    pub bound_line: bool,
    /// `activity` bound by `count(documentation.activities where activity...)`.
    pub bound_activity: bool,
}

impl Env {
    pub fn rule(scope: Scope) -> Self {
        Self {
            scope,
            bound_line: false,
            bound_activity: false,
        }
    }

    fn line_visible(&self) -> bool {
        self.scope == Scope::Line || self.bound_line
    }

    fn visit_visible(&self) -> bool {
        self.scope != Scope::Claim
    }
}

pub struct ExprChecker<'c, 'w> {
    pub checker: &'c mut Checker<'w>,
    namespace: &'c Namespace,
    file: FileId,
}

/// A path resolved to a type, and the record of the list it went through (for
/// `sum(visit.lines.minutes where line...)`).
struct Resolution {
    ty: Ty,
    through_list: Option<&'static Record>,
}

impl<'c, 'w> ExprChecker<'c, 'w> {
    pub fn new(checker: &'c mut Checker<'w>, namespace: &'c Namespace, file: FileId) -> Self {
        Self {
            checker,
            namespace,
            file,
        }
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        self.checker.report(diagnostic);
    }

    fn mismatch(&mut self, span: Span, message: String, help: &str) {
        self.report(
            Diagnostic::new(DiagnosticCode::TypeMismatch, self.file, span, message)
                .with_label("types do not match")
                .with_help(help.to_owned()),
        );
    }

    /// A `{placeholder}` in a message: a claim field the rule can see.
    pub fn placeholder(&mut self, placeholder: &Text, env: &Env, extras: &[&str]) {
        let segments: Vec<&str> = placeholder.value.split('.').collect();
        if segments.iter().any(|segment| segment.is_empty()) {
            self.report(
                Diagnostic::new(
                    DiagnosticCode::UnknownField,
                    self.file,
                    placeholder.span,
                    format!("`{{{}}}` is not a claim field", placeholder.value),
                )
                .with_label("not a field")
                .with_help(
                    "placeholders name claim fields such as `{line.code}` or `{line.units}`",
                ),
            );
            return;
        }
        // A constant of the policy may be named too: `{kx_threshold_pt_slp}`.
        if let [name] = segments.as_slice() {
            if self.name_constant(name).is_some() {
                return;
            }
        }
        // An unknown field is reported by `resolve`.
        let _ = self.resolve(&segments, placeholder.span, env, extras);
    }

    /// The type of a condition, or `None` when an error was reported.
    pub fn expr(&mut self, expr: &Expr, env: &Env) -> Option<Ty> {
        match &expr.kind {
            ExprKind::Literal(literal) => Some(Ty::Value(literal.value_type())),
            ExprKind::Group(inner) => self.expr(inner, env),
            ExprKind::Path(path) => self.name(path, expr.span, env),
            ExprKind::Present(path) => {
                let segments: Vec<&str> = path.value.split('.').collect();
                self.path(&segments, path.span, env, &[])?;
                Some(Ty::Value(ValueType::Flag))
            }
            ExprKind::Not(inner) => {
                let ty = self.expr(inner, env)?;
                self.expect_flag(&ty, inner.span, "`not`");
                Some(Ty::Value(ValueType::Flag))
            }
            ExprKind::And(left, right) | ExprKind::Or(left, right) => {
                let word = if matches!(expr.kind, ExprKind::And(..)) {
                    "`and`"
                } else {
                    "`or`"
                };
                let left_ty = self.expr(left, env);
                let right_ty = self.expr(right, env);
                if let Some(ty) = left_ty {
                    self.expect_flag(&ty, left.span, word);
                }
                if let Some(ty) = right_ty {
                    self.expect_flag(&ty, right.span, word);
                }
                Some(Ty::Value(ValueType::Flag))
            }
            ExprKind::Compare(op, left, right) => self.compare(*op, left, right, env, expr.span),
            ExprKind::Arith(op, left, right) => {
                let left_ty = self.expr(left, env)?;
                let right_ty = self.expr(right, env)?;
                self.arith(*op, &left_ty, &right_ty, expr.span)
            }
            ExprKind::Membership { op, value, set } => {
                self.membership(*op, value, set, env, expr.span)
            }
            ExprKind::Aggregate {
                function,
                path,
                filter,
            } => self.aggregate(*function, path, filter.as_deref(), env),
        }
    }

    fn expect_flag(&mut self, ty: &Ty, span: Span, word: &str) {
        if *ty != Ty::Value(ValueType::Flag) {
            self.mismatch(
                span,
                format!(
                    "{word} needs a condition (true or false), found {}",
                    ty.describe()
                ),
                "compare the value with something, for example `line.units > 4 units`",
            );
        }
    }

    /// A bare name or dotted path in a condition: a claim field or a constant.
    /// The type of a constant named `name`, marking it used.
    fn name_constant(&mut self, name: &str) -> Option<Ty> {
        let defs = self.namespace.consts.get(name)?.clone();
        let mut ty = None;
        for def in defs {
            self.checker.used.insert(def);
            if let Some(Item {
                kind: ItemKind::Const(constant),
                ..
            }) = self.checker.item(def)
            {
                ty = Some(Ty::Value(constant.ty.value));
            }
        }
        ty
    }

    fn name(&mut self, path: &str, span: Span, env: &Env) -> Option<Ty> {
        if !path.contains('.') && self.namespace.consts.contains_key(path) {
            return self.name_constant(path);
        }
        let segments: Vec<&str> = path.split('.').collect();
        self.path(&segments, span, env, &[])
    }

    /// Resolves a claim field path, reporting unknown fields with "did you mean".
    fn path(&mut self, segments: &[&str], span: Span, env: &Env, extras: &[&str]) -> Option<Ty> {
        self.resolve(segments, span, env, extras)
            .map(|resolution| resolution.ty)
    }

    fn resolve(
        &mut self,
        segments: &[&str],
        span: Span,
        env: &Env,
        extras: &[&str],
    ) -> Option<Resolution> {
        match lookup(segments, span, env) {
            Ok(resolution) => Some(resolution),
            Err(error) => {
                let diagnostic = self.path_error(error, extras);
                self.report(diagnostic);
                None
            }
        }
    }

    fn path_error(&self, error: PathError, extras: &[&str]) -> Diagnostic {
        match error {
            PathError::NotHere { root, span } => {
                let help = if root == "line" {
                    "this rule is not `for line`: count or sum over lines instead, e.g. `count(visit.lines where line.code in [97535])`"
                } else {
                    "this rule is `for claim`: use `for visit` to judge each date of service"
                };
                Diagnostic::new(
                    DiagnosticCode::UnknownField,
                    self.file,
                    span,
                    format!("`{root}` is not available in this rule"),
                )
                .with_label(format!("no `{root}` here"))
                .with_help(help)
            }
            PathError::UnknownField {
                record,
                segment,
                span,
            } => {
                let mut known: Vec<&str> = record.names().collect();
                let is_claim = std::ptr::eq(record, &CLAIM);
                if is_claim {
                    known.extend(["line", "visit"]);
                    known.extend(extras.iter().copied());
                    known.extend(self.namespace.consts.keys().map(String::as_str));
                }
                let help = did_you_mean(&segment, known.iter().copied()).unwrap_or_else(|| {
                    format!(
                        "`{}` has: {}",
                        record.name,
                        record.names().collect::<Vec<_>>().join(", ")
                    )
                });
                let what = if is_claim {
                    "the claim".to_owned()
                } else {
                    format!("`{}`", record.name)
                };
                Diagnostic::new(
                    DiagnosticCode::UnknownField,
                    self.file,
                    span,
                    format!("{what} has no field `{segment}`"),
                )
                .with_label("unknown field")
                .with_help(help)
            }
            PathError::NoFields { segment, ty, span } => {
                let (message, help) = match ty {
                    Ty::List(_) => (
                        format!("`{segment}` is a list of values, with no fields"),
                        "use `includes` to ask whether a list has a code",
                    ),
                    other => (
                        format!("`{segment}` is {}, with no fields", other.describe()),
                        "end the path here",
                    ),
                };
                Diagnostic::new(DiagnosticCode::UnknownField, self.file, span, message)
                    .with_label("no fields here")
                    .with_help(help)
            }
        }
    }

    fn compare(
        &mut self,
        op: CompareOp,
        left: &Expr,
        right: &Expr,
        env: &Env,
        span: Span,
    ) -> Option<Ty> {
        // An enumerated value is a bare word: `provider.discipline == PT`.
        let left_ty = self.enum_aware(left, right, env)?;
        let right_ty = self.enum_aware(right, left, env)?;
        let ordered = matches!(
            op,
            CompareOp::Lt | CompareOp::Le | CompareOp::Gt | CompareOp::Ge
        );
        let comparable = match (&left_ty, &right_ty) {
            (Ty::Value(a), Ty::Value(b)) if a == b => !ordered || is_ordered(*a),
            (Ty::Code(a), Ty::Code(b)) if a == b => !ordered,
            (Ty::Enum(a, _), Ty::Enum(b, _)) if a == b => !ordered,
            _ => false,
        };
        if !comparable {
            let help = compare_help(&left_ty, &right_ty, left, right);
            self.mismatch(
                span,
                format!(
                    "cannot compare {} with {} using `{}`",
                    left_ty.describe(),
                    right_ty.describe(),
                    op.symbol()
                ),
                &help,
            );
        }
        Some(Ty::Value(ValueType::Flag))
    }

    /// The type of `expr`; a bare word next to an enumerated field is one of its values.
    fn enum_aware(&mut self, expr: &Expr, other: &Expr, env: &Env) -> Option<Ty> {
        if let ExprKind::Path(word) = &expr.kind {
            let is_field_or_const = self.namespace.consts.contains_key(word)
                || CLAIM.field(word.split('.').next().unwrap_or("")).is_some()
                || word.contains('.');
            if !is_field_or_const {
                if let ExprKind::Path(other_path) = &other.kind {
                    let other_segments: Vec<&str> = other_path.split('.').collect();
                    let other_ty = lookup(&other_segments, other.span, env).map(|r| r.ty);
                    if let Ok(Ty::Enum(name, values)) = other_ty {
                        if !values.contains(&word.as_str()) {
                            let help =
                                did_you_mean(word, values.iter().copied()).unwrap_or_else(|| {
                                    format!("a {name} is one of: {}", values.join(", "))
                                });
                            self.report(
                                Diagnostic::new(
                                    DiagnosticCode::UnknownValue,
                                    self.file,
                                    expr.span,
                                    format!("`{word}` is not a {name}"),
                                )
                                .with_label(format!("unknown {name}"))
                                .with_help(help),
                            );
                            return None;
                        }
                        return Some(Ty::Enum(name, values));
                    }
                }
            }
        }
        self.expr(expr, env)
    }

    fn arith(&mut self, op: ArithOp, left: &Ty, right: &Ty, span: Span) -> Option<Ty> {
        use ValueType as V;
        let result = match (op, left, right) {
            (ArithOp::Add | ArithOp::Sub, Ty::Value(a), Ty::Value(b))
                if a == b && is_quantity(*a) =>
            {
                Some(Ty::Value(*a))
            }
            (ArithOp::Sub, Ty::Value(V::Date), Ty::Value(V::Date)) => Some(Ty::Value(V::Days)),
            (ArithOp::Add | ArithOp::Sub, Ty::Value(V::Date), Ty::Value(V::Days | V::Weeks)) => {
                Some(Ty::Value(V::Date))
            }
            (ArithOp::Mul, Ty::Value(V::Count), Ty::Value(b)) if is_quantity(*b) => {
                Some(Ty::Value(*b))
            }
            (ArithOp::Mul, Ty::Value(a), Ty::Value(V::Count)) if is_quantity(*a) => {
                Some(Ty::Value(*a))
            }
            (ArithOp::Mul, Ty::Value(V::Units), Ty::Value(V::Minutes))
            | (ArithOp::Mul, Ty::Value(V::Minutes), Ty::Value(V::Units)) => {
                Some(Ty::Value(V::Minutes))
            }
            _ => None,
        };
        if result.is_none() {
            self.mismatch(
                span,
                format!("cannot {} {} and {}", arith_verb(op), left.describe(), right.describe()),
                "minutes, units, dollars, days, visits and counts do not mix; a date minus a date is days; units times minutes is minutes",
            );
        }
        result
    }

    fn membership(
        &mut self,
        op: MembershipOp,
        value: &Expr,
        set: &SetExpr,
        env: &Env,
        span: Span,
    ) -> Option<Ty> {
        let ty = self.expr(value, env)?;
        let kind = match (op, &ty) {
            (MembershipOp::In | MembershipOp::NotIn, Ty::Code(kind)) => Some(*kind),
            (MembershipOp::Includes, Ty::List(item)) => match item.as_ref() {
                Ty::Code(kind) => Some(*kind),
                _ => None,
            },
            (MembershipOp::In | MembershipOp::NotIn, Ty::Enum(name, values)) => {
                self.enum_set(set, name, values);
                return Some(Ty::Value(ValueType::Flag));
            }
            _ => None,
        };
        let Some(kind) = kind else {
            let help = match op {
                MembershipOp::Includes => "`includes` asks whether a list of codes (`line.modifiers`, `line.diagnoses`) has one of the set's codes",
                _ => "`in` asks whether one code (`line.code`, `line.place_of_service`) is in a set; for a list use `includes`",
            };
            self.mismatch(
                span,
                format!("`{}` does not work on {}", op.keyword(), ty.describe()),
                help,
            );
            return Some(Ty::Value(ValueType::Flag));
        };
        let mut stack = Vec::new();
        let _value: SetValue =
            self.checker
                .evaluate_set(self.namespace, set, kind, self.file, &mut stack);
        Some(Ty::Value(ValueType::Flag))
    }

    /// `provider.discipline in [PT OT]`: the words must be values of the enumeration.
    fn enum_set(&mut self, set: &SetExpr, name: &str, values: &[&str]) {
        let terms = std::iter::once(&set.first).chain(set.rest.iter().map(|(_, term)| term));
        for term in terms {
            match term {
                SetTerm::Literal { elements, .. } => {
                    for element in elements {
                        let SetElement::Code(word) = element else {
                            continue;
                        };
                        if !values.contains(&word.value.as_str()) {
                            let help = did_you_mean(&word.value, values.iter().copied())
                                .unwrap_or_else(|| {
                                    format!("a {name} is one of: {}", values.join(", "))
                                });
                            self.report(
                                Diagnostic::new(
                                    DiagnosticCode::UnknownValue,
                                    self.file,
                                    word.span,
                                    format!("`{}` is not a {name}", word.value),
                                )
                                .with_label(format!("unknown {name}"))
                                .with_help(help),
                            );
                        }
                    }
                }
                SetTerm::Name(set_name) => self.mismatch(
                    set_name.span,
                    format!(
                        "a {name} is compared with a list of words, not the code set `{}`",
                        set_name.value
                    ),
                    "write the values in brackets: `[PT OT]`",
                ),
            }
        }
    }

    fn aggregate(
        &mut self,
        function: Aggregate,
        path: &Text,
        filter: Option<&Expr>,
        env: &Env,
    ) -> Option<Ty> {
        let segments: Vec<&str> = path.value.split('.').collect();
        let resolution = self.resolve(&segments, path.span, env, &[])?;
        let element = match (&resolution.ty, resolution.through_list) {
            (Ty::List(item), None) => match item.as_ref() {
                Ty::Record(record) => Some(*record),
                _ => None,
            },
            (Ty::List(_), Some(record)) => Some(record),
            _ => {
                self.mismatch(
                    path.span,
                    format!(
                        "`{}` needs a list, and `{}` is {}",
                        function.keyword(),
                        path.value,
                        resolution.ty.describe()
                    ),
                    "count or sum over `visit.lines`, `lines` or `documentation.activities`",
                );
                return None;
            }
        };
        if function == Aggregate::Sum {
            let summable = match (&resolution.ty, resolution.through_list) {
                (Ty::List(item), Some(_)) => match item.as_ref() {
                    Ty::Value(value) if is_quantity(*value) => Some(Ty::Value(*value)),
                    _ => None,
                },
                _ => None,
            };
            if summable.is_none() {
                self.mismatch(
                    path.span,
                    format!(
                        "`sum` adds up a number field of a list, and `{}` is {}",
                        path.value,
                        resolution.ty.describe()
                    ),
                    "name the field to add: `sum(visit.lines.minutes)`",
                );
            }
            if let Some(filter) = filter {
                self.filter(filter, element, env);
            }
            return summable;
        }
        if let Some(filter) = filter {
            self.filter(filter, element, env);
        }
        Some(Ty::Value(ValueType::Count))
    }

    fn filter(&mut self, filter: &Expr, element: Option<&'static Record>, env: &Env) {
        let mut inner = env.clone();
        match element {
            Some(record) if std::ptr::eq(record, &LINE) => inner.bound_line = true,
            Some(record) if std::ptr::eq(record, &schema::ACTIVITY) => inner.bound_activity = true,
            _ => {}
        }
        if let Some(ty) = self.expr(filter, &inner) {
            self.expect_flag(&ty, filter.span, "`where`");
        }
    }
}

/// Why a path names no claim field.
enum PathError {
    /// `line` or `visit` where the rule's scope has none.
    NotHere { root: &'static str, span: Span },
    UnknownField {
        record: &'static Record,
        segment: String,
        span: Span,
    },
    /// A path goes on past a value that has no fields.
    NoFields { segment: String, ty: Ty, span: Span },
}

/// Resolves a claim field path in the scope `env`, without reporting.
fn lookup(segments: &[&str], span: Span, env: &Env) -> Result<Resolution, PathError> {
    let Some((&root, rest)) = segments.split_first() else {
        return Err(PathError::UnknownField {
            record: &CLAIM,
            segment: String::new(),
            span,
        });
    };
    let (record, rest): (&'static Record, &[&str]) = match root {
        "line" if env.line_visible() => (&LINE, rest),
        "visit" if env.visit_visible() => (&VISIT, rest),
        "activity" if env.bound_activity => (&schema::ACTIVITY, rest),
        "line" => return Err(PathError::NotHere { root: "line", span }),
        "visit" => {
            return Err(PathError::NotHere {
                root: "visit",
                span,
            })
        }
        _ => (&CLAIM, segments),
    };
    let mut current = record;
    let mut through_list = None;
    let mut offset = span.start;
    if !std::ptr::eq(record, &CLAIM) {
        offset += root.len() + 1;
    }
    let mut remaining = rest.iter().peekable();
    if remaining.peek().is_none() {
        return Ok(Resolution {
            ty: Ty::Record(record),
            through_list,
        });
    }
    while let Some(segment) = remaining.next() {
        let segment_span = Span::new(offset, offset + segment.len());
        offset += segment.len() + 1;
        let Some(field) = current.field(segment) else {
            return Err(PathError::UnknownField {
                record: current,
                segment: (*segment).to_owned(),
                span: segment_span,
            });
        };
        let ty = field.ty.ty();
        if remaining.peek().is_none() {
            let ty = if through_list.is_some() {
                Ty::List(Box::new(ty))
            } else {
                ty
            };
            return Ok(Resolution { ty, through_list });
        }
        match ty {
            Ty::Record(next) => current = next,
            Ty::List(item) if through_list.is_none() && matches!(*item, Ty::Record(_)) => {
                if let Ty::Record(next) = *item {
                    through_list = Some(next);
                    current = next;
                }
            }
            other => {
                return Err(PathError::NoFields {
                    segment: (*segment).to_owned(),
                    ty: other,
                    span: segment_span,
                })
            }
        }
    }
    Err(PathError::UnknownField {
        record: current,
        segment: String::new(),
        span,
    })
}

fn is_quantity(value: ValueType) -> bool {
    matches!(
        value,
        ValueType::Minutes
            | ValueType::Units
            | ValueType::Dollars
            | ValueType::Days
            | ValueType::Weeks
            | ValueType::Visits
            | ValueType::Count
    )
}

fn is_ordered(value: ValueType) -> bool {
    is_quantity(value) || value == ValueType::Date
}

fn arith_verb(op: ArithOp) -> &'static str {
    match op {
        ArithOp::Add => "add",
        ArithOp::Sub => "subtract",
        ArithOp::Mul => "multiply",
    }
}

fn compare_help(left: &Ty, right: &Ty, left_expr: &Expr, right_expr: &Expr) -> String {
    let unit_word = |ty: &Ty| match ty {
        Ty::Value(ValueType::Minutes) => Some("minutes"),
        Ty::Value(ValueType::Units) => Some("units"),
        Ty::Value(ValueType::Days) => Some("days"),
        Ty::Value(ValueType::Weeks) => Some("weeks"),
        Ty::Value(ValueType::Visits) => Some("visits"),
        _ => None,
    };
    for (ty, other) in [(left, right_expr), (right, left_expr)] {
        if let (Some(unit), ExprKind::Literal(Literal::Integer(number))) =
            (unit_word(ty), &other.kind)
        {
            return format!("write the number with its unit: `{number} {unit}`");
        }
        if let (Ty::Value(ValueType::Dollars), ExprKind::Literal(Literal::Integer(number))) =
            (ty, &other.kind)
        {
            return format!("write dollar amounts with a dollar sign: `${number}.00`");
        }
    }
    if matches!(left, Ty::Code(_)) || matches!(right, Ty::Code(_)) {
        return "compare codes with a set: `line.code in [97535]`".to_owned();
    }
    "both sides must be the same kind of value".to_owned()
}
