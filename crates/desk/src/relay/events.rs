//! The log stream's Server-Sent Events, read as their bytes arrive.
//!
//! Only what a desk needs of the format: `data` lines make an event, a blank line ends it,
//! comments (the relay's heartbeats) and other fields are passed over; a line ends at CR, LF
//! or CRLF. Each byte is looked at once, and no more than [`MAX_EVENT`] of an event is held:
//! a relay that sends a line, or an event, without an end gets an error at that size, not a
//! buffer that grows for as long as it sends. (A general SSE parser copied the rest of its
//! buffer at each line, which made such a stream cost time in the square of its size.)

use super::{Error, MAX_EVENT, Result};

/// Events out of a stream's bytes, pushed in as they arrive.
#[derive(Debug, Default)]
pub(super) struct EventReader {
    /// Bytes not read into a line yet: the start of a line without its end.
    pending: Vec<u8>,
    /// How far into `pending` there is no line end.
    scanned: usize,
    /// The data of the event being read, its lines joined by LF.
    data: Vec<u8>,
    /// The last line ended with a CR: an LF right after it is part of that end.
    after_cr: bool,
    started: bool,
    /// An event was over the bound: the stream is over too.
    over: bool,
}

impl EventReader {
    /// Takes in the next bytes of the stream.
    pub(super) fn push(&mut self, mut chunk: &[u8]) {
        if self.over {
            return;
        }
        if !self.started && !chunk.is_empty() {
            self.started = true;
            chunk = chunk.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(chunk);
        }
        if self.after_cr && !chunk.is_empty() {
            self.after_cr = false;
            chunk = chunk.strip_prefix(b"\n").unwrap_or(chunk);
        }
        self.pending.extend_from_slice(chunk);
    }

    /// The data of the next whole event among the bytes pushed so far; `None` until one
    /// ends.
    pub(super) fn event(&mut self) -> Result<Option<String>> {
        if self.over {
            return Err(self.spent());
        }
        let mut start = 0;
        let mut found = None;
        while found.is_none() {
            let from = self.scanned.max(start);
            let Some(at) = self.pending[from..]
                .iter()
                .position(|&b| b == b'\r' || b == b'\n')
            else {
                self.scanned = self.pending.len();
                break;
            };
            let end = from + at;
            let mut next = end + 1;
            if self.pending[end] == b'\r' {
                match self.pending.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    // The LF may be the first byte of the next chunk.
                    None => self.after_cr = true,
                }
            }
            found = self.line(start, end)?;
            start = next;
            self.scanned = next;
        }
        self.pending.drain(..start);
        self.scanned -= start;
        // Without a whole event, what is held is this one's data and its unended line.
        if found.is_none() && self.data.len() + self.pending.len() > MAX_EVENT {
            return Err(self.spent());
        }
        Ok(found)
    }

    /// Gives up the stream, its event too large: nothing more of it is held or read.
    fn spent(&mut self) -> Error {
        self.over = true;
        self.pending = Vec::new();
        self.data = Vec::new();
        Error::TooLarge {
            what: "log stream's event",
            limit: MAX_EVENT as u64,
        }
    }

    /// Reads the line `pending[start..end]` into the event; the event's data if it ended.
    fn line(&mut self, start: usize, end: usize) -> Result<Option<String>> {
        let line = &self.pending[start..end];
        if line.is_empty() {
            if self.data.is_empty() {
                return Ok(None);
            }
            let mut data = std::mem::take(&mut self.data);
            data.pop(); // the LF after the last data line
            return String::from_utf8(data)
                .map(Some)
                .map_err(|_| Error::Unreadable("an event of the log stream is not UTF-8".into()));
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        if field == b"data" {
            self.data.extend_from_slice(value);
            self.data.push(b'\n');
        }
        if self.data.len() > MAX_EVENT {
            return Err(self.spent());
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event of `stream` pushed in chunks of `size`.
    fn read(stream: &[u8], size: usize) -> Vec<String> {
        let mut reader = EventReader::default();
        let mut events = Vec::new();
        for chunk in stream.chunks(size) {
            reader.push(chunk);
            while let Some(event) = reader.event().unwrap() {
                events.push(event);
            }
        }
        events
    }

    #[test]
    fn events_are_read_whole_however_their_bytes_are_cut_and_whatever_their_line_ends() {
        let stream = "\u{feff}: heartbeat\n\nid: 1\ndata: {\"seq\":1}\n\n:hb\r\n\r\nid: 2\r\ndata: {\"seq\":\r\ndata:2}\r\n\r\nevent: x\rdata: 三\r\rdata\n\n";
        for size in 1..=stream.len() {
            assert_eq!(
                read(stream.as_bytes(), size),
                ["{\"seq\":1}", "{\"seq\":\n2}", "三", ""],
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn an_event_without_an_end_is_an_error_at_the_bound_and_ends_the_stream() {
        for (what, again) in [("a line", &b"x"[..]), ("an event", &b"data: x\r\n"[..])] {
            let mut reader = EventReader::default();
            let chunk = again.repeat(64 * 1024 / again.len());
            let mut pushed = 0;
            let error = loop {
                reader.push(&chunk);
                pushed += chunk.len();
                let result = reader.event();
                let held = reader.data.len() + reader.pending.len();
                assert!(held <= MAX_EVENT + chunk.len(), "{what}: {held} bytes held");
                match result {
                    Ok(None) => assert!(pushed <= 10 * MAX_EVENT, "{what}: never refused"),
                    Ok(Some(event)) => panic!("{what}: {event:?}"),
                    Err(error) => break error,
                }
            };
            assert!(matches!(error, Error::TooLarge { .. }), "{what}: {error:?}");
            // And nothing more is read after it.
            reader.push(b"\n\ndata: 1\n\n");
            assert!(reader.event().is_err(), "{what}");
        }
    }
}
