//! For tests: decodes counted, and held at their start.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use super::{Shared, Uploads};

/// Decodes as the relay counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decodes {
    /// Running now.
    pub running: usize,
    /// Uploads waiting for one.
    pub waiting: usize,
    /// The most that ever ran at once.
    pub most_at_once: usize,
    /// How many ever began.
    pub started: usize,
}

#[derive(Debug, Default)]
pub(super) struct Gate {
    held: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    /// Waits while the gate is held (on a blocking thread).
    pub(super) fn pass(&self) {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        drop(
            self.opened
                .wait_while(held, |held| *held)
                .unwrap_or_else(PoisonError::into_inner),
        );
    }

    fn set(&self, held: bool) {
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = held;
        self.opened.notify_all();
    }
}

/// Decodes wait at their start until this is dropped.
#[derive(Debug)]
pub struct HeldDecodes(Arc<Shared>);

impl Drop for HeldDecodes {
    fn drop(&mut self) {
        self.0.gate.set(false);
    }
}

impl Uploads {
    pub fn decodes(&self) -> Decodes {
        let shared = &self.shared;
        Decodes {
            running: shared.decoding.load(Ordering::SeqCst),
            waiting: shared.waiting.load(Ordering::SeqCst),
            most_at_once: shared.most_decoding.load(Ordering::SeqCst),
            started: shared.started.load(Ordering::SeqCst),
        }
    }

    /// Holds every decode at its start (counted as running) until the guard drops.
    pub fn hold_decodes(&self) -> HeldDecodes {
        self.shared.gate.set(true);
        HeldDecodes(self.shared.clone())
    }
}
