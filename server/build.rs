//! `embed_migrations!` reads `../migrations` at compile time, but a proc macro cannot tell
//! cargo which files it read: without this, a change to the SQL alone would leave the old
//! migrations in the binary (see the `embed_migrations!` docs, "Automatic rebuilds").
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
