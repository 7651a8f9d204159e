//! Billing codes as small, copyable values.
//!
//! Procedure codes (CPT and HCPCS Level II) are packed into a `u32` so that the
//! compiled policy can index rules and code pairs by code without allocating or
//! hashing strings: "interning" without a table, identical in every thread.

use std::fmt;

/// A CPT or HCPCS Level II code, packed base 36 (five characters, `0-9A-Z`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcedureCode(u32);

/// Why a piece of text is not a code of the kind expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeError {
    pub reason: &'static str,
}

fn digit36(byte: u8) -> Option<u32> {
    match byte {
        b'0'..=b'9' => Some(u32::from(byte - b'0')),
        b'A'..=b'Z' => Some(u32::from(byte - b'A') + 10),
        _ => None,
    }
}

impl ProcedureCode {
    /// Parses a CPT code (`97535`, Category II `1234F`, Category III `0591T`,
    /// PLA `0001U`) or a HCPCS Level II code (`G0283`).
    pub fn parse(text: &str) -> Result<Self, CodeError> {
        let bytes = text.as_bytes();
        let [first, middle @ .., last] = bytes else {
            return Err(CodeError {
                reason: "a procedure code has five characters",
            });
        };
        if bytes.len() != 5 {
            return Err(CodeError {
                reason: "a procedure code has five characters",
            });
        }
        let middle_digits = middle.iter().all(u8::is_ascii_digit);
        let cpt = first.is_ascii_digit()
            && middle_digits
            && matches!(last, b'0'..=b'9' | b'F' | b'T' | b'U');
        let hcpcs = first.is_ascii_uppercase() && middle_digits && last.is_ascii_digit();
        if !(cpt || hcpcs) {
            return Err(CodeError {
                reason: "a procedure code is five digits (CPT), four digits and F, T or U (CPT Category II, III, PLA), or a capital letter and four digits (HCPCS)",
            });
        }
        let mut packed = 0u32;
        for &byte in bytes {
            let digit = digit36(byte).ok_or(CodeError {
                reason: "a procedure code uses only digits and capital letters",
            })?;
            packed = packed * 36 + digit;
        }
        Ok(Self(packed))
    }

    /// The packed value, for dense indexes.
    pub fn packed(self) -> u32 {
        self.0
    }

    /// The shape of the code with its digits blanked: codes in a range must share it.
    pub fn shape(self) -> [u8; 5] {
        let mut shape = self.chars();
        for byte in &mut shape {
            if byte.is_ascii_digit() {
                *byte = b'9';
            }
        }
        shape
    }

    /// The numeric part of the code (its digits read as one number).
    pub fn number(self) -> u32 {
        self.chars()
            .iter()
            .filter(|byte| byte.is_ascii_digit())
            .fold(0, |acc, byte| acc * 10 + u32::from(byte - b'0'))
    }

    /// The code's five characters (`97535`), as ASCII.
    pub fn chars(self) -> [u8; 5] {
        let mut out = [b'0'; 5];
        let mut rest = self.0;
        for slot in out.iter_mut().rev() {
            let digit = (rest % 36) as u8;
            rest /= 36;
            *slot = if digit < 10 {
                b'0' + digit
            } else {
                b'A' + digit - 10
            };
        }
        out
    }
}

impl fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars = self.chars();
        f.write_str(std::str::from_utf8(&chars).unwrap_or("?????"))
    }
}

impl fmt::Debug for ProcedureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProcedureCode({self})")
    }
}

/// An ICD-10-CM diagnosis code, stored without its dot (`I69351`), or a prefix
/// pattern (`I69.*` matches every code that starts with `I69`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct DiagnosisPattern {
    /// Upper-case characters without the dot.
    pub stem: String,
    /// `true` for a prefix pattern written with a trailing `*`.
    pub prefix: bool,
}

impl DiagnosisPattern {
    /// Parses `I69.351`, `R26.89`, `Z00.00`, or a prefix pattern `I69.*`, `I69.3*`.
    pub fn parse(text: &str) -> Result<Self, CodeError> {
        let (body, prefix) = match text.strip_suffix('*') {
            Some(body) => (body.strip_suffix('.').unwrap_or(body), true),
            None => (text, false),
        };
        let stem = normalize_diagnosis(body)?;
        if !prefix && stem.len() < 3 {
            return Err(CodeError {
                reason: "an ICD-10-CM code has at least three characters",
            });
        }
        Ok(Self { stem, prefix })
    }

    /// Whether a diagnosis code (as normalized by [`normalize_diagnosis`]) matches.
    pub fn matches(&self, normalized_code: &str) -> bool {
        self.matches_bytes(normalized_code.as_bytes())
    }

    /// [`DiagnosisPattern::matches`] on the code's bytes.
    pub fn matches_bytes(&self, normalized_code: &[u8]) -> bool {
        let stem = self.stem.as_bytes();
        let compared = if self.prefix {
            normalized_code.get(..stem.len())
        } else {
            Some(normalized_code)
        };
        // Byte by byte: codes are seven bytes at most, shorter than a call to `memcmp`.
        compared.is_some_and(|code| {
            code.len() == stem.len() && code.iter().zip(stem).all(|(a, b)| a == b)
        })
    }
}

impl fmt::Display for DiagnosisPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (category, rest) = self.stem.split_at(self.stem.len().min(3));
        f.write_str(category)?;
        match (rest.is_empty(), self.prefix) {
            (true, true) => f.write_str(".*"),
            (true, false) => Ok(()),
            (false, prefix) => write!(f, ".{rest}{}", if prefix { "*" } else { "" }),
        }
    }
}

/// Checks an ICD-10-CM code (`I69.351`) and returns it upper-case without the dot.
///
/// ICD-10-CM: a letter, a digit, a letter or digit (the category), then up to
/// four letters or digits after the dot.
pub fn normalize_diagnosis(text: &str) -> Result<String, CodeError> {
    DiagnosisCode::parse(text).map(|code| code.as_str().to_owned())
}

/// An ICD-10-CM code as [`normalize_diagnosis`] writes it (upper-case, no dot),
/// kept inline: evaluating a claim compares and shows diagnoses without allocating.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DiagnosisCode {
    /// ASCII: the category (up to 3) and the detail (up to 4 characters).
    bytes: [u8; 7],
    len: u8,
}

impl DiagnosisCode {
    /// Checks an ICD-10-CM code (`I69.351`, or `I69351` without the dot).
    pub fn parse(text: &str) -> Result<Self, CodeError> {
        let (category, detail) = diagnosis_parts(text)?;
        let mut bytes = [0u8; 7];
        let written = category.bytes().chain(detail.bytes());
        let mut len = 0u8;
        for (slot, byte) in bytes.iter_mut().zip(written) {
            *slot = byte;
            len += 1;
        }
        Ok(Self { bytes, len })
    }

    /// Upper-case, without the dot (`I69351`).
    pub fn as_str(&self) -> &str {
        // Only ASCII letters and digits are stored.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// [`DiagnosisCode::as_str`] as bytes: compared without checking them again.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl fmt::Debug for DiagnosisCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DiagnosisCode({})", self.as_str())
    }
}

/// The category (`I69`) and the detail after the dot (`351`) of a valid code.
fn diagnosis_parts(text: &str) -> Result<(&str, &str), CodeError> {
    let (category, detail) = match text.split_once('.') {
        Some((category, detail)) => {
            if detail.is_empty() {
                return Err(CodeError {
                    reason: "an ICD-10-CM code has characters after its dot",
                });
            }
            (category, detail)
        }
        None if text.len() > 3 => match (text.get(..3), text.get(3..)) {
            (Some(category), Some(detail)) => (category, detail),
            // Not on a character boundary: not ASCII, so not a code.
            _ => {
                return Err(CodeError {
                    reason: "an ICD-10-CM code is made of capital letters and digits",
                })
            }
        },
        None => (text, ""),
    };
    let category_ok = match category.as_bytes() {
        [letter, digit, third] => {
            letter.is_ascii_uppercase()
                && digit.is_ascii_digit()
                && (third.is_ascii_digit() || third.is_ascii_uppercase())
        }
        [letter, digit] => {
            letter.is_ascii_uppercase() && digit.is_ascii_digit() && detail.is_empty()
        }
        [letter] => letter.is_ascii_uppercase() && detail.is_empty(),
        _ => false,
    };
    if !category_ok {
        return Err(CodeError {
            reason: "an ICD-10-CM code starts with a capital letter, a digit, and a digit or capital letter (`I69`)",
        });
    }
    if detail.len() > 4
        || !detail
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    {
        return Err(CodeError {
            reason: "an ICD-10-CM code has at most four digits or capital letters after its dot",
        });
    }
    Ok((category, detail))
}

/// A procedure modifier: two digits or capital letters (`GP`, `59`, `XU`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Modifier([u8; 2]);

// Ordered as the text (`59` < `GO` < `GP`), compared as one number: sets of
// modifiers are searched on every line.
impl Ord for Modifier {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        u16::from_be_bytes(self.0).cmp(&u16::from_be_bytes(other.0))
    }
}

impl PartialOrd for Modifier {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Modifier {
    pub fn parse(text: &str) -> Result<Self, CodeError> {
        match text.as_bytes() {
            [a, b] if is_code_char(*a) && is_code_char(*b) => Ok(Self([*a, *b])),
            _ => Err(CodeError {
                reason: "a modifier is two digits or capital letters (`GP`, `59`)",
            }),
        }
    }
}

fn is_code_char(byte: u8) -> bool {
    byte.is_ascii_digit() || byte.is_ascii_uppercase()
}

impl Modifier {
    /// The two characters (`GP`).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// Whether this is the modifier written `text` (`GP`), without allocating.
    pub fn is(self, text: &str) -> bool {
        self.0.as_slice() == text.as_bytes()
    }
}

impl fmt::Display for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Modifier({self})")
    }
}

/// A CMS place-of-service code: two digits (`11`, `02`, `10`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlaceOfService(u8);

impl PlaceOfService {
    pub fn parse(text: &str) -> Result<Self, CodeError> {
        match text.as_bytes() {
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
                Ok(Self((a - b'0') * 10 + (b - b'0')))
            }
            _ => Err(CodeError {
                reason: "a place of service is two digits (`11`, `02`)",
            }),
        }
    }
}

impl PlaceOfService {
    /// The two digits (`02`), as ASCII.
    pub fn digits(self) -> [u8; 2] {
        [b'0' + self.0 / 10 % 10, b'0' + self.0 % 10]
    }

    /// Whether this is the place written `text` (`02`), without allocating.
    pub fn is(self, text: &str) -> bool {
        Self::parse(text).is_ok_and(|place| place == self)
    }
}

impl fmt::Display for PlaceOfService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

impl fmt::Debug for PlaceOfService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PlaceOfService({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procedure_codes_round_trip_and_keep_numeric_order() {
        for text in [
            "97535", "97530", "0591T", "1234F", "0001U", "G0283", "00100",
        ] {
            let code = ProcedureCode::parse(text).map(|c| c.to_string());
            assert_eq!(code.as_deref(), Ok(text));
        }
        let low = ProcedureCode::parse("97161").map(ProcedureCode::number);
        assert_eq!(low, Ok(97161));
        assert!(ProcedureCode::parse("97110").ok() < ProcedureCode::parse("97112").ok());
    }

    #[test]
    fn malformed_procedure_codes_are_rejected() {
        for text in ["9753", "975355", "97a35", "g0283", "GG283", "0591X", ""] {
            assert!(
                ProcedureCode::parse(text).is_err(),
                "{text} should be rejected"
            );
        }
    }

    #[test]
    fn diagnosis_codes_and_patterns() {
        let stroke = DiagnosisPattern::parse("I69.*").ok();
        assert_eq!(stroke.as_ref().map(|p| p.stem.as_str()), Some("I69"));
        assert!(stroke.as_ref().is_some_and(|p| p.matches("I69351")));
        assert!(!stroke.as_ref().is_some_and(|p| p.matches("I63")));
        assert_eq!(
            DiagnosisPattern::parse("R26.89").map(|p| p.to_string()),
            Ok("R26.89".into())
        );
        assert_eq!(
            DiagnosisPattern::parse("I69.3*").map(|p| p.to_string()),
            Ok("I69.3*".into())
        );
        for bad in [
            "i69.351",
            "169.351",
            "I69.",
            "I69.35100",
            "I6",
            "R26.8-",
            "R\u{2cb}\u{d1c7}9",
            "ÅÅÅÅ",
        ] {
            assert!(
                DiagnosisPattern::parse(bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn modifiers_and_places() {
        assert_eq!(
            Modifier::parse("GP").map(|m| m.to_string()),
            Ok("GP".into())
        );
        assert!(Modifier::parse("gp").is_err());
        assert!(Modifier::parse("GPX").is_err());
        assert_eq!(
            PlaceOfService::parse("02").map(|p| p.to_string()),
            Ok("02".into())
        );
        assert!(PlaceOfService::parse("2").is_err());
        assert!(PlaceOfService::parse("A1").is_err());
    }
}
