//! sandbox (under construction).
