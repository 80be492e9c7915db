//! The window's lock: after a while unused, the window hides patients' data until the
//! operator gives this desk's PIN. The PIN is kept only as an Argon2id hash, in `lock.json`
//! in the desk's data directory (readable by its user alone). Wrong PINs in a row make the
//! next try wait, longer each time, and the count outlives a restart of the app.

use std::path::{Path, PathBuf};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use serde::{Deserialize, Serialize};
use tsunagi_proto::UnixMillis;

use crate::{Error, Result};

/// How many digits a PIN has.
pub const PIN_DIGITS: std::ops::RangeInclusive<usize> = 4..=12;
/// Wrong PINs allowed in a row before a try must wait.
pub const FREE_TRIES: u32 = 5;
/// The first wait after [`FREE_TRIES`] wrong PINs; each wrong PIN after doubles it.
const FIRST_WAIT_MS: i64 = 30_000;
const LONGEST_WAIT_MS: i64 = 15 * 60_000;

const FILE: &str = "lock.json";

/// What `lock.json` keeps.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Kept {
    /// The PIN's Argon2id hash (PHC string).
    pin: Option<String>,
    /// Wrong PINs since the last right one.
    failures: u32,
    /// No try is taken before this (ms).
    wait_until: Option<i64>,
}

/// Where the lock stands, for the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LockState {
    /// This desk has a PIN (else the window asks for one before it can lock).
    pub pin_set: bool,
    /// Wrong PINs may still be tried this many times before a try must wait.
    pub tries_left: u32,
    /// The next try waits until then (ms).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub wait_until: Option<i64>,
}

/// What a PIN given to open the lock did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Opened {
    Opened,
    /// Not this desk's PIN.
    Wrong(LockState),
    /// Not tried: too many wrong PINs; the next try waits.
    Waiting(LockState),
}

/// This desk's lock, kept in its data directory.
#[derive(Debug, Clone)]
pub struct ScreenLock {
    path: PathBuf,
}

impl ScreenLock {
    pub fn new(data_dir: &Path) -> Self {
        ScreenLock {
            path: data_dir.join(FILE),
        }
    }

    pub fn state(&self, now: UnixMillis) -> Result<LockState> {
        Ok(state(&self.read()?, now))
    }

    /// Sets this desk's PIN (4 to 12 digits), the first time; the count of wrong tries
    /// starts again. A desk that has a PIN keeps it: nobody who finds the window can
    /// choose another.
    pub fn set_pin(&self, pin: &str) -> Result<()> {
        if self.read()?.pin.is_some() {
            return Err(Error::Invalid("this desk has a PIN already".into()));
        }
        if !PIN_DIGITS.contains(&pin.chars().count()) || !pin.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::Invalid(format!(
                "a PIN is {} to {} digits",
                PIN_DIGITS.start(),
                PIN_DIGITS.end()
            )));
        }
        let hash = Argon2::default()
            .hash_password(pin.as_bytes())
            .map_err(|error| Error::encoding("the PIN's hash", error))?;
        self.write(&Kept {
            pin: Some(hash.to_string()),
            failures: 0,
            wait_until: None,
        })
    }

    /// Opens the lock with `pin`, unless wrong PINs before it make this try wait.
    pub fn open(&self, pin: &str, now: UnixMillis) -> Result<Opened> {
        let mut kept = self.read()?;
        let Some(hash) = kept.pin.as_deref() else {
            // No PIN to give: the lock never closed.
            return Ok(Opened::Opened);
        };
        if kept.wait_until.is_some_and(|until| now.0 < until) {
            return Ok(Opened::Waiting(state(&kept, now)));
        }
        if Argon2::default()
            .verify_password(pin.as_bytes(), hash)
            .is_ok()
        {
            if kept.failures > 0 || kept.wait_until.is_some() {
                kept.failures = 0;
                kept.wait_until = None;
                self.write(&kept)?;
            }
            return Ok(Opened::Opened);
        }
        kept.failures += 1;
        if kept.failures >= FREE_TRIES {
            let doublings = (kept.failures - FREE_TRIES).min(10);
            let wait = (FIRST_WAIT_MS << doublings).min(LONGEST_WAIT_MS);
            kept.wait_until = Some(now.0 + wait);
        }
        self.write(&kept)?;
        Ok(Opened::Wrong(state(&kept, now)))
    }

    fn read(&self) -> Result<Kept> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|error| Error::unreadable(format!("{}: {error}", self.path.display()))),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Kept::default()),
            Err(error) => Err(Error::file("reading the screen lock", error)),
        }
    }

    /// Writes `lock.json` whole or not at all: beside it, then renamed over it, so a
    /// crash half way never leaves a lock that cannot be read (and so cannot be opened).
    fn write(&self, kept: &Kept) -> Result<()> {
        let bytes =
            serde_json::to_vec(kept).map_err(|error| Error::encoding("the screen lock", error))?;
        let io = |error| Error::file("keeping the screen lock", error);
        let partial = self.path.with_extension("json.partial");
        crate::private::write(&partial, &bytes).map_err(io)?;
        std::fs::rename(&partial, &self.path).map_err(io)
    }
}

fn state(kept: &Kept, now: UnixMillis) -> LockState {
    let wait_until = kept.wait_until.filter(|until| now.0 < *until);
    LockState {
        pin_set: kept.pin.is_some(),
        tries_left: if wait_until.is_some() {
            0
        } else {
            FREE_TRIES.saturating_sub(kept.failures).max(1)
        },
        wait_until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> UnixMillis {
        UnixMillis(1_800_000_000_000 + seconds * 1000)
    }

    #[test]
    fn the_pin_opens_the_lock_and_is_kept_only_as_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let lock = ScreenLock::new(dir.path());
        assert!(!lock.state(at(0)).unwrap().pin_set);
        assert_eq!(lock.open("2580", at(0)).unwrap(), Opened::Opened);
        lock.set_pin("2580").unwrap();
        assert!(lock.state(at(0)).unwrap().pin_set);
        let kept = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(kept.contains("$argon2id$"), "{kept}");
        assert!(!kept.contains("2580"), "{kept}");
        assert_eq!(lock.open("2580", at(1)).unwrap(), Opened::Opened);
        assert!(matches!(
            lock.open("0000", at(2)).unwrap(),
            Opened::Wrong(_)
        ));
        // Whoever finds the window cannot choose another.
        assert!(matches!(lock.set_pin("1111"), Err(Error::Invalid(_))));
        assert_eq!(lock.open("2580", at(3)).unwrap(), Opened::Opened);
    }

    #[test]
    fn a_pin_is_four_to_twelve_digits() {
        let dir = tempfile::tempdir().unwrap();
        let lock = ScreenLock::new(dir.path());
        for bad in ["", "123", "1234567890123", "12a4", "１２３４", "12 34"] {
            assert!(
                matches!(lock.set_pin(bad), Err(Error::Invalid(_))),
                "{bad:?}"
            );
        }
        assert!(!dir.path().join(FILE).exists(), "nothing was written");
    }

    #[test]
    fn five_wrong_pins_make_the_next_try_wait_longer_each_time_even_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        ScreenLock::new(dir.path()).set_pin("246810").unwrap();
        let lock = ScreenLock::new(dir.path());
        for n in 1..=4 {
            let Opened::Wrong(state) = lock.open("111111", at(n)).unwrap() else {
                panic!("try {n} was not taken");
            };
            assert_eq!(
                (state.tries_left, state.wait_until),
                (FREE_TRIES - n as u32, None)
            );
        }
        let Opened::Wrong(state) = lock.open("111111", at(5)).unwrap() else {
            panic!("the fifth try was not taken");
        };
        assert_eq!(state.wait_until, Some(at(35).0));
        // The right PIN, too early, is not even tried: not after a restart either.
        let restarted = ScreenLock::new(dir.path());
        assert!(matches!(
            restarted.open("246810", at(20)).unwrap(),
            Opened::Waiting(LockState { tries_left: 0, .. })
        ));
        // After the wait, one wrong try doubles it.
        let Opened::Wrong(state) = restarted.open("111111", at(36)).unwrap() else {
            panic!("the try after the wait was not taken");
        };
        assert_eq!(state.wait_until, Some(at(36 + 60).0));
        assert_eq!(restarted.open("246810", at(97)).unwrap(), Opened::Opened);
        let state = restarted.state(at(97)).unwrap();
        assert_eq!((state.tries_left, state.wait_until), (FREE_TRIES, None));
    }
}
