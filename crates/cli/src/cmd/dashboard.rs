//! `sofleet dashboard --redis URL`: a live dashboard of a Redis fleet, from Redis alone (every
//! worker's heartbeat, the job stream's queue), served until Ctrl-C or SIGTERM.

use std::sync::Arc;

use sofleet_dashboard::Dashboard;
use sofleet_redis::{FleetReader, RedisOptions};

use crate::args::FleetDashboardArgs;
use crate::cmd::crawl::Signals;
use crate::cmd::runtime;
use crate::dashboard::{FleetWorkers, start};
use crate::exit::{CmdResult, Failure};

/// Serves the fleet's dashboard until a stop signal.
pub fn run(args: FleetDashboardArgs) -> CmdResult {
    let mut opts = RedisOptions::default();
    opts.connect_timeout = args.connect_timeout;
    let rt = runtime()?;
    rt.block_on(async {
        let reader = FleetReader::connect(&args.redis, &opts)
            .await
            .map_err(|e| super::status::failure(e, &args.redis))?;
        let title = format!("sofleet fleet at {}", reader.url());
        let dashboard = Dashboard::new(title).worker_source(Arc::new(FleetWorkers::new(reader)));
        let handle = start(dashboard, args.addr, args.access.dashboard_token.clone()).await?;
        let mut signals = Signals::new()
            .map_err(|e| Failure::Input(anyhow::anyhow!("cannot listen for stop signals: {e}")))?;
        let signal = signals.next().await;
        eprintln!("stopping the dashboard ({signal})");
        handle.shutdown().await;
        Ok(())
    })
}
