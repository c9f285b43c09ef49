//! Identifier newtypes. All ids travel as lowercase hyphenated UUID strings.

/// Declares a UUID newtype that travels as a lowercase hyphenated string: `Display`,
/// `FromStr`, serde as the bare string. Exported so the server's ids follow the same rules.
#[macro_export]
macro_rules! uuid_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
            ::serde::Serialize, ::serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub ::uuid::Uuid);

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ::uuid::Uuid::parse_str(s).map($name)
            }
        }
    };
}

uuid_newtype!(
    /// A device installation id: made on first launch, made anew after a wipe or reinstall.
    /// It is the device's actor name in every clock, so it must never be reused.
    DeviceId
);
uuid_newtype!(
    /// A record id, generated on the device (UUID v7 recommended).
    RecordId
);
uuid_newtype!(
    /// The database epoch: changes whenever the database is restored, so that clocks and
    /// cursors from before the restore are never mistaken for current ones.
    Epoch
);

/// Schemas of the ids for the server's OpenAPI document: a UUID string, as serde writes it.
#[cfg(feature = "openapi")]
mod schemas {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};

    /// A UUID string: lowercase, hyphenated.
    pub fn uuid_string(description: &str) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uuid".into())))
            .description(Some(description))
            .into()
    }

    macro_rules! uuid_schema {
        ($($name:ident: $doc:literal),* $(,)?) => {$(
            impl utoipa::PartialSchema for super::$name {
                fn schema() -> RefOr<Schema> {
                    uuid_string($doc)
                }
            }
            impl utoipa::ToSchema for super::$name {}
        )*};
    }

    uuid_schema!(
        DeviceId: "A device installation id (UUID).",
        RecordId: "A record id, made on the device (UUID).",
        Epoch: "The database epoch (UUID).",
    );
}

#[cfg(feature = "openapi")]
pub use schemas::uuid_string;
