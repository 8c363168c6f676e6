//! manifest (under construction).
