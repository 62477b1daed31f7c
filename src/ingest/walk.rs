//! Walking INPUT paths into the list of files to read.

use std::path::PathBuf;

use super::Walk;

pub(super) fn collect(inputs: &[PathBuf], exclude: &[PathBuf]) -> Walk {
    let _ = (inputs, exclude);
    todo!("walk")
}
