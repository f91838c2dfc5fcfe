//! Server-side sessions. The browser holds only a random 256-bit token in a `__Host-` cookie;
//! the database holds its sha256, who it belongs to and when it expires. A new token is made at
//! every sign-in (and every demo persona switch), so a token seen before sign-in is worthless.

use super::cache::{Cached, SessionCache};
use super::principal::{Assignment, Principal, Staff, Who};
use super::{Role, UserKind};
use crate::access_log::hex;
use crate::db::entities::{demo_sandbox, staff_hsa_identity, staff_role, user_session};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder,
};
use sha2::{Digest, Sha256};

/// `__Host-`: only over HTTPS (browsers treat localhost as secure), only for this exact host,
/// path `/`; a sibling domain can neither read nor plant it.
pub const SESSION_COOKIE: &str = "__Host-lotsen_session";

/// Demo mode only: the demo patient's session, held beside a staff persona's in
/// [`SESSION_COOKIE`] so that a visitor can try both sides of one sandbox in two tabs.
pub const PATIENT_COOKIE: &str = "__Host-lotsen_patient";

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
        Subject::Patient { patient_id } => (UserKind::Patient, Some(patient_id), None, None),
        Subject::Staff {
            staff_person_id,
            assignment_id,
        } => (UserKind::Staff, None, Some(staff_person_id), assignment_id),
    };
    user_session::Entity::insert(user_session::ActiveModel {
        token_hash: Set(hash_token(&token)),
        user_kind: Set(kind),
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

/// The session, its user and the chosen assignment with its unit and care provider, in one
/// round trip. Roles follow in a second query (staff only).
static SESSION_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT s.id AS session_id, s.sandbox_id AS session_sandbox, \
        s.demo_persona, s.patient_id, s.staff_person_id, s.last_seen_at, s.absolute_expiry, \
        p.given_name AS patient_given, p.family_name AS patient_family, \
        p.sandbox_id AS patient_sandbox, \
        sp.given_name AS staff_given, sp.family_name AS staff_family, \
        sp.sandbox_id AS staff_sandbox, \
        a.id AS assignment_id, a.commission_hsa_id, a.commission_purpose, a.valid_to, \
        h.hsa_id, h.staff_person_id AS identity_owner, \
        u.id AS unit_id, u.hsa_id AS unit_hsa_id, u.name AS unit_name, u.active AS unit_active, \
        c.id AS provider_id, c.org_number AS provider_org_number, c.kind AS provider_kind, \
        te.id AS test_enrolment, te.patient_id AS test_patient, \
        (SELECT n FROM auth_epoch WHERE id = 1) AS auth_epoch \
    FROM user_session s \
    LEFT JOIN patient p ON p.id = s.patient_id \
    LEFT JOIN staff_person sp ON sp.id = s.staff_person_id \
    LEFT JOIN staff_assignment a ON a.id = s.staff_assignment_id \
    LEFT JOIN staff_hsa_identity h ON h.id = a.staff_hsa_identity_id \
    LEFT JOIN care_unit u ON u.id = a.care_unit_id \
    LEFT JOIN care_provider c ON c.id = u.care_provider_id \
    LEFT JOIN enrolment te ON te.id = s.test_enrolment_id \
        AND te.test_by_staff_id = s.staff_person_id AND te.care_unit_id = a.care_unit_id \
        AND {} \
    WHERE s.token_hash = $1",
        crate::db::filter::same_sandbox("te", "s")
    )
});

/// Finds the session of `token`, ends it if it has expired, and loads its user. The request
/// counts as activity: the idle timeout starts again.
pub async fn resolve(
    db: &impl ConnectionTrait,
    config: &SessionConfig,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Resolved, DbErr> {
    resolve_with(db, config, token, now, true).await
}

/// Like [`resolve`], but not activity: what a live stream checks while it is open (its
/// keep-alives must not keep an idle session alive).
pub async fn peek(
    db: &impl ConnectionTrait,
    config: &SessionConfig,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Resolved, DbErr> {
    resolve_with(db, config, token, now, false).await
}

/// Like [`resolve`] (`activity`) or [`peek`], answered from `cache` where it can be: see
/// [`super::cache`]. What the middleware of every request calls.
pub async fn resolve_cached(
    db: &sea_orm::DatabaseConnection,
    config: &SessionConfig,
    cache: &SessionCache,
    token: &str,
    now: DateTime<Utc>,
    activity: bool,
) -> Result<Resolved, DbErr> {
    let hash = hash_token(token);
    if let Some(hit) = cache.hit(db, &hash, now, config.idle).await? {
        if activity && now - hit.last_seen_at >= TOUCH_EVERY {
            touch(db, config, hit.session_id, hit.sandbox_id, now).await?;
            cache.seen(&hash, now);
        }
        return Ok(Resolved::Valid(Box::new(hit.principal)));
    }
    // Read before the load: a change heard while it runs keeps its answer out of the cache.
    let generation = cache.generation();
    let (resolved, kept) = load_session(db, config, &hash, now, activity).await?;
    if let Some(entry) = kept {
        cache.keep(db, hash, entry, generation);
    }
    Ok(resolved)
}

async fn resolve_with(
    db: &impl ConnectionTrait,
    config: &SessionConfig,
    token: &str,
    now: DateTime<Utc>,
    activity: bool,
) -> Result<Resolved, DbErr> {
    let (resolved, _) = load_session(db, config, &hash_token(token), now, activity).await?;
    Ok(resolved)
}

/// The session of the token hash `hash` from the database, and what the cache may keep of it.
async fn load_session(
    db: &impl ConnectionTrait,
    config: &SessionConfig,
    hash: &str,
    now: DateTime<Utc>,
    activity: bool,
) -> Result<(Resolved, Option<Cached>), DbErr> {
    let Some(row) = db
        .query_one(crate::db::statement(db, &SESSION_SQL, vec![hash.into()]))
        .await?
    else {
        return Ok((Resolved::Invalid, None));
    };
    let session_id: i64 = row.try_get("", "session_id")?;
    let sandbox_id: Option<i64> = row.try_get("", "session_sandbox")?;
    let mut last_seen_at: DateTime<Utc> = row.try_get("", "last_seen_at")?;
    let absolute_expiry: DateTime<Utc> = row.try_get("", "absolute_expiry")?;
    if last_seen_at + config.idle <= now || absolute_expiry <= now {
        end(db, session_id).await?;
        return Ok((Resolved::Invalid, None));
    }
    if activity && now - last_seen_at >= TOUCH_EVERY {
        touch(db, config, session_id, sandbox_id, now).await?;
        last_seen_at = now;
    }
    let tag = hash[..16].to_owned();
    match load(db, &row, session_id, sandbox_id, now).await? {
        Some(principal) => {
            let principal = Principal {
                session_tag: tag,
                ..principal
            };
            let valid_to: Option<DateTime<Utc>> = row.try_get("", "valid_to")?;
            let kept = Cached {
                principal: principal.clone(),
                sandbox_id,
                last_seen_at,
                absolute_expiry,
                valid_to: valid_to.filter(|to| *to > now),
                epoch: row.try_get("", "auth_epoch")?,
                kept_at: std::time::Instant::now(),
            };
            Ok((Resolved::Valid(Box::new(principal)), Some(kept)))
        }
        None => {
            end(db, session_id).await?;
            Ok((Resolved::Invalid, None))
        }
    }
}

async fn touch(
    db: &impl ConnectionTrait,
    config: &SessionConfig,
    session_id: i64,
    sandbox_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    user_session::Entity::update_many()
        .col_expr(user_session::Column::LastSeenAt, now.into())
        .filter(user_session::Column::Id.eq(session_id))
        .exec(db)
        .await?;
    if let Some(sandbox) = sandbox_id {
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

/// The user of a session row; `None` if anything it points at is gone or belongs elsewhere.
async fn load(
    db: &impl ConnectionTrait,
    row: &sea_orm::QueryResult,
    session_id: i64,
    sandbox_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<Principal>, DbErr> {
    let demo_persona: Option<String> = row.try_get("", "demo_persona")?;
    let patient_id: Option<i64> = row.try_get("", "patient_id")?;
    let staff_id: Option<i64> = row.try_get("", "staff_person_id")?;
    let who = match (patient_id, staff_id) {
        (Some(patient_id), None) => {
            let given: Option<String> = row.try_get("", "patient_given")?;
            let family: Option<String> = row.try_get("", "patient_family")?;
            let tenant: Option<i64> = row.try_get("", "patient_sandbox")?;
            let (Some(given), Some(family)) = (given, family) else {
                return Ok(None);
            };
            if tenant != sandbox_id {
                return Ok(None);
            }
            Who::Patient {
                patient_id,
                name: format!("{given} {family}"),
            }
        }
        (None, Some(staff_id)) => match load_staff(db, row, staff_id, sandbox_id, now).await? {
            Some(staff) => Who::Staff(staff),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    // A test binding holds only for the staff member's own test enrolment at the unit of the
    // chosen assignment, and only while they work on programs there.
    let test = match (
        &who,
        row.try_get::<Option<i64>>("", "test_enrolment")?,
        row.try_get::<Option<i64>>("", "test_patient")?,
    ) {
        (Who::Staff(staff), Some(enrolment_id), Some(patient_id))
            if staff
                .roles
                .iter()
                .any(|r| matches!(r, Role::Producer | Role::Publisher)) =>
        {
            Some(super::TestBinding {
                enrolment_id,
                patient_id,
            })
        }
        _ => None,
    };
    Ok(Some(Principal {
        session_id,
        session_tag: String::new(),
        sandbox_id,
        demo_persona,
        who,
        test,
    }))
}

async fn load_staff(
    db: &impl ConnectionTrait,
    row: &sea_orm::QueryResult,
    staff_id: i64,
    sandbox_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<Staff>, DbErr> {
    let given: Option<String> = row.try_get("", "staff_given")?;
    let family: Option<String> = row.try_get("", "staff_family")?;
    let tenant: Option<i64> = row.try_get("", "staff_sandbox")?;
    let (Some(given), Some(family)) = (given, family) else {
        return Ok(None);
    };
    if tenant != sandbox_id {
        return Ok(None);
    }
    let assignment_id: Option<i64> = row.try_get("", "assignment_id")?;
    let (assignment, hsa_id) = match assignment_id {
        None => {
            // No assignment chosen yet: the person's first HSA identity.
            let first = staff_hsa_identity::Entity::find()
                .filter(staff_hsa_identity::Column::StaffPersonId.eq(staff_id))
                .order_by_asc(staff_hsa_identity::Column::Id)
                .one(db)
                .await?;
            match first {
                Some(identity) => (None, identity.hsa_id),
                None => return Ok(None),
            }
        }
        Some(id) => {
            let owner: Option<i64> = row.try_get("", "identity_owner")?;
            let unit_id: Option<i64> = row.try_get("", "unit_id")?;
            let provider_id: Option<i64> = row.try_get("", "provider_id")?;
            let (Some(owner), Some(unit_id), Some(provider_id)) = (owner, unit_id, provider_id)
            else {
                return Ok(None);
            };
            if owner != staff_id {
                return Ok(None);
            }
            let purpose: String = row.try_get("", "commission_purpose")?;
            let valid_to: Option<DateTime<Utc>> = row.try_get("", "valid_to")?;
            let unit_active: bool = row.try_get("", "unit_active")?;
            let kind: crate::domain::ProviderKind = row.try_get("", "provider_kind")?;
            let assignment = Assignment {
                id,
                commission_hsa_id: row.try_get("", "commission_hsa_id")?,
                for_care: purpose == CARE_PURPOSE
                    && valid_to.is_none_or(|to| to > now)
                    && unit_active,
                care_unit_id: unit_id,
                care_unit_hsa_id: row.try_get("", "unit_hsa_id")?,
                care_unit_name: row.try_get("", "unit_name")?,
                care_provider_id: provider_id,
                care_provider_org_number: row.try_get("", "provider_org_number")?,
                care_provider_public: kind.is_public(),
            };
            (Some(assignment), row.try_get("", "hsa_id")?)
        }
    };
    let roles = match &assignment {
        None => Vec::new(),
        Some(a) => roles_in(db, staff_id, a).await?,
    };
    Ok(Some(Staff {
        staff_person_id: staff_id,
        name: format!("{given} {family}"),
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
    let mut roles: Vec<Role> = grants.iter().map(|g| g.role).collect();
    roles.sort_by_key(|r| r.as_code());
    roles.dedup();
    Ok(roles)
}

/// Binds a staff member's session to one of their own test enrolments (checked again on every
/// request, see `SESSION_SQL`), or with `None` ends the test.
pub async fn bind_test(
    db: &impl ConnectionTrait,
    session_id: i64,
    enrolment_id: Option<i64>,
) -> Result<(), DbErr> {
    user_session::Entity::update_many()
        .col_expr(user_session::Column::TestEnrolmentId, enrolment_id.into())
        .filter(user_session::Column::Id.eq(session_id))
        .exec(db)
        .await?;
    super::cache::own_session_changed();
    Ok(())
}

/// Ends one session (sign-out).
pub async fn end(db: &impl ConnectionTrait, session_id: i64) -> Result<(), DbErr> {
    user_session::Entity::delete_by_id(session_id)
        .exec(db)
        .await?;
    Ok(())
}

/// Ends the session of `token`, if it is one.
pub async fn end_by_token(db: &impl ConnectionTrait, token: &str) -> Result<(), DbErr> {
    user_session::Entity::delete_many()
        .filter(user_session::Column::TokenHash.eq(hash_token(token)))
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
