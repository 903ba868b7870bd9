//! Application Auto Scaling schedule expressions — `at(yyyy-mm-ddThh:mm:ss)`, `rate(value
//! unit)`, `cron(minutes hours day-of-month month day-of-week year)` — parsed the way AWS reads
//! them, and the next time one fires in a time zone. The controller validates with `parse`;
//! the simulator fires scheduled actions with `next_after`. Pure: no clock.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Days searched ahead for the next cron match (a little over five years).
const CRON_HORIZON_DAYS: i32 = 5 * 366 + 2;

/// Why a schedule expression cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(pub String);

fn err(msg: impl Into<String>) -> ScheduleError {
    ScheduleError(msg.into())
}

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Once, at this wall-clock time of the action's time zone.
    At(DateTime),
    /// Every this many seconds.
    Rate(i64),
    /// A cron expression.
    Cron(Box<Cron>),
}

/// The fields of a cron expression as sets of allowed values (bit i = value i).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    /// Days of the month, `None` for `?`.
    days_of_month: Option<DayOfMonth>,
    months: u16,
    /// Days of the week, `None` for `?`.
    days_of_week: Option<DayOfWeek>,
    /// Allowed years (inclusive ranges), empty for `*`.
    years: Vec<(i16, i16)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfMonth {
    Days(u32),
    Last,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfWeek {
    /// Bit 1 = Sunday … bit 7 = Saturday.
    Days(u8),
    /// The nth (1–5) occurrence of a weekday (1 = Sunday) in the month.
    Nth(u8, u8),
}

/// Parses a schedule expression.
pub fn parse(expr: &str) -> Result<Schedule, ScheduleError> {
    let expr = expr.trim();
    let (kind, body) = expr
        .split_once('(')
        .and_then(|(k, rest)| Some((k, rest.strip_suffix(')')?)))
        .ok_or_else(|| err("must be at(…), rate(…) or cron(…)"))?;
    match kind {
        "at" => body
            .trim()
            .parse::<DateTime>()
            .map(Schedule::At)
            .map_err(|_| err(format!("at({body}) is not yyyy-mm-ddThh:mm:ss"))),
        "rate" => parse_rate(body),
        "cron" => parse_cron(body).map(|c| Schedule::Cron(Box::new(c))),
        other => Err(err(format!(
            "{other}(…) is not a schedule: use at(…), rate(…) or cron(…)"
        ))),
    }
}

fn parse_rate(body: &str) -> Result<Schedule, ScheduleError> {
    let mut parts = body.split_whitespace();
    let (Some(value), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(err(format!("rate({body}) must be rate(value unit)")));
    };
    let value: i64 = value
        .parse()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| err(format!("rate value {value:?} must be a positive integer")))?;
    let unit_secs = match unit {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        other => {
            return Err(err(format!(
                "rate unit {other:?} must be minute(s), hour(s) or day(s)"
            )));
        }
    };
    Ok(Schedule::Rate(value.saturating_mul(unit_secs)))
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn parse_cron(body: &str) -> Result<Cron, ScheduleError> {
    let fields: Vec<&str> = body.split_whitespace().collect();
    let [min, hour, dom, month, dow, year] = fields.as_slice() else {
        return Err(err(format!(
            "cron({body}) must have 6 fields: minutes hours day-of-month month day-of-week year"
        )));
    };
    let dom = match *dom {
        "?" => None,
        "L" => Some(DayOfMonth::Last),
        f => Some(DayOfMonth::Days(bits(f, 1, 31, &[], "day-of-month")? as u32)),
    };
    let dow = match *dow {
        "?" => None,
        f if f.contains('#') => {
            let (day, nth) = f.split_once('#').unwrap_or_default();
            let day = value(day, 1, 7, &WEEKDAYS, "day-of-week")?;
            let nth = value(nth, 1, 5, &[], "day-of-week occurrence")?;
            Some(DayOfWeek::Nth(day as u8, nth as u8))
        }
        f => Some(DayOfWeek::Days(
            bits(f, 1, 7, &WEEKDAYS, "day-of-week")? as u8
        )),
    };
    if dom.is_some() == dow.is_some() {
        return Err(err(
            "set exactly one of day-of-month and day-of-week to ? (AWS cron)",
        ));
    }
    let years = if *year == "*" {
        Vec::new()
    } else {
        year.split(',')
            .map(|part| {
                let (a, b) = part.split_once('-').unwrap_or((part, part));
                let a = value(a, 1970, 2199, &[], "year")? as i16;
                let b = value(b, 1970, 2199, &[], "year")? as i16;
                if a > b {
                    return Err(err(format!("year range {part} runs backwards")));
                }
                Ok((a, b))
            })
            .collect::<Result<_, _>>()?
    };
    Ok(Cron {
        minutes: bits(min, 0, 59, &[], "minutes")?,
        hours: bits(hour, 0, 23, &[], "hours")? as u32,
        days_of_month: dom,
        months: bits(month, 1, 12, &MONTHS, "month")? as u16,
        days_of_week: dow,
        years,
    })
}

/// One value of a field: a number in `lo..=hi` or a name (`names[i]` is `lo + i`).
fn value(s: &str, lo: u32, hi: u32, names: &[&str], field: &str) -> Result<u32, ScheduleError> {
    let upper = s.to_ascii_uppercase();
    if let Some(i) = names.iter().position(|n| *n == upper) {
        return Ok(lo + i as u32);
    }
    s.parse::<u32>()
        .ok()
        .filter(|v| (lo..=hi).contains(v))
        .ok_or_else(|| err(format!("{field} value {s:?} is not in {lo}-{hi}")))
}

/// The values a field allows: `*`, `a`, `a-b`, `*/n`, `a/n`, `a-b/n`, comma lists of these.
fn bits(field: &str, lo: u32, hi: u32, names: &[&str], what: &str) -> Result<u64, ScheduleError> {
    let mut out = 0u64;
    for part in field.split(',') {
        if part.contains(['L', 'W', '#']) && names.is_empty() && what != "year" {
            return Err(err(format!(
                "{what} {part:?}: L, W and # are only supported as day-of-month L and day-of-week n#k"
            )));
        }
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step =
                    s.parse::<u32>().ok().filter(|s| *s > 0).ok_or_else(|| {
                        err(format!("{what} step {s:?} must be a positive integer"))
                    })?;
                (r, step)
            }
            None => (part, 1),
        };
        let (a, b) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (
                    value(a, lo, hi, names, what)?,
                    value(b, lo, hi, names, what)?,
                ),
                None if step > 1 => (value(r, lo, hi, names, what)?, hi),
                None => {
                    let v = value(r, lo, hi, names, what)?;
                    (v, v)
                }
            },
        };
        if a > b {
            return Err(err(format!("{what} range {range} runs backwards")));
        }
        let mut v = a;
        while v <= b {
            out |= 1 << v;
            v += step;
        }
    }
    Ok(out)
}

impl Cron {
    fn matches_date(&self, d: Date) -> bool {
        let year_ok = self.years.is_empty()
            || self
                .years
                .iter()
                .any(|(a, b)| (*a..=*b).contains(&d.year()));
        let month_ok = self.months & (1 << d.month()) != 0;
        let day_ok = match (&self.days_of_month, &self.days_of_week) {
            (Some(DayOfMonth::Days(days)), _) => days & (1 << d.day()) != 0,
            (Some(DayOfMonth::Last), _) => d.day() == d.days_in_month(),
            (None, Some(DayOfWeek::Days(days))) => {
                days & (1 << d.weekday().to_sunday_one_offset()) != 0
            }
            (None, Some(DayOfWeek::Nth(day, nth))) => {
                d.weekday().to_sunday_one_offset() == *day as i8
                    && (d.day() - 1) / 7 + 1 == *nth as i8
            }
            (None, None) => false,
        };
        year_ok && month_ok && day_ok
    }

    /// The first matching minute strictly after `after`, in `tz`.
    fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let mut day = after.to_zoned(tz.clone()).date();
        for _ in 0..CRON_HORIZON_DAYS {
            if self.matches_date(day) {
                for hour in (0..24).filter(|h| self.hours & (1 << h) != 0) {
                    for minute in (0..60).filter(|m| self.minutes & (1u64 << m) != 0) {
                        let local = day.at(hour as i8, minute as i8, 0, 0);
                        let Ok(zoned) = tz.to_ambiguous_zoned(local).compatible() else {
                            continue;
                        };
                        if zoned.timestamp() > after {
                            return Some(zoned.timestamp());
                        }
                    }
                }
            }
            day = day.tomorrow().ok()?;
        }
        None
    }
}

impl Schedule {
    /// The first time strictly after `after` that the schedule fires, within `[start, end]`.
    /// `created` anchors a rate that has no start time.
    pub fn next_after(
        &self,
        after: Timestamp,
        tz: &TimeZone,
        start: Option<Timestamp>,
        end: Option<Timestamp>,
        created: Timestamp,
    ) -> Option<Timestamp> {
        let from = match start {
            // The first run may be at the start time itself.
            Some(s) if s > after => s - SignedDuration::from_nanos(1),
            _ => after,
        };
        let next = match self {
            Schedule::At(local) => {
                let t = tz.to_ambiguous_zoned(*local).compatible().ok()?.timestamp();
                (t > from).then_some(t)
            }
            Schedule::Rate(every) => {
                let base = start.unwrap_or(created).as_second();
                let first_k = if start.is_some() { 0 } else { 1 };
                let k = ((from.as_second() - base).div_euclid(*every) + 1).max(first_k);
                Timestamp::from_second(base + k * every).ok()
            }
            Schedule::Cron(cron) => cron.next_after(from, tz),
        }?;
        match end {
            Some(end) if next > end => None,
            _ => Some(next),
        }
    }
}

/// The time zone of a scheduled action: the IANA name, or UTC when absent.
pub fn time_zone(name: Option<&str>) -> Result<TimeZone, ScheduleError> {
    match name {
        None | Some("UTC") | Some("Etc/UTC") => Ok(TimeZone::UTC),
        Some(name) => {
            TimeZone::get(name).map_err(|_| err(format!("{name:?} is not an IANA time zone")))
        }
    }
}

/// Whether time zone names can be checked here (the process has a time zone database).
pub fn can_check_time_zones() -> bool {
    !jiff::tz::db().is_definitively_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn next(expr: &str, after: &str, tz: &str) -> Option<Timestamp> {
        let tz = time_zone(Some(tz)).unwrap();
        parse(expr)
            .unwrap()
            .next_after(ts(after), &tz, None, None, ts(after))
    }

    #[test]
    fn cron_fires_on_the_next_matching_minute() {
        let weekdays_8am = "cron(0 8 ? * MON-FRI *)";
        // 2026-03-06 is a Friday.
        assert_eq!(
            next(weekdays_8am, "2026-03-06T09:00:00Z", "UTC"),
            Some(ts("2026-03-09T08:00:00Z"))
        );
        assert_eq!(
            next(weekdays_8am, "2026-03-06T07:59:00Z", "UTC"),
            Some(ts("2026-03-06T08:00:00Z"))
        );
        assert_eq!(
            next("cron(*/15 * * * ? *)", "2026-03-06T07:59:00Z", "UTC"),
            Some(ts("2026-03-06T08:00:00Z"))
        );
        assert_eq!(
            next("cron(0 0 L * ? *)", "2026-02-03T00:00:00Z", "UTC"),
            Some(ts("2026-02-28T00:00:00Z"))
        );
        // Third Friday of March 2026.
        assert_eq!(
            next("cron(30 12 ? MAR 6#3 2026)", "2026-01-01T00:00:00Z", "UTC"),
            Some(ts("2026-03-20T12:30:00Z"))
        );
        assert_eq!(
            next("cron(0 0 1 1 ? 2025)", "2026-01-01T00:00:00Z", "UTC"),
            None
        );
    }

    #[test]
    fn time_zones_shift_the_wall_clock() {
        if !can_check_time_zones() {
            return;
        }
        // 08:00 in Berlin is 07:00 UTC in winter.
        assert_eq!(
            next("cron(0 8 * * ? *)", "2026-01-10T00:00:00Z", "Europe/Berlin"),
            Some(ts("2026-01-10T07:00:00Z"))
        );
        assert_eq!(
            next(
                "at(2026-07-01T08:00:00)",
                "2026-01-10T00:00:00Z",
                "Europe/Berlin"
            ),
            Some(ts("2026-07-01T06:00:00Z"))
        );
    }

    #[test]
    fn rate_and_at_respect_start_and_end() {
        let every_hour = parse("rate(1 hour)").unwrap();
        let created = ts("2026-01-01T00:00:00Z");
        let tz = TimeZone::UTC;
        assert_eq!(
            every_hour.next_after(created, &tz, None, None, created),
            Some(ts("2026-01-01T01:00:00Z"))
        );
        let start = Some(ts("2026-01-02T00:00:00Z"));
        assert_eq!(
            every_hour.next_after(created, &tz, start, None, created),
            start
        );
        let end = Some(ts("2026-01-01T00:30:00Z"));
        assert_eq!(
            every_hour.next_after(created, &tz, None, end, created),
            None
        );
        let once = parse("at(2026-01-01T00:10:00)").unwrap();
        assert_eq!(
            once.next_after(ts("2026-01-01T00:10:00Z"), &tz, None, None, created),
            None
        );
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        let cases = [
            ("cron(0 8 * * *)", "6 fields"),
            ("cron(0 8 * * MON *)", "exactly one"),
            ("cron(61 8 ? * * *)", "minutes value"),
            ("cron(0 8 ? * FUN *)", "day-of-week"),
            ("cron(0 8 15W * ? *)", "L, W and #"),
            ("rate(0 minutes)", "positive"),
            ("rate(5 weeks)", "unit"),
            ("at(tomorrow)", "yyyy-mm-dd"),
            ("every(5 minutes)", "not a schedule"),
        ];
        for (expr, needle) in cases {
            let e = parse(expr).expect_err(expr);
            assert!(e.0.contains(needle), "{expr}: {e}");
        }
    }
}
