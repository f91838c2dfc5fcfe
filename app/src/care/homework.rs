//! Homework: a module's worksheets (answered once, then locked) and its exercises (repeated
//! entries, such as a sleep diary). What a patient writes in a worksheet's or exercise's fields
//! is checked here against the fields the program defines, the same way for a draft and for a
//! submit, except that a submit must have every required field.

#[cfg(feature = "ssr")]
use crate::programs::{Field, FieldKind};
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use std::collections::BTreeMap;

/// The most entries one exercise keeps in one treatment (a year of a daily diary).
pub const MAX_ENTRIES: i64 = 400;

/// A worksheet or an exercise. Stored in `homework_entry.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HomeworkKind {
    /// Answered once: a draft, then submitted and locked. The module's homework.
    Worksheet,
    /// Any number of entries, each kept as written.
    Exercise,
}

impl HomeworkKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Worksheet => "worksheet",
            Self::Exercise => "exercise",
        }
    }
}

/// Why fields were refused: the field's key and a stable reason code (shown translated).
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub reason: &'static str,
}

#[cfg(feature = "ssr")]
fn problem(field: &str, reason: &'static str) -> FieldProblem {
    FieldProblem {
        field: field.to_owned(),
        reason,
    }
}

#[cfg(feature = "ssr")]
/// What the form sent, as it would be kept: text without control characters or invisible
/// direction marks, trimmed, blank fields left out. A retry is recognised by being equal to it.
pub fn normalised(sent: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    sent.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                crate::messages::text::strip_invisible(v).trim().to_owned(),
            )
        })
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

#[cfg(feature = "ssr")]
/// The values to keep, by field key, from what the form sent: blank fields are left out, text
/// is kept without control characters or invisible direction marks. Every sent name must be a
/// field of the block and hold a value its kind takes. With `complete`, every required field must
/// have a value (and at least one field must).
pub fn check_fields(
    fields: &[Field],
    sent: &BTreeMap<String, String>,
    complete: bool,
) -> Result<BTreeMap<String, String>, FieldProblem> {
    if let Some(unknown) = sent.keys().find(|k| !fields.iter().any(|f| &f.key == *k)) {
        return Err(problem(unknown, "unknown_field"));
    }
    let mut kept = BTreeMap::new();
    for field in fields {
        let key = field.key.as_str();
        let value = sent
            .get(key)
            .map(|v| crate::messages::text::strip_invisible(v))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        let Some(value) = value else {
            if complete && field.required {
                return Err(problem(key, "missing_answer"));
            }
            continue;
        };
        match &field.kind {
            FieldKind::Text { max_chars } => {
                if value.chars().count() > *max_chars as usize {
                    return Err(problem(key, "too_long"));
                }
            }
            FieldKind::Number { min, max } => {
                let number: i32 = value.parse().map_err(|_| problem(key, "not_a_number"))?;
                if number < *min || number > *max {
                    return Err(problem(key, "out_of_range"));
                }
            }
            FieldKind::Date => {
                chrono::NaiveDate::parse_from_str(&value, "%Y-%m-%d")
                    .map_err(|_| problem(key, "not_a_date"))?;
            }
            FieldKind::Time => {
                chrono::NaiveTime::parse_from_str(&value, "%H:%M")
                    .map_err(|_| problem(key, "not_a_time"))?;
            }
            FieldKind::Choice { options } => {
                if !options.contains(&value) {
                    return Err(problem(key, "not_allowed"));
                }
            }
        }
        kept.insert(key.to_owned(), value);
    }
    if complete && kept.is_empty() {
        let first = fields.first().map_or("fields", |f| f.key.as_str());
        return Err(problem(first, "missing_answer"));
    }
    Ok(kept)
}

#[cfg(feature = "ssr")]
/// The fields' labels with the values kept, in the block's order (for reading them back).
pub fn labelled(fields: &[Field], values: &BTreeMap<String, String>) -> Vec<(String, String)> {
    fields
        .iter()
        .filter_map(|f| values.get(&f.key).map(|v| (f.label.clone(), v.clone())))
        .collect()
}

#[cfg(all(test, feature = "ssr"))]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    fn field(key: &str, kind: FieldKind, required: bool) -> Field {
        Field {
            key: key.to_owned(),
            label: key.to_uppercase(),
            kind,
            required,
        }
    }

    fn diary() -> Vec<Field> {
        vec![
            field("night", FieldKind::Date, true),
            field("bed", FieldKind::Time, true),
            field("wakings", FieldKind::Number { min: 0, max: 20 }, false),
            field(
                "quality",
                FieldKind::Choice {
                    options: vec!["Dålig".to_owned(), "Bra".to_owned()],
                },
                false,
            ),
            field("note", FieldKind::Text { max_chars: 10 }, false),
        ]
    }

    fn sent(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_complete_entry_keeps_every_value_trimmed_and_leaves_blanks_out() {
        let kept = check_fields(
            &diary(),
            &sent(&[
                ("night", "2026-11-29"),
                ("bed", "23:15"),
                ("wakings", " 3 "),
                ("quality", "Bra"),
                ("note", ""),
            ]),
            true,
        )
        .expect("valid");
        assert_eq!(
            kept,
            sent(&[
                ("night", "2026-11-29"),
                ("bed", "23:15"),
                ("wakings", "3"),
                ("quality", "Bra")
            ])
        );
        assert_eq!(
            labelled(&diary(), &kept)[0],
            ("NIGHT".to_owned(), "2026-11-29".to_owned())
        );
    }

    #[test]
    fn each_kind_refuses_what_it_does_not_take_and_names_the_field() {
        let cases = [
            (("night", "29/11"), "not_a_date"),
            (("bed", "25:00"), "not_a_time"),
            (("wakings", "tre"), "not_a_number"),
            (("wakings", "21"), "out_of_range"),
            (("quality", "Utmärkt"), "not_allowed"),
            (("note", "elva tecken"), "too_long"),
            (("other", "x"), "unknown_field"),
        ];
        for ((key, value), reason) in cases {
            let refused = check_fields(&diary(), &sent(&[(key, value)]), false);
            assert_eq!(
                refused,
                Err(FieldProblem {
                    field: key.to_owned(),
                    reason
                }),
                "{key}={value}"
            );
        }
    }

    #[test]
    fn a_draft_may_leave_required_fields_blank_a_submit_may_not() {
        let partial = sent(&[("wakings", "2")]);
        assert!(check_fields(&diary(), &partial, false).is_ok());
        assert_eq!(
            check_fields(&diary(), &partial, true),
            Err(problem("night", "missing_answer"))
        );
        // Only optional fields, all blank: nothing to keep.
        let optional = vec![field("note", FieldKind::Text { max_chars: 10 }, false)];
        assert_eq!(
            check_fields(&optional, &sent(&[("note", "  ")]), true),
            Err(problem("note", "missing_answer"))
        );
    }

    #[test]
    fn invisible_direction_marks_are_stripped_from_text() {
        let kept = check_fields(
            &diary(),
            &sent(&[
                ("night", "2026-11-29"),
                ("bed", "22:00"),
                ("note", "a\u{202e}b"),
            ]),
            true,
        )
        .expect("valid");
        assert_eq!(kept["note"], "ab");
    }
}
