//! What a user's config, data, checkpoint or image can get wrong: one line that names the file,
//! the `[section] field` or the case.
use std::path::PathBuf;

/// Input that cannot be used. `Display` is one line, ready to print as is.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A file could not be read.
    #[error("{}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A config file's problem, with the file's path.
    #[error("{}: {error}", path.display())]
    InFile {
        /// The config file.
        path: PathBuf,
        /// Its problem.
        error: Box<InputError>,
    },
    /// The config's text or a value in it (the message names the `[section] field`).
    #[error("{0}")]
    Config(String),
    /// A case of the data that cannot be read or does not fit the model (the message names it).
    #[error("{0}")]
    Data(String),
    /// A checkpoint that cannot be read or does not fit the network.
    #[error("{}: {error}", path.display())]
    Checkpoint {
        /// The `.bpk` file.
        path: PathBuf,
        /// Why.
        error: String,
    },
    /// An image whose channels or size do not fit the network.
    #[error("{0}")]
    Image(String),
}

/// For callers that report errors as one-line strings.
impl From<InputError> for String {
    fn from(e: InputError) -> String {
        e.to_string()
    }
}
