//! Identifier newtypes of the server's own tables, spelled as the protocol's ids are.

sync_protocol::uuid_newtype!(
    /// A user account.
    UserId
);
sync_protocol::uuid_newtype!(
    /// An agency: an officer's workplace.
    AgencyId
);

pub use sync_protocol::DeviceId;

impl UserId {
    /// A new id, ordered by creation time.
    pub fn generate() -> UserId {
        UserId(uuid::Uuid::now_v7())
    }
}

impl AgencyId {
    /// A new id, ordered by creation time.
    pub fn generate() -> AgencyId {
        AgencyId(uuid::Uuid::now_v7())
    }
}

impl utoipa::PartialSchema for UserId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        sync_protocol::ids::uuid_string("A user id (UUID).")
    }
}
impl utoipa::ToSchema for UserId {}

impl utoipa::PartialSchema for AgencyId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        sync_protocol::ids::uuid_string("An agency id (UUID).")
    }
}
impl utoipa::ToSchema for AgencyId {}
