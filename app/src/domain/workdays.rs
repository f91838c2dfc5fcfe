//! Swedish working days and working hours, for the care team's deadlines: a message answered
//! within two working days, an urgent flag acknowledged within so many working hours.
//!
//! A working day is a weekday (Monday to Friday) that is neither a public holiday by the Public
//! Holidays Act (lag 1989:253, "allmänna helgdagar") nor one of the eves that Swedish working
//! life keeps free like a Sunday (midsummer eve, Christmas eve, New Year's eve). The holidays
//! that always fall on a Sunday or Saturday (Easter Sunday, Whit Sunday, Midsummer Day, All
//! Saints' Day) change no weekday and are named only for completeness. Working hours are 08:00
//! to 17:00 Swedish time on working days. Everything is computed; no table to keep up to date.

use super::time::{stockholm, stockholm_offset};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};

/// The first working hour of a working day (Swedish time).
pub const DAY_STARTS: u32 = 8;
/// The hour a working day ends (Swedish time).
pub const DAY_ENDS: u32 = 17;

/// Easter Sunday of a Gregorian year (the anonymous Gregorian computus).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    let month = u32::try_from(month).unwrap_or(1);
    let day = u32::try_from(day).unwrap_or(1);
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

/// The Saturday in a span of seven days starting on `first` (Midsummer Day, All Saints' Day).
fn saturday_from(first: NaiveDate) -> NaiveDate {
    let ahead =
        (7 + Weekday::Sat.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
    first + Duration::days(ahead.into())
}

/// Why a day is free though it may be a weekday: its Swedish name, or `None` for an ordinary
/// day (weekends are not named here).
pub fn free_day(day: NaiveDate) -> Option<&'static str> {
    let year = day.year();
    let date = |m, d| NaiveDate::from_ymd_opt(year, m, d).unwrap_or_default();
    let easter = easter_sunday(year);
    let midsummer_day = saturday_from(date(6, 20));
    let named = [
        (date(1, 1), "nyårsdagen"),
        (date(1, 6), "trettondedag jul"),
        (easter - Duration::days(2), "långfredagen"),
        (easter, "påskdagen"),
        (easter + Duration::days(1), "annandag påsk"),
        (date(5, 1), "första maj"),
        (easter + Duration::days(39), "Kristi himmelsfärdsdag"),
        (easter + Duration::days(49), "pingstdagen"),
        (date(6, 6), "Sveriges nationaldag"),
        (midsummer_day - Duration::days(1), "midsommarafton"),
        (midsummer_day, "midsommardagen"),
        (saturday_from(date(10, 31)), "alla helgons dag"),
        (date(12, 24), "julafton"),
        (date(12, 25), "juldagen"),
        (date(12, 26), "annandag jul"),
        (date(12, 31), "nyårsafton"),
    ];
    named.into_iter().find(|(d, _)| *d == day).map(|(_, n)| n)
}

/// Whether a Swedish calendar day is a working day.
pub fn is_working_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && free_day(day).is_none()
}

/// A Swedish wall-clock time as an instant. Exact for every time outside 00:00–03:00 on the
/// two nights a year the clocks change (the only times used here are midnight and working
/// hours, which never fall there).
pub fn from_stockholm(local: NaiveDateTime) -> DateTime<Utc> {
    // Two hours before, read as UTC, is on the same side of the change as the local time.
    let probe = DateTime::<Utc>::from_naive_utc_and_offset(local - Duration::hours(2), Utc);
    let offset = stockholm_offset(probe).local_minus_utc();
    DateTime::<Utc>::from_naive_utc_and_offset(local - Duration::seconds(offset.into()), Utc)
}

/// The `n`-th working day after the Swedish day of `at` (the day itself not counted).
pub fn nth_working_day_after(at: DateTime<Utc>, n: u32) -> NaiveDate {
    let mut day = stockholm(at).date_naive();
    let mut left = n;
    // A year has well over 200 working days: the bound is never reached for sane `n`.
    for _ in 0..(n * 3 + 30) {
        if left == 0 {
            break;
        }
        day = day.succ_opt().unwrap_or(day);
        if is_working_day(day) {
            left -= 1;
        }
    }
    day
}

/// When something that came in at `at` and is due within `n` working days is overdue: the
/// Swedish midnight that ends the `n`-th working day after the day it came. A message sent on
/// a Friday afternoon, due in two working days, is overdue at midnight after Tuesday.
pub fn overdue_after_working_days(at: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    let last = nth_working_day_after(at, n);
    let next = last.succ_opt().unwrap_or(last);
    from_stockholm(next.and_time(NaiveTime::MIN))
}

/// The instant `hours` working hours after `at`: only the time from 08:00 to 17:00 on working
/// days counts. An urgent flag raised on a Friday at 16:00 with four working hours to be
/// acknowledged is overdue on Monday at 11:00 (or Tuesday's, after a holiday).
pub fn after_working_hours(at: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
    let start_of_day = NaiveTime::from_hms_opt(DAY_STARTS, 0, 0).unwrap_or(NaiveTime::MIN);
    let end_of_day = NaiveTime::from_hms_opt(DAY_ENDS, 0, 0).unwrap_or(NaiveTime::MIN);
    let mut left = Duration::hours(hours.into());
    let local = stockholm(at).naive_local();
    let mut day = local.date();
    let mut from = local.time();
    // Each turn uses up one working day (or skips a free one); a year of turns is far more
    // than any setting needs.
    for _ in 0..(hours * 2 + 400) {
        if is_working_day(day) && from < end_of_day {
            let begin = from.max(start_of_day);
            let available = end_of_day - begin;
            if left <= available {
                return from_stockholm(day.and_time(begin) + left);
            }
            left -= available;
        }
        day = day.succ_opt().unwrap_or(day);
        from = NaiveTime::MIN;
    }
    at + Duration::days(365)
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("an instant")
    }

    #[test]
    fn easter_falls_on_the_published_dates() {
        // Svenska kyrkans almanacka / any Easter table.
        for (year, date) in [
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2028, "2028-04-16"),
            (2038, "2038-04-25"),
            (2285, "2285-03-22"),
        ] {
            assert_eq!(easter_sunday(year), day(date), "{year}");
        }
    }

    #[test]
    fn the_free_weekdays_of_2026_are_the_swedish_calendars() {
        let free: Vec<NaiveDate> = day("2026-01-01")
            .iter_days()
            .take_while(|d| d.year() == 2026)
            .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            .filter(|d| !is_working_day(*d))
            .collect();
        let expected = [
            "2026-01-01", // nyårsdagen (Thursday)
            "2026-01-06", // trettondedag jul
            "2026-04-03", // långfredagen
            "2026-04-06", // annandag påsk
            "2026-05-01", // första maj
            "2026-05-14", // Kristi himmelsfärdsdag
            "2026-06-19", // midsommarafton
            "2026-12-24", // julafton
            "2026-12-25", // juldagen
            "2026-12-31", // nyårsafton
        ];
        // 6 June 2026 and 26 December 2026 are Saturdays.
        assert_eq!(free, expected.map(day).to_vec());
        assert_eq!(free_day(day("2026-06-20")), Some("midsommardagen"));
        assert_eq!(free_day(day("2026-10-31")), Some("alla helgons dag"));
        assert_eq!(free_day(day("2026-05-24")), Some("pingstdagen"));
        assert_eq!(free_day(day("2027-06-06")), Some("Sveriges nationaldag"));
        assert!(is_working_day(day("2026-04-02")), "skärtorsdagen is worked");
        assert!(!is_working_day(day("2026-11-28")), "a Saturday");
    }

    #[test]
    fn a_message_is_overdue_after_two_whole_working_days() {
        // Monday morning → Tuesday and Wednesday → overdue at Thursday 00:00 (CET: 23:00 UTC).
        assert_eq!(
            overdue_after_working_days(utc("2026-11-30T09:00:00Z"), 2),
            utc("2026-12-02T23:00:00Z")
        );
        // Friday afternoon → Monday and Tuesday.
        assert_eq!(
            overdue_after_working_days(utc("2026-11-27T15:00:00Z"), 2),
            utc("2026-12-01T23:00:00Z")
        );
        // Late Friday evening in Sweden is still Friday (23:30 local is 22:30 UTC).
        assert_eq!(
            overdue_after_working_days(utc("2026-11-27T22:30:00Z"), 2),
            utc("2026-12-01T23:00:00Z")
        );
        // Skärtorsdagen 2026 (2 April): långfredagen and annandag påsk are free → Tuesday 7
        // and Wednesday 8 April; overdue at Thursday 00:00 CEST (22:00 UTC).
        assert_eq!(
            overdue_after_working_days(utc("2026-04-02T08:00:00Z"), 2),
            utc("2026-04-08T22:00:00Z")
        );
        // Before Christmas: 23 December 2026 → 28 and 29 December.
        assert_eq!(
            nth_working_day_after(utc("2026-12-23T10:00:00Z"), 2),
            day("2026-12-29")
        );
    }

    #[test]
    fn working_hours_count_only_weekdays_from_eight_to_five() {
        // Tuesday 10:00 CET + 4 h = 14:00 CET.
        assert_eq!(
            after_working_hours(utc("2026-12-01T09:00:00Z"), 4),
            utc("2026-12-01T13:00:00Z")
        );
        // Friday 16:00 CET: one hour on Friday, three on Monday → Monday 11:00.
        assert_eq!(
            after_working_hours(utc("2026-11-27T15:00:00Z"), 4),
            utc("2026-11-30T10:00:00Z")
        );
        // At night: counting starts at 08:00.
        assert_eq!(
            after_working_hours(utc("2026-12-01T02:00:00Z"), 1),
            utc("2026-12-01T08:00:00Z")
        );
        // Christmas eve 2026 (Thursday) 09:00: 24, 25 free, weekend → Monday 28 at 12:00.
        assert_eq!(
            after_working_hours(utc("2026-12-24T08:00:00Z"), 4),
            utc("2026-12-28T11:00:00Z")
        );
        // Exactly to the end of a day stays on that day; a full day is nine hours.
        assert_eq!(
            after_working_hours(utc("2026-12-01T07:00:00Z"), 9),
            utc("2026-12-01T16:00:00Z")
        );
        // Across the change to summer time: Friday 27 March 2026 16:00 CET + 2 h → Monday
        // 30 March 09:00 CEST (07:00 UTC).
        assert_eq!(
            after_working_hours(utc("2026-03-27T15:00:00Z"), 2),
            utc("2026-03-30T07:00:00Z")
        );
    }
}
