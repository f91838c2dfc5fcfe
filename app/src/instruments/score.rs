use super::model::{AlertRule, Condition, Instrument, Priority};
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
    answers: &[Option<i32>],
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
        if answers.get(skip.item).copied().flatten() == Some(skip.equals) {
            for &i in &skip.skipped {
                if let Some(s) = skipped.get_mut(i) {
                    *s = true;
                }
            }
        }
    }
    let mut points = vec![0; items.len()];
    for (i, (item, answer)) in items.iter().zip(answers).enumerate() {
        match (*answer, skipped[i]) {
            (Some(_), true) => return Err(AnswerError::NotAsked { item: i }),
            (None, true) => {}
            (None, false) if item.required => return Err(AnswerError::Missing { item: i }),
            (None, false) => {}
            (Some(value), false) => {
                if !item.values.contains(&value) {
                    return Err(AnswerError::NotAllowed { item: i, value });
                }
                if item.scored {
                    points[i] = item.points(value);
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
    let answer = |i: usize| answers.get(i).copied().flatten();
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
