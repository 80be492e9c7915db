//! Everything that crosses the IPC boundary, one module per domain: the requests and
//! answers of the window's commands, the payloads of the app's events, and the errors as
//! the window receives them (`{ code, message }`). The table of commands (`bindings`)
//! generates their TypeScript into `ui/src/lib/bindings.ts`; the UI never guesses a shape.
//!
//! These types depend on nothing else of the app's: the commands use them, and the
//! table names both.

mod contacts;
mod conversations;
mod desktop;
mod errors;
mod events;
mod media;
mod outreach;
mod reports;
mod settings;
mod setup;
mod team;

pub use contacts::*;
pub use conversations::*;
pub use desktop::*;
pub use errors::*;
pub use events::*;
pub use media::*;
pub use outreach::*;
pub use reports::*;
pub use settings::*;
pub use setup::*;
pub use team::*;
