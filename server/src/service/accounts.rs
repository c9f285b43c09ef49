//! Sign-in, refresh, passwords, and the check every authenticated request goes through.

use serde::{Deserialize, Serialize};
use sync_protocol::DeviceId;
use uuid::Uuid;

use crate::auth::{Caller, Keys, Role, password, refresh};
use crate::config::AuthPolicy;
use crate::db::tokens::RefreshRow;
use crate::db::users::{NewUser, UserRow};
use crate::db::{self, AnyConnection, DbError, devices, now_ms, throttle, tokens, users};
use crate::error::ApiError;
use crate::service::audit::{self, Entry};

/// An authenticated, authorised caller: an active user on a device registered to them and
/// not revoked.
#[derive(Clone, Debug)]
pub struct Principal {
    /// User id.
    pub user_id: String,
    /// Sign-in name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Agency, for officers and agency admins.
    pub agency_id: Option<String>,
    /// The device the token was issued to.
    pub device: DeviceId,
    /// Client address.
    pub remote_addr: Option<String>,
}

/// Checks the caller against the database: the user exists and is active, the device is
/// registered to them and not revoked. Run inside the request's transaction.
pub fn authorize(conn: &mut AnyConnection, caller: &Caller) -> Result<Principal, ApiError> {
    let user = users::by_id(conn, &caller.user_id)?.ok_or_else(|| {
        ApiError::unauthorized("invalid_token", "the token's user does not exist")
    })?;
    if !user.active {
        return Err(deactivated());
    }
    match devices::find(conn, caller.device)? {
        None => {
            return Err(ApiError::forbidden(
                "device_not_registered",
                "this device is not registered: sign in on it first",
            ));
        }
        Some((owner, _)) if owner != user.id => return Err(other_owner(caller.device)),
        Some((_, true)) => return Err(revoked(caller.device)),
        Some(_) => {}
    }
    Ok(Principal {
        role: role_of(&user)?,
        user_id: user.id,
        username: user.username,
        agency_id: user.agency_id,
        device: caller.device,
        remote_addr: caller.remote_addr.clone(),
    })
}

pub(crate) fn deactivated() -> ApiError {
    ApiError::forbidden("user_deactivated", "this account has been deactivated")
}

pub(crate) fn revoked(device: DeviceId) -> ApiError {
    ApiError::forbidden(
        "device_revoked",
        format!("device {device} has been revoked; nothing it sends is accepted"),
    )
}

pub(crate) fn other_owner(device: DeviceId) -> ApiError {
    ApiError::forbidden(
        "device_registered_to_another_user",
        format!("device {device} is registered to another user"),
    )
}

fn role_of(user: &UserRow) -> Result<Role, ApiError> {
    Role::parse(&user.role).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "user {} has unknown role {}",
            user.id,
            user.role
        ))
    })
}

/// A user as the API shows it (never the password hash).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserView {
    /// Id.
    pub id: String,
    /// Sign-in name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Agency.
    pub agency_id: Option<String>,
    /// Active or deactivated.
    pub active: bool,
}

impl TryFrom<UserRow> for UserView {
    type Error = ApiError;
    fn try_from(u: UserRow) -> Result<Self, ApiError> {
        Ok(UserView {
            role: role_of(&u)?,
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            agency_id: u.agency_id,
            active: u.active,
        })
    }
}

/// A new account.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// Sign-in name: 3-64 of a-z, 0-9, `.`, `_`, `-` (stored lowercase).
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Agency: required for officers and agency admins.
    #[serde(default)]
    pub agency_id: Option<String>,
    /// Initial password, at least 10 characters.
    pub password: String,
}

/// Creates an account. The caller decides who may; this checks the account itself.
pub fn create_user(conn: &mut AnyConnection, req: NewUserRequest) -> Result<UserView, ApiError> {
    let username = req.username.trim().to_lowercase();
    let valid_name = (3..=64).contains(&username.len())
        && username.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if !valid_name {
        return Err(ApiError::bad_request(
            "invalid_username",
            "a user name is 3 to 64 characters of a-z, 0-9, '.', '_' and '-'",
        ));
    }
    check_password_strength(&req.password)?;
    let display_name = req.display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "invalid_display_name",
            "the display name is 1 to 200 characters",
        ));
    }
    match (req.role, &req.agency_id) {
        (Role::Officer | Role::AgencyAdmin, None) => {
            return Err(ApiError::bad_request(
                "agency_required",
                "officers and agency admins belong to an agency: give agency_id",
            ));
        }
        (_, Some(a)) if !users::agency_exists(conn, a)? => {
            return Err(ApiError::bad_request(
                "unknown_agency",
                format!("no agency {a}"),
            ));
        }
        _ => {}
    }
    let hash = password::hash(&req.password).map_err(ApiError::Internal)?;
    let id = Uuid::now_v7().to_string();
    let inserted = db::write_tx(conn, |c| {
        if users::by_username(c, &username)?.is_some() {
            return Err(ApiError::conflict(
                "username_taken",
                format!("`{username}` is taken"),
            ));
        }
        users::insert(
            c,
            &NewUser {
                id: &id,
                username: &username,
                display_name,
                password_hash: &hash,
                role: req.role.as_str(),
                agency_id: req.agency_id.as_deref(),
            },
        )?;
        Ok(())
    });
    match inserted {
        Err(ApiError::Unavailable(e)) if is_unique_violation(&e) => Err(ApiError::conflict(
            "username_taken",
            format!("`{username}` is taken"),
        )),
        other => other,
    }?;
    users::by_id(conn, &id)?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("user {id} vanished")))?
        .try_into()
}

/// Whether a storage error is a unique-key violation (two creations racing).
pub fn is_unique_violation(e: &DbError) -> bool {
    matches!(
        e,
        DbError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}

fn check_password_strength(p: &str) -> Result<(), ApiError> {
    if p.chars().count() < password::MIN_LENGTH {
        return Err(ApiError::bad_request(
            "weak_password",
            format!(
                "a password has at least {} characters",
                password::MIN_LENGTH
            ),
        ));
    }
    Ok(())
}

/// On a database with no users, creates the first regency administrator with a random
/// password, and returns (user name, password) for the operator to read once.
pub fn bootstrap_admin(conn: &mut AnyConnection) -> Result<Option<(String, String)>, ApiError> {
    if users::count(conn)? > 0 {
        return Ok(None);
    }
    let pw = password::generate().map_err(ApiError::Internal)?;
    let created = create_user(
        conn,
        NewUserRequest {
            username: "admin".into(),
            display_name: "Administrator".into(),
            role: Role::RegencyAdmin,
            agency_id: None,
            password: pw.clone(),
        },
    );
    let user = match created {
        // Another instance starting at the same moment made it first.
        Err(e) if e.code() == "username_taken" => return Ok(None),
        other => other?,
    };
    audit::record(
        conn,
        Entry::system(
            "user_created",
            Some(&user.id),
            serde_json::json!({"username": user.username, "role": "regency_admin", "bootstrap": true}),
        ),
    );
    Ok(Some((user.username, pw)))
}

/// A sign-in.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Sign-in name.
    pub username: String,
    /// Password.
    pub password: String,
    /// The installation id of the device signing in.
    pub device_id: DeviceId,
}

/// A refresh.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh credential from the last sign-in or refresh.
    pub refresh_token: String,
}

/// Tokens for a device.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    /// Bearer token for API requests.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Exchange it at `/v1/auth/refresh` for new tokens; bound to this device; single use.
    pub refresh_token: String,
    /// Seconds until the refresh credential expires.
    pub refresh_expires_in: i64,
    /// The device the tokens are bound to.
    pub device_id: DeviceId,
    /// Who signed in.
    pub user: UserView,
}

const WINDOW_MS: i64 = 15 * 60 * 1000;
const LOCK_MS: i64 = 15 * 60 * 1000;
const MAX_DELAY_MS: i64 = 60 * 1000;

/// When failures start to slow sign-in down, and when they lock it.
struct Limits {
    slow_after: i64,
    lock_after: i64,
}

/// Per user name: guessing one account's password.
const PER_USER: Limits = Limits {
    slow_after: 3,
    lock_after: 10,
};
/// Per address: far looser, because mobile carriers put many officers behind one address
/// (carrier-grade NAT) and one officer's typos must not lock out a whole district.
const PER_ADDRESS: Limits = Limits {
    slow_after: 30,
    lock_after: 200,
};
/// Signs in: checks the password (throttled per user name and per address), registers the
/// device to the user, and issues an access token and a refresh credential bound to it.
pub fn login(
    conn: &mut AnyConnection,
    keys: &Keys,
    policy: &AuthPolicy,
    req: LoginRequest,
    addr: Option<String>,
) -> Result<TokenResponse, ApiError> {
    let username = req.username.trim().to_lowercase();
    let throttle_keys: Vec<String> = std::iter::once(format!("user:{username}"))
        .chain(addr.as_ref().map(|a| format!("addr:{a}")))
        .collect();
    let now = now_ms();
    for key in &throttle_keys {
        let a = throttle::get(conn, key)?;
        if a.locked_until > now {
            audit::record(
                conn,
                Entry::failed_login(&username, addr.clone(), "throttled"),
            );
            return Err(ApiError::TooManyAttempts {
                retry_after_secs: (a.locked_until - now + 999) / 1000,
            });
        }
    }
    // Verify outside any transaction: hashing is slow and must not hold the write lock.
    let user = users::by_username(conn, &username)?;
    let ok = match &user {
        Some(u) => password::verify(&req.password, &u.password_hash),
        None => {
            password::verify_dummy(&req.password);
            false
        }
    };
    let user = match (user, ok) {
        (Some(u), true) => u,
        _ => {
            db::write_tx(conn, |c| {
                throttle::purge_stale(c, now - WINDOW_MS, now)?;
                for key in &throttle_keys {
                    let limits = if key.starts_with("addr:") {
                        &PER_ADDRESS
                    } else {
                        &PER_USER
                    };
                    count_failure(c, key, limits, now)?;
                }
                Ok::<_, ApiError>(())
            })?;
            audit::record(
                conn,
                Entry::failed_login(&username, addr, "wrong user name or password"),
            );
            return Err(ApiError::unauthorized(
                "invalid_credentials",
                "wrong user name or password",
            ));
        }
    };
    if !user.active {
        audit::record(conn, Entry::failed_login(&username, addr, "deactivated"));
        return Err(deactivated());
    }
    let view = UserView::try_from(user.clone())?;
    let issued = db::write_tx(conn, |c| {
        throttle::clear(c, &format!("user:{username}"))?;
        let known = devices::find(c, req.device_id)?.is_some();
        let (owner, is_revoked) = devices::register(c, req.device_id, &user.id)?;
        if owner != user.id {
            return Err(other_owner(req.device_id));
        }
        if is_revoked {
            return Err(revoked(req.device_id));
        }
        let family = Uuid::now_v7().to_string();
        let refresh = store_refresh(c, &family, req.device_id, &user.id, policy)?;
        Ok((known, refresh))
    });
    let (known, refresh_credential) = match issued {
        Ok(v) => v,
        Err(e) => {
            audit::record(conn, Entry::failed_login(&username, addr, e.code()));
            return Err(e);
        }
    };
    let who = Entry::by(&user.id, &user.username, addr);
    if !known {
        audit::record(
            conn,
            who.clone().action(
                "device_registered",
                Some(&req.device_id.to_string()),
                serde_json::json!({}),
            ),
        );
    }
    audit::record(
        conn,
        who.action(
            "login_succeeded",
            Some(&req.device_id.to_string()),
            serde_json::json!({}),
        ),
    );
    tokens_for(
        keys,
        policy,
        &user.id,
        req.device_id,
        refresh_credential,
        view,
    )
}

fn count_failure(
    conn: &mut AnyConnection,
    key: &str,
    limits: &Limits,
    now: i64,
) -> Result<(), ApiError> {
    let mut a = throttle::get(conn, key)?;
    if now - a.window_start > WINDOW_MS {
        a = throttle::Attempts {
            failures: 0,
            window_start: now,
            locked_until: 0,
        };
    }
    a.failures += 1;
    a.locked_until = if a.failures >= limits.lock_after {
        now + LOCK_MS
    } else if a.failures >= limits.slow_after {
        // Slow down: 1 s, 2 s, 4 s ... before the next attempt is even checked.
        let shift = u32::try_from(a.failures - limits.slow_after)
            .unwrap_or(16)
            .min(16);
        now + (1000_i64 << shift).min(MAX_DELAY_MS)
    } else {
        0
    };
    throttle::put(conn, key, a)?;
    Ok(())
}

fn store_refresh(
    c: &mut AnyConnection,
    family: &str,
    device: DeviceId,
    user_id: &str,
    policy: &AuthPolicy,
) -> Result<String, ApiError> {
    let issued = refresh::issue().map_err(ApiError::Internal)?;
    let now = now_ms();
    tokens::insert(
        c,
        &RefreshRow {
            id: issued.id,
            family_id: family.to_owned(),
            device_id: device.to_string(),
            user_id: user_id.to_owned(),
            secret_hash: issued.secret_hash,
            issued_at: now,
            expires_at: now + policy.refresh_ttl_secs * 1000,
            used_at: None,
            revoked_at: None,
        },
    )?;
    Ok(issued.credential)
}

fn tokens_for(
    keys: &Keys,
    policy: &AuthPolicy,
    user_id: &str,
    device: DeviceId,
    refresh_token: String,
    user: UserView,
) -> Result<TokenResponse, ApiError> {
    Ok(TokenResponse {
        access_token: keys
            .mint(user_id, device, policy.access_ttl_secs)
            .map_err(ApiError::Internal)?,
        token_type: "Bearer".into(),
        expires_in: policy.access_ttl_secs,
        refresh_token,
        refresh_expires_in: policy.refresh_ttl_secs,
        device_id: device,
        user,
    })
}

/// Exchanges a refresh credential for new tokens. Each credential works once: presenting a
/// used one again means it was copied, so every credential of the device is revoked and the
/// device must sign in again.
pub fn refresh(
    conn: &mut AnyConnection,
    keys: &Keys,
    policy: &AuthPolicy,
    req: RefreshRequest,
    addr: Option<String>,
) -> Result<TokenResponse, ApiError> {
    let invalid = || {
        ApiError::unauthorized(
            "invalid_refresh_token",
            "the refresh credential is not valid",
        )
    };
    let (id, hash) = refresh::parse(req.refresh_token.trim()).ok_or_else(invalid)?;
    let row = tokens::find(conn, id)?.ok_or_else(invalid)?;
    if row.secret_hash != hash {
        return Err(invalid());
    }
    if row.revoked_at.is_some() {
        return Err(ApiError::unauthorized(
            "refresh_token_revoked",
            "this refresh credential was revoked: sign in again",
        ));
    }
    let reused = || {
        ApiError::unauthorized(
            "refresh_token_reused",
            "this refresh credential was already used; every credential of the device is now \
             revoked: sign in again",
        )
    };
    if let Some(used_at) = row.used_at {
        if now_ms() - used_at <= REUSE_GRACE_MS
            && let Some(credential) = reissue_after_lost_answer(conn, &row, policy)?
        {
            let user = users::by_id(conn, &row.user_id)?
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("user vanished")))?;
            let device = parse_device(&row)?;
            authorize(
                conn,
                &Caller {
                    user_id: row.user_id.clone(),
                    device,
                    remote_addr: addr,
                },
            )?;
            return tokens_for(
                keys,
                policy,
                &row.user_id,
                device,
                credential,
                user.try_into()?,
            );
        }
        revoke_chain(conn, &row, addr)?;
        return Err(reused());
    }
    if row.expires_at <= now_ms() {
        return Err(ApiError::unauthorized(
            "refresh_token_expired",
            "the refresh credential has expired: sign in again",
        ));
    }
    let device = parse_device(&row)?;
    let caller = Caller {
        user_id: row.user_id.clone(),
        device,
        remote_addr: addr.clone(),
    };
    let principal = authorize(conn, &caller)?;
    let rotated = db::write_tx(conn, |c| {
        if !tokens::mark_used(c, &row.id)? {
            return Ok(None);
        }
        store_refresh(c, &row.family_id, device, &row.user_id, policy).map(Some)
    })?;
    let credential = match rotated {
        Some(c) => c,
        // Another refresh with this credential won the race: the app's own retry, unless
        // what that refresh issued has been used already.
        None => match reissue_after_lost_answer(conn, &row, policy)? {
            Some(c) => c,
            None => {
                revoke_chain(conn, &row, addr)?;
                return Err(reused());
            }
        },
    };
    let user = users::by_id(conn, &principal.user_id)?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("user vanished")))?;
    tokens_for(
        keys,
        policy,
        &principal.user_id,
        device,
        credential,
        user.try_into()?,
    )
}

/// How long after a credential was used it may be presented again without counting as a
/// copy: on a village connection the answer to a refresh is often lost, and the app retries
/// with the credential it still holds.
const REUSE_GRACE_MS: i64 = 2 * 60 * 1000;

/// Within the grace period, and only if nothing issued since was used (the device never got
/// its answer), replaces the unused successor with a new credential.
fn reissue_after_lost_answer(
    conn: &mut AnyConnection,
    row: &RefreshRow,
    policy: &AuthPolicy,
) -> Result<Option<String>, ApiError> {
    let device = parse_device(row)?;
    db::write_tx(conn, |c| {
        let later: Vec<RefreshRow> = tokens::successors(c, &row.family_id, row.issued_at)?
            .into_iter()
            .filter(|t| t.id != row.id)
            .collect();
        if later
            .iter()
            .any(|t| t.used_at.is_some() || t.revoked_at.is_some())
        {
            return Ok(None);
        }
        for t in &later {
            tokens::revoke(c, &t.id)?;
        }
        store_refresh(c, &row.family_id, device, &row.user_id, policy).map(Some)
    })
}

fn parse_device(row: &RefreshRow) -> Result<DeviceId, ApiError> {
    row.device_id
        .parse()
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("stored device id {}", row.device_id)))
}

fn revoke_chain(
    conn: &mut AnyConnection,
    row: &RefreshRow,
    addr: Option<String>,
) -> Result<(), ApiError> {
    let n = tokens::revoke_device(conn, &row.device_id)?;
    tracing::warn!(device = %row.device_id, "refresh credential replayed: device's credentials revoked");
    audit::record(
        conn,
        Entry {
            actor_user_id: Some(row.user_id.clone()),
            actor_username: None,
            remote_addr: addr,
            success: false,
            ..Entry::system(
                "refresh_token_reused",
                Some(&row.device_id),
                serde_json::json!({"revoked_credentials": n}),
            )
        },
    );
    Ok(())
}

/// A password change.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    pub current_password: String,
    /// The new one, at least 10 characters.
    pub new_password: String,
}

/// Changes the caller's own password.
pub fn change_password(
    conn: &mut AnyConnection,
    caller: &Caller,
    req: PasswordChange,
) -> Result<(), ApiError> {
    let principal = authorize(conn, caller)?;
    check_password_strength(&req.new_password)?;
    let user = users::by_id(conn, &principal.user_id)?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("user vanished")))?;
    if !password::verify(&req.current_password, &user.password_hash) {
        return Err(ApiError::forbidden(
            "invalid_credentials",
            "the current password is wrong",
        ));
    }
    let hash = password::hash(&req.new_password).map_err(ApiError::Internal)?;
    users::set_password(conn, &user.id, &hash)?;
    audit::record(
        conn,
        Entry::by(&user.id, &user.username, principal.remote_addr).action(
            "password_changed",
            Some(&user.id),
            serde_json::json!({}),
        ),
    );
    Ok(())
}

/// The caller's own account.
pub fn me(conn: &mut AnyConnection, caller: &Caller) -> Result<UserView, ApiError> {
    let principal = authorize(conn, caller)?;
    users::by_id(conn, &principal.user_id)?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("user vanished")))?
        .try_into()
}
