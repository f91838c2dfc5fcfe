//! Server-side sessions. The browser holds only a random 256-bit token in a `__Host-` cookie;
//! the database holds its sha256, who it belongs to and when it expires. A new token is made at
//! every sign-in (and every demo persona switch), so a token seen before sign-in is worthless.

use super::Role;
use super::principal::{Assignment, Principal, Staff, Who};
use crate::audit::hex;
use crate::db::entities::{
    care_provider, care_unit, demo_sandbox, patient, staff_assignment, staff_hsa_identity,
    staff_person, staff_role, user_session,
};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder,
};
use sha2::{Digest, Sha256};

/// `__Host-`: only over HTTPS (browsers treat localhost as secure), only for this exact host,
/// path `/`; a sibling domain can neither read nor plant it.
pub const SESSION_COOKIE: &str = "__Host-lotsen_session";

/// The purpose of an assignment that opens patient data ("Vård och behandling").
pub const CARE_PURPOSE: &str = "Vård och behandling";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// A session not used for this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute: Duration,
    /// A demo sandbox not used for this long is deleted with everything in it.
    pub demo_idle: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
            demo_idle: Duration::hours(2),
        }
    }
}

/// Last-seen times are written at most this often, so that reading a page costs no write.
const TOUCH_EVERY: Duration = Duration::seconds(60);

pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A fresh random token: 32 bytes from the operating system, hex-encoded.
pub fn new_token() -> Result<String, DbErr> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| DbErr::Custom(format!("no randomness from the operating system: {e}")))?;
    Ok(hex(&bytes))
}

/// Who a new session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Patient {
        patient_id: i64,
    },
    Staff {
        staff_person_id: i64,
        assignment_id: Option<i64>,
    },
}

/// Creates a session and returns the token for the cookie.
pub async fn create(
    db: &impl ConnectionTrait,
    config: &SessionConfig,
    subject: Subject,
    sandbox_id: Option<i64>,
    demo_persona: Option<&str>,
    user_agent: Option<&str>,
) -> Result<String, DbErr> {
    let token = new_token()?;
    let now = Utc::now();
    let (kind, patient_id, staff_person_id, assignment_id) = match subject {
        Subject::Patient { patient_id } => ("patient", Some(patient_id), None, None),
        Subject::Staff {
            staff_person_id,
            assignment_id,
        } => ("staff", None, Some(staff_person_id), assignment_id),
    };
    user_session::Entity::insert(user_session::ActiveModel {
        token_hash: Set(hash_token(&token)),
        user_kind: Set(kind.to_owned()),
        patient_id: Set(patient_id),
        staff_person_id: Set(staff_person_id),
        staff_assignment_id: Set(assignment_id),
        sandbox_id: Set(sandbox_id),
        created_at: Set(now),
        last_seen_at: Set(now),
        absolute_expiry: Set(now + config.absolute),
        user_agent: Set(user_agent.map(|ua| ua.chars().take(300).collect())),
        demo_persona: Set(demo_persona.map(str::to_owned)),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(token)
}

/// What the cookie led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Valid(Box<Principal>),
    /// Unknown, expired or orphaned: the browser should forget the cookie.
    Invalid,
}

/// Finds the session of `token`, ends it if it has expired, and loads its user.
pub async fn resolve(
    db: &impl ConnectionTrait,
    config: &SessionConfig,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Resolved, DbErr> {
    let Some(session) = user_session::Entity::find()
        .filter(user_session::Column::TokenHash.eq(hash_token(token)))
        .one(db)
        .await?
    else {
        return Ok(Resolved::Invalid);
    };
    if session.last_seen_at + config.idle <= now || session.absolute_expiry <= now {
        user_session::Entity::delete_by_id(session.id)
            .exec(db)
            .await?;
        return Ok(Resolved::Invalid);
    }
    if now - session.last_seen_at >= TOUCH_EVERY {
        touch(db, config, &session, now).await?;
    }
    match load(db, &session).await? {
        Some(principal) => Ok(Resolved::Valid(Box::new(principal))),
        None => {
            user_session::Entity::delete_by_id(session.id)
                .exec(db)
                .await?;
            Ok(Resolved::Invalid)
        }
    }
}

async fn touch(
    db: &impl ConnectionTrait,
    config: &SessionConfig,
    session: &user_session::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    user_session::Entity::update_many()
        .col_expr(user_session::Column::LastSeenAt, now.into())
        .filter(user_session::Column::Id.eq(session.id))
        .exec(db)
        .await?;
    if let Some(sandbox) = session.sandbox_id {
        demo_sandbox::Entity::update_many()
            .col_expr(demo_sandbox::Column::LastSeenAt, now.into())
            .col_expr(
                demo_sandbox::Column::ExpiresAt,
                (now + config.demo_idle).into(),
            )
            .filter(demo_sandbox::Column::Id.eq(sandbox))
            .exec(db)
            .await?;
    }
    Ok(())
}

async fn load(
    db: &impl ConnectionTrait,
    session: &user_session::Model,
) -> Result<Option<Principal>, DbErr> {
    let who = match (session.patient_id, session.staff_person_id) {
        (Some(patient_id), None) => {
            let Some(p) = patient::Entity::find_by_id(patient_id).one(db).await? else {
                return Ok(None);
            };
            if p.sandbox_id != session.sandbox_id {
                return Ok(None);
            }
            Who::Patient {
                patient_id,
                name: format!("{} {}", p.given_name, p.family_name),
            }
        }
        (None, Some(staff_id)) => match load_staff(db, session, staff_id).await? {
            Some(staff) => Who::Staff(staff),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    Ok(Some(Principal {
        session_id: session.id,
        sandbox_id: session.sandbox_id,
        demo_persona: session.demo_persona.clone(),
        who,
    }))
}

async fn load_staff(
    db: &impl ConnectionTrait,
    session: &user_session::Model,
    staff_id: i64,
) -> Result<Option<Staff>, DbErr> {
    let Some(person) = staff_person::Entity::find_by_id(staff_id).one(db).await? else {
        return Ok(None);
    };
    if person.sandbox_id != session.sandbox_id {
        return Ok(None);
    }
    let identities = staff_hsa_identity::Entity::find()
        .filter(staff_hsa_identity::Column::StaffPersonId.eq(staff_id))
        .order_by_asc(staff_hsa_identity::Column::Id)
        .all(db)
        .await?;
    let mut hsa_id = identities.first().map(|i| i.hsa_id.clone());
    let mut assignment = None;
    if let Some(assignment_id) = session.staff_assignment_id {
        let Some(a) = staff_assignment::Entity::find_by_id(assignment_id)
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        let Some(identity) = identities.iter().find(|i| i.id == a.staff_hsa_identity_id) else {
            return Ok(None);
        };
        hsa_id = Some(identity.hsa_id.clone());
        let Some(unit) = care_unit::Entity::find_by_id(a.care_unit_id)
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        let Some(provider) = care_provider::Entity::find_by_id(unit.care_provider_id)
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        assignment = Some(Assignment {
            id: a.id,
            commission_hsa_id: a.commission_hsa_id,
            for_care: a.commission_purpose == CARE_PURPOSE
                && a.valid_to.is_none_or(|to| to > Utc::now())
                && unit.active,
            care_unit_id: unit.id,
            care_unit_hsa_id: unit.hsa_id,
            care_unit_name: unit.name,
            care_provider_id: provider.id,
            care_provider_org_number: provider.org_number,
            care_provider_public: provider.kind == "region",
        });
    }
    let Some(hsa_id) = hsa_id else {
        return Ok(None);
    };
    let roles = match &assignment {
        None => Vec::new(),
        Some(a) => roles_in(db, staff_id, a).await?,
    };
    Ok(Some(Staff {
        staff_person_id: staff_id,
        name: format!("{} {}", person.given_name, person.family_name),
        hsa_id,
        assignment,
        roles,
    }))
}

/// Roles in effect in an assignment: granted at its unit, or provider-wide at its provider.
async fn roles_in(
    db: &impl ConnectionTrait,
    staff_id: i64,
    assignment: &Assignment,
) -> Result<Vec<Role>, DbErr> {
    let grants = staff_role::Entity::find()
        .filter(staff_role::Column::StaffPersonId.eq(staff_id))
        .filter(staff_role::Column::RevokedAt.is_null())
        .filter(staff_role::Column::CareProviderId.eq(assignment.care_provider_id))
        .filter(
            Condition::any()
                .add(staff_role::Column::CareUnitId.eq(assignment.care_unit_id))
                .add(staff_role::Column::CareUnitId.is_null()),
        )
        .all(db)
        .await?;
    let mut roles: Vec<Role> = grants
        .iter()
        .filter_map(|g| Role::from_code(&g.role))
        .collect();
    roles.sort_by_key(|r| r.as_code());
    roles.dedup();
    Ok(roles)
}

/// Ends one session (sign-out).
pub async fn end(db: &impl ConnectionTrait, session_id: i64) -> Result<(), DbErr> {
    user_session::Entity::delete_by_id(session_id)
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of a staff member: used when their roles are removed.
pub async fn end_all_for_staff(
    db: &impl ConnectionTrait,
    staff_person_id: i64,
) -> Result<u64, DbErr> {
    Ok(user_session::Entity::delete_many()
        .filter(user_session::Column::StaffPersonId.eq(staff_person_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// The sessions of the same user as `principal`, newest first.
pub async fn of_same_user(
    db: &impl ConnectionTrait,
    principal: &Principal,
) -> Result<Vec<user_session::Model>, DbErr> {
    let filter = match &principal.who {
        Who::Patient { patient_id, .. } => user_session::Column::PatientId.eq(*patient_id),
        Who::Staff(staff) => user_session::Column::StaffPersonId.eq(staff.staff_person_id),
    };
    user_session::Entity::find()
        .filter(filter)
        .order_by_desc(user_session::Column::LastSeenAt)
        .all(db)
        .await
}

/// Deletes sessions that have passed their idle or absolute limit.
pub async fn delete_expired(
    db: &impl ConnectionTrait,
    config: &SessionConfig,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(user_session::Entity::delete_many()
        .filter(
            Condition::any()
                .add(user_session::Column::AbsoluteExpiry.lte(now))
                .add(user_session::Column::LastSeenAt.lte(now - config.idle)),
        )
        .exec(db)
        .await?
        .rows_affected)
}
