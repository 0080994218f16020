//! A mock Stack Overflow site on wiremock, serving the project's fixtures, for tests, demo and benches.
