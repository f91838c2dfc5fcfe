//! The dashboard's patients in the order and selection the care team asks for: by need (the
//! server's order), by name, or the most recently active first; all of them, or only those
//! with open flags, unread messages or homework waiting for feedback; and which open flags.
//! Chosen with a plain GET form or link (`?ordning=…&visa=…&flaggor=…`), so it works without
//! JavaScript and a live refresh keeps it.

use super::{DashboardPatient, OpenFlag};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Urgent flags, other flags, unread messages, homework waiting; then by name.
    #[default]
    Need,
    Name,
    /// The most recently active first; never active last.
    Activity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    All,
    Flags,
    Unread,
    Feedback,
}

/// Whose patients the dashboard lists: the whole unit's, or the caller's own caseload (the
/// treatments whose care team they are on). Chosen by the server's query, not by hiding rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Whose {
    #[default]
    Unit,
    Mine,
}

impl Whose {
    pub const ALL: [Self; 2] = [Self::Unit, Self::Mine];

    /// The value in the query string (`vems`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Unit => "enheten",
            Self::Mine => "mina",
        }
    }

    pub fn from_query(value: Option<&str>) -> Self {
        Self::ALL
            .into_iter()
            .find(|w| Some(w.code()) == value)
            .unwrap_or_default()
    }
}

impl Order {
    pub const ALL: [Self; 3] = [Self::Need, Self::Name, Self::Activity];

    /// The value in the query string (`ordning`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Need => "behov",
            Self::Name => "namn",
            Self::Activity => "aktivitet",
        }
    }

    /// From the query string; anything else is the default.
    pub fn from_query(value: Option<&str>) -> Self {
        Self::ALL
            .into_iter()
            .find(|o| Some(o.code()) == value)
            .unwrap_or_default()
    }
}

impl Filter {
    pub const ALL: [Self; 4] = [Self::All, Self::Flags, Self::Unread, Self::Feedback];

    /// The value in the query string (`visa`).
    pub fn code(self) -> &'static str {
        match self {
            Self::All => "alla",
            Self::Flags => "flaggor",
            Self::Unread => "olasta",
            Self::Feedback => "aterkoppling",
        }
    }

    pub fn from_query(value: Option<&str>) -> Self {
        Self::ALL
            .into_iter()
            .find(|f| Some(f.code()) == value)
            .unwrap_or_default()
    }

    fn keeps(self, p: &DashboardPatient) -> bool {
        match self {
            Self::All => true,
            Self::Flags => p.urgent_flags + p.other_flags > 0,
            Self::Unread => p.unread > 0,
            Self::Feedback => p.awaiting_feedback > 0,
        }
    }
}

/// Which open flags the dashboard lists (`?flaggor=…`): all of them, those nobody has
/// acknowledged yet, or those escalated to the unit's patient administrators because nobody
/// acknowledged them in time (what a patient administrator follows up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlagChoice {
    #[default]
    Open,
    Unhandled,
    Escalated,
}

impl FlagChoice {
    pub const ALL: [Self; 3] = [Self::Open, Self::Unhandled, Self::Escalated];

    /// The value in the query string (`flaggor`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Open => "alla",
            Self::Unhandled => "nya",
            Self::Escalated => "eskalerade",
        }
    }

    pub fn from_query(value: Option<&str>) -> Self {
        Self::ALL
            .into_iter()
            .find(|f| Some(f.code()) == value)
            .unwrap_or_default()
    }

    pub fn keeps(self, flag: &OpenFlag) -> bool {
        match self {
            Self::Open => true,
            Self::Unhandled => flag.acknowledged.is_none(),
            Self::Escalated => flag.escalated_at.is_some(),
        }
    }
}

/// The dashboard's address with these choices (the plain `/mottagning` for the defaults).
pub fn dashboard_href(order: Order, filter: Filter, whose: Whose, flags: FlagChoice) -> String {
    if (order, filter, whose, flags) == Default::default() {
        return "/mottagning".to_owned();
    }
    format!(
        "/mottagning?ordning={}&visa={}&vems={}&flaggor={}",
        order.code(),
        filter.code(),
        whose.code(),
        flags.code()
    )
}

/// A name as Swedish alphabetical order reads it: case aside, and å, ä, ö after z.
fn name_key(name: &str) -> Vec<u32> {
    name.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'å' => u32::from('z') + 1,
            'ä' => u32::from('z') + 2,
            'ö' => u32::from('z') + 3,
            c => u32::from(c),
        })
        .collect()
}

/// One therapist's caseload in the unit: ongoing treatments they are responsible for, and how
/// many of them have open flags (urgent among them) or unread messages. `None`: treatments
/// without a responsible therapist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caseload {
    pub therapist: Option<String>,
    pub patients: usize,
    pub flagged: usize,
    pub urgent: usize,
    pub unread: usize,
}

/// The unit's caseloads, by therapist name; those without a responsible therapist last.
pub fn caseloads(list: &[DashboardPatient]) -> Vec<Caseload> {
    let mut out: Vec<Caseload> = Vec::new();
    for p in list {
        let i = match out.iter().position(|c| c.therapist == p.therapist) {
            Some(i) => i,
            None => {
                out.push(Caseload {
                    therapist: p.therapist.clone(),
                    patients: 0,
                    flagged: 0,
                    urgent: 0,
                    unread: 0,
                });
                out.len() - 1
            }
        };
        let c = &mut out[i];
        c.patients += 1;
        c.flagged += usize::from(p.urgent_flags + p.other_flags > 0);
        c.urgent += usize::from(p.urgent_flags > 0);
        c.unread += usize::from(p.unread > 0);
    }
    out.sort_by_cached_key(|c| match &c.therapist {
        Some(name) => (0, name_key(name)),
        None => (1, Vec::new()),
    });
    out
}

/// The patients to show, in the order to show them. `list` comes in the need order.
pub fn arrange(list: Vec<DashboardPatient>, order: Order, filter: Filter) -> Vec<DashboardPatient> {
    let mut list: Vec<DashboardPatient> = list.into_iter().filter(|p| filter.keeps(p)).collect();
    match order {
        Order::Need => {}
        Order::Name => list.sort_by_cached_key(|p| (name_key(&p.family_name), name_key(&p.name))),
        // "YYYY-MM-DD HH:MM" sorts as text; the stable sort keeps the need order among equals.
        Order::Activity => list.sort_by(|a, b| b.last_activity.cmp(&a.last_activity)),
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient(name: &str, flags: i64, unread: i64, active: Option<&str>) -> DashboardPatient {
        DashboardPatient {
            patient_id: 1,
            enrolment_id: 1,
            name: name.to_owned(),
            family_name: name
                .split_once(' ')
                .map(|(_, f)| f.to_owned())
                .unwrap_or_default(),
            personnummer: String::new(),
            program: String::new(),
            module: None,
            state: crate::domain::EnrolmentState::Active,
            urgent_flags: 0,
            other_flags: flags,
            unread,
            awaiting_feedback: 0,
            last_activity: active.map(str::to_owned),
            therapist: None,
            scores: Vec::new(),
        }
    }

    fn names(list: &[DashboardPatient]) -> Vec<&str> {
        list.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn patients_are_ordered_and_chosen_as_asked() {
        let list = vec![
            patient("Örjan Ek", 2, 0, Some("2026-11-30 10:00")),
            patient("ärla Berg", 1, 1, None),
            patient("Åsa Al", 0, 3, Some("2026-12-01 09:00")),
            patient("Zlatan Ö", 0, 0, Some("2026-11-01 08:00")),
        ];
        // Need: as the server sent them.
        assert_eq!(
            names(&arrange(list.clone(), Order::Need, Filter::All)),
            ["Örjan Ek", "ärla Berg", "Åsa Al", "Zlatan Ö"]
        );
        // By family name in Swedish alphabetical order (z, å, ä, ö; case aside).
        assert_eq!(
            names(&arrange(list.clone(), Order::Name, Filter::All)),
            ["Åsa Al", "ärla Berg", "Örjan Ek", "Zlatan Ö"]
        );
        let given = vec![
            patient("Örjan X", 0, 0, None),
            patient("ärla X", 0, 0, None),
            patient("Åsa X", 0, 0, None),
            patient("zeta X", 0, 0, None),
        ];
        assert_eq!(
            names(&arrange(given, Order::Name, Filter::All)),
            ["zeta X", "Åsa X", "ärla X", "Örjan X"]
        );
        assert_eq!(
            names(&arrange(list.clone(), Order::Activity, Filter::All)),
            ["Åsa Al", "Örjan Ek", "Zlatan Ö", "ärla Berg"]
        );
        assert_eq!(
            names(&arrange(list.clone(), Order::Need, Filter::Flags)),
            ["Örjan Ek", "ärla Berg"]
        );
        assert_eq!(
            names(&arrange(list.clone(), Order::Name, Filter::Unread)),
            ["Åsa Al", "ärla Berg"]
        );
        assert!(arrange(list, Order::Need, Filter::Feedback).is_empty());
        assert_eq!(Order::from_query(Some("namn")), Order::Name);
        assert_eq!(Order::from_query(Some("<script>")), Order::Need);
        assert_eq!(Filter::from_query(None), Filter::All);
    }

    #[test]
    fn caseloads_count_each_therapists_patients_and_who_needs_them() {
        let mut list = vec![
            patient("A A", 1, 1, None),
            patient("B B", 0, 0, None),
            patient("C C", 0, 2, None),
            patient("D D", 3, 0, None),
        ];
        list[0].therapist = Some("Östen Ö".to_owned());
        list[0].urgent_flags = 1;
        list[1].therapist = Some("Östen Ö".to_owned());
        list[2].therapist = Some("Anna A".to_owned());
        let loads = caseloads(&list);
        assert_eq!(
            loads,
            vec![
                Caseload {
                    therapist: Some("Anna A".to_owned()),
                    patients: 1,
                    flagged: 0,
                    urgent: 0,
                    unread: 1
                },
                Caseload {
                    therapist: Some("Östen Ö".to_owned()),
                    patients: 2,
                    flagged: 1,
                    urgent: 1,
                    unread: 1
                },
                Caseload {
                    therapist: None,
                    patients: 1,
                    flagged: 1,
                    urgent: 0,
                    unread: 0
                },
            ]
        );
    }
}
