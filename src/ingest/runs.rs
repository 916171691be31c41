//! Sorted runs on disk: an external sort for bulk loads.
//!
//! Items are buffered in memory up to a limit, sorted, and written to a temporary file (a run)
//! on another thread while the next buffer fills; reading merges every run in order with a heap.
//! Memory is bounded by two buffers, whatever the input size. Run files live in a temporary
//! directory inside the data directory and are removed when the sorter is dropped.

use crate::codec;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::PathBuf;

/// Sorts items by `K` with bounded memory.
pub struct Sorter<T, K: Ord, F: Fn(&T) -> K> {
    dir: PathBuf,
    name: &'static str,
    buffer: Vec<T>,
    limit: usize,
    runs: Vec<PathBuf>,
    key: F,
    /// The run being sorted and written on its own thread, if any.
    writing: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl<T, K, F> Sorter<T, K, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    K: Ord + Send,
    F: Fn(&T) -> K + Send + Sync + Clone + 'static,
{
    /// A sorter spilling runs named `name-N` into `dir` (created if needed) every `limit` items.
    pub fn new(dir: PathBuf, name: &'static str, limit: usize, key: F) -> io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Sorter {
            dir,
            name,
            buffer: Vec::new(),
            limit: limit.max(1),
            runs: Vec::new(),
            key,
            writing: None,
        })
    }

    /// Adds an item.
    pub fn push(&mut self, item: T) -> io::Result<()> {
        self.buffer.push(item);
        if self.buffer.len() >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    /// Sorts and writes the buffer as a run on another thread, while the caller fills the next
    /// buffer (a bulk load's staging thread spent most of its time here): at most one run is
    /// being written at a time, so memory holds at most two buffers.
    fn spill(&mut self) -> io::Result<()> {
        self.wait()?;
        let buffer = std::mem::replace(&mut self.buffer, Vec::with_capacity(self.limit));
        let key = self.key.clone();
        let path = self.dir.join(format!("{}-{}", self.name, self.runs.len()));
        self.runs.push(path.clone());
        self.writing = Some(std::thread::spawn(move || write_run(buffer, key, &path)));
        Ok(())
    }

    /// Waits for the run being written, if any.
    fn wait(&mut self) -> io::Result<()> {
        match self.writing.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => Ok(()),
        }
    }

    /// Finishes: every item, in key order (equal keys in no particular order).
    pub fn into_sorted(mut self) -> io::Result<Merged<T, K, F>> {
        if !self.buffer.is_empty() {
            self.spill()?;
        }
        self.wait()?;
        let mut readers = Vec::with_capacity(self.runs.len());
        let mut heap = BinaryHeap::new();
        for (i, path) in self.runs.iter().enumerate() {
            let mut reader = BufReader::with_capacity(1 << 18, File::open(path)?);
            if let Some(item) = codec::read_item::<T, _>(&mut reader)? {
                heap.push(Reverse(Head {
                    key: (self.key)(&item),
                    run: i,
                    item,
                }));
            }
            readers.push(reader);
        }
        Ok(Merged {
            readers,
            heap,
            key: self.key.clone(),
            runs: std::mem::take(&mut self.runs),
        })
    }
}

impl<T, K: Ord, F: Fn(&T) -> K> Drop for Sorter<T, K, F> {
    fn drop(&mut self) {
        // The run being written first, or it would be left behind.
        if let Some(thread) = self.writing.take() {
            let _ = thread.join();
        }
        for run in &self.runs {
            let _ = std::fs::remove_file(run);
        }
    }
}

/// Sorts `buffer` by `key` and writes it to `path`.
fn write_run<T, K, F>(mut buffer: Vec<T>, key: F, path: &std::path::Path) -> io::Result<()>
where
    T: Serialize + Send,
    K: Ord + Send,
    F: Fn(&T) -> K + Sync,
{
    use rayon::slice::ParallelSliceMut;
    buffer.par_sort_by_cached_key(|item| key(item));
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    for item in &buffer {
        codec::write_item(item, &mut out)?;
    }
    out.flush()
}

struct Head<T, K> {
    key: K,
    run: usize,
    item: T,
}

impl<T, K: Ord> PartialEq for Head<T, K> {
    fn eq(&self, other: &Self) -> bool {
        (&self.key, self.run) == (&other.key, other.run)
    }
}
impl<T, K: Ord> Eq for Head<T, K> {}
impl<T, K: Ord> PartialOrd for Head<T, K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T, K: Ord> Ord for Head<T, K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.key, self.run).cmp(&(&other.key, other.run))
    }
}

/// The merged, sorted stream of a [`Sorter`]'s items.
pub struct Merged<T, K: Ord, F: Fn(&T) -> K> {
    readers: Vec<BufReader<File>>,
    heap: BinaryHeap<Reverse<Head<T, K>>>,
    key: F,
    runs: Vec<PathBuf>,
}

impl<T: DeserializeOwned, K: Ord, F: Fn(&T) -> K> Iterator for Merged<T, K, F> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<io::Result<T>> {
        let Reverse(head) = self.heap.pop()?;
        match codec::read_item::<T, _>(&mut self.readers[head.run]) {
            Ok(Some(item)) => self.heap.push(Reverse(Head {
                key: (self.key)(&item),
                run: head.run,
                item,
            })),
            Ok(None) => {}
            Err(e) => return Some(Err(e)),
        }
        Some(Ok(head.item))
    }
}

impl<T, K: Ord, F: Fn(&T) -> K> Drop for Merged<T, K, F> {
    fn drop(&mut self) {
        for run in &self.runs {
            let _ = std::fs::remove_file(run);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_runs_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut sorter = Sorter::new(dir.path().join("runs"), "t", 7, |x: &u64| *x).unwrap();
        let mut rng = crate::generate::rng::Rng::new(3);
        let mut expected: Vec<u64> = (0..100).map(|_| rng.below(1000)).collect();
        for x in &expected {
            sorter.push(*x).unwrap();
        }
        expected.sort();
        let got: Vec<u64> = sorter.into_sorted().unwrap().map(Result::unwrap).collect();
        assert_eq!(got, expected);
        assert_eq!(
            std::fs::read_dir(dir.path().join("runs")).unwrap().count(),
            0,
            "runs removed"
        );
    }
}
