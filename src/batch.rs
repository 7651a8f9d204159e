//! Streaming NDJSON batches on every core, in input order, in bounded memory.
//!
//! The input is cut into chunks of whole lines on the calling thread's reader
//! thread; a pool of workers turns each chunk into a result (reading the JSON is
//! most of the work, so it happens in the workers); the caller's sink receives
//! the results in input order as soon as each is next. At most
//! [`Batch::in_flight`] chunks exist at once (read, being worked on, or waiting
//! for an earlier one), so memory does not grow with the input, and output starts
//! after the first chunk. Nothing is shared between claims, so the results do not
//! depend on the number of threads or where the chunks fall.
//!
//! `ppl eval` and `ppl diff` both run their NDJSON input through [`run`].

use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;

use crate::claim::ClaimError;

/// Lines per chunk: enough to make handing a chunk to a worker negligible, few
/// enough that the chunks in flight stay a few megabytes.
pub const CHUNK_LINES: usize = 1024;
/// A chunk also ends once it holds this many bytes (claims can be large).
const CHUNK_BYTES: usize = 2 << 20;
/// A longer line is an error record, not a reason to hold it all in memory.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// How a batch runs.
#[derive(Clone, Copy, Debug)]
pub struct Batch {
    /// Workers evaluating chunks (at least 1).
    pub threads: usize,
    /// Lines per chunk.
    pub chunk_lines: usize,
}

impl Batch {
    /// `threads` workers, or one per core when `None`.
    pub fn new(threads: Option<usize>) -> Self {
        let threads = threads
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(usize::from)
                    .unwrap_or(1)
            })
            .clamp(1, 256);
        Batch {
            threads,
            chunk_lines: CHUNK_LINES,
        }
    }

    /// Chunks that may exist at once: one being read, two queued per worker,
    /// and room for the writer to wait on a slow chunk while others finish.
    fn in_flight(&self) -> usize {
        self.threads * 2 + 2
    }
}

/// Lines of NDJSON input, as read: the text of each with its place.
pub struct Chunk {
    /// The chunk's bytes, line ends included.
    bytes: Vec<u8>,
    lines: Vec<RawLine>,
    /// Input bytes the chunk covers (blank lines included).
    pub input_bytes: u64,
}

struct RawLine {
    /// 1-based line number in the input.
    number: usize,
    /// Byte offset of the line's start in the input.
    offset: usize,
    /// The line's range in `Chunk::bytes`, without its line end.
    start: usize,
    end: usize,
    /// The line was cut at [`MAX_LINE_BYTES`].
    too_long: bool,
}

/// One input line that holds (or should hold) a claim.
pub struct Line<'a> {
    /// 1-based line number in the input.
    pub number: usize,
    /// Byte offset of the line's start in the input.
    pub offset: usize,
    /// The line's text, or why it cannot be read at all.
    pub text: Result<&'a str, ClaimError>,
}

impl Chunk {
    /// The chunk's lines in input order; blank lines are skipped, as
    /// [`crate::claim::read_ndjson`] skips them.
    pub fn lines(&self) -> impl Iterator<Item = Line<'_>> {
        self.lines.iter().map(|raw| Line {
            number: raw.number,
            offset: raw.offset,
            text: self.text_of(raw),
        })
    }

    /// Lines holding a claim (or an error record) in this chunk.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The line numbers of the chunk, for a result that lost its lines.
    pub fn line_numbers(&self) -> Vec<usize> {
        self.lines.iter().map(|raw| raw.number).collect()
    }

    fn text_of(&self, raw: &RawLine) -> Result<&str, ClaimError> {
        let bytes = self.bytes.get(raw.start..raw.end).unwrap_or_default();
        let problem = |message: String, at: usize| ClaimError {
            message,
            path: String::new(),
            line: Some(raw.number),
            column: None,
            start: Some(raw.offset + at),
            end: None,
        };
        if raw.too_long {
            return Err(problem(
                format!(
                    "the line is longer than {} MiB; no claim is that long",
                    MAX_LINE_BYTES >> 20
                ),
                0,
            ));
        }
        std::str::from_utf8(bytes).map_err(|error| {
            problem(
                format!("the line is not UTF-8 (byte {})", error.valid_up_to()),
                error.valid_up_to(),
            )
        })
    }
}

/// What the sink receives for a chunk whose worker failed: the lines it held.
#[derive(Debug)]
pub struct LostChunk {
    pub line_numbers: Vec<usize>,
}

/// Reads `input` as NDJSON and feeds every chunk to `work` on `batch.threads`
/// workers; `sink` gets each chunk's result, with the chunk's input bytes, in
/// input order, on the calling thread. Returns the number of claim lines read,
/// or the first error of reading or of `sink` (after which it stops reading).
pub fn run<R, T, E, Work, Sink>(
    input: R,
    batch: Batch,
    work: Work,
    mut sink: Sink,
) -> Result<usize, BatchError<E>>
where
    R: BufRead + Send,
    T: Send,
    Work: Fn(&Chunk) -> T + Sync,
    Sink: FnMut(Result<T, LostChunk>, u64) -> Result<(), E>,
{
    let stop = AtomicBool::new(false);
    let (work_tx, work_rx) = mpsc::sync_channel::<(usize, Chunk)>(batch.threads);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<(usize, Result<T, LostChunk>, u64)>();
    let (credit_tx, credit_rx) = mpsc::sync_channel::<()>(batch.in_flight());
    for _ in 0..batch.in_flight() {
        let _ = credit_tx.send(());
    }
    std::thread::scope(|scope| {
        let stop = &stop;
        let reader = scope.spawn(move || read_chunks(input, batch, &work_tx, &credit_rx, stop));
        for _ in 0..batch.threads {
            let done_tx = done_tx.clone();
            let (work_rx, work) = (&work_rx, &work);
            scope.spawn(move || loop {
                let job = match work_rx.lock() {
                    Ok(receiver) => receiver.recv(),
                    Err(poisoned) => poisoned.into_inner().recv(),
                };
                let Ok((sequence, chunk)) = job else { break };
                if stop.load(Ordering::Relaxed) {
                    continue; // drain the queue so the reader can finish
                }
                let bytes = chunk.input_bytes;
                // A worker that panics must not lose its lines silently nor stall the batch.
                let result =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&chunk)))
                        .map_err(|_| LostChunk {
                            line_numbers: chunk.line_numbers(),
                        });
                drop(chunk);
                if done_tx.send((sequence, result, bytes)).is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
            });
        }
        drop(done_tx);
        let mut next = 0usize;
        let mut waiting = BTreeMap::new();
        let mut failed = None;
        for (sequence, result, bytes) in done_rx.iter() {
            waiting.insert(sequence, (result, bytes));
            while let Some((result, bytes)) = waiting.remove(&next) {
                next += 1;
                if failed.is_none() {
                    if let Err(error) = sink(result, bytes) {
                        failed = Some(error);
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                let _ = credit_tx.send(());
            }
        }
        drop(credit_tx);
        let read = match reader.join() {
            Ok(read) => read,
            Err(_) => Err(std::io::Error::other(
                "the batch reader stopped unexpectedly",
            )),
        };
        match (failed, read) {
            (Some(error), _) => Err(BatchError::Sink(error)),
            (None, Err(error)) => Err(BatchError::Read(error)),
            (None, Ok(lines)) => Ok(lines),
        }
    })
}

/// Why a batch stopped.
#[derive(Debug)]
pub enum BatchError<E> {
    /// The input could not be read (after the chunks before the error were delivered).
    Read(std::io::Error),
    /// The sink refused a result (a closed output, for example).
    Sink(E),
}

/// Cuts `input` into chunks and queues them; waits for a credit before each.
fn read_chunks<R: BufRead>(
    mut input: R,
    batch: Batch,
    work: &mpsc::SyncSender<(usize, Chunk)>,
    credits: &mpsc::Receiver<()>,
    stop: &AtomicBool,
) -> std::io::Result<usize> {
    let mut number = 0usize;
    let mut offset = 0usize;
    let mut lines_read = 0usize;
    let mut sequence = 0usize;
    let mut at_end = false;
    while !at_end {
        if credits.recv().is_err() || stop.load(Ordering::Relaxed) {
            break;
        }
        let mut chunk = Chunk {
            // Room for a whole chunk of typical claims, so reading one never copies it.
            bytes: Vec::with_capacity(CHUNK_BYTES),
            lines: Vec::with_capacity(batch.chunk_lines),
            input_bytes: 0,
        };
        while chunk.lines.len() < batch.chunk_lines && chunk.bytes.len() < CHUNK_BYTES {
            let start = chunk.bytes.len();
            let limit = u64::try_from(MAX_LINE_BYTES).unwrap_or(u64::MAX);
            let mut read = input
                .by_ref()
                .take(limit)
                .read_until(b'\n', &mut chunk.bytes)?;
            if read == 0 {
                at_end = true;
                break;
            }
            let mut too_long = false;
            if chunk.bytes.last() != Some(&b'\n') && read == MAX_LINE_BYTES {
                too_long = true;
                chunk.bytes.truncate(start);
                read += skip_line(&mut input)?;
            }
            number += 1;
            let line_offset = offset;
            offset += read;
            chunk.input_bytes += read as u64;
            let mut end = chunk.bytes.len();
            let line = chunk.bytes.get(start..end).unwrap_or_default();
            if line.ends_with(b"\n") {
                end -= 1;
                if chunk
                    .bytes
                    .get(start..end)
                    .unwrap_or_default()
                    .ends_with(b"\r")
                {
                    end -= 1;
                }
            }
            // A byte-order mark stays in the text (the JSON reader skips it, keeping
            // offsets right), but a line holding only marks is blank, as in `read_ndjson`.
            let mut text = chunk.bytes.get(start..end).unwrap_or_default();
            while let Some(rest) = text.strip_prefix("\u{feff}".as_bytes()) {
                text = rest;
            }
            if !too_long && text.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
                chunk.bytes.truncate(start);
                continue;
            }
            chunk.lines.push(RawLine {
                number,
                offset: line_offset,
                start,
                end,
                too_long,
            });
        }
        if chunk.lines.is_empty() && chunk.input_bytes == 0 {
            break;
        }
        lines_read += chunk.lines.len();
        if work.send((sequence, chunk)).is_err() {
            break;
        }
        sequence += 1;
    }
    Ok(lines_read)
}

/// Reads and drops the rest of an over-long line; returns the bytes skipped.
fn skip_line<R: BufRead>(input: &mut R) -> std::io::Result<usize> {
    let mut skipped = 0;
    loop {
        let buffer = input.fill_buf()?;
        if buffer.is_empty() {
            return Ok(skipped);
        }
        match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => {
                input.consume(at + 1);
                return Ok(skipped + at + 1);
            }
            None => {
                let length = buffer.len();
                input.consume(length);
                skipped += length;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str, threads: usize, chunk_lines: usize) -> Vec<(usize, usize, String)> {
        let batch = Batch {
            threads,
            chunk_lines,
        };
        let mut seen = Vec::new();
        let read = run(
            text.as_bytes(),
            batch,
            |chunk: &Chunk| {
                chunk
                    .lines()
                    .map(|line| {
                        (
                            line.number,
                            line.offset,
                            line.text.map_or_else(|e| e.message, str::to_owned),
                        )
                    })
                    .collect::<Vec<_>>()
            },
            |result, _| -> Result<(), ()> {
                seen.extend(result.unwrap());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(read, seen.len());
        seen
    }

    #[test]
    fn lines_keep_their_numbers_offsets_and_order_across_chunks_and_threads() {
        let text = "\u{feff}{\"a\":1}\r\n\n  \n{\"b\":2}\n{\"c\":3}";
        let expected = vec![
            (1, 0, "\u{feff}{\"a\":1}".to_owned()),
            (4, 16, "{\"b\":2}".to_owned()),
            (5, 24, "{\"c\":3}".to_owned()),
        ];
        for threads in [1, 2, 4] {
            for chunk_lines in [1, 2, 1024] {
                assert_eq!(lines_of(text, threads, chunk_lines), expected);
            }
        }
    }

    #[test]
    fn a_line_that_is_not_utf8_is_an_error_at_its_place() {
        let mut bytes = b"{\"a\":1}\n{\"b\":\"".to_vec();
        bytes.extend([0xff, b'"', b'}', b'\n']);
        let mut got = Vec::new();
        run(
            &bytes[..],
            Batch::new(Some(2)),
            |chunk: &Chunk| {
                chunk
                    .lines()
                    .map(|l| l.text.map(str::to_owned).map_err(|e| (e.line, e.start)))
                    .collect::<Vec<_>>()
            },
            |result, _| -> Result<(), ()> {
                got.extend(result.unwrap());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(got[0], Ok("{\"a\":1}".to_owned()));
        assert_eq!(got[1], Err((Some(2), Some(8 + 6))));
    }

    #[test]
    fn a_sink_error_stops_the_batch_without_hanging() {
        let text = "{}\n".repeat(100_000);
        let mut calls = 0;
        let result = run(
            text.as_bytes(),
            Batch {
                threads: 2,
                chunk_lines: 10,
            },
            |chunk: &Chunk| chunk.len(),
            |_, _| {
                calls += 1;
                if calls == 3 {
                    Err("closed")
                } else {
                    Ok(())
                }
            },
        );
        assert!(matches!(result, Err(BatchError::Sink("closed"))));
        assert_eq!(calls, 3);
    }

    #[test]
    fn a_panicking_worker_loses_no_line_silently() {
        let text = "{}\n".repeat(50);
        let mut lost = Vec::new();
        let mut kept = 0;
        run(
            text.as_bytes(),
            Batch {
                threads: 2,
                chunk_lines: 10,
            },
            |chunk: &Chunk| {
                assert!(chunk.lines().next().unwrap().number != 21, "boom");
                chunk.len()
            },
            |result, _| -> Result<(), ()> {
                match result {
                    Ok(count) => kept += count,
                    Err(chunk) => lost.extend(chunk.line_numbers),
                }
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(kept, 40);
        assert_eq!(lost, (21..=30).collect::<Vec<_>>());
    }
}
