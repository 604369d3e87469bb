//! The `complaint-monitor` binary: parses the command line and runs the
//! command (`src/cli/`, one file per subcommand), over the library.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.log_format());
    match cli.run() {
        Ok(code) => code,
        // The reader went away (`export | head`, `mentions | less`): done.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<complaint_monitor::export::ExportError>()
                .is_some_and(|e| e.is_broken_pipe())
    })
}

/// Logs go to standard error: as text, coloured only on a terminal (colour
/// codes in a log file are noise), or as one JSON object per line for a log
/// collector (`--log-format json`).
fn init_logging(format: cli::LogFormat) {
    use std::io::IsTerminal;
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "complaint_monitor=info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match format {
        cli::LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .without_time()
            .init(),
        cli::LogFormat::Json => builder.json().with_current_span(false).init(),
    }
}
