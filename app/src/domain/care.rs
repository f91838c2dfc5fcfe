//! The states of care, shared by the server (stored as text) and the browser.

#[cfg(feature = "ssr")]
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};

/// What kind of care provider: a region is a public authority (its staff are named to patients
/// in "who read my data", as public officials), a private provider is not. Stored in
/// `care_provider.kind` as its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")
)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "region"))]
    Region,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "private"))]
    Private,
}

impl ProviderKind {
    /// A public authority: its staff act as public officials.
    pub fn is_public(self) -> bool {
        self == Self::Region
    }
}

/// Where an enrolment (one patient's treatment in one program at one unit) stands. Stored in
/// `enrolment.state` as its code; SeaORM reads and writes it as this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")
)]
#[serde(rename_all = "snake_case")]
pub enum EnrolmentState {
    /// Treatment is going on.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "active"))]
    Active,
    /// The program is finished and the patient keeps access at a lower pace.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "maintenance"))]
    Maintenance,
    /// Treatment has ended.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "ended"))]
    Ended,
    /// Treatment continues at another unit (`handed_over_to_unit_id`).
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "handed_over"))]
    HandedOver,
}

impl EnrolmentState {
    /// The states of a treatment that is going on: the one definition of "ongoing" that
    /// scoping, the catalogue's upgrades and the public figures all use.
    pub const ONGOING: [Self; 2] = [Self::Active, Self::Maintenance];

    pub fn is_ongoing(self) -> bool {
        Self::ONGOING.contains(&self)
    }

    /// `column IN ('active', 'maintenance')`, for raw SQL: "ongoing", written once.
    #[cfg(feature = "ssr")]
    pub fn ongoing_sql(column: &str) -> String {
        use sea_orm::ActiveEnum;
        let codes: Vec<String> = Self::ONGOING
            .iter()
            .map(|s| format!("'{}'", s.to_value()))
            .collect();
        format!("{column} IN ({})", codes.join(", "))
    }
}

/// Where a questionnaire answer stands. Stored in `form_response.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")
)]
#[serde(rename_all = "snake_case")]
pub enum ResponseState {
    /// Kept on the server while the patient answers; changed freely.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "draft"))]
    Draft,
    /// Sent to the care team and scored: never changed again.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "submitted"))]
    Submitted,
}

/// Who raised a flag. Stored in `flag.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")
)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// A rule raised it (an answer's alert, inactivity, …).
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "automatic"))]
    Automatic,
    /// Someone in the care team raised it.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "manual"))]
    Manual,
}

/// The reasons of the flags the server raises by itself when a patient falls behind (see
/// `care::follow_up`); an answer's flag has its alert rule's code instead.
pub mod flag_reason {
    /// The patient has done nothing in the program for the program's set number of days.
    pub const INACTIVE: &str = "inactive";
    /// A module's worksheets were not sent within the program's set number of days.
    pub const OVERDUE_HOMEWORK: &str = "overdue_homework";
    /// A patient's message had no reply within two working days.
    pub const UNANSWERED_MESSAGE: &str = "unanswered_message";
    pub const ALL: [&str; 3] = [INACTIVE, OVERDUE_HOMEWORK, UNANSWERED_MESSAGE];
    /// Staff worry about the patient's safety (raised by hand).
    pub const MANUAL_RISK: &str = "manual_risk";
    /// The patient needs to be contacted (raised by hand).
    pub const MANUAL_CONTACT: &str = "manual_contact";
    /// Something else the care team should act on (raised by hand).
    pub const MANUAL_OTHER: &str = "manual_other";
    /// The reasons staff may give when they flag a treatment by hand.
    pub const MANUAL: [&str; 3] = [MANUAL_RISK, MANUAL_CONTACT, MANUAL_OTHER];
}

/// Why a treatment ended, as the therapist states it: a fixed list, so the record summary and
/// the statistics read the same codes. Stored in `enrolment.end_reason` as its code; SeaORM
/// reads and writes it as this type, so a code outside the list is an error, not a missing
/// reason. [`EndReason::code`] is the same code for the browser's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")
)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The program was worked through as planned.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "completed"))]
    Completed,
    /// The patient asked to stop.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "patient_request"))]
    PatientRequest,
    /// The patient stopped taking part and could not be reached.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "no_contact"))]
    NoContact,
    /// The patient needs another kind of care (referred on, or care at the unit instead).
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "other_care"))]
    OtherCare,
    /// None of these.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "other"))]
    Other,
}

impl EndReason {
    pub const ALL: [Self; 5] = [
        Self::Completed,
        Self::PatientRequest,
        Self::NoContact,
        Self::OtherCare,
        Self::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::PatientRequest => "patient_request",
            Self::NoContact => "no_contact",
            Self::OtherCare => "other_care",
            Self::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// How soon the care team must act on a flag. Stored in `flag.priority`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")
)]
#[serde(rename_all = "snake_case")]
pub enum FlagPriority {
    /// Worth knowing at the next review.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "info"))]
    Info,
    /// To be looked at within the working day.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "warning"))]
    Warning,
    /// At once: the patient was shown crisis information.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "urgent"))]
    Urgent,
}

impl FlagPriority {
    /// The one table from an instrument's alert priority to a flag's: an instrument's urgent
    /// alert is the highest priority there is.
    pub fn of_alert(priority: crate::instruments::Priority) -> Self {
        match priority {
            crate::instruments::Priority::Urgent => Self::Urgent,
            crate::instruments::Priority::Normal => Self::Warning,
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::EnrolmentState;
    use sea_orm::{ActiveEnum, Iterable};

    #[test]
    fn codes_are_what_the_database_stores() {
        let codes = ["active", "maintenance", "ended", "handed_over"];
        for (state, code) in EnrolmentState::iter().zip(codes) {
            assert_eq!(state.to_value(), code);
            assert_eq!(
                EnrolmentState::try_from_value(&code.to_owned()).ok(),
                Some(state)
            );
        }
        assert!(EnrolmentState::try_from_value(&"paused".to_owned()).is_err());
        // The end reason's form code is the code stored, and the list is the whole type.
        assert_eq!(
            super::EndReason::iter().count(),
            super::EndReason::ALL.len()
        );
        for reason in super::EndReason::ALL {
            assert_eq!(reason.to_value(), reason.code());
            assert_eq!(super::EndReason::from_code(reason.code()), Some(reason));
        }
        assert!(super::EndReason::try_from_value(&"moved".to_owned()).is_err());
        assert_eq!(
            EnrolmentState::ongoing_sql("e.state"),
            "e.state IN ('active', 'maintenance')"
        );
    }
}
