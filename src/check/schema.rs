//! The claim facts a rule can name, with their types: exactly the fields of
//! the claim contract (`shared/spec/claim-v1.md`), plus the `line` and `visit`
//! a rule is judged on.

use crate::syntax::{CodeKind, ValueType};

/// The type of a value in a condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    Value(ValueType),
    Code(CodeKind),
    /// One of a fixed list of words (`PT`, `OT` …).
    Enum(&'static str, &'static [&'static str]),
    List(Box<Ty>),
    Record(&'static Record),
}

impl Ty {
    /// How the type is named in a message.
    pub fn describe(&self) -> String {
        match self {
            Ty::Value(ValueType::Count) => "a count".to_owned(),
            Ty::Value(ValueType::Flag) => "true or false".to_owned(),
            Ty::Value(ValueType::Date) => "a date".to_owned(),
            Ty::Value(ValueType::Text) => "text".to_owned(),
            Ty::Value(ValueType::Dollars) => "dollars".to_owned(),
            Ty::Value(other) => other.keyword().to_owned(),
            Ty::Code(kind) => format!("a {} code", kind.keyword()),
            Ty::Enum(name, _) => format!("a {name}"),
            Ty::List(item) => format!("a list of {}", item.describe().trim_start_matches("a ")),
            Ty::Record(record) => format!("the `{}` group of fields", record.name),
        }
    }
}

/// A group of named fields.
#[derive(Debug, PartialEq, Eq)]
pub struct Record {
    pub name: &'static str,
    pub fields: &'static [Field],
}

#[derive(Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldTy,
}

/// Field types as static data (`Ty` needs boxes, so the tables use this).
#[derive(Debug, PartialEq, Eq)]
pub enum FieldTy {
    Value(ValueType),
    Code(CodeKind),
    Enum(&'static str, &'static [&'static str]),
    ListOfValue(ValueType),
    ListOfCode(CodeKind),
    Record(&'static Record),
    ListOfRecord(&'static Record),
}

impl FieldTy {
    pub fn ty(&self) -> Ty {
        match self {
            FieldTy::Value(value) => Ty::Value(*value),
            FieldTy::Code(kind) => Ty::Code(*kind),
            FieldTy::Enum(name, values) => Ty::Enum(name, values),
            FieldTy::ListOfValue(value) => Ty::List(Box::new(Ty::Value(*value))),
            FieldTy::ListOfCode(kind) => Ty::List(Box::new(Ty::Code(*kind))),
            FieldTy::Record(record) => Ty::Record(record),
            FieldTy::ListOfRecord(record) => Ty::List(Box::new(Ty::Record(record))),
        }
    }
}

impl Record {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|field| field.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        self.fields.iter().map(|field| field.name)
    }
}

const fn field(name: &'static str, ty: FieldTy) -> Field {
    Field { name, ty }
}

use FieldTy as F;
use ValueType as V;

pub const DISCIPLINES: &[&str] = &["PT", "OT", "SLP", "physician", "other"];
pub const ROLES: &[&str] = &["therapist", "assistant", "physician", "other"];
pub const MODALITIES: &[&str] = &["audio_video", "audio_only"];

pub static MEMBER: Record = Record {
    name: "member",
    fields: &[
        field("id", F::Value(V::Text)),
        field("birth_date", F::Value(V::Date)),
    ],
};

pub static PROVIDER: Record = Record {
    name: "provider",
    fields: &[
        field("npi", F::Value(V::Text)),
        field("discipline", F::Enum("discipline", DISCIPLINES)),
        field("role", F::Enum("role", ROLES)),
        field("taxonomy", F::Value(V::Text)),
        field("credential", F::Value(V::Text)),
    ],
};

pub static PRIOR_AUTHORIZATION: Record = Record {
    name: "prior_authorization",
    fields: &[
        field("number", F::Value(V::Text)),
        field("codes", F::ListOfCode(CodeKind::Procedure)),
        field("units", F::Value(V::Units)),
        field("from", F::Value(V::Date)),
        field("through", F::Value(V::Date)),
    ],
};

pub static LINE: Record = Record {
    name: "line",
    fields: &[
        field("code", F::Code(CodeKind::Procedure)),
        field("modifiers", F::ListOfCode(CodeKind::Modifier)),
        field("units", F::Value(V::Units)),
        field("minutes", F::Value(V::Minutes)),
        field("charge", F::Value(V::Dollars)),
        field("date_of_service", F::Value(V::Date)),
        field("place_of_service", F::Code(CodeKind::Place)),
        field("diagnosis_pointers", F::ListOfValue(V::Count)),
        // Derived: the diagnoses the line's pointers select (pointer 1 when absent).
        field("diagnoses", F::ListOfCode(CodeKind::Diagnosis)),
    ],
};

pub static ACTIVITY: Record = Record {
    name: "activities",
    fields: &[
        field("code", F::Code(CodeKind::Procedure)),
        field("description", F::Value(V::Text)),
        field("minutes", F::Value(V::Minutes)),
    ],
};

pub static PLAN_OF_CARE: Record = Record {
    name: "plan_of_care",
    fields: &[
        field("established", F::Value(V::Date)),
        field("certified", F::Value(V::Date)),
        field("through", F::Value(V::Date)),
    ],
};

pub static TELEHEALTH: Record = Record {
    name: "telehealth",
    fields: &[
        field("modality", F::Enum("telehealth modality", MODALITIES)),
        field("patient_consent", F::Value(V::Flag)),
    ],
};

pub static DOCUMENTATION: Record = Record {
    name: "documentation",
    fields: &[
        field("objective", F::Value(V::Text)),
        field("functional_goals", F::ListOfValue(V::Text)),
        field("performance", F::Value(V::Text)),
        field("progress", F::Value(V::Text)),
        field("activities", F::ListOfRecord(&ACTIVITY)),
        field("caregiver_trained", F::Value(V::Flag)),
        field("total_timed_minutes", F::Value(V::Minutes)),
        field("total_treatment_minutes", F::Value(V::Minutes)),
        field("plan_of_care", F::Record(&PLAN_OF_CARE)),
        field("visits_since_progress_report", F::Value(V::Visits)),
        field("telehealth", F::Record(&TELEHEALTH)),
    ],
};

pub static THERAPY_ALLOWED_YTD: Record = Record {
    name: "therapy_allowed_ytd",
    fields: &[
        field("pt_slp", F::Value(V::Dollars)),
        field("ot", F::Value(V::Dollars)),
    ],
};

pub static HISTORY: Record = Record {
    name: "history",
    fields: &[
        field("visits_this_year", F::Value(V::Visits)),
        field("visits_under_authorization", F::Value(V::Visits)),
        field("therapy_allowed_ytd", F::Record(&THERAPY_ALLOWED_YTD)),
    ],
};

/// The claim's own fields: the top-level names of a condition.
pub static CLAIM: Record = Record {
    name: "claim",
    fields: &[
        field("id", F::Value(V::Text)),
        field("payer", F::Value(V::Text)),
        field("plan", F::Value(V::Text)),
        field("date_of_service", F::Value(V::Date)),
        field("place_of_service", F::Code(CodeKind::Place)),
        field("member", F::Record(&MEMBER)),
        field("provider", F::Record(&PROVIDER)),
        field("diagnoses", F::ListOfCode(CodeKind::Diagnosis)),
        field("prior_authorization", F::Record(&PRIOR_AUTHORIZATION)),
        field("lines", F::ListOfRecord(&LINE)),
        field("documentation", F::Record(&DOCUMENTATION)),
        field("history", F::Record(&HISTORY)),
    ],
};

/// The lines that share a date of service.
pub static VISIT: Record = Record {
    name: "visit",
    fields: &[
        field("date_of_service", F::Value(V::Date)),
        field("lines", F::ListOfRecord(&LINE)),
    ],
};

/// The documentation facts a `must_have` setting can require.
pub const DOCUMENTED_FACTS: &[&str] = &[
    "objective",
    "functional_goals",
    "performance",
    "progress",
    "activities",
    "caregiver_trained",
    "total_timed_minutes",
    "total_treatment_minutes",
    "plan_of_care",
    "visits_since_progress_report",
    "minutes",
];

/// What makes a prior authorization good, for `verify`.
pub const AUTHORIZATION_CHECKS: &[&str] = &["number", "window", "codes", "units", "visits"];

/// The type of a claim field path (`line.minutes`, `provider.discipline`,
/// `visit.lines.minutes`), whatever the rule's scope: for stages after the
/// checker, which has already reported paths that are not fields or not in scope.
pub fn field_type(segments: &[&str]) -> Option<Ty> {
    let (&root, rest) = segments.split_first()?;
    let (mut record, rest): (&'static Record, &[&str]) = match root {
        "line" => (&LINE, rest),
        "visit" => (&VISIT, rest),
        "activity" => (&ACTIVITY, rest),
        _ => (&CLAIM, segments),
    };
    let mut through_list = false;
    let mut ty = Ty::Record(record);
    for (position, segment) in rest.iter().enumerate() {
        ty = record.field(segment)?.ty.ty();
        if position + 1 == rest.len() {
            break;
        }
        match &ty {
            Ty::Record(next) => record = next,
            Ty::List(item) if !through_list => match item.as_ref() {
                Ty::Record(next) => {
                    through_list = true;
                    record = next;
                }
                _ => return None,
            },
            _ => return None,
        }
    }
    Some(if through_list {
        Ty::List(Box::new(ty))
    } else {
        ty
    })
}
