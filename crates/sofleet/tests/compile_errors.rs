//! What a `#[sofleet::task]` user meets: tasks that compile and run (`tests/ui/pass`), and the
//! compile errors of functions the attribute refuses, each at the user's token (`tests/ui/fail`,
//! with the expected messages in the `.stderr` files; `TRYBUILD=overwrite` rewrites them).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
