//! `kubectl-ecs`: the kubectl plugin of ecs-operator (`kubectl ecs get|status|promote|abort|
//! retry|rollback|diff|verify`). Everything lives in `ecs_operator::plugin`; this only parses and exits.

use clap::Parser;
use ecs_operator::plugin::{Cli, run};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let code = run(cli).await;
    std::process::exit(code);
}
