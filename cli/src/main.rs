//! The `tensorgrad` binary: parses the command line and hands it to
//! [`tensorgrad_cli::run`].

use std::io::{ErrorKind, Write};
use std::process::ExitCode;

use clap::Parser;
use tensorgrad_cli::args::Cli;
use tensorgrad_cli::errors::EXIT_INTERNAL;

fn main() -> ExitCode {
    // clap prints its own usage errors and exits with code 2.
    let cli = Cli::parse();
    match tensorgrad_cli::run(cli) {
        Ok(out) => {
            eprint!("{}", out.stderr);
            match std::io::stdout().lock().write_all(out.stdout.as_bytes()) {
                // A reader that stopped early (`| head`) is not a failure.
                Err(e) if e.kind() != ErrorKind::BrokenPipe => {
                    eprintln!("error: cannot write the output: {e}");
                    ExitCode::from(EXIT_INTERNAL)
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::from(err.exit_code())
        }
    }
}
