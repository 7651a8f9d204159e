//! The `ppl` command line: a thin shell over the library (see `ppl::cli`).

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    let cli = ppl::cli::Cli::parse();
    ppl::cli::run(cli)
}
