//! Test context: runs the real `gcctl` binary in a temporary working
//! directory with a controlled environment, and renders its outcome (exit
//! code, stdout, stderr) for snapshots with unstable parts filtered out.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` whose extension is one of `extensions`,
/// recursively, in path order.
pub fn files_with(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> =
        fs_err::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_with(&path, extensions, out);
        } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| extensions.contains(&e))
        {
            out.push(path);
        }
    }
}

/// Every `.yaml` and `.yml` file under `dir`, recursively, in path order.
pub fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    files_with(dir, &["yaml", "yml"], out);
}

/// The scenario folders under `examples/` (every folder but `ci`), sorted,
/// relative to the repository root: each is a manifest set of its own.
pub fn example_dirs() -> Vec<String> {
    let mut dirs: Vec<String> = fs_err::read_dir(repo_root().join("examples"))
        .expect("examples/")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir() && e.file_name() != "ci")
        .map(|e| format!("examples/{}", e.file_name().to_string_lossy()))
        .collect();
    dirs.sort();
    dirs
}

pub struct TestContext {
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl TestContext {
    pub fn new() -> Self {
        TestContext { dir: tempfile::tempdir().expect("temp dir"), env: Vec::new() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Set an environment variable for every command of this context.
    pub fn env(&mut self, key: &str, value: &str) -> &mut Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Write a file under the context's directory.
    pub fn write(&self, relative: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(relative);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).expect("create dir");
        }
        fs_err::write(&path, content).expect("write file");
        path
    }

    /// A `gcctl` command running in the context's directory with a clean environment.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gcctl"));
        cmd.current_dir(self.dir.path());
        for (key, _) in std::env::vars() {
            if key.starts_with("GENESYSCLOUD_") || key.starts_with("GCCTL_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("NO_COLOR", "1");
        // Apply locks stay in the test's directory, not the user's home.
        cmd.env("GCCTL_LOCK_DIR", self.dir.path().join(".locks"));
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        cmd
    }

    /// `script` running `gcctl ARGS` on a pseudo-terminal, with this
    /// context's environment (minus `NO_COLOR`). Its stdout holds what the
    /// terminal showed.
    ///
    /// Without `script` (util-linux) the test fails, saying so, rather than
    /// passing without checking anything; `None` (the test is skipped, and
    /// says so on stderr) only when `GCCTL_TEST_NO_SCRIPT=1` asks for that.
    #[allow(clippy::print_stderr)] // A skip says so where the harness shows it.
    pub fn on_a_terminal(&self, args: &str) -> Option<Command> {
        let gcctl = self.command();
        let mut command = Command::new("script");
        command.current_dir(self.dir.path()).env_clear();
        for (key, value) in gcctl.get_envs() {
            if let Some(value) = value {
                command.env(key, value);
            }
        }
        command.env("PATH", std::env::var_os("PATH").unwrap_or_default()).env_remove("NO_COLOR");
        let line = format!("'{}' {args}", env!("CARGO_BIN_EXE_gcctl"));
        command.args(["-qec", &line, "/dev/null"]);
        let available = std::process::Command::new("script").arg("--version").output().is_ok();
        if available {
            return Some(command);
        }
        assert!(
            std::env::var_os("GCCTL_TEST_NO_SCRIPT").is_some_and(|v| v == "1"),
            "this test runs gcctl on a pseudo-terminal with `script` (util-linux), which is \
             missing: install it, or set GCCTL_TEST_NO_SCRIPT=1 to skip such tests"
        );
        eprintln!(
            "skipped: no `script` to run `gcctl {args}` on a terminal (GCCTL_TEST_NO_SCRIPT=1)"
        );
        None
    }

    /// Run `gcctl ARGS` and return its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run gcctl")
    }

    /// Run and render for a snapshot.
    pub fn snapshot(&self, args: &[&str]) -> String {
        render(&self.run(args), &[(self.dir.path(), "[TEMP]"), (&repo_root(), "[REPO]")])
    }
}

/// `exit: N`, then stdout and stderr, with the given paths replaced.
pub fn render(output: &Output, replacements: &[(&Path, &str)]) -> String {
    let mut text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for (path, name) in replacements {
        text = text.replace(&path.display().to_string(), name);
    }
    text
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
