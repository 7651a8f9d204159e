//! The registry of diagnostic codes: one place for every code, its name,
//! its level and its page in `docs/diagnostics/` (which `ppl explain` prints).
//!
//! Codes are stable: a code is never reused for another meaning.

/// Every diagnostic `ppl check` can give.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DiagnosticCode {
    /// the text does not follow the language's grammar
    SyntaxError,
    /// brackets or parentheses are nested deeper than ppl allows
    NestingTooDeep,
    /// a date that does not exist on the calendar
    InvalidDate,
    /// a number larger than any policy needs
    NumberTooLarge,
    /// a message with an unbalanced `{` or `}`
    BadTemplate,
    /// a claim field the claim contract does not have
    UnknownField,
    /// a code set, constant or table that is not defined
    UnknownName,
    /// `override` or `remove` names a rule the parent policy does not have
    UnknownRule,
    /// `extends` or `include` names a policy or library that cannot be found
    UnknownPolicy,
    /// a setting the language does not have
    UnknownSetting,
    /// a setting that does not belong in this family of rule
    SettingNotInFamily,
    /// a rule names a plan the policy does not declare
    UnknownPlan,
    /// a word that is not one of the values a setting accepts
    UnknownValue,
    /// a library holds only code sets, constants, tables and includes
    NotAllowedInLibrary,
    /// values of different kinds mixed up (minutes with units, dollars with dates)
    TypeMismatch,
    /// a code set of one kind used where another is expected
    WrongCodeKind,
    /// a CPT/HCPCS, ICD-10-CM, modifier or place-of-service code that is not well formed
    MalformedCode,
    /// a code range whose ends do not match, are reversed, or span too many codes
    BadRange,
    /// a `through` date before its `from` date
    InvertedDates,
    /// two versions of one rule, constant, code set or table in force on the same day
    OverlappingVersions,
    /// the same id defined twice, or an inherited rule redefined without `override`
    DuplicateDefinition,
    /// policies that extend each other, or code sets defined by each other, in a circle
    Cycle,
    /// a data file that cannot be found or read
    MissingFile,
    /// a row of a data table that cannot be read
    BadTableRow,
    /// a rule that can never fire
    NeverFires,
    /// a rule without a setting its family needs
    MissingSetting,
    /// settings that cannot stand together in one rule
    ConflictingSettings,
    /// the same setting written twice in one rule
    DuplicateSetting,
    /// a fix that this rule cannot apply
    InvalidFix,
    /// an internal error in ppl
    Internal,
    /// a rule that does not cite its public source
    MissingCitation,
    /// a code set, constant or table that nothing uses
    UnusedDefinition,
    /// versions of a rule or constant that leave days with no version in force
    GapBetweenVersions,
    /// an `info` or `warn` rule that names a denial code
    InfoWithDenialCode,
    /// a message that names none of the claim's own values
    NoMessagePlaceholders,
}

impl DiagnosticCode {
    pub const ALL: &'static [DiagnosticCode] = &[
        DiagnosticCode::SyntaxError,
        DiagnosticCode::NestingTooDeep,
        DiagnosticCode::InvalidDate,
        DiagnosticCode::NumberTooLarge,
        DiagnosticCode::BadTemplate,
        DiagnosticCode::UnknownField,
        DiagnosticCode::UnknownName,
        DiagnosticCode::UnknownRule,
        DiagnosticCode::UnknownPolicy,
        DiagnosticCode::UnknownSetting,
        DiagnosticCode::SettingNotInFamily,
        DiagnosticCode::UnknownPlan,
        DiagnosticCode::UnknownValue,
        DiagnosticCode::NotAllowedInLibrary,
        DiagnosticCode::TypeMismatch,
        DiagnosticCode::WrongCodeKind,
        DiagnosticCode::MalformedCode,
        DiagnosticCode::BadRange,
        DiagnosticCode::InvertedDates,
        DiagnosticCode::OverlappingVersions,
        DiagnosticCode::DuplicateDefinition,
        DiagnosticCode::Cycle,
        DiagnosticCode::MissingFile,
        DiagnosticCode::BadTableRow,
        DiagnosticCode::NeverFires,
        DiagnosticCode::MissingSetting,
        DiagnosticCode::ConflictingSettings,
        DiagnosticCode::DuplicateSetting,
        DiagnosticCode::InvalidFix,
        DiagnosticCode::Internal,
        DiagnosticCode::MissingCitation,
        DiagnosticCode::UnusedDefinition,
        DiagnosticCode::GapBetweenVersions,
        DiagnosticCode::InfoWithDenialCode,
        DiagnosticCode::NoMessagePlaceholders,
    ];

    /// The stable code, `E0101`.
    pub fn id(self) -> &'static str {
        match self {
            DiagnosticCode::SyntaxError => "E0001",
            DiagnosticCode::NestingTooDeep => "E0002",
            DiagnosticCode::InvalidDate => "E0003",
            DiagnosticCode::NumberTooLarge => "E0004",
            DiagnosticCode::BadTemplate => "E0005",
            DiagnosticCode::UnknownField => "E0101",
            DiagnosticCode::UnknownName => "E0102",
            DiagnosticCode::UnknownRule => "E0103",
            DiagnosticCode::UnknownPolicy => "E0104",
            DiagnosticCode::UnknownSetting => "E0105",
            DiagnosticCode::SettingNotInFamily => "E0106",
            DiagnosticCode::UnknownPlan => "E0107",
            DiagnosticCode::UnknownValue => "E0108",
            DiagnosticCode::NotAllowedInLibrary => "E0109",
            DiagnosticCode::TypeMismatch => "E0201",
            DiagnosticCode::WrongCodeKind => "E0202",
            DiagnosticCode::MalformedCode => "E0301",
            DiagnosticCode::BadRange => "E0302",
            DiagnosticCode::InvertedDates => "E0303",
            DiagnosticCode::OverlappingVersions => "E0401",
            DiagnosticCode::DuplicateDefinition => "E0402",
            DiagnosticCode::Cycle => "E0403",
            DiagnosticCode::MissingFile => "E0404",
            DiagnosticCode::BadTableRow => "E0405",
            DiagnosticCode::NeverFires => "E0501",
            DiagnosticCode::MissingSetting => "E0502",
            DiagnosticCode::ConflictingSettings => "E0503",
            DiagnosticCode::DuplicateSetting => "E0504",
            DiagnosticCode::InvalidFix => "E0505",
            DiagnosticCode::Internal => "E0900",
            DiagnosticCode::MissingCitation => "W0001",
            DiagnosticCode::UnusedDefinition => "W0002",
            DiagnosticCode::GapBetweenVersions => "W0003",
            DiagnosticCode::InfoWithDenialCode => "W0004",
            DiagnosticCode::NoMessagePlaceholders => "W0005",
        }
    }

    /// A short name for the code, `unknown-field`.
    pub fn slug(self) -> &'static str {
        match self {
            DiagnosticCode::SyntaxError => "syntax-error",
            DiagnosticCode::NestingTooDeep => "nesting-too-deep",
            DiagnosticCode::InvalidDate => "invalid-date",
            DiagnosticCode::NumberTooLarge => "number-too-large",
            DiagnosticCode::BadTemplate => "bad-template",
            DiagnosticCode::UnknownField => "unknown-field",
            DiagnosticCode::UnknownName => "unknown-name",
            DiagnosticCode::UnknownRule => "unknown-rule",
            DiagnosticCode::UnknownPolicy => "unknown-policy",
            DiagnosticCode::UnknownSetting => "unknown-setting",
            DiagnosticCode::SettingNotInFamily => "setting-not-in-family",
            DiagnosticCode::UnknownPlan => "unknown-plan",
            DiagnosticCode::UnknownValue => "unknown-value",
            DiagnosticCode::NotAllowedInLibrary => "not-allowed-in-library",
            DiagnosticCode::TypeMismatch => "type-mismatch",
            DiagnosticCode::WrongCodeKind => "wrong-code-kind",
            DiagnosticCode::MalformedCode => "malformed-code",
            DiagnosticCode::BadRange => "bad-range",
            DiagnosticCode::InvertedDates => "inverted-dates",
            DiagnosticCode::OverlappingVersions => "overlapping-versions",
            DiagnosticCode::DuplicateDefinition => "duplicate-definition",
            DiagnosticCode::Cycle => "cycle",
            DiagnosticCode::MissingFile => "missing-file",
            DiagnosticCode::BadTableRow => "bad-table-row",
            DiagnosticCode::NeverFires => "never-fires",
            DiagnosticCode::MissingSetting => "missing-setting",
            DiagnosticCode::ConflictingSettings => "conflicting-settings",
            DiagnosticCode::DuplicateSetting => "duplicate-setting",
            DiagnosticCode::InvalidFix => "invalid-fix",
            DiagnosticCode::Internal => "internal",
            DiagnosticCode::MissingCitation => "missing-citation",
            DiagnosticCode::UnusedDefinition => "unused-definition",
            DiagnosticCode::GapBetweenVersions => "gap-between-versions",
            DiagnosticCode::InfoWithDenialCode => "info-with-denial-code",
            DiagnosticCode::NoMessagePlaceholders => "message-without-values",
        }
    }

    /// One line saying what the code is about.
    pub fn summary(self) -> &'static str {
        match self {
            DiagnosticCode::SyntaxError => "the text does not follow the language's grammar",
            DiagnosticCode::NestingTooDeep => {
                "brackets or parentheses are nested deeper than ppl allows"
            }
            DiagnosticCode::InvalidDate => "a date that does not exist on the calendar",
            DiagnosticCode::NumberTooLarge => "a number larger than any policy needs",
            DiagnosticCode::BadTemplate => "a message with an unbalanced `{` or `}`",
            DiagnosticCode::UnknownField => "a claim field the claim contract does not have",
            DiagnosticCode::UnknownName => "a code set, constant or table that is not defined",
            DiagnosticCode::UnknownRule => {
                "`override` or `remove` names a rule the parent policy does not have"
            }
            DiagnosticCode::UnknownPolicy => {
                "`extends` or `include` names a policy or library that cannot be found"
            }
            DiagnosticCode::UnknownSetting => "a setting the language does not have",
            DiagnosticCode::SettingNotInFamily => {
                "a setting that does not belong in this family of rule"
            }
            DiagnosticCode::UnknownPlan => "a rule names a plan the policy does not declare",
            DiagnosticCode::UnknownValue => {
                "a word that is not one of the values a setting accepts"
            }
            DiagnosticCode::NotAllowedInLibrary => {
                "a library holds only code sets, constants, tables and includes"
            }
            DiagnosticCode::TypeMismatch => {
                "values of different kinds mixed up (minutes with units, dollars with dates)"
            }
            DiagnosticCode::WrongCodeKind => {
                "a code set of one kind used where another is expected"
            }
            DiagnosticCode::MalformedCode => {
                "a CPT/HCPCS, ICD-10-CM, modifier or place-of-service code that is not well formed"
            }
            DiagnosticCode::BadRange => {
                "a code range whose ends do not match, are reversed, or span too many codes"
            }
            DiagnosticCode::InvertedDates => "a `through` date before its `from` date",
            DiagnosticCode::OverlappingVersions => {
                "two versions of one rule, constant, code set or table in force on the same day"
            }
            DiagnosticCode::DuplicateDefinition => {
                "the same id defined twice, or an inherited rule redefined without `override`"
            }
            DiagnosticCode::Cycle => {
                "policies that extend each other, or code sets defined by each other, in a circle"
            }
            DiagnosticCode::MissingFile => "a data file that cannot be found or read",
            DiagnosticCode::BadTableRow => "a row of a data table that cannot be read",
            DiagnosticCode::NeverFires => "a rule that can never fire",
            DiagnosticCode::MissingSetting => "a rule without a setting its family needs",
            DiagnosticCode::ConflictingSettings => {
                "settings that cannot stand together in one rule"
            }
            DiagnosticCode::DuplicateSetting => "the same setting written twice in one rule",
            DiagnosticCode::InvalidFix => "a fix that this rule cannot apply",
            DiagnosticCode::Internal => "an internal error in ppl",
            DiagnosticCode::MissingCitation => "a rule that does not cite its public source",
            DiagnosticCode::UnusedDefinition => "a code set, constant or table that nothing uses",
            DiagnosticCode::GapBetweenVersions => {
                "versions of a rule or constant that leave days with no version in force"
            }
            DiagnosticCode::InfoWithDenialCode => {
                "an `info` or `warn` rule that names a denial code"
            }
            DiagnosticCode::NoMessagePlaceholders => {
                "a message that names none of the claim's own values"
            }
        }
    }

    /// The explanation page, in Markdown.
    pub fn page(self) -> &'static str {
        match self {
            DiagnosticCode::SyntaxError => include_str!("../../docs/diagnostics/E0001.md"),
            DiagnosticCode::NestingTooDeep => include_str!("../../docs/diagnostics/E0002.md"),
            DiagnosticCode::InvalidDate => include_str!("../../docs/diagnostics/E0003.md"),
            DiagnosticCode::NumberTooLarge => include_str!("../../docs/diagnostics/E0004.md"),
            DiagnosticCode::BadTemplate => include_str!("../../docs/diagnostics/E0005.md"),
            DiagnosticCode::UnknownField => include_str!("../../docs/diagnostics/E0101.md"),
            DiagnosticCode::UnknownName => include_str!("../../docs/diagnostics/E0102.md"),
            DiagnosticCode::UnknownRule => include_str!("../../docs/diagnostics/E0103.md"),
            DiagnosticCode::UnknownPolicy => include_str!("../../docs/diagnostics/E0104.md"),
            DiagnosticCode::UnknownSetting => include_str!("../../docs/diagnostics/E0105.md"),
            DiagnosticCode::SettingNotInFamily => include_str!("../../docs/diagnostics/E0106.md"),
            DiagnosticCode::UnknownPlan => include_str!("../../docs/diagnostics/E0107.md"),
            DiagnosticCode::UnknownValue => include_str!("../../docs/diagnostics/E0108.md"),
            DiagnosticCode::NotAllowedInLibrary => include_str!("../../docs/diagnostics/E0109.md"),
            DiagnosticCode::TypeMismatch => include_str!("../../docs/diagnostics/E0201.md"),
            DiagnosticCode::WrongCodeKind => include_str!("../../docs/diagnostics/E0202.md"),
            DiagnosticCode::MalformedCode => include_str!("../../docs/diagnostics/E0301.md"),
            DiagnosticCode::BadRange => include_str!("../../docs/diagnostics/E0302.md"),
            DiagnosticCode::InvertedDates => include_str!("../../docs/diagnostics/E0303.md"),
            DiagnosticCode::OverlappingVersions => include_str!("../../docs/diagnostics/E0401.md"),
            DiagnosticCode::DuplicateDefinition => include_str!("../../docs/diagnostics/E0402.md"),
            DiagnosticCode::Cycle => include_str!("../../docs/diagnostics/E0403.md"),
            DiagnosticCode::MissingFile => include_str!("../../docs/diagnostics/E0404.md"),
            DiagnosticCode::BadTableRow => include_str!("../../docs/diagnostics/E0405.md"),
            DiagnosticCode::NeverFires => include_str!("../../docs/diagnostics/E0501.md"),
            DiagnosticCode::MissingSetting => include_str!("../../docs/diagnostics/E0502.md"),
            DiagnosticCode::ConflictingSettings => include_str!("../../docs/diagnostics/E0503.md"),
            DiagnosticCode::DuplicateSetting => include_str!("../../docs/diagnostics/E0504.md"),
            DiagnosticCode::InvalidFix => include_str!("../../docs/diagnostics/E0505.md"),
            DiagnosticCode::Internal => include_str!("../../docs/diagnostics/E0900.md"),
            DiagnosticCode::MissingCitation => include_str!("../../docs/diagnostics/W0001.md"),
            DiagnosticCode::UnusedDefinition => include_str!("../../docs/diagnostics/W0002.md"),
            DiagnosticCode::GapBetweenVersions => include_str!("../../docs/diagnostics/W0003.md"),
            DiagnosticCode::InfoWithDenialCode => include_str!("../../docs/diagnostics/W0004.md"),
            DiagnosticCode::NoMessagePlaceholders => {
                include_str!("../../docs/diagnostics/W0005.md")
            }
        }
    }

    /// Codes starting with `W` are warnings; the rest are errors.
    pub fn level(self) -> super::Level {
        if self.id().starts_with('W') {
            super::Level::Warning
        } else {
            super::Level::Error
        }
    }

    /// Finds a code by its id (`E0101`, case-insensitive) or slug (`unknown-field`).
    pub fn lookup(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|code| code.id().eq_ignore_ascii_case(text) || code.slug() == text)
    }
}
