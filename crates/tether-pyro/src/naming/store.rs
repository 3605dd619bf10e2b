//! Where the name server keeps its registrations: in memory (the default, like Pyro's), or in
//! an SQLite file that survives a restart (Pyro's `-s sql:FILE`). SQLite is embedded (compiled
//! in), so a storage file needs nothing installed.
//!
//! A registration is a name, a URI string and a set of metadata tags, kept in the order names
//! were first registered.

use rusqlite::{params, Connection, OptionalExtension};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use tether_core::RemoteError;

/// One registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The registered name.
    pub name: String,
    /// The URI, as a string.
    pub uri: String,
    /// Metadata tags (no duplicates, in the order given).
    pub metadata: Vec<String>,
}

/// Registrations in memory: found by name through a hash index, kept in registration order by
/// a sequence number, so registering, looking up and removing one name cost the same however
/// many are registered (a list searched by name made registering n names take n² steps).
#[derive(Default)]
pub struct MemoryStore {
    next: u64,
    by_order: BTreeMap<u64, Entry>,
    by_name: HashMap<String, u64>,
}

impl MemoryStore {
    fn get(&self, name: &str) -> Option<&Entry> {
        self.by_name.get(name).and_then(|n| self.by_order.get(n))
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Entry> {
        let n = *self.by_name.get(name)?;
        self.by_order.get_mut(&n)
    }

    fn insert(&mut self, entry: Entry) {
        let n = self.next;
        self.next += 1;
        self.by_name.insert(entry.name.clone(), n);
        self.by_order.insert(n, entry);
    }

    fn remove(&mut self, name: &str) -> bool {
        match self.by_name.remove(name) {
            Some(n) => self.by_order.remove(&n).is_some(),
            None => false,
        }
    }

    fn len(&self) -> usize {
        self.by_order.len()
    }
}

/// The registrations.
pub enum Store {
    /// Lost when the process ends.
    Memory(MemoryStore),
    /// An SQLite database file.
    Sqlite(Connection),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Store::Memory(m) => write!(f, "Store::Memory({} entries)", m.len()),
            Store::Sqlite(_) => f.write_str("Store::Sqlite"),
        }
    }
}

fn db(e: rusqlite::Error) -> RemoteError {
    RemoteError::exception(
        "Pyro5.errors.NamingError",
        format!("name server storage error: {e}"),
    )
}

fn dedup(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

impl Store {
    /// An empty in-memory store.
    pub fn memory() -> Store {
        Store::Memory(MemoryStore::default())
    }

    /// Opens (or creates) the SQLite file at `path`.
    pub fn open(path: &Path) -> Result<Store, RemoteError> {
        let c = Connection::open(path).map_err(|e| {
            RemoteError::config(format!(
                "cannot open the name server storage {}: {e}",
                path.display()
            ))
        })?;
        c.execute_batch(
            "PRAGMA foreign_keys = ON;
             PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS registration (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 name TEXT NOT NULL UNIQUE,
                 uri TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS tag (
                 registration INTEGER NOT NULL REFERENCES registration(id) ON DELETE CASCADE,
                 position INTEGER NOT NULL,
                 tag TEXT NOT NULL,
                 PRIMARY KEY (registration, position));",
        )
        .map_err(|e| {
            RemoteError::config(format!(
                "{} is not a usable name server storage file: {e}",
                path.display()
            ))
        })?;
        Ok(Store::Sqlite(c))
    }

    /// The registration of `name`.
    pub fn get(&self, name: &str) -> Result<Option<Entry>, RemoteError> {
        match self {
            Store::Memory(m) => Ok(m.get(name).cloned()),
            Store::Sqlite(c) => {
                let row: Option<(i64, String)> = c
                    .query_row(
                        "SELECT id, uri FROM registration WHERE name = ?1",
                        params![name],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(db)?;
                let Some((id, uri)) = row else {
                    return Ok(None);
                };
                Ok(Some(Entry {
                    name: name.to_string(),
                    uri,
                    metadata: tags_of(c, id)?,
                }))
            }
        }
    }

    /// Registers (or replaces) `name`; a replaced name keeps its place in the order.
    pub fn put(&mut self, name: &str, uri: &str, metadata: Vec<String>) -> Result<(), RemoteError> {
        let metadata = dedup(metadata);
        match self {
            Store::Memory(m) => {
                match m.get_mut(name) {
                    Some(e) => {
                        e.uri = uri.to_string();
                        e.metadata = metadata;
                    }
                    None => m.insert(Entry {
                        name: name.to_string(),
                        uri: uri.to_string(),
                        metadata,
                    }),
                }
                Ok(())
            }
            Store::Sqlite(c) => {
                let tx = c.transaction().map_err(db)?;
                tx.execute(
                    "INSERT INTO registration (name, uri) VALUES (?1, ?2)
                     ON CONFLICT(name) DO UPDATE SET uri = excluded.uri",
                    params![name, uri],
                )
                .map_err(db)?;
                let id: i64 = tx
                    .query_row(
                        "SELECT id FROM registration WHERE name = ?1",
                        params![name],
                        |r| r.get(0),
                    )
                    .map_err(db)?;
                write_tags(&tx, id, &metadata)?;
                tx.commit().map_err(db)
            }
        }
    }

    /// Replaces the metadata of `name`; false if it is not registered.
    pub fn set_metadata(&mut self, name: &str, metadata: Vec<String>) -> Result<bool, RemoteError> {
        let metadata = dedup(metadata);
        match self {
            Store::Memory(m) => match m.get_mut(name) {
                Some(e) => {
                    e.metadata = metadata;
                    Ok(true)
                }
                None => Ok(false),
            },
            Store::Sqlite(c) => {
                let tx = c.transaction().map_err(db)?;
                let id: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM registration WHERE name = ?1",
                        params![name],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(db)?;
                let Some(id) = id else { return Ok(false) };
                write_tags(&tx, id, &metadata)?;
                tx.commit().map_err(db)?;
                Ok(true)
            }
        }
    }

    /// Removes the given names; returns how many were registered.
    pub fn remove(&mut self, names: &[String]) -> Result<usize, RemoteError> {
        match self {
            Store::Memory(m) => Ok(names.iter().filter(|n| m.remove(n)).count()),
            Store::Sqlite(c) => {
                let tx = c.transaction().map_err(db)?;
                let mut n = 0;
                for name in names {
                    n += tx
                        .execute("DELETE FROM registration WHERE name = ?1", params![name])
                        .map_err(db)?;
                }
                tx.commit().map_err(db)?;
                Ok(n)
            }
        }
    }

    /// Every registration, in registration order.
    pub fn all(&self) -> Result<Vec<Entry>, RemoteError> {
        match self {
            Store::Memory(m) => Ok(m.by_order.values().cloned().collect()),
            Store::Sqlite(c) => {
                let mut st = c
                    .prepare("SELECT id, name, uri FROM registration ORDER BY id")
                    .map_err(db)?;
                let rows: Vec<(i64, String, String)> = st
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(db)?
                    .collect::<Result<_, _>>()
                    .map_err(db)?;
                rows.into_iter()
                    .map(|(id, name, uri)| {
                        Ok(Entry {
                            name,
                            uri,
                            metadata: tags_of(c, id)?,
                        })
                    })
                    .collect()
            }
        }
    }

    /// How many names are registered.
    pub fn count(&self) -> Result<usize, RemoteError> {
        match self {
            Store::Memory(m) => Ok(m.len()),
            Store::Sqlite(c) => c
                .query_row("SELECT COUNT(*) FROM registration", [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| n as usize)
                .map_err(db),
        }
    }
}

fn tags_of(c: &Connection, id: i64) -> Result<Vec<String>, RemoteError> {
    let mut st = c
        .prepare_cached("SELECT tag FROM tag WHERE registration = ?1 ORDER BY position")
        .map_err(db)?;
    let tags = st
        .query_map(params![id], |r| r.get(0))
        .map_err(db)?
        .collect::<Result<Vec<String>, _>>()
        .map_err(db)?;
    Ok(tags)
}

fn write_tags(c: &Connection, id: i64, tags: &[String]) -> Result<(), RemoteError> {
    c.execute("DELETE FROM tag WHERE registration = ?1", params![id])
        .map_err(db)?;
    for (i, t) in tags.iter().enumerate() {
        c.execute(
            "INSERT INTO tag (registration, position, tag) VALUES (?1, ?2, ?3)",
            params![id, i as i64, t],
        )
        .map_err(db)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(mut s: Store) -> Store {
        s.put("a", "PYRO:a@h:1", vec!["x".into(), "y".into(), "x".into()])
            .unwrap();
        s.put("b", "PYRO:b@h:2", vec![]).unwrap();
        s.put("a", "PYRO:a@h:3", vec!["z".into()]).unwrap();
        assert_eq!(s.count().unwrap(), 2);
        let a = s.get("a").unwrap().unwrap();
        assert_eq!(
            (a.uri.as_str(), a.metadata.clone()),
            ("PYRO:a@h:3", vec!["z".to_string()])
        );
        assert!(s.set_metadata("b", vec!["t".into()]).unwrap());
        assert!(!s.set_metadata("nope", vec![]).unwrap());
        let names: Vec<String> = s.all().unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["a", "b"]);
        s
    }

    #[test]
    fn memory_and_sqlite_behave_alike_and_sqlite_survives_reopening() {
        let mut m = exercise(Store::memory());
        assert_eq!(m.remove(&["a".into(), "zz".into()]).unwrap(), 1);
        let dir = std::env::temp_dir().join(format!("tether-ns-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ns.sqlite");
        let _ = std::fs::remove_file(&path);
        drop(exercise(Store::open(&path).unwrap()));
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.get("b").unwrap().unwrap().metadata, vec!["t".to_string()]);
        assert_eq!(s.remove(&["a".into()]).unwrap(), 1);
        assert_eq!(s.count().unwrap(), 1);
        // garbage is not a store
        std::fs::write(dir.join("junk"), b"not a database at all, just text").unwrap();
        assert!(Store::open(&dir.join("junk")).is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}
