//! The `credstore` command: a thin shell over the library. Flags are parsed in `cli::args`,
//! each command lives in its own module, and `main` turns the outcome into an exit code.

mod cli;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::run());
}
