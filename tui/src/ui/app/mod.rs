//! The terminal UI's state and every change to it. [`App::handle`] applies a user action and
//! [`App::apply`] a report from a background worker; both return the [`Command`]s the runtime
//! must carry out (searches, answers, library reads and writes, opening a file). Nothing here
//! touches the terminal, the library or the network, so each transition is tested on its own.
//!
//! By role: [`state`] (the state types and what the view asks of them), [`msg`] (actions,
//! reports and commands), [`update`] (the transitions).

mod msg;
mod state;
mod update;

pub use self::msg::*;
pub use self::state::*;
pub use self::update::NO_FEEDS;

#[cfg(test)]
pub(crate) mod tests;
