//! Swedish local time (Europe/Stockholm) without a time-zone database: Sweden has kept the
//! European Union's rule since 1996, so the offset is one hour (CET), and two hours (CEST) from
//! 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October.
//! Days, quiet hours and "every N days" are counted in this time.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset, TimeZone, Utc, Weekday};

/// The last Sunday of a month, at 01:00 UTC.
fn last_sunday_0100_utc(year: i32, month: u32) -> DateTime<Utc> {
    let first_of_next = match month {
        12 => NaiveDate::from_ymd_opt(year + 1, 1, 1),
        _ => NaiveDate::from_ymd_opt(year, month + 1, 1),
    }
    .unwrap_or_default();
    let last = first_of_next.pred_opt().unwrap_or(first_of_next);
    let back = last.weekday().num_days_from_sunday();
    let sunday = last - chrono::Duration::days(back.into());
    debug_assert_eq!(sunday.weekday(), Weekday::Sun);
    Utc.from_utc_datetime(&sunday.and_hms_opt(1, 0, 0).unwrap_or_default())
}

/// The offset of Swedish time from UTC at an instant.
pub fn stockholm_offset(at: DateTime<Utc>) -> FixedOffset {
    let year = at.year();
    let summer = at >= last_sunday_0100_utc(year, 3) && at < last_sunday_0100_utc(year, 10);
    let hours = if summer { 2 } else { 1 };
    FixedOffset::east_opt(hours * 3600).unwrap_or_else(|| Utc.fix())
}

/// An instant as Swedish wall-clock time.
pub fn stockholm(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&stockholm_offset(at))
}

/// The Swedish calendar day of an instant.
pub fn stockholm_day(at: DateTime<Utc>) -> NaiveDate {
    stockholm(at).date_naive()
}

/// Hours of the night (Swedish time) in which nothing is sent: from `start` o'clock to `end`
/// o'clock, across midnight when `start > end`. `start == end` means no quiet hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    pub start: u32,
    pub end: u32,
}

impl QuietHours {
    /// 21:00–08:00.
    pub const NIGHT: Self = Self { start: 21, end: 8 };
    pub const NONE: Self = Self { start: 0, end: 0 };

    /// Whether the instant falls in the quiet hours.
    pub fn contains(self, at: DateTime<Utc>) -> bool {
        use chrono::Timelike;
        let hour = stockholm(at).hour();
        match self.start.cmp(&self.end) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => hour >= self.start && hour < self.end,
            std::cmp::Ordering::Greater => hour >= self.start || hour < self.end,
        }
    }

    /// The first instant at or after `at` outside the quiet hours.
    pub fn next_allowed(self, at: DateTime<Utc>) -> DateTime<Utc> {
        use chrono::Timelike;
        if !self.contains(at) {
            return at;
        }
        // Step to the next whole hour until the quiet hours are over (at most a day of steps;
        // a whole hour stays whole across a change of offset).
        let mut t = at
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(at);
        for _ in 0..26 {
            t += chrono::Duration::hours(1);
            if !self.contains(t) {
                return t;
            }
        }
        at
    }
}

impl std::str::FromStr for QuietHours {
    type Err = String;
    /// `21-8` (from 21:00 to 08:00) or `none`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("none") {
            return Ok(Self::NONE);
        }
        let hour = |h: &str| match h.trim().parse::<u32>() {
            Ok(h) if h < 24 => Ok(h),
            _ => Err(format!("`{s}`: hours are 0–23, as in `21-8`, or `none`")),
        };
        let (start, end) = s
            .split_once('-')
            .ok_or_else(|| format!("`{s}`: write the quiet hours as `21-8`, or `none`"))?;
        Ok(Self {
            start: hour(start)?,
            end: hour(end)?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("an instant")
    }

    #[test]
    fn summer_time_starts_and_ends_on_the_last_sundays_at_one_utc() {
        // 2026: summer time from 29 March to 25 October.
        assert_eq!(
            stockholm_offset(utc("2026-03-29T00:59:59Z")).local_minus_utc(),
            3600
        );
        assert_eq!(
            stockholm_offset(utc("2026-03-29T01:00:00Z")).local_minus_utc(),
            7200
        );
        assert_eq!(
            stockholm_offset(utc("2026-10-25T00:59:59Z")).local_minus_utc(),
            7200
        );
        assert_eq!(
            stockholm_offset(utc("2026-10-25T01:00:00Z")).local_minus_utc(),
            3600
        );
        // 2027: 28 March and 31 October.
        assert_eq!(
            stockholm_offset(utc("2027-03-28T01:00:00Z")).local_minus_utc(),
            7200
        );
        assert_eq!(
            stockholm_offset(utc("2027-10-31T00:30:00Z")).local_minus_utc(),
            7200
        );
        assert_eq!(
            stockholm_offset(utc("2027-10-31T01:00:00Z")).local_minus_utc(),
            3600
        );
        assert_eq!(
            stockholm(utc("2026-07-01T10:00:00Z")).to_rfc3339(),
            "2026-07-01T12:00:00+02:00"
        );
        assert_eq!(
            stockholm(utc("2026-12-31T23:30:00Z")).to_rfc3339(),
            "2027-01-01T00:30:00+01:00"
        );
    }

    #[test]
    fn quiet_hours_are_swedish_night_and_end_in_the_morning() {
        let night = QuietHours::NIGHT;
        // 20:59 and 21:00 Swedish winter time.
        assert!(!night.contains(utc("2026-12-01T19:59:00Z")));
        assert!(night.contains(utc("2026-12-01T20:00:00Z")));
        // 07:59 and 08:00 Swedish summer time.
        assert!(night.contains(utc("2026-07-02T05:59:00Z")));
        assert!(!night.contains(utc("2026-07-02T06:00:00Z")));
        // Sent at 23:10 in winter: waits until 08:00 the next morning.
        assert_eq!(
            night.next_allowed(utc("2026-12-01T22:10:00Z")),
            utc("2026-12-02T07:00:00Z")
        );
        // The night summer time ends: 08:00 is then 07:00 UTC.
        assert_eq!(
            night.next_allowed(utc("2026-10-24T21:00:00Z")),
            utc("2026-10-25T07:00:00Z")
        );
        let day = utc("2026-12-01T12:34:56Z");
        assert_eq!(night.next_allowed(day), day);
        assert!(!QuietHours::NONE.contains(utc("2026-12-01T23:00:00Z")));
        assert_eq!("none".parse(), Ok(QuietHours::NONE));
        assert_eq!("22-7".parse(), Ok(QuietHours { start: 22, end: 7 }));
        assert!("25-7".parse::<QuietHours>().is_err());
        assert!("night".parse::<QuietHours>().is_err());
    }
}
