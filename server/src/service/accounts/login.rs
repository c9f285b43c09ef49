//! Sign-in: the throttle, the password check on its own threads, device registration, tokens.
//!
//! Three steps, and the password check between them holds no database connection: a flood of
//! sign-ins waits for the few password checks (`auth::hashing`), never for a connection a
//! push or pull needs.

use actix_web::web;
use uuid::Uuid;

use crate::api::accounts::{LoginRequest, TokenResponse, UserView};
use crate::auth::{Keys, password};
use crate::db::users::UserRow;
use crate::db::{self, AnyConnection, devices, now_ms, tokens, users};
use crate::error::{ApiError, ErrorCode};
use crate::service::audit::{self, Entry};
use crate::service::with_conn;
use crate::startup::AppState;

use super::login_throttle::ThrottleKeys;
use super::session_tokens;

/// Signs in: checks the password (throttled per user name, per address and for the whole
/// server), registers the device to the user, and issues an access token and a refresh
/// credential bound to it. Earlier sign-ins of the same device end: one chain per device.
pub async fn login(
    state: &web::Data<AppState>,
    keys: web::Data<Keys>,
    req: LoginRequest,
    addr: Option<String>,
) -> Result<TokenResponse, ApiError> {
    let attempt = Attempt {
        username: req.username.trim().to_lowercase(),
        device: req.device_id,
        addr,
    };
    let (attempt, user) = with_conn(state, move |conn, st| {
        let user = attempt.admit(conn, st.auth.failed_sign_ins_per_sec)?;
        Ok((attempt, user))
    })
    .await?;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = state
        .hashing
        .run(move || match stored_hash {
            Some(phc) => password::verify(&req.password, &phc),
            None => {
                password::verify_dummy(&req.password);
                false
            }
        })
        .await?;
    with_conn(state, move |conn, st| {
        let user = match user {
            Some(u) if matches => u,
            _ => return Err(attempt.refuse(conn)),
        };
        attempt.complete(conn, &keys, st, user)
    })
    .await
}

/// One sign-in attempt: the name tried, from which device and address.
struct Attempt {
    username: String,
    device: sync_protocol::DeviceId,
    addr: Option<String>,
}

impl Attempt {
    fn throttle(&self) -> ThrottleKeys {
        ThrottleKeys::new(&self.username, self.addr.as_deref())
    }

    /// Refuses the attempt while throttled, before any password work; otherwise reads the
    /// user it names, if any.
    fn admit(
        &self,
        conn: &mut AnyConnection,
        global_per_sec: i64,
    ) -> Result<Option<UserRow>, ApiError> {
        let throttle = self.throttle();
        let now = now_ms();
        if let Some(locked) = throttle.locked(conn, now, global_per_sec)? {
            throttle.summarise_refusal(conn, &locked, &self.username, self.addr.clone(), now);
            return Err(ApiError::too_many_attempts(locked.retry_after_secs));
        }
        Ok(users::by_username(conn, &self.username)?)
    }

    /// Counts a wrong user name or password, and the error to answer.
    fn refuse(&self, conn: &mut AnyConnection) -> ApiError {
        let throttle = self.throttle();
        if let Err(e) = db::write_tx(conn, |c| throttle.count_failure(c, now_ms())) {
            return e;
        }
        audit::append(
            conn,
            Entry::failed_login(
                &self.username,
                self.addr.clone(),
                "wrong user name or password",
            ),
        );
        ApiError::new(ErrorCode::InvalidCredentials, "wrong user name or password")
    }

    /// The password matched: registers the device and issues its tokens.
    fn complete(
        self,
        conn: &mut AnyConnection,
        keys: &Keys,
        st: &AppState,
        user: UserRow,
    ) -> Result<TokenResponse, ApiError> {
        let Attempt {
            username,
            device,
            addr,
        } = self;
        if !user.active {
            audit::append(conn, Entry::failed_login(&username, addr, "deactivated"));
            return Err(ApiError::user_deactivated());
        }
        let must_change_password = user.must_change_password;
        let view = UserView::try_from(user)?;
        let throttle = ThrottleKeys::new(&username, addr.as_deref());
        let issued = db::write_tx(conn, |c| {
            throttle.clear_user(c)?;
            let known = devices::find(c, device)?.is_some();
            let registered = devices::register(c, device, view.id)?;
            if registered.user_id != view.id.to_string() {
                return Err(ApiError::device_registered_to_another_user(device));
            }
            if registered.revoked {
                return Err(ApiError::device_revoked(device));
            }
            // A device signs in again when it lost its credential: the old chain is dead
            // weight, and ending it keeps one live chain per device however often it signs in.
            tokens::revoke_device(c, device)?;
            let family = Uuid::now_v7().to_string();
            let refresh = session_tokens::store_refresh(c, &family, device, view.id, &st.auth)?;
            Ok((known, refresh))
        });
        let (known, refresh_credential) = match issued {
            Ok(v) => v,
            Err(e) => {
                audit::append(
                    conn,
                    Entry::failed_login(&username, addr, e.code().as_str()),
                );
                return Err(e);
            }
        };
        let who = Entry::by(view.id, &view.username, addr);
        let device_text = device.to_string();
        if !known {
            audit::append(
                conn,
                who.clone().action(
                    "device_registered",
                    Some(&device_text),
                    serde_json::json!({}),
                ),
            );
        }
        audit::append(
            conn,
            who.action("login_succeeded", Some(&device_text), serde_json::json!({})),
        );
        session_tokens::token_response(
            keys,
            &st.auth,
            device,
            refresh_credential,
            view,
            must_change_password,
        )
    }
}
