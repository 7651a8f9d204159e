//! Whole numbers in decimal, without `core::fmt`: a batch writes one for every
//! list index in a path, unit count and byte offset it reads or reports.

/// The decimal digits of a number, on the stack.
pub(crate) struct Decimal {
    digits: [u8; 20],
    start: usize,
}

impl Decimal {
    pub(crate) fn new(number: u64) -> Self {
        // u64::MAX has 20 digits; filled from the right.
        let mut digits = [b'0'; 20];
        let mut start = digits.len();
        let mut rest = number;
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
            start -= 1;
            if rest == 0 {
                break;
            }
        }
        Decimal { digits, start }
    }

    /// The digits, ASCII.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.digits.get(self.start..).unwrap_or_default()
    }

    /// The digits appended to `out`, without a UTF-8 check.
    pub(crate) fn push_to(&self, out: &mut String) {
        out.extend(self.as_bytes().iter().map(|&byte| char::from(byte)));
    }
}

#[cfg(test)]
mod tests {
    use super::Decimal;

    #[test]
    fn numbers_are_written_in_full() {
        for number in [0, 7, 10, 99, 12_345, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(
                Decimal::new(number).as_bytes(),
                number.to_string().as_bytes()
            );
            let mut text = String::from("x");
            Decimal::new(number).push_to(&mut text);
            assert_eq!(text, format!("x{number}"));
        }
    }
}
