//! The clap command, with what the derive in `args.rs` does not say: an environment variable
//! for every flag, and the exit codes in `--help`.

use clap::builder::FalseyValueParser;
use clap::{Arg, ArgAction, Command, CommandFactory};

use crate::args::Cli;

/// What every exit code means; shown in the `--help` of each command that exits with them.
pub const EXIT_CODES: &str = "Exit codes:
  0  success
  1  an error in the input or the environment (unreadable file, unwritable output)
  2  usage error (bad arguments)
  3  network failure (site or Redis unreachable, no worker within --worker-timeout)
  4  partial result (some pages failed and were recorded as failure rows)";

/// The prefix of the environment variables of a subcommand's flags: the crawling commands
/// share theirs (`SOFLEET_RATE` is the rate of `crawl` and `titles`), and `status` and
/// `dashboard` take it (`SOFLEET_REDIS`); a worker's and the mock site's are their own, so a crawl's settings
/// never change a worker's policy.
fn env_prefix(subcommand: &str) -> Option<&'static str> {
    match subcommand {
        "crawl" | "titles" | "report" | "extract" | "fetch" | "status" | "dashboard" => {
            Some("SOFLEET_")
        }
        "worker" => Some("SOFLEET_WORKER_"),
        "mock-site" => Some("SOFLEET_MOCK_SITE_"),
        _ => None,
    }
}

/// The environment variable of a flag: the prefix and the long name in upper snake case
/// (`--base-url` → `SOFLEET_BASE_URL`).
fn env_name(prefix: &str, long: &str) -> String {
    format!("{prefix}{}", long.replace('-', "_").to_ascii_uppercase())
}

/// Gives every flag with a long name (not `--help`, `--version` or the `-v` counter) its
/// environment variable. Values are never shown in `--help` (a Redis URL may hold a
/// password); switches accept `1`/`true`/`yes`/`on` (and `0`/`false`/`no`/`off`).
fn with_env(command: Command, prefix: &'static str) -> Command {
    command.mut_args(|arg: Arg| {
        let Some(long) = arg.get_long() else {
            return arg;
        };
        match arg.get_action() {
            ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version => {
                arg
            }
            ArgAction::Count => arg,
            ArgAction::SetTrue => {
                let name = env_name(prefix, long);
                arg.env(name)
                    .value_parser(FalseyValueParser::new())
                    .hide_env_values(true)
            }
            _ => {
                let name = env_name(prefix, long);
                arg.env(name).hide_env_values(true)
            }
        }
    })
}

/// Appends the exit codes to a command's `--help` (after its examples).
fn with_exit_codes(command: Command) -> Command {
    let after = match command.get_after_help() {
        Some(examples) => format!("{examples}\n\n{EXIT_CODES}"),
        None => EXIT_CODES.to_owned(),
    };
    command.after_help(after)
}

/// The full `sofleet` command: the derived one plus environment variables and exit codes.
pub fn command() -> Command {
    let mut command = with_exit_codes(Cli::command());
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        let Some(prefix) = env_prefix(&name) else {
            continue;
        };
        command = command.mut_subcommand(&name, |sub| {
            let sub = with_env(sub, prefix);
            if name == "mock-site" {
                sub
            } else {
                with_exit_codes(sub)
            }
        });
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn every_flag_of_a_crawling_command_has_its_variable() {
        let command = command();
        let crawl = command.find_subcommand("crawl").unwrap();
        let rate = crawl
            .get_arguments()
            .find(|a| a.get_id() == "rate")
            .unwrap();
        assert_eq!(rate.get_env().unwrap(), "SOFLEET_RATE");
        let base = crawl
            .get_arguments()
            .find(|a| a.get_id() == "base_url")
            .unwrap();
        assert_eq!(base.get_env().unwrap(), "SOFLEET_BASE_URL");
        let worker = command.find_subcommand("worker").unwrap();
        let redis = worker
            .get_arguments()
            .find(|a| a.get_id() == "redis")
            .unwrap();
        assert_eq!(redis.get_env().unwrap(), "SOFLEET_WORKER_REDIS");
        let without: Vec<_> = command
            .get_subcommands()
            .filter(|s| env_prefix(s.get_name()).is_some())
            .flat_map(|s| s.get_arguments().map(move |a| (s.get_name(), a)))
            .filter(|(_, a)| {
                a.get_long().is_some_and(|l| l != "help" && l != "verbose") && a.get_env().is_none()
            })
            .map(|(s, a)| format!("{s} --{}", a.get_long().unwrap()))
            .collect();
        assert!(without.is_empty(), "flags without a variable: {without:?}");
    }
}
