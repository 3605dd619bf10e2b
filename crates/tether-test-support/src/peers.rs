//! Where the real peers are. Every path can be overridden by an environment variable, so a
//! machine with its peers elsewhere runs the same tests.

use std::path::PathBuf;
use std::process::Command;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python with the Python peers installed (`TETHER_PYTHON`, else `<root>/.venv/bin/python`);
/// panics with a clear message if missing.
pub fn python() -> PathBuf {
    let p = std::env::var_os("TETHER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/python"));
    assert!(
        p.exists(),
        "Python peer not found at {}: run scripts/test.sh to install the peers",
        p.display()
    );
    p
}

/// The seed's Python 2.7 (`TETHER_PYTHON2`, else pyenv's 2.7.18) with the folder holding Pyro 3
/// and Spring Python 1.3 on its `PYTHONPATH` (`TETHER_PY2_SITE`, else `<root>/.py2`), as a
/// command; panics with a clear message if missing.
pub fn python2() -> Command {
    let exe = std::env::var_os("TETHER_PYTHON2")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".pyenv/versions/2.7.18/bin/python2.7")
        });
    let site = std::env::var_os("TETHER_PY2_SITE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".py2"));
    assert!(
        exe.exists() && site.join("Pyro").exists(),
        "Python 2.7 with Pyro 3 not found ({}, {}): run scripts/test.sh",
        exe.display(),
        site.display()
    );
    let mut c = Command::new(exe);
    c.env("PYTHONPATH", site);
    c
}

/// The `java` command (`TETHER_JAVA`, else `java` on the PATH).
pub fn java() -> PathBuf {
    std::env::var_os("TETHER_JAVA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("java"))
}

/// Caucho's Hessian jar from Debian's `libhessian-java` (`TETHER_HESSIAN_JAR` to override);
/// panics with a clear message if missing.
pub fn hessian_jar() -> PathBuf {
    let p = std::env::var_os("TETHER_HESSIAN_JAR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/java/hessian.jar"));
    assert!(
        p.exists(),
        "Caucho's Hessian jar not found at {}: run scripts/test.sh (apt libhessian-java)",
        p.display()
    );
    p
}
