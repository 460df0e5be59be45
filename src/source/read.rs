//! Reading one article file: its bytes and modification time, never more
//! than the size limit, never blocking on a FIFO, never through a link.

use std::io::Read;
use std::path::Path;
use std::time::SystemTime;

use crate::model::Reason;

/// An article file's bytes, as read.
#[derive(Debug)]
pub struct FileRead {
    pub bytes: Vec<u8>,
    /// The date of an article that names none.
    pub mtime: SystemTime,
}

/// Reads the file at `path`, refusing anything but a regular file of at
/// most `limit` bytes.
pub fn read_file(path: &Path, limit: u64) -> Result<FileRead, Reason> {
    // One open, then questions about the open file: no second path lookup
    // (a third of the system time of a scan went to looking paths up).
    let file = open_article(path)?;
    let meta = file.metadata()?;
    read_opened(file, &meta, limit)
}

/// As [`read_file`], for a file already opened with [`open_article`] and
/// its metadata (taken from the open file).
pub fn read_opened(
    mut file: std::fs::File,
    meta: &std::fs::Metadata,
    limit: u64,
) -> Result<FileRead, Reason> {
    if !meta.is_file() {
        return Err(Reason::NotAFile);
    }
    if meta.len() > limit {
        return Err(Reason::TooLarge {
            size: meta.len(),
            max: limit,
        });
    }
    let bytes = read_whole(&mut file, meta.len(), limit)?;
    if bytes.len() as u64 > limit {
        return Err(Reason::TooLarge {
            size: bytes.len() as u64,
            max: limit,
        });
    }
    let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    Ok(FileRead { bytes, mtime })
}

/// Reads an open file to its end, but never more than `limit` + 1 bytes
/// (one more than the limit tells a file over it).
///
/// One `read` is enough when the file still holds the `expected` bytes its
/// metadata said: asked for one byte more, the read returns exactly those
/// and the file is at its end (`read_to_end` would ask again until a read
/// returns 0). A file that grew, shrank or came back short is read on.
fn read_whole(file: &mut std::fs::File, expected: u64, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0; expected.min(limit) as usize + 1];
    let first = loop {
        match file.read(&mut bytes) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => break other?,
        }
    };
    bytes.truncate(first);
    if first as u64 != expected {
        // The size may grow while we read (a writer still at it): never
        // read more than the limit.
        file.take(limit + 1 - first as u64)
            .read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// Opens a file for reading without ever blocking or leaving the tree: a
/// FIFO or device dropped among the articles would block a plain open
/// forever (`O_NONBLOCK`; regular files read as usual), and a file swapped
/// for a symlink since it was listed is refused (`O_NOFOLLOW`).
pub fn open_article(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The whole file, whatever its size did between the stat and the read:
    /// as stated, grown since (a writer still at it), shrunk since, empty,
    /// and over the limit (one byte more than the limit is read, no more).
    #[test]
    fn a_file_is_read_whole_whatever_its_size_did_since_the_stat() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.txt");
        let body: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(&path, &body).expect("write");
        let read = |expected: u64, limit: u64| {
            let mut file = std::fs::File::open(&path).expect("open");
            read_whole(&mut file, expected, limit).expect("read")
        };
        assert_eq!(read(10_000, 1 << 20), body, "as stated");
        assert_eq!(read(4_000, 1 << 20), body, "grown since the stat");
        assert_eq!(read(12_000, 1 << 20), body, "shrunk since the stat");
        assert_eq!(read(10_000, 9_000), body[..9_001], "over the limit");
        assert_eq!(read(5_000, 9_000), body[..9_001], "grown over the limit");
        std::fs::write(&path, b"").expect("truncate");
        assert!(read(0, 1 << 20).is_empty(), "empty");
    }

    /// Makes a named pipe at `path`.
    pub(crate) fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("run mkfifo");
        assert!(status.success(), "mkfifo {}", path.display());
    }

    /// A named pipe in the tree (or one swapped in after the listing) must
    /// not block the reader until someone writes to it.
    #[test]
    fn a_named_pipe_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pipe = dir.path().join("pipe.txt");
        mkfifo(&pipe);
        let err = read_file(&pipe, 1 << 20).expect_err("a pipe is no article");
        assert!(matches!(err, Reason::NotAFile), "{err}");
    }
}
