//! The HTTP flags every fetching command shares (`crawl`, `titles`): who the crawler says it
//! is, how long a request may take and how large a page may be.

use std::time::Duration;

use clap::Args;
use sofleet_crawl::CrawlConfig;

use crate::args::parse_request_timeout;

/// `--user-agent`, `--timeout`, `--max-body`.
#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// The User-Agent header: name your crawler and how to reach you, e.g.
    /// `research-bot/1.0 (+mailto:you@example.org)`. robots.txt rules are matched against its
    /// first word. Default: sofleet's own, naming its repository.
    #[arg(long, value_parser = parse_user_agent)]
    pub user_agent: Option<String>,
    /// Longest time for one request, body included: `30s`, `2min` (1ms to 1h).
    #[arg(long, default_value = "30s", value_parser = parse_request_timeout)]
    pub timeout: Duration,
    /// Largest response body read: `8MiB`, `512KiB` (1 KiB to 1 GiB); a larger page is a
    /// `too_large` failure row.
    #[arg(long, default_value = "8MiB", value_parser = parse_size)]
    pub max_body: u64,
}

impl HttpArgs {
    /// Sets these flags on `config`; the connect timeout never exceeds the request timeout.
    pub fn apply(&self, config: &mut CrawlConfig) {
        if let Some(agent) = &self.user_agent {
            config.user_agent = agent.clone();
        }
        config.timeout = crate::cmd::whole_millis(self.timeout);
        config.connect_timeout = config.connect_timeout.min(config.timeout);
        config.max_body_bytes = self.max_body;
    }
}

/// A User-Agent: 1 to 256 printable ASCII characters, starting with a product name.
pub fn parse_user_agent(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() || text.len() > 256 {
        return Err(
            "write 1 to 256 characters, e.g. `research-bot/1.0 (+mailto:you@example.org)`"
                .to_owned(),
        );
    }
    if let Some(bad) = text.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(format!(
            "{bad:?} cannot go in an HTTP header: use printable ASCII, e.g. `research-bot/1.0 (+mailto:you@example.org)`"
        ));
    }
    if text.starts_with(['/', ' ', '(']) {
        return Err(
            "start with the crawler's name, e.g. `research-bot/1.0 (+mailto:you@example.org)`"
                .to_owned(),
        );
    }
    Ok(text.to_owned())
}

/// A size: a whole number with `B`, `KiB`, `MiB` or `GiB` (or `KB`, `MB`, `GB`, read as
/// powers of 1024 too), between 1 KiB and 1 GiB.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
    let (number, unit) = trimmed.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write e.g. `8MiB` or `512KiB`"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "`{other}` is not a size unit; write e.g. `8MiB` or `512KiB`"
            ));
        }
    };
    let bytes = number.saturating_mul(scale);
    if !(1 << 10..=1 << 30).contains(&bytes) {
        return Err(format!(
            "`{text}` is outside 1KiB..=1GiB; write e.g. `8MiB`"
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("512 KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1gb"), Ok(1 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("2GiB").unwrap_err().contains("outside"));
        assert!(
            parse_size("12 parsecs")
                .unwrap_err()
                .contains("not a size unit")
        );
        assert!(parse_size("MiB").unwrap_err().contains("not a size"));
    }

    #[test]
    fn user_agents() {
        assert_eq!(
            parse_user_agent(" bot/1 (+mailto:a@b.org) ").as_deref(),
            Ok("bot/1 (+mailto:a@b.org)")
        );
        assert!(
            parse_user_agent("bot\n1")
                .unwrap_err()
                .contains("HTTP header")
        );
        assert!(parse_user_agent("").is_err());
        assert!(
            parse_user_agent("(me)")
                .unwrap_err()
                .contains("crawler's name")
        );
    }
}
