//! Structured logs with `tracing`. The level comes from `RUST_LOG` (default `info`).
//! Logs never carry secrets, personal identity numbers or clinical text: only ids and codes.

use crate::cli::LogFormat;
use tracing_subscriber::EnvFilter;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm_migration=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second initialisation (in tests) is harmless: the first subscriber stays.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// leptos_i18n starts an effect for every rendered page that may run only after the request's
/// reactive owner is gone, and then panics on the disposed locale signal (a spawned task that
/// dies alone: no response is affected). Panics on a disposed reactive value — raised inside
/// `reactive_graph`, where that effect's read ends up — are logged at debug level instead of
/// printing a backtrace for every one; every other panic is reported as before.
pub fn contain_known_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        let in_reactive_graph = info
            .location()
            .is_some_and(|l| l.file().contains("reactive_graph"));
        if in_reactive_graph && message.contains("already been disposed") {
            tracing::debug!("leptos_i18n's locale effect ran after its page was done");
            return;
        }
        default(info);
    }));
}
