//! The `ppl` command line: a thin shell over the library (see `ppl::cli`).

use clap::Parser as _;

/// Reading a batch allocates for every value of every claim, on every core:
/// mimalloc's per-thread heaps make that markedly cheaper than the system
/// allocator (see docs/performance.md, "Batches").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = ppl::cli::Cli::parse();
    ppl::cli::run(cli)
}
