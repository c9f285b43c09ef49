//! The catalogue of every request-level error code a client can receive, each with its one
//! HTTP status. Per-operation codes inside a `200` push answer are
//! `sync_protocol::RejectCode` and the `gap` and `seq_reuse` statuses.

use actix_web::http::StatusCode;

/// A request-level error code, serialised snake_case on the wire.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    // 400: the request cannot be served as sent.
    /// The body is not JSON.
    MalformedJson,
    /// The JSON does not have the expected shape.
    InvalidRequest,
    /// The body could not be read (bad compression, a connection that broke off).
    UnreadableBody,
    /// An unknown query parameter or a bad value.
    InvalidQuery,
    /// An element of a push has no usable `seq`.
    InvalidSeq,
    /// A cursor this server did not issue.
    InvalidCursor,
    /// A password shorter than the minimum.
    WeakPassword,
    /// A user name outside the allowed characters or length.
    InvalidUsername,
    /// A display name outside the allowed length.
    InvalidDisplayName,
    /// An officer or agency admin without an agency.
    AgencyRequired,
    /// `agency_id` names no agency.
    UnknownAgency,
    /// An agency's name or kind outside the allowed length.
    InvalidAgency,
    /// An administrator tried to deactivate themselves.
    CannotDeactivateSelf,
    /// A revocation or assignment reason outside the allowed length.
    InvalidReason,
    /// A new area's code, level or name breaks the rules.
    InvalidArea,
    /// A new area's parent names no area.
    UnknownArea,
    /// Households are assigned to officers only.
    NotAnOfficer,
    /// A KK or NIK number that is not 16 digits (the message never repeats it).
    InvalidIdentityNumber,
    /// A conflict resolution that names no conflicted field, a value not listed, or a
    /// merged value that is not an object of the field's group.
    InvalidResolution,
    // 401: who is asking is not established.
    /// Wrong user name or password at sign-in.
    InvalidCredentials,
    /// No bearer token.
    MissingToken,
    /// A token that cannot be read, is badly signed, or names no user.
    InvalidToken,
    /// The access token expired.
    TokenExpired,
    /// Not a refresh credential this server issued.
    InvalidRefreshToken,
    /// The refresh credential was revoked.
    RefreshTokenRevoked,
    /// The refresh credential was already used: the device's chain is revoked.
    RefreshTokenReused,
    /// The refresh credential expired.
    RefreshTokenExpired,
    // 403: known, but not allowed.
    /// The current password given to a password change is wrong.
    WrongCurrentPassword,
    /// The account is deactivated.
    UserDeactivated,
    /// The device is revoked.
    DeviceRevoked,
    /// The installation id belongs to another user.
    DeviceRegisteredToAnotherUser,
    /// The token's device never signed in.
    DeviceNotRegistered,
    /// A push for a device other than the token's.
    DeviceMismatch,
    /// The caller's role may not do this.
    ForbiddenRole,
    /// An agency admin reached beyond their agency.
    OtherAgency,
    /// The password is one-time: the caller must change it before anything else.
    PasswordChangeRequired,
    // 404
    /// No such endpoint, or the wrong method.
    NotFound,
    /// No such user.
    UserNotFound,
    /// No such device the caller may manage.
    DeviceNotFound,
    /// No such household (a household record the server holds, not deleted).
    HouseholdNotFound,
    /// No such assignment the caller may manage.
    AssignmentNotFound,
    /// An administrator read or edited a record the server does not hold (or in another
    /// collection).
    RecordNotFound,
    // 408
    /// The body did not arrive within the server's time for a whole request.
    RequestTimeout,
    // 409
    /// The user name exists.
    UsernameTaken,
    /// The agency name exists.
    AgencyExists,
    /// The area code exists.
    AreaExists,
    /// The cursor is from another epoch.
    ResyncRequired,
    /// The KK number is another household's (the message names it, not the number).
    DuplicateKk,
    /// The NIK number is another household's (the message names it, not the number).
    DuplicateNik,
    /// A conflict resolution's `ctx` does not cover the record as it stands: it changed
    /// since the read. Nothing was written.
    StaleContext,
    /// A conflict resolution for a record that holds no conflict (any more).
    NotConflicted,
    // 413
    /// The body is over the limit.
    PayloadTooLarge,
    /// More operations in one push than the limit.
    BatchTooLarge,
    // 415
    /// No `Content-Type: application/json` (`text/csv` for an import).
    UnsupportedMediaType,
    // 422
    /// A file of assignments has rows that cannot be applied: nothing of it was written.
    ImportRefused,
    /// An administrator's edit was rejected by the merge, with a push's reject code.
    EditRejected,
    // 429
    /// Too many failed sign-ins.
    TooManyAttempts,
    /// Too many requests of one device or user at once.
    TooManyRequests,
    // 500, 503
    /// A bug or corrupt data.
    InternalError,
    /// The database is unreachable or stayed busy.
    DatabaseUnavailable,
    /// Every password check is taken: sign-in load is held apart from sync.
    SignInBusy,
}

impl ErrorCode {
    /// The wire code.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The one HTTP status this code is answered with.
    pub fn status(self) -> StatusCode {
        use ErrorCode as C;
        match self {
            C::MalformedJson
            | C::InvalidRequest
            | C::UnreadableBody
            | C::InvalidQuery
            | C::InvalidSeq
            | C::InvalidCursor
            | C::WeakPassword
            | C::InvalidUsername
            | C::InvalidDisplayName
            | C::AgencyRequired
            | C::UnknownAgency
            | C::InvalidAgency
            | C::CannotDeactivateSelf
            | C::InvalidReason
            | C::InvalidArea
            | C::UnknownArea
            | C::NotAnOfficer
            | C::InvalidIdentityNumber
            | C::InvalidResolution => StatusCode::BAD_REQUEST,
            C::InvalidCredentials
            | C::MissingToken
            | C::InvalidToken
            | C::TokenExpired
            | C::InvalidRefreshToken
            | C::RefreshTokenRevoked
            | C::RefreshTokenReused
            | C::RefreshTokenExpired => StatusCode::UNAUTHORIZED,
            C::WrongCurrentPassword
            | C::UserDeactivated
            | C::DeviceRevoked
            | C::DeviceRegisteredToAnotherUser
            | C::DeviceNotRegistered
            | C::DeviceMismatch
            | C::ForbiddenRole
            | C::OtherAgency
            | C::PasswordChangeRequired => StatusCode::FORBIDDEN,
            C::NotFound
            | C::UserNotFound
            | C::DeviceNotFound
            | C::HouseholdNotFound
            | C::AssignmentNotFound
            | C::RecordNotFound => StatusCode::NOT_FOUND,
            C::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            C::UsernameTaken
            | C::AgencyExists
            | C::AreaExists
            | C::ResyncRequired
            | C::DuplicateKk
            | C::DuplicateNik
            | C::StaleContext
            | C::NotConflicted => StatusCode::CONFLICT,
            C::ImportRefused | C::EditRejected => StatusCode::UNPROCESSABLE_ENTITY,
            C::PayloadTooLarge | C::BatchTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            C::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            C::TooManyAttempts | C::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            C::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            C::DatabaseUnavailable | C::SignInBusy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}
