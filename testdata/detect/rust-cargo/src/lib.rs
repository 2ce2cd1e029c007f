//! Counts the digits of numbers.

/// The number of decimal digits of n.
pub fn digits(n: u64) -> usize {
    let mut buf = itoa::Buffer::new();
    buf.format(n).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(digits(0), 1);
        assert_eq!(digits(12345), 5);
    }
}
