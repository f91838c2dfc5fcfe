//! When a scheduled questionnaire is due: which instance is open on a given Swedish calendar
//! day. Pure, so that the rules are stated by tests: the server keeps one row per instance
//! (`due_form`) and asks this which one may be open now.
//!
//! A schedule's first instance falls due on its *anchor* day: the day of enrolment, or the
//! day its module opened or was finished (the day the server first saw it so). A repeating
//! schedule falls due again every `every_days` days after the anchor. Each instance stays open
//! for `window_days` days from the day it falls due, and never into the next instance's first
//! day. Only the newest instance that has fallen due can be open: a patient who is away for
//! three weeks of a weekly form meets one form, not three.

use crate::programs::Schedule;
use chrono::{Duration, NaiveDate};

/// One instance of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instance {
    /// 0 for the first time it falls due.
    pub number: u32,
    pub due_on: NaiveDate,
    /// The first day it is no longer open.
    pub closes_on: NaiveDate,
}

impl Instance {
    pub fn is_open_on(&self, day: NaiveDate) -> bool {
        self.due_on <= day && day < self.closes_on
    }
}

/// The instance that has most recently fallen due on `today` (open or not), if any has.
pub fn latest(schedule: &Schedule, anchor: NaiveDate, today: NaiveDate) -> Option<Instance> {
    if today < anchor {
        return None;
    }
    let elapsed = (today - anchor).num_days();
    let (number, due_on) = match schedule.every_days.filter(|d| *d > 0) {
        Some(every) => {
            let n = elapsed / i64::from(every);
            (n, anchor + Duration::days(n * i64::from(every)))
        }
        None => (0, anchor),
    };
    let window = i64::from(schedule.window_days.max(1));
    let window = schedule
        .every_days
        .filter(|d| *d > 0)
        .map_or(window, |every| window.min(i64::from(every)));
    Some(Instance {
        number: u32::try_from(number).unwrap_or(u32::MAX),
        due_on,
        closes_on: due_on + Duration::days(window),
    })
}

/// The instance open on `today`, if one is.
pub fn open(schedule: &Schedule, anchor: NaiveDate, today: NaiveDate) -> Option<Instance> {
    latest(schedule, anchor, today).filter(|i| i.is_open_on(today))
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use crate::programs::ScheduleStart;

    fn day(d: &str) -> NaiveDate {
        NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("a day")
    }

    fn weekly(window: u16) -> Schedule {
        Schedule {
            key: "gad7-weekly".to_owned(),
            questionnaire: "gad7".to_owned(),
            starts: ScheduleStart::Enrolment,
            every_days: Some(7),
            window_days: window,
            blocking: false,
        }
    }

    #[test]
    fn a_weekly_form_is_due_on_the_anchor_and_every_seventh_day() {
        let s = weekly(3);
        let anchor = day("2026-11-02");
        assert_eq!(open(&s, anchor, day("2026-11-01")), None);
        let first = open(&s, anchor, day("2026-11-02")).expect("open");
        assert_eq!((first.number, first.due_on), (0, anchor));
        assert_eq!(first.closes_on, day("2026-11-05"));
        assert!(open(&s, anchor, day("2026-11-04")).is_some());
        // Its window of three days has passed; the next is not due yet.
        assert_eq!(open(&s, anchor, day("2026-11-05")), None);
        let second = open(&s, anchor, day("2026-11-09")).expect("open");
        assert_eq!((second.number, second.due_on), (1, day("2026-11-09")));
    }

    #[test]
    fn three_weeks_away_meets_one_form_the_newest() {
        let s = weekly(7);
        let anchor = day("2026-11-02");
        let back = open(&s, anchor, day("2026-11-24")).expect("open");
        assert_eq!(back.number, 3);
        assert_eq!(back.due_on, day("2026-11-23"));
    }

    #[test]
    fn the_day_is_the_swedish_one_not_utcs() {
        use crate::domain::time::stockholm_day;
        use chrono::{TimeZone, Utc};
        // 22:30 UTC in summer is 00:30 the next day in Sweden: the next week's form is due.
        let late = Utc
            .with_ymd_and_hms(2026, 6, 7, 22, 30, 0)
            .single()
            .expect("time");
        let s = weekly(7);
        let today = stockholm_day(late);
        assert_eq!(today, day("2026-06-08"));
        assert_eq!(open(&s, day("2026-06-01"), today).expect("open").number, 1);
        // In winter the offset is one hour: 22:30 UTC is still the same day.
        let winter = Utc
            .with_ymd_and_hms(2026, 12, 6, 22, 30, 0)
            .single()
            .expect("time");
        assert_eq!(stockholm_day(winter), day("2026-12-06"));
    }

    #[test]
    fn a_window_never_reaches_into_the_next_instance() {
        let s = weekly(30);
        let first = open(&s, day("2026-11-02"), day("2026-11-02")).expect("open");
        assert_eq!(first.closes_on, day("2026-11-09"));
    }

    #[test]
    fn a_single_form_stays_open_for_its_window_then_lapses() {
        let mut s = weekly(14);
        s.every_days = None;
        let anchor = day("2026-03-28");
        assert_eq!(open(&s, anchor, day("2026-04-10")).expect("open").number, 0);
        assert_eq!(open(&s, anchor, day("2026-04-11")), None);
        assert_eq!(
            latest(&s, anchor, day("2027-01-01")).expect("open").number,
            0
        );
    }
}
