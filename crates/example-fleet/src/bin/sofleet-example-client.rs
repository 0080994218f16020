//! Runs the example job on the backend `SOFLEET_BACKEND` names (`threads` when unset):
//! `threads:4`, `tokio` or `redis://HOST:6379`; the code does not change.

use sofleet::Client;
use sofleet_example_fleet::run_job;

fn main() {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start a tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    let outcome = rt.block_on(async {
        let client = Client::from_env().await.map_err(|e| e.to_string())?;
        eprintln!("backend: {}", client.backend_name());
        run_job(&client).await.map_err(|e| e.to_string())
    });
    match outcome {
        Ok(report) => println!(
            "words={} sum_of_squares={} flaky_attempt={}",
            report.words, report.sum_of_squares, report.flaky_attempt
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
