//! The demo sandbox. A server in demo mode gives every visitor a fresh sandbox: its own region,
//! units, staff, patients and enrolments, copied from the template in [`template`], isolated by
//! the same tenant rules as real regions, and deleted with everything in it after inactivity.

mod components;
#[cfg(feature = "ssr")]
mod history;
#[cfg(feature = "ssr")]
pub mod sandbox;
#[cfg(feature = "ssr")]
mod template;

pub use components::{DemoBanner, TryDemo};
#[cfg(feature = "ssr")]
pub use template::{DEMO_PACKAGES, PATIENT_PERSONNUMMER, demo_program};

use serde::{Deserialize, Serialize};

/// The roles a demo visitor can try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Persona {
    Patient,
    Therapist,
    AccessAdministrator,
    CareProviderAdministrator,
    Auditor,
    Producer,
    Publisher,
    /// The care-provider administrator of the sandbox's neighbouring region.
    NeighbourProviderAdministrator,
}

impl Persona {
    pub const ALL: [Persona; 8] = [
        Persona::Patient,
        Persona::Therapist,
        Persona::AccessAdministrator,
        Persona::CareProviderAdministrator,
        Persona::Auditor,
        Persona::Producer,
        Persona::Publisher,
        Persona::NeighbourProviderAdministrator,
    ];

    pub fn as_code(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::Therapist => "therapist",
            Self::AccessAdministrator => "access_admin",
            Self::CareProviderAdministrator => "provider_admin",
            Self::Auditor => "auditor",
            Self::Producer => "producer",
            Self::Publisher => "publisher",
            Self::NeighbourProviderAdministrator => "neighbour_admin",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_code() == code)
    }

    /// Where the persona starts.
    pub fn home(self) -> &'static str {
        match self {
            Self::Patient => "/mina-sidor",
            Self::Therapist => "/mottagning",
            Self::Auditor => "/granskning",
            Self::AccessAdministrator => "/behorigheter",
            Self::CareProviderAdministrator => "/vardgivare",
            Self::Producer | Self::Publisher => "/program",
            Self::NeighbourProviderAdministrator => "/katalog",
        }
    }
}
