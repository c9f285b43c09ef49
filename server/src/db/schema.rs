//! The one portable schema: only types both backends share through `MultiConnection`.
//! UUIDs and JSON are `Text`; times are `BigInt` milliseconds.

diesel::table! {
    sync_meta (id) {
        id -> Integer,
        epoch -> Text,
        change_seq -> BigInt,
    }
}

diesel::table! {
    records (id) {
        id -> Text,
        collection -> Text,
        scope_key -> Text,
        version -> BigInt,
        deleted -> Bool,
        conflicted -> Bool,
        fields -> Text,
        change_xid -> BigInt,
        change_seq -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    record_values (record_id, register, dot) {
        record_id -> Text,
        register -> Text,
        dot -> BigInt,
        origin_device -> Text,
        origin_seq -> BigInt,
        hlc_ms -> BigInt,
        hlc_counter -> BigInt,
        order_ms -> BigInt,
        order_counter -> BigInt,
        clock_skew -> Bool,
        value -> Text,
    }
}

diesel::table! {
    devices (id) {
        id -> Text,
        user_id -> Text,
        last_seq -> BigInt,
        revoked -> Bool,
        seq_reuse_count -> BigInt,
        created_at -> BigInt,
        last_push_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    applied_ops (device_id, seq) {
        device_id -> Text,
        seq -> BigInt,
        fingerprint -> Text,
        record_id -> Nullable<Text>,
        status -> Text,
        result -> Text,
        applied_at -> BigInt,
    }
}

diesel::joinable!(record_values -> records (record_id));
diesel::allow_tables_to_appear_in_same_query!(
    sync_meta,
    records,
    record_values,
    devices,
    applied_ops
);
