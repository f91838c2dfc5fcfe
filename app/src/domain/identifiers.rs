//! Swedish identifiers, validated on construction: a value of these types is always well formed.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why an identifier was refused. The variants are stable codes shown translated to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum IdentifierError {
    #[error("wrong length or characters")]
    Format,
    #[error("not a real date")]
    Date,
    #[error("wrong check digit")]
    CheckDigit,
    #[error("coordination numbers are not accepted here")]
    CoordinationNumber,
}

/// Luhn check over a string of digits: the last digit is the check digit.
fn luhn_ok(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn digits_of(s: &str) -> Option<Vec<u8>> {
    s.bytes()
        .map(|b| b.is_ascii_digit().then_some(b - b'0'))
        .collect()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

fn number(d: &[u8]) -> u32 {
    d.iter().fold(0, |acc, x| acc * 10 + u32::from(*x))
}

/// String conversions shared by the validated identifiers: serde goes through `TryFrom<String>`
/// (so every deserialised value is validated) and `Into<String>`.
macro_rules! validated_string {
    ($name:ident, $parse:path) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdentifierError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

// Stored numbers may be coordination numbers where a region allows them.
validated_string!(Personnummer, Personnummer::parse_allowing_coordination);
validated_string!(OrgNumber, OrgNumber::parse);
validated_string!(HsaId, HsaId::parse);

/// A Swedish personal identity number in its 12-digit form, `YYYYMMDDNNNN`.
///
/// Accepts `YYYYMMDDNNNN` and `YYYYMMDD-NNNN`. The date must exist and the last digit is a Luhn
/// check digit over the last ten. Coordination numbers (day + 60) are refused by
/// [`Personnummer::parse`] and accepted by [`Personnummer::parse_allowing_coordination`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Personnummer(String);

impl Personnummer {
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let pnr = Self::parse_allowing_coordination(input)?;
        if pnr.is_coordination_number() {
            return Err(IdentifierError::CoordinationNumber);
        }
        Ok(pnr)
    }

    pub fn parse_allowing_coordination(input: &str) -> Result<Self, IdentifierError> {
        let compact: String = match input.trim() {
            s if s.len() == 13 && s.as_bytes()[8] == b'-' => format!("{}{}", &s[..8], &s[9..]),
            s => s.to_owned(),
        };
        let digits = digits_of(&compact).ok_or(IdentifierError::Format)?;
        if digits.len() != 12 {
            return Err(IdentifierError::Format);
        }
        let year = number(&digits[0..4]);
        let month = number(&digits[4..6]);
        let mut day = number(&digits[6..8]);
        if day > 60 {
            day -= 60;
        }
        if !(1800..=2199).contains(&year)
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
        {
            return Err(IdentifierError::Date);
        }
        if !luhn_ok(&digits[2..]) {
            return Err(IdentifierError::CheckDigit);
        }
        Ok(Self(compact))
    }

    pub fn is_coordination_number(&self) -> bool {
        self.0.as_bytes()[6] >= b'6'
    }

    /// `YYYYMMDD-NNNN`, the way people write it.
    pub fn display_form(&self) -> String {
        format!("{}-{}", &self.0[..8], &self.0[8..])
    }
}

impl fmt::Display for Personnummer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_form())
    }
}

impl FromStr for Personnummer {
    type Err = IdentifierError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A Swedish organisation number, 10 digits (`NNNNNN-NNNN` accepted), Luhn-checked.
/// The third digit is at least 2, which tells it apart from a personal identity number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgNumber(String);

impl OrgNumber {
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let compact: String = input.trim().chars().filter(|c| *c != '-').collect();
        let digits = digits_of(&compact).ok_or(IdentifierError::Format)?;
        if digits.len() != 10 || digits[2] < 2 {
            return Err(IdentifierError::Format);
        }
        if !luhn_ok(&digits) {
            return Err(IdentifierError::CheckDigit);
        }
        Ok(Self(compact))
    }
}

impl fmt::Display for OrgNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", &self.0[..6], &self.0[6..])
    }
}

/// An HSA-ID: country code, organisation number, `-`, and a local part of letters and digits,
/// e.g. `SE2321000016-ABC1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HsaId(String);

impl HsaId {
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let s = input.trim().to_ascii_uppercase();
        let (head, local) = s.split_once('-').ok_or(IdentifierError::Format)?;
        if head.len() != 12
            || !head.starts_with("SE")
            || local.is_empty()
            || local.len() > 31
            || !local.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(IdentifierError::Format);
        }
        OrgNumber::parse(&head[2..])?;
        Ok(Self(s))
    }

    /// The organisation number of the care provider that issued this HSA-ID.
    pub fn org_number(&self) -> Option<OrgNumber> {
        OrgNumber::parse(&self.0[2..12]).ok()
    }
}

impl fmt::Display for HsaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn personnummer_accepts_valid_numbers_in_both_forms() {
        // Skatteverket's published test numbers.
        let a = Personnummer::parse("19121212-1212").expect("valid");
        assert_eq!(a.as_str(), "191212121212");
        assert_eq!(a.to_string(), "19121212-1212");
        assert!(Personnummer::parse("199001012385").is_ok());
        assert!(
            Personnummer::parse(" 200002292381 ").is_ok(),
            "leap day 2000"
        );
    }

    #[test]
    fn personnummer_refuses_bad_input_with_the_specific_reason() {
        use IdentifierError::*;
        for (input, reason) in [
            ("191212121213", CheckDigit),
            ("19121212121", Format),
            ("1912121212a2", Format),
            ("191213121212", Date),
            ("190002290000", Date), // 1900 is no leap year
            ("191212001212", Date),
            ("", Format),
        ] {
            assert_eq!(Personnummer::parse(input), Err(reason), "{input:?}");
        }
    }

    #[test]
    fn coordination_numbers_are_refused_unless_allowed() {
        // Day 12 + 60 = 72; check digit recomputed for the changed digits.
        let input = "191212721219";
        assert!(luhn_ok(&digits_of(&input[2..]).expect("digits")));
        assert_eq!(
            Personnummer::parse(input),
            Err(IdentifierError::CoordinationNumber)
        );
        let c =
            Personnummer::parse_allowing_coordination(input).expect("valid coordination number");
        assert!(c.is_coordination_number());
    }

    #[test]
    fn personnummer_deserialisation_validates() {
        let ok: Result<Personnummer, _> = serde_json::from_str("\"191212121212\"");
        assert!(ok.is_ok());
        let bad: Result<Personnummer, _> = serde_json::from_str("\"191212121213\"");
        assert!(bad.is_err());
    }

    #[test]
    fn org_number_and_hsa_id() {
        let org = OrgNumber::parse("232100-0016").expect("Region Stockholm's number");
        assert_eq!(org.to_string(), "232100-0016");
        assert_eq!(
            OrgNumber::parse("2321000017"),
            Err(IdentifierError::CheckDigit)
        );
        assert_eq!(
            OrgNumber::parse("1912121212"),
            Err(IdentifierError::Format),
            "third digit < 2"
        );

        let hsa = HsaId::parse("se2321000016-abc1").expect("valid");
        assert_eq!(hsa.as_str(), "SE2321000016-ABC1");
        assert_eq!(hsa.org_number(), Some(org));
        for (input, reason) in [
            ("SE2321000016", IdentifierError::Format),
            ("SE2321000016-AB C", IdentifierError::Format),
            ("SE2321000017-ABC1", IdentifierError::CheckDigit),
            ("NO2321000016-ABC1", IdentifierError::Format),
        ] {
            assert_eq!(HsaId::parse(input), Err(reason), "{input:?}");
        }
    }
}
