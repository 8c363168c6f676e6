//! Saved plans (`plan --out FILE`, `apply --plan FILE`): the plan plus what
//! `apply` needs to re-create exactly the same desired state (the manifest
//! paths and environment) and to detect that the plan went stale (the inputs
//! digest and each live object's fingerprint, inside the plan). No secret
//! value is ever in it: secrets stay references in the manifests.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{FORMAT_VERSION, Plan};

/// The saved-plan file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPlan {
    pub format_version: String,
    /// The manifest paths the plan was computed from, as given.
    pub paths: Vec<PathBuf>,
    pub plan: Plan,
}

#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("cannot write the plan to {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the plan file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a gcctl plan file")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} has plan format {found}; this gcctl reads format {FORMAT_VERSION}")]
    Version { path: PathBuf, found: String },
}

impl SavedPlan {
    pub fn new(paths: &[PathBuf], plan: Plan) -> Self {
        SavedPlan { format_version: FORMAT_VERSION.to_string(), paths: paths.to_vec(), plan }
    }

    /// Write atomically (temporary file, then rename).
    pub fn write(&self, path: &Path) -> Result<(), SavedPlanError> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        let tmp = path.with_extension("tmp-gcctl");
        let write = || -> std::io::Result<()> {
            fs_err::write(&tmp, text.as_bytes())?;
            fs_err::rename(&tmp, path)
        };
        write().map_err(|source| SavedPlanError::Write { path: path.to_path_buf(), source })
    }

    pub fn read(path: &Path) -> Result<Self, SavedPlanError> {
        let text = fs_err::read_to_string(path)
            .map_err(|source| SavedPlanError::Read { path: path.to_path_buf(), source })?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|source| SavedPlanError::Parse { path: path.to_path_buf(), source })?;
        let found =
            value.get("format_version").and_then(|v| v.as_str()).unwrap_or("unknown").to_string();
        if found != FORMAT_VERSION {
            return Err(SavedPlanError::Version { path: path.to_path_buf(), found });
        }
        serde_json::from_value(value)
            .map_err(|source| SavedPlanError::Parse { path: path.to_path_buf(), source })
    }
}
