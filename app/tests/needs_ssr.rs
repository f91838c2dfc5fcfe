//! `cargo test -p app` without `--features app/ssr` builds the browser side only, where the
//! database tests do not exist; this says so in the test run instead of running nothing
//! silently.

#[cfg(not(feature = "ssr"))]
#[test]
#[ignore = "the database and server tests need `--features app/ssr` (see CONTRIBUTING.md)"]
fn database_tests_need_the_ssr_feature() {}
