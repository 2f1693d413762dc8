//! Ctrl-C (SIGINT) and SIGTERM for the commands that must remove their namespaces before
//! they exit (`run`, `growth`, `footprint`).
//!
//! Ctrl-C goes through the `ctrlc` crate because goose installs a `ctrlc` handler of its own
//! at the start of every attack, replacing whatever handled SIGINT before (a tokio signal
//! listener included), and then ends only that attack. `ctrlc` accepts one handler per
//! process: installed here first, it is ours, and goose's attempt fails harmlessly (goose
//! logs it and carries on).

use std::io;
use std::sync::OnceLock;

use tokio::sync::watch;

/// Ctrl-C presses so far, for every listener in the process.
static CTRL_C: OnceLock<watch::Sender<u64>> = OnceLock::new();

/// A listener for Ctrl-C and SIGTERM.
pub struct Interrupt {
    ctrl_c: watch::Receiver<u64>,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Interrupt {
    /// Starts listening now (inside a tokio runtime). Make it before the first load attack:
    /// if goose got there first, Ctrl-C only ends the attack under way.
    pub fn listen() -> io::Result<Self> {
        let mut installed = Ok(());
        let sender = CTRL_C.get_or_init(|| {
            let (sender, _) = watch::channel(0);
            let notify = sender.clone();
            installed = ctrlc::set_handler(move || {
                // Nobody is listening any more (the command is past its cleanup): Ctrl-C ends
                // the process, as it would without a handler.
                if notify.receiver_count() == 0 {
                    std::process::exit(130);
                }
                notify.send_modify(|n| *n += 1);
            });
            sender
        });
        match installed {
            Ok(()) | Err(ctrlc::Error::MultipleHandlers) => {}
            Err(e) => return Err(io::Error::other(e)),
        }
        let mut ctrl_c = sender.subscribe();
        ctrl_c.mark_unchanged();
        Ok(Self {
            ctrl_c,
            #[cfg(unix)]
            terminate: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?,
        })
    }

    /// Completes at the next Ctrl-C or SIGTERM.
    pub async fn recv(&mut self) {
        let ctrl_c = async {
            if self.ctrl_c.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        tokio::select! {
            () = ctrl_c => {},
            _ = self.terminate.recv() => {},
        }
        #[cfg(not(unix))]
        ctrl_c.await;
    }
}
