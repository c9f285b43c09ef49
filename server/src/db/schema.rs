//! The one portable schema: only types both backends share through `MultiConnection`.
//! UUIDs and JSON are `Text`; times are `BigInt` milliseconds.

diesel::table! {
    sync_meta (id) {
        id -> Integer,
        epoch -> Text,
        change_seq -> BigInt,
        cluster_identity -> Nullable<Text>,
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
        change_xid -> BigInt,
        change_seq -> BigInt,
        updated_at -> BigInt,
        state -> Text,
        view -> Nullable<Text>,
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
        revoked_at -> Nullable<BigInt>,
        revoked_reason -> Nullable<Text>,
        kind -> Text,
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

diesel::table! {
    agencies (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        agency_id -> Nullable<Text>,
        active -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        must_change_password -> Bool,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        device_id -> Text,
        user_id -> Text,
        secret_hash -> Text,
        issued_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    login_attempts (key) {
        key -> Text,
        failures -> BigInt,
        window_start -> BigInt,
        locked_until -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> BigInt,
        actor_user_id -> Nullable<Text>,
        actor_username -> Nullable<Text>,
        action -> Text,
        target -> Nullable<Text>,
        detail -> Text,
        remote_addr -> Nullable<Text>,
        success -> Bool,
    }
}

diesel::table! {
    areas (code) {
        code -> Text,
        parent_code -> Nullable<Text>,
        level -> Text,
        name -> Text,
        source -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    assignments (id) {
        id -> Text,
        household_id -> Text,
        officer_id -> Text,
        agency_id -> Nullable<Text>,
        starts_at -> BigInt,
        ends_at -> Nullable<BigInt>,
        reason -> Text,
        end_reason -> Nullable<Text>,
        assigned_by -> Nullable<Text>,
        ended_by -> Nullable<Text>,
    }
}

diesel::table! {
    removals (user_id, change_xid, change_seq) {
        user_id -> Text,
        record_id -> Text,
        collection -> Text,
        change_xid -> BigInt,
        change_seq -> BigInt,
    }
}

diesel::table! {
    held_writes (device_id, seq) {
        device_id -> Text,
        seq -> BigInt,
        user_id -> Text,
        record_id -> Text,
        household_id -> Nullable<Text>,
        operation -> Text,
        held_at -> BigInt,
    }
}

diesel::table! {
    q_households (id) {
        id -> Text,
        registry_id -> Nullable<Text>,
        registry_source -> Nullable<Text>,
        head_name -> Nullable<Text>,
        desa_code -> Nullable<Text>,
        kecamatan_code -> Nullable<Text>,
        welfare_decile -> Nullable<BigInt>,
        home_lat -> Nullable<Double>,
        home_lon -> Nullable<Double>,
        status -> Nullable<Text>,
        deleted -> Bool,
        conflicted -> Bool,
        last_completed_visit_at -> Nullable<Text>,
        visit_count -> BigInt,
        aid_count -> BigInt,
        aid_value_rupiah -> BigInt,
    }
}

diesel::table! {
    q_visits (id) {
        id -> Text,
        household_id -> Text,
        visited_at -> Nullable<Text>,
        outcome -> Nullable<Text>,
        kesehatan_score -> Nullable<BigInt>,
        pendidikan_score -> Nullable<BigInt>,
        pangan_score -> Nullable<BigInt>,
        papan_score -> Nullable<BigInt>,
        ekonomi_score -> Nullable<BigInt>,
        gps_lat -> Nullable<Double>,
        gps_lon -> Nullable<Double>,
        gps_accuracy_m -> Nullable<Double>,
        gps_mock -> Nullable<Bool>,
        next_visit_due -> Nullable<Text>,
        amends -> Nullable<Text>,
        deleted -> Bool,
        conflicted -> Bool,
        device_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        agency_id -> Nullable<Text>,
        visited_at_utc -> Nullable<Text>,
        distance_m -> Nullable<Double>,
        review_state -> Nullable<Text>,
        review_comment -> Nullable<Text>,
        reviewed_at -> Nullable<Text>,
        reviewed_by -> Nullable<Text>,
        kecamatan_code -> Nullable<Text>,
        desa_code -> Nullable<Text>,
    }
}

diesel::table! {
    q_aid (id) {
        id -> Text,
        household_id -> Text,
        given_at -> Nullable<Text>,
        kind -> Nullable<Text>,
        quantity -> Nullable<Double>,
        unit -> Nullable<Text>,
        value_rupiah -> Nullable<BigInt>,
        source -> Nullable<Text>,
        voided -> Bool,
        conflicted -> Bool,
        device_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        agency_id -> Nullable<Text>,
        given_at_utc -> Nullable<Text>,
        kecamatan_code -> Nullable<Text>,
        desa_code -> Nullable<Text>,
    }
}

diesel::table! {
    household_identity (household_id) {
        household_id -> Text,
        kk_cipher -> Nullable<Text>,
        kk_index -> Nullable<Text>,
        nik_cipher -> Nullable<Text>,
        nik_index -> Nullable<Text>,
        key_id -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    record_writes (record_id, version, device_id, seq) {
        record_id -> Text,
        version -> BigInt,
        collection -> Text,
        device_id -> Text,
        seq -> BigInt,
        user_id -> Text,
        applied_at -> BigInt,
        hlc -> Text,
        kind -> Text,
        ctx -> Text,
        fields -> Nullable<Text>,
        status -> Text,
    }
}

diesel::joinable!(devices -> users (user_id));
diesel::joinable!(users -> agencies (agency_id));
diesel::allow_tables_to_appear_in_same_query!(
    sync_meta,
    records,
    devices,
    applied_ops,
    agencies,
    users,
    refresh_tokens,
    login_attempts,
    audit_log,
    areas,
    assignments,
    removals,
    held_writes,
    q_households,
    q_visits,
    q_aid,
    household_identity,
    record_writes
);
