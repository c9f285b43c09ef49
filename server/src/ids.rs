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
