//! Typed ids: a `PatientId` can never be passed where a `CareUnitId` is expected.

use serde::{Deserialize, Serialize};

macro_rules! typed_ids {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(value: i64) -> Self {
                Self(value)
            }
        }
    )*};
}

typed_ids! {
    /// A region or a private care provider.
    CareProviderId,
    CareUnitId,
    StaffPersonId,
    StaffAssignmentId,
    PatientId,
    ProgramId,
    ProgramVersionId,
    ModuleId,
    SectionId,
    StepId,
    ContentBlockId,
    QuestionnaireId,
    QuestionnaireItemId,
    EnrolmentId,
    ResponseId,
    MessageThreadId,
    MessageId,
    FlagId,
    SandboxId,
    StatusNoticeId,
    FaultReportId,
}
