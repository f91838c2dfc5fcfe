use super::model::{AlertRule, Answer, Condition, Instrument, Item, ItemKind, Priority};
use serde::{Deserialize, Serialize};

/// Why a set of answers cannot be scored. Nothing is scored (or stored) then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AnswerError {
    #[error("expected {expected} answers, got {got}")]
    Count { expected: usize, got: usize },
    #[error("item {item} is required")]
    Missing { item: usize },
    #[error("item {item} does not allow {value}")]
    NotAllowed { item: usize, value: i32 },
    #[error("item {item} is not asked after the answers given")]
    NotAsked { item: usize },
    #[error("item {item} takes another kind of answer")]
    WrongKind { item: usize },
    #[error("item {item} allows each choice once; {value} came twice")]
    Repeated { item: usize, value: i32 },
    #[error("item {item} allows at most {max} characters")]
    TooLong { item: usize, max: u32 },
    #[error("item {item} is not a valid date or time")]
    Invalid { item: usize },
}

/// An alert raised by an answer set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub code: String,
    pub priority: Priority,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scored {
    pub total: i32,
    /// Subscale codes and their totals, in definition order.
    pub subscales: Vec<(String, i32)>,
    /// The band the total falls in, if the instrument has bands.
    pub band: Option<String>,
    /// Urgent ones first.
    pub alerts: Vec<Alert>,
    /// Codes of the criteria met.
    pub criteria: Vec<String>,
}

/// Checks `answers` (one per item, `None` for unanswered) and scores them. `previous` is the
/// total of the last time, for alerts on worsening.
pub fn score(
    instrument: &Instrument,
    answers: &[Option<Answer>],
    previous: Option<i32>,
) -> Result<Scored, AnswerError> {
    let items = &instrument.items;
    if answers.len() != items.len() {
        return Err(AnswerError::Count {
            expected: items.len(),
            got: answers.len(),
        });
    }
    let mut skipped = vec![false; items.len()];
    for skip in &instrument.skips {
        if matches!(answers.get(skip.item), Some(Some(Answer::Value(v))) if *v == skip.equals) {
            for &i in &skip.skipped {
                if let Some(s) = skipped.get_mut(i) {
                    *s = true;
                }
            }
        }
    }
    // The numeric value of each answer (a choice, a number, the sum of several choices).
    let mut values: Vec<Option<i32>> = vec![None; items.len()];
    let mut points = vec![0; items.len()];
    for (i, (item, answer)) in items.iter().zip(answers).enumerate() {
        let answer = answer.as_ref().filter(|a| !is_empty(a));
        match (answer, skipped[i]) {
            (Some(_), true) => return Err(AnswerError::NotAsked { item: i }),
            (None, true) => {}
            (None, false) if item.required => return Err(AnswerError::Missing { item: i }),
            (None, false) => {}
            (Some(answer), false) => {
                values[i] = check(i, item, answer)?;
                if item.scored {
                    points[i] = values[i].map_or(0, |v| item.points(v));
                }
            }
        }
    }
    let total: i32 = points.iter().sum();
    let subscales = instrument
        .subscales
        .iter()
        .map(|s| {
            let sum = s.items.iter().filter_map(|&i| points.get(i)).sum();
            (s.code.clone(), sum)
        })
        .collect();
    let band = instrument
        .bands
        .iter()
        .find(|b| (b.from..=b.to).contains(&total))
        .map(|b| b.code.clone());
    let answer = |i: usize| values.get(i).copied().flatten();
    let mut alerts: Vec<Alert> = instrument
        .alerts
        .iter()
        .filter_map(|rule| {
            let (code, priority, raised) = match rule {
                AlertRule::ItemAtLeast {
                    code,
                    item,
                    value,
                    priority,
                } => (code, priority, answer(*item).is_some_and(|a| a >= *value)),
                AlertRule::TotalAtLeast {
                    code,
                    value,
                    priority,
                } => (code, priority, total >= *value),
                AlertRule::WorsenedBy {
                    code,
                    points,
                    priority,
                } => (
                    code,
                    priority,
                    previous.is_some_and(|p| total - p >= *points),
                ),
            };
            raised.then(|| Alert {
                code: code.clone(),
                priority: *priority,
            })
        })
        .collect();
    alerts.sort_by_key(|a| std::cmp::Reverse(a.priority));
    let criteria = instrument
        .criteria
        .iter()
        .filter(|c| {
            c.all_of.iter().all(|condition| match condition {
                Condition::TotalAtLeast { value } => total >= *value,
                Condition::CountAtLeast { items, count } => {
                    items
                        .iter()
                        .filter(|(i, min)| answer(*i).is_some_and(|a| a >= *min))
                        .count()
                        >= *count
                }
            })
        })
        .map(|c| c.code.clone())
        .collect();
    Ok(Scored {
        total,
        subscales,
        band,
        alerts,
        criteria,
    })
}

fn is_empty(answer: &Answer) -> bool {
    match answer {
        Answer::Value(_) => false,
        Answer::Values(list) => list.is_empty(),
        Answer::Text(text) => text.trim().is_empty(),
    }
}

/// Whether `answer` fits `item`; its numeric value if it has one.
fn check(i: usize, item: &Item, answer: &Answer) -> Result<Option<i32>, AnswerError> {
    let wrong = AnswerError::WrongKind { item: i };
    match (&item.kind, answer) {
        (ItemKind::Choice { values }, Answer::Value(v)) => {
            if values.contains(v) {
                Ok(Some(*v))
            } else {
                Err(AnswerError::NotAllowed { item: i, value: *v })
            }
        }
        (ItemKind::MultipleChoice { values }, Answer::Values(chosen)) => {
            let mut seen = Vec::with_capacity(chosen.len());
            for v in chosen {
                if !values.contains(v) {
                    return Err(AnswerError::NotAllowed { item: i, value: *v });
                }
                if seen.contains(v) {
                    return Err(AnswerError::Repeated { item: i, value: *v });
                }
                seen.push(*v);
            }
            Ok(Some(chosen.iter().sum()))
        }
        (ItemKind::Number { min, max }, Answer::Value(v)) => {
            if (*min..=*max).contains(v) {
                Ok(Some(*v))
            } else {
                Err(AnswerError::NotAllowed { item: i, value: *v })
            }
        }
        (ItemKind::FreeText { max_chars }, Answer::Text(text)) => {
            if text.chars().count() > *max_chars as usize {
                Err(AnswerError::TooLong {
                    item: i,
                    max: *max_chars,
                })
            } else {
                Ok(None)
            }
        }
        (ItemKind::Date, Answer::Text(text)) => {
            if is_date(text) {
                Ok(None)
            } else {
                Err(AnswerError::Invalid { item: i })
            }
        }
        (ItemKind::Time, Answer::Text(text)) => {
            if is_time(text) {
                Ok(None)
            } else {
                Err(AnswerError::Invalid { item: i })
            }
        }
        _ => Err(wrong),
    }
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `YYYY-MM-DD`, a day that exists.
fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return false;
    }
    let (Some(y), Some(m), Some(d)) = (digits(y), digits(m), digits(d)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// `HH:MM`, 00:00 to 23:59.
fn is_time(text: &str) -> bool {
    let Some((h, m)) = text.split_once(':') else {
        return false;
    };
    h.len() == 2
        && m.len() == 2
        && digits(h).is_some_and(|h| h < 24)
        && digits(m).is_some_and(|m| m < 60)
}
