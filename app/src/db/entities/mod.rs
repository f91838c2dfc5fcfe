pub mod care_provider;
pub mod care_unit;
pub mod enrolment;
pub mod program;
pub mod program_version;
pub mod status_notice;
