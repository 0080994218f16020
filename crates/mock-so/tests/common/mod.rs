//! Helpers shared by the mock site's test files.

use sofleet_mock_so::{MockSite, MockSiteConfig, MockSiteError};

/// Asserts that every configuration is refused with `InvalidConfig` naming its field.
pub async fn assert_each_refused(cases: impl IntoIterator<Item = (MockSiteConfig, &'static str)>) {
    for (config, field) in cases {
        match MockSite::try_start(config).await {
            Err(MockSiteError::InvalidConfig { field: f, problem }) => {
                assert_eq!(f, field, "{problem}");
                assert!(!problem.is_empty());
            }
            Err(other) => panic!("{field}: unexpected error {other}"),
            Ok(_) => panic!("{field}: accepted"),
        }
    }
}
